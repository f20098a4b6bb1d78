import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Service } from "@ggen/cleanroom-backends";
import { validate } from "@ggen/contract";
import { afterAll, describe, expect, it } from "vitest";
import { runScenario } from "./dag.js";
import { scenarioTests, scenarioTimeline } from "./result.js";
import { parseScenario } from "./scenario.js";
import { runSession, secretValues } from "./session.js";
import { lastRun, readMetrics } from "./store.js";

const root = mkdtempSync(join(tmpdir(), "session-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("runSession (host)", () => {
  it("records a valid cleanroom-run/v1, its timeline, the last pointer and a metrics line", async () => {
    writeFileSync(
      join(root, "s.yaml"),
      "steps:\n  - name: hello\n    run: echo hi\n  - name: bad\n    run: exit 2\n",
    );
    const scenario = parseScenario(readFileSync(join(root, "s.yaml"), "utf8"), "s.yaml");
    const stateDir = join(root, ".cleanroom");
    const { run, path } = await runSession({
      root,
      stateDir,
      kind: "scenario",
      sources: ["s.yaml"],
      work: async (ctx) => {
        const r = await runScenario(scenario, { exec: ctx.exec, cwd: ctx.workdir, env: ctx.env });
        return { tests: scenarioTests(r), timeline: scenarioTimeline(r) };
      },
    });
    expect(validate("cleanroom-run/v1", run).ok).toBe(true);
    expect(run.summary).toMatchObject({ total: 2, passed: 1, failed: 1 });
    expect(run.sources?.[0]?.path).toBe("s.yaml");
    const stored = await lastRun(stateDir);
    expect(stored.path).toBe(path);
    expect(stored.run).toEqual(run);
    expect(stored.timeline.map((t) => t.name)).toEqual(["hello", "bad"]);
    const { entries } = await readMetrics(stateDir);
    expect(entries).toHaveLength(1);
    expect(Object.keys(entries[0]!.steps)).toEqual(["hello", "bad"]);
    expect(entries[0]!.tests).toEqual({ total: 2, passed: 1, failed: 1, skipped: 0 });
  });
});

describe("secretValues", () => {
  it("finds secret variables and URL passwords, longest first", () => {
    const svc = {
      env: {
        DATABASE_URL: "postgresql://u:s3cr3tpw@127.0.0.1:5432/db",
        PGPASSWORD: "s3cr3tpw",
        PGHOST: "127.0.0.1",
        API_TOKEN: "tok-123",
      },
    } as unknown as Service;
    expect(secretValues([svc])).toEqual(["postgresql://u:s3cr3tpw@127.0.0.1:5432/db", "s3cr3tpw", "tok-123"]);
  });
});
