import type { DeploymentMetrics } from "@ggen/contract";
import { describe, expect, it } from "vitest";
import { compareMetrics, metricsTrends, parseMetrics, summarizeMetrics } from "./metrics.js";

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
