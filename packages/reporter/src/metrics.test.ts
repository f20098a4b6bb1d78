import { describe, expect, it } from "vitest";
import { percentile, summarizeMetrics } from "./metrics.js";

describe("metrics", () => {
  it("nearest-rank percentiles", () => {
    const v = [5, 1, 4, 2, 3, 10, 9, 8, 7, 6];
    expect(percentile(v, 50)).toBe(5);
    expect(percentile(v, 95)).toBe(10);
    expect(percentile(v, 0)).toBe(1);
    expect(percentile([], 50)).toBe(0);
  });

  it("p50 / p95 per step across runs, slowest p95 first", () => {
    const lines = Array.from({ length: 20 }, (_, i) => ({
      runId: `r${i}`,
      at: `2026-01-01T00:00:${String(i).padStart(2, "0")}Z`,
      kind: "scenario",
      totalMs: 100 + i,
      setupMs: 10,
      testMs: 80 + i,
      teardownMs: 5,
      tests: { total: 2, passed: i % 4 === 0 ? 1 : 2, failed: i % 4 === 0 ? 1 : 0 },
      steps: { build: 50 + i, lint: 10 + (i % 2) },
    }));
    const s = summarizeMetrics(lines);
    expect(s.runs).toBe(20);
    expect(s.passRate).toBe(75);
    expect(s.steps.map((x) => x.name)).toEqual(["build", "lint"]);
    expect(s.steps[0]).toMatchObject({ runs: 20, p50: 59, p95: 68, min: 50, max: 69, last: 69 });
    expect(s.steps[1]).toMatchObject({ p50: 10, p95: 11 });
    expect(s.total.p50).toBe(109);
    expect(s.first).toBe("2026-01-01T00:00:00Z");
  });
});
