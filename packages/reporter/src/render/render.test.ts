import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type PipelineReport, validate } from "@ggen/contract";
import { describe, expect, it } from "vitest";
import { sampleRun } from "./fixtures.test-helpers.js";
import { renderPipelineHtml, renderRunHtml, timelineSvg } from "./html.js";
import { renderJunit } from "./junit.js";
import { escapeXml, failuresFirst } from "./shared.js";
import { renderPipelineText, renderRunText } from "./text.js";

const contractDir = join(import.meta.dirname, "../../../contract/examples");
const pipeline = JSON.parse(
  readFileSync(join(contractDir, "pipeline-report.v1.json"), "utf8"),
) as PipelineReport;

describe("renderers", () => {
  it("the sample run is a valid cleanroom-run/v1", () => {
    expect(validate("cleanroom-run/v1", sampleRun()).ok).toBe(true);
  });

  it("escapes XML specials, strips ANSI codes and characters XML forbids", () => {
    expect(escapeXml(`a<b>&"c'\u0001\u001b[31mred\u001b[0m`)).toBe("a&lt;b&gt;&amp;&quot;c&apos;\uFFFDred");
  });

  it("JUnit: one testsuite per file, counts, seconds, failure/skipped elements, unique names", () => {
    const run = sampleRun(6);
    run.tests.push({ ...run.tests[0]!, id: "dup" });
    const xml = renderJunit(run);
    expect(
      xml.startsWith(
        '<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="run-20260113-100000-1a2b" tests="7" failures="2"',
      ),
    ).toBe(true);
    expect(xml).toContain(
      '<testsuite name="test/file2.test.mjs" tests="1" failures="1" errors="0" skipped="0"',
    );
    expect(xml).toContain(
      '<testcase name="suite &lt;a &amp; b&gt; &gt; case 2" classname="test/file2.test.mjs" file="test/file2.test.mjs" time="0.007">',
    );
    expect(xml).toContain(
      '<failure message="expected 2 to be &quot;3&quot; &lt;&amp;&gt;" type="failure">expected 2 to be &quot;3&quot; &lt;&amp;&gt;\nAssertionError: expected 2',
    );
    expect(xml).toContain('<skipped message="skipped"/>');
    expect(xml).toContain('name="suite &lt;a &amp; b&gt; &gt; case 0 [2]"');
    expect(xml).not.toContain("\u001b");
  });

  it("text: summary line, failures listed, failures first in the table", () => {
    const text = renderRunText(sampleRun(6));
    expect(text.split("\n")[0]).toBe(
      "FAILED  6 tests: 3 passed, 2 failed, 1 skipped in 2.40 s (local, run-20260113-100000-1a2b)",
    );
    expect(text).toContain("✗ test/file2.test.mjs › suite <a & b> › case 2 [failed]");
    const rows = text.split("\n").filter((l) => /^(passed|failed|skipped) /.test(l));
    expect(rows.map((r) => r.split(" ")[0])).toEqual([
      "failed",
      "failed",
      "skipped",
      "passed",
      "passed",
      "passed",
    ]);
    expect(failuresFirst(sampleRun(6).tests)[0]!.name).toBe("case 2");
  });

  it("HTML: self-contained, failures before the tests table, a timeline with stages and steps", () => {
    const html = renderRunHtml(sampleRun(6), {
      timeline: [
        { name: "test/file0.test.mjs", lane: "step", startMs: 0, durationMs: 500, status: "passed" },
      ],
    });
    expect(html).not.toMatch(/<script|<link|src="http/);
    expect(html.indexOf('data-testid="failures"')).toBeLessThan(html.indexOf('data-testid="tests"'));
    expect(html).toContain('data-name="setup"');
    expect(html).toContain('data-name="test/file0.test.mjs"');
    expect(html).toContain("suite &lt;a &amp; b&gt;");
    expect(timelineSvg([])).toContain("No timeline");
  });

  it("pipeline report: text and HTML", () => {
    const text = renderPipelineText(pipeline);
    expect(text.split("\n")[0]).toBe("READY  my-service 0.1.0 in 5.20 s → production");
    expect(text).toMatch(/testing\s+success\s+1\.80 s/);
    expect(text).toContain("Recommendation: Ready: every stage passed");
    const html = renderPipelineHtml({
      ...pipeline,
      deploymentStatus: "FAILED",
      stages: {
        ...pipeline.stages,
        testing: { durationMs: 10, status: "failed", message: "2 tests failed" },
      },
    });
    expect(html).toContain('data-testid="status">FAILED<');
    expect(html).toContain("2 tests failed");
    expect(html).toContain('data-name="deployment"');
  });

  it("pipeline report: a validation check that was skipped shows as skipped, not failed", () => {
    const skipped = {
      ...pipeline,
      validation: { ...pipeline.validation, securityPassed: false, skipped: ["securityPassed"] },
    };
    expect(renderPipelineText(skipped)).toMatch(/^Validation: .*- securityPassed/m);
    expect(renderPipelineText(skipped)).not.toMatch(/✗ securityPassed/);
    expect(renderPipelineHtml(skipped)).toContain(
      '<td>securityPassed</td><td class="s-skipped">- skipped</td>',
    );
  });
});
