// Splitting a suite into shards (`cleanroom test run --shard k/n`): deterministic, and balanced by the
// durations recorded in `.cleanroom/metrics.jsonl` when there are any (longest first, each file to the
// lightest shard — like Bazel's and vitest's sharding), by file count otherwise. Every shard of one suite
// computes the same split from the same files and durations, and names it by a digest (`plan`) so that
// `report merge` can tell shards of different splits apart. Pure: files and durations in, the split out.

import { GgenError } from "@ggen/contract";
import { sha256 } from "@ggen/support";
import type { MetricsEntry } from "./store.js";

export interface ShardSpec {
  /** 1-based. */
  index: number;
  total: number;
}

export interface ShardPlan {
  /** Files of every shard (relative paths, sorted within a shard); shards[k-1] is shard k. */
  shards: string[][];
  /** sha256 of the whole split: equal in every shard of one suite. */
  plan: string;
  /** How it was balanced. */
  by: "durations" | "count";
}

export function parseShard(shard: string): ShardSpec {
  const m = /^(\d+)\/(\d+)$/.exec(shard.trim());
  const index = Number(m?.[1]);
  const total = Number(m?.[2]);
  if (!m || total < 1 || index < 1 || index > total)
    throw new GgenError("BAD_SHARD", `--shard ${JSON.stringify(shard)}: expected k/n with 1 ≤ k ≤ n`, {
      kind: "usage",
    });
  return { index, total };
}

/**
 * The last recorded duration of each test file, from whole-suite runs only: a shard's own line would
 * make shards that run at the same time see different numbers, and split the suite differently.
 */
export function fileDurations(entries: readonly MetricsEntry[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const e of entries) {
    if (e.shard || !e.files || typeof e.files !== "object") continue;
    for (const [file, ms] of Object.entries(e.files))
      if (typeof ms === "number" && Number.isFinite(ms) && ms >= 0) out.set(file, ms);
  }
  return out;
}

/** Splits `files` (relative paths) into `total` shards. */
export function planShards(
  files: readonly string[],
  total: number,
  durations: ReadonlyMap<string, number> = new Map(),
): ShardPlan {
  const sorted = [...new Set(files)].sort();
  const known = sorted.filter((f) => durations.has(f)).map((f) => durations.get(f)!);
  let shards: string[][];
  let by: ShardPlan["by"];
  if (known.length === 0) {
    // By count: every n-th file, in sorted order.
    shards = Array.from({ length: total }, (_, k) => sorted.filter((_, i) => i % total === k));
    by = "count";
  } else {
    // A file never timed weighs what a timed one does in the middle (the median).
    const ordered = [...known].sort((a, b) => a - b);
    const median = ordered[Math.floor(ordered.length / 2)]!;
    const weight = (f: string) => durations.get(f) ?? median;
    // Longest first (ties by path), each to the lightest shard (ties to the lowest index).
    const queue = [...sorted].sort((a, b) => weight(b) - weight(a) || (a < b ? -1 : a > b ? 1 : 0));
    const load = new Array<number>(total).fill(0);
    shards = Array.from({ length: total }, () => [] as string[]);
    for (const f of queue) {
      let best = 0;
      for (let k = 1; k < total; k++) if (load[k]! < load[best]!) best = k;
      shards[best]!.push(f);
      load[best]! += weight(f);
    }
    for (const s of shards) s.sort();
    by = "durations";
  }
  return { shards, plan: sha256(JSON.stringify(shards)), by };
}
