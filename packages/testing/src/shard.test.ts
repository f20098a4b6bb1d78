import { describe, expect, it } from "vitest";
import { mergeRuns } from "./merge.js";
import { buildRun, hostIsolation } from "./result.js";
import { fileDurations, planShards } from "./shard.js";
import type { MetricsEntry } from "./store.js";

const files = ["a.test.mjs", "b.test.mjs", "c.test.mjs", "d.test.mjs", "e.test.mjs"];

describe("planShards", () => {
  it("by file count without durations: every file once, the same split every time", () => {
    const p = planShards(files, 2);
    expect(p.by).toBe("count");
    expect(p.shards).toEqual([
      ["a.test.mjs", "c.test.mjs", "e.test.mjs"],
      ["b.test.mjs", "d.test.mjs"],
    ]);
    expect(planShards([...files].reverse(), 2)).toEqual(p);
  });

  it("by recorded durations: the long file alone, the rest beside it; untimed files weigh the median", () => {
    const d = new Map([
      ["a.test.mjs", 9000],
      ["b.test.mjs", 1000],
      ["c.test.mjs", 1000],
      ["d.test.mjs", 1000],
    ]);
    const p = planShards(files, 2, d);
    expect(p.by).toBe("durations");
    expect(p.shards).toEqual([["a.test.mjs"], ["b.test.mjs", "c.test.mjs", "d.test.mjs", "e.test.mjs"]]);
    // Another duration gives another split, and another plan digest.
    const q = planShards(files, 2, new Map([...d, ["b.test.mjs", 20_000]]));
    expect(q.shards[0]).toEqual(["b.test.mjs"]);
    expect(q.plan).not.toBe(p.plan);
    // More shards than files: empty shards, still every file once.
    const r = planShards(["x"], 3, d);
    expect(r.shards.flat()).toEqual(["x"]);
  });

  it("reads durations from whole-suite runs only, the last one winning", () => {
    const line = (files: Record<string, number>, shard?: MetricsEntry["shard"]): MetricsEntry => ({
      runId: "r",
      at: "2025-01-01T00:00:00Z",
      kind: "test",
      backend: "local",
      totalMs: 1,
      setupMs: 0,
      testMs: 1,
      teardownMs: 0,
      tests: { total: 1, passed: 1, failed: 0, skipped: 0 },
      steps: {},
      files,
      ...(shard ? { shard } : {}),
      peakMemoryMb: 0,
    });
    const d = fileDurations([
      line({ "a.test.mjs": 5 }),
      line({ "a.test.mjs": 7 }),
      line({ "a.test.mjs": 100 }, { index: 1, total: 2 }),
    ]);
    expect([...d]).toEqual([["a.test.mjs", 7]]);
  });
});

describe("mergeRuns", () => {
  const shardRun = (index: number, total: number, names: string[], plan = "a".repeat(64)) => {
    const run = buildRun({
      startedAt: new Date(Date.UTC(2025, 0, 1, 0, 0, index)),
      finishedAt: new Date(Date.UTC(2025, 0, 1, 0, 0, index + 2)),
      environment: { name: `run-${index}`, backend: "local", isolation: hostIsolation },
      tests: names.map((n) => ({
        id: `${n}#t`,
        file: n,
        name: "t",
        status: "passed" as const,
        durationMs: 1,
      })),
      timings: { setupMs: index, testMs: 10, teardownMs: 1 },
    });
    run.shard = { index, total, plan };
    run.sources = names.map((n) => ({ path: n, sha256: "b".repeat(64) }));
    return { path: `shard-${index}.json`, sha256: String(index).repeat(64), run };
  };

  it("unites every shard once: tests, sources, counts; wall time from first start to last finish", () => {
    const m = mergeRuns([shardRun(2, 2, ["b"]), shardRun(1, 2, ["a", "c"])]);
    expect(m.tests.map((t) => t.file)).toEqual(["a", "c", "b"]);
    expect(m.summary).toMatchObject({ total: 3, passed: 3 });
    expect(m.sources?.map((s) => s.path)).toEqual(["a", "b", "c"]);
    expect(m.shards?.map((s) => [s.index, s.path])).toEqual([
      [1, "shard-1.json"],
      [2, "shard-2.json"],
    ]);
    expect(m.timings.totalMs).toBe(3000);
    expect(m.shard).toBeUndefined();
  });

  it("names the shard that is missing, given twice, of another split or of another size", () => {
    expect(() => mergeRuns([shardRun(1, 3, ["a"]), shardRun(3, 3, ["c"])])).toThrow(
      /shard 2\/3 is missing \(given: shard 1\/3 shard-1\.json, shard 3\/3 shard-3\.json\)/,
    );
    const twice = { ...shardRun(1, 2, ["x"]), path: "again.json" };
    expect(() => mergeRuns([shardRun(1, 2, ["a"]), twice, shardRun(2, 2, ["b"])])).toThrow(
      /shard 1\/2 is given twice: shard-1\.json and again\.json/,
    );
    expect(() => mergeRuns([shardRun(1, 2, ["a"]), shardRun(2, 2, ["b"], "c".repeat(64))])).toThrow(
      /shard-2\.json \(shard 2\/2\) belongs to another split than shard-1\.json/,
    );
    expect(() => mergeRuns([shardRun(1, 2, ["a"]), shardRun(2, 3, ["b"])])).toThrow(
      /shard-2\.json is shard 2\/3/,
    );
    expect(() => mergeRuns([shardRun(1, 2, ["a"]), shardRun(2, 2, ["a"])])).toThrow(
      /test 'a#t' is in shard 1\/2/,
    );
  });
});
