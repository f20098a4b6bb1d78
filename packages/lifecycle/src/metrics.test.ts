import { join } from "node:path";
import { type DeploymentMetrics, GgenError } from "@ggen/contract";
import { afterAll, describe, expect, it } from "vitest";
import {
  compareMetrics,
  metricsFileOf,
  metricsTrends,
  parseMetrics,
  readMetricsRecords,
  summarizeMetrics,
  timelineMetrics,
} from "./metrics.js";
import { cleanupProjects, project } from "./test-util.js";

afterAll(cleanupProjects);

const rec = (
  id: string,
  total: number,
  phases: Record<string, number>,
  status: DeploymentMetrics["status"] = "success",
): DeploymentMetrics => ({
  kind: "deployment-metrics/v1",
  deploymentId: id,
  timestamp: "2026-01-13T10:00:00.000Z",
  status,
  totalTimeSeconds: total,
  phases,
  testMetrics: { totalTests: 1, passed: 1, failed: 0, durationSeconds: 1 },
  resourceUsage: { peakMemoryMb: 10, cpuPercent: 5 },
});

describe("metrics", () => {
  const history = [
    rec("a", 10, { build: 4, deployment: 6 }),
    rec("b", 20, { build: 14, deployment: 6 }, "rolled-back"),
    rec("c", 30, { build: 24, deployment: 6 }),
  ];

  it("summarises with a per-phase breakdown", () => {
    const s = summarizeMetrics(history);
    expect(s).toMatchObject({ deployments: 3, success: 2, rolledBack: 1, meanTotalSeconds: 20 });
    expect(s.breakdown[0]).toEqual({ phase: "build", meanSeconds: 14, share: 0.7, runs: 3 });
  });

  it("finds trends", () => {
    const t = metricsTrends(history);
    expect(t.find((x) => x.metric === "total")).toMatchObject({
      slopePerDeployment: 10,
      direction: "regressing",
    });
    expect(t.find((x) => x.metric === "phase:deployment")?.direction).toBe("stable");
  });

  it("flags regressions against a baseline", () => {
    const c = compareMetrics(history[0]!, history[2]!);
    expect(c.regressions).toBe(2);
    expect(c.deltas.find((d) => d.metric === "phase:build")).toMatchObject({
      deltaSeconds: 20,
      deltaPercent: 500,
      regression: true,
    });
  });

  it("reads JSON Lines, skipping a torn or invalid line with its number", () => {
    const text = `${JSON.stringify(history[0])}\n{"kind":"deployment-metrics/v1"}\n${JSON.stringify(history[1])}\n{"kind":"dep`;
    const r = parseMetrics(text, "h.jsonl");
    expect(r.records.map((x) => x.deploymentId)).toEqual(["a", "b"]);
    expect(r.problems.map((p) => p.line)).toEqual([2, 4]);
  });
});

describe("wall time", () => {
  it("a record's total is the wall time of its timeline, never the sum of stages that overlapped", () => {
    // generation ∥ setup, then testing ∥ validation, then deployment: 10.1 s of wall time, 18.8 s of stages.
    const m = timelineMetrics(
      {
        startedAt: 1_000_000,
        stages: [
          { name: "marketplace", startedAtMs: 0, durationMs: 500 },
          { name: "generation", startedAtMs: 500, durationMs: 2000 },
          { name: "setup", startedAtMs: 500, durationMs: 3500 },
          { name: "testing", startedAtMs: 4000, durationMs: 5000 },
          { name: "validation", startedAtMs: 4000, durationMs: 4800 },
          { name: "deployment", startedAtMs: 9000, durationMs: 1100 },
          { name: "reporting" },
        ],
      },
      1_000_000 + 10_100,
    );
    expect(m.totalTimeSeconds).toBe(10.1);
    expect(Object.values(m.phases).reduce((a, b) => a + b, 0)).toBeCloseTo(16.9, 5);
    expect(m.stages.testing).toEqual({ startSeconds: 4, durationSeconds: 5 });
    expect(m.stages.reporting).toBeUndefined();
  });

  it("analysis means are of wall time", () => {
    const s = summarizeMetrics([rec("a", 6, { x: 5, y: 5 }), rec("b", 11, { x: 10, y: 9 })]);
    expect(s.meanTotalSeconds).toBe(8.5);
  });
});

describe("reading metrics files", () => {
  const lineOf = (p: Promise<unknown>) =>
    p.then(
      () => "no error",
      (e: GgenError) => e.toLine(),
    );

  it.each([
    ["malformed JSON", '{"kind": ', "m.json:1: not valid JSON: unexpected end of input at column 10"],
    ["binary", "\u0001\u0002\u001b[31mgzip", "m.json: not a text file (binary or not UTF-8)"],
    ["an array of numbers", "[1, 2, 3]", "m.json:1: record [0] must be object ("],
    ["an empty file", "", "m.json: no deployment-metrics/v1 record"],
  ])("a named file of %s is a usage error at its line", async (_, text, line) => {
    const dir = await project({ "m.json": text });
    const err = await readMetricsRecords(dir, "m.json").catch((e: GgenError) => e);
    expect(err).toBeInstanceOf(GgenError);
    expect((err as GgenError).kind).toBe("usage");
    expect((err as GgenError).toLine()).toContain(line);
    expect(await lineOf(readMetricsRecords(dir, "m.json"))).not.toMatch(/[\u0000-\u001f]/);
  });

  it("the history skips a torn line and says so; a missing history is empty", async () => {
    const good = JSON.stringify(rec("a", 1, {}));
    const dir = await project({ ".ggen/deployments.jsonl": `${good}\n{"kind":"dep` });
    const notes: string[] = [];
    expect(
      (await readMetricsRecords(dir, undefined, (n) => notes.push(n))).map((r) => r.deploymentId),
    ).toEqual(["a"]);
    expect(notes).toEqual([
      expect.stringMatching(/^\.ggen\/deployments\.jsonl:2: skipped an invalid record: /),
    ]);
    expect(await readMetricsRecords(await project({}), undefined)).toEqual([]);
  });

  it("GGEN_METRICS_FILE names the history, relative to the project", async () => {
    const dir = await project({ "metrics.json": `${JSON.stringify(rec("m", 2, {}))}\n` });
    expect(metricsFileOf(dir, { GGEN_METRICS_FILE: "metrics.json" })).toBe(join(dir, "metrics.json"));
    expect(metricsFileOf(dir, {})).toBe(join(dir, ".ggen/deployments.jsonl"));
    const before = process.env.GGEN_METRICS_FILE;
    process.env.GGEN_METRICS_FILE = "metrics.json";
    try {
      expect((await readMetricsRecords(dir, undefined)).map((r) => r.deploymentId)).toEqual(["m"]);
    } finally {
      if (before === undefined) delete process.env.GGEN_METRICS_FILE;
      else process.env.GGEN_METRICS_FILE = before;
    }
  });
});
