/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// The HTML reports in a real headless Chromium (Debian's chromium, driven by playwright-core): what a
// person sees, and the JUnit XML through the browser's own XML parser. Screenshots go to .artifacts/.

import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { PipelineReport } from "@ggen/contract";
import { type BrowserContext, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sampleRun } from "./fixtures.test-helpers.js";
import { renderPipelineHtml, renderRunHtml } from "./html.js";
import { renderJunit } from "./junit.js";

const CHROMIUM = "/usr/bin/chromium";
const artifacts = join(import.meta.dirname, "../../.artifacts");
const profile = mkdtempSync(join(tmpdir(), "reporter-chromium-"));
const work = mkdtempSync(join(tmpdir(), "reporter-html-"));
let browser: BrowserContext;

beforeAll(async () => {
  mkdirSync(artifacts, { recursive: true });
  // A fresh profile each run: playwright takes --user-data-dir as launchPersistentContext's argument.
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1200, height: 900 },
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  rmSync(profile, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
});

describe.runIf(existsSync(CHROMIUM))("HTML reports in Chromium", () => {
  it("a run: status, summary counts, failures first, timeline bars; no outside request", async () => {
    const file = join(work, "run.html");
    writeFileSync(
      file,
      renderRunHtml(sampleRun(12), {
        timeline: [
          { name: "test/file0.test.mjs", lane: "step", startMs: 0, durationMs: 800, status: "passed" },
          { name: "test/file2.test.mjs", lane: "step", startMs: 100, durationMs: 1200, status: "failed" },
        ],
      }),
    );
    const page = await browser.newPage();
    const outside: string[] = [];
    page.on("request", (r) => {
      if (!r.url().startsWith("file:")) outside.push(r.url());
    });
    await page.goto(`file://${file}`);
    expect(await page.title()).toBe("cleanroom run run-20260113-100000-1a2b");
    expect(await page.getByTestId("status").textContent()).toBe("FAILED");
    expect(await page.getByTestId("failed").locator("b").textContent()).toBe("4");
    expect(await page.getByTestId("total").locator("b").textContent()).toBe("12");
    // Failures come first: the failures section is above the table, and the table starts with them.
    const failuresTop = (await page.getByTestId("failures").boundingBox())!.y;
    const tableTop = (await page.getByTestId("tests").boundingBox())!.y;
    expect(failuresTop).toBeLessThan(tableTop);
    expect(await page.getByTestId("failure").count()).toBe(4);
    expect(await page.getByTestId("failure").first().textContent()).toContain('expected 2 to be "3" <&>');
    const statuses = await page
      .locator("tr.test")
      .evaluateAll((rows) => rows.map((r) => r.getAttribute("data-status")));
    expect(statuses.slice(0, 4)).toEqual(["failed", "failed", "failed", "failed"]);
    expect(statuses).toHaveLength(12);
    // The timeline: stage bars and the two recorded steps, the failed one red and wider.
    const bars = page.locator("svg[data-testid=timeline] g.bar");
    expect(await bars.count()).toBe(5);
    const failed = page.locator('g.bar[data-name="test/file2.test.mjs"] rect');
    const passed = page.locator('g.bar[data-name="test/file0.test.mjs"] rect');
    expect(await failed.getAttribute("fill")).toBe("#cf222e");
    expect((await failed.boundingBox())!.width).toBeGreaterThan((await passed.boundingBox())!.width);
    await page.screenshot({ path: join(artifacts, "run-report.png"), fullPage: true });
    expect(readFileSync(join(artifacts, "run-report.png")).subarray(1, 4).toString()).toBe("PNG");
    expect(outside).toEqual([]);
    await page.close();
  }, 60_000);

  it("a pipeline report: status, recommendation, stages in the timeline", async () => {
    const example = JSON.parse(
      readFileSync(join(import.meta.dirname, "../../../contract/examples/pipeline-report.v1.json"), "utf8"),
    ) as PipelineReport;
    const file = join(work, "pipeline.html");
    writeFileSync(file, renderPipelineHtml(example));
    const page = await browser.newPage();
    await page.goto(`file://${file}`);
    expect(await page.getByTestId("status").textContent()).toBe("READY");
    expect(await page.getByTestId("recommendation").textContent()).toContain("every stage passed");
    const names = await page.locator("g.bar").evaluateAll((g) => g.map((x) => x.getAttribute("data-name")));
    expect(names).toEqual(Object.keys(example.stages));
    await page.screenshot({ path: join(artifacts, "pipeline-report.png"), fullPage: true });
    await page.close();
  }, 60_000);

  it("JUnit XML parses in the browser's XML parser with the expected structure", async () => {
    const page = await browser.newPage();
    const xml = renderJunit(sampleRun(12));
    const shape = await page.evaluate((text) => {
      const doc = new DOMParser().parseFromString(text, "application/xml");
      const err = doc.querySelector("parsererror");
      if (err) return { error: err.textContent };
      const cases = Array.from(doc.querySelectorAll("testsuites > testsuite > testcase"));
      return {
        suites: doc.querySelectorAll("testsuite").length,
        cases: cases.length,
        failures: doc.querySelectorAll("testcase > failure").length,
        skipped: doc.querySelectorAll("testcase > skipped").length,
        names: new Set(cases.map((c) => `${c.getAttribute("classname")}::${c.getAttribute("name")}`)).size,
        firstFailure: doc.querySelector("failure")?.getAttribute("message"),
      };
    }, xml);
    expect(shape).toEqual({
      suites: 4,
      cases: 12,
      failures: 4,
      skipped: 2,
      names: 12,
      firstFailure: 'expected 8 to be "9" <&>',
    });
    await page.close();
  }, 60_000);
});
