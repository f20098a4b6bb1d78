// Shard runs combined into one cleanroom-run/v1 (`cleanroom report merge`), like vitest's
// --merge-reports: every shard of one split present exactly once, tests and sources united, the
// summary counted again. A missing, duplicated or foreign shard is an error naming it. Pure: runs in,
// the merged run out.

import {
  type CleanroomRun,
  GgenError,
  type Isolation,
  type Reference,
  type TestResult,
} from "@ggen/contract";
import { sha256 } from "@ggen/support";
import { summarize } from "./result.js";

export interface ShardInput {
  /** The run file as the user named it (relative to the project root). */
  path: string;
  sha256: string;
  run: CleanroomRun;
  /** The shard's attestation, checked by the caller. */
  attestation?: Reference;
}

// Messages name the shard files themselves (often two of them), so no single location is given.
const fail = (message: string) => new GgenError("MERGE_INVALID", message, { kind: "usage" });

const label = (s: { index: number; total: number }) => `shard ${s.index}/${s.total}`;

/** Checks that the inputs are every shard of one split, once each; returns them in shard order. */
export function checkShards(inputs: readonly ShardInput[]): ShardInput[] {
  if (inputs.length === 0) throw fail("no shard runs to merge");
  for (const i of inputs)
    if (!i.run.shard) throw fail(`${i.path} is not a shard run (it was not run with --shard k/n)`);
  const first = inputs[0]!;
  const total = first.run.shard!.total;
  const byIndex = new Map<number, ShardInput>();
  for (const i of inputs) {
    const s = i.run.shard!;
    if (s.total !== total) throw fail(`${i.path} is ${label(s)}, but ${first.path} is one of ${total}`);
    if (s.plan !== first.run.shard!.plan)
      throw fail(
        `${i.path} (${label(s)}) belongs to another split than ${first.path}: the files or their recorded durations differed when the shards were planned`,
      );
    const twin = byIndex.get(s.index);
    if (twin) throw fail(`${label(s)} is given twice: ${twin.path} and ${i.path}`);
    byIndex.set(s.index, i);
  }
  const missing = Array.from({ length: total }, (_, k) => k + 1).filter((k) => !byIndex.has(k));
  if (missing.length > 0)
    throw fail(
      `${missing.map((k) => label({ index: k, total })).join(", ")} ${missing.length === 1 ? "is" : "are"} missing (given: ${[
        ...byIndex.values(),
      ]
        .map((i) => `${label(i.run.shard!)} ${i.path}`)
        .join(", ")})`,
    );
  return [...byIndex.entries()].sort((a, b) => a[0] - b[0]).map(([, i]) => i);
}

const same = <T>(values: readonly T[]): boolean =>
  values.every((v) => JSON.stringify(v) === JSON.stringify(values[0]));

function mergeIsolation(all: readonly Isolation[]): Isolation {
  const mechanisms = [...new Set(all.map((i) => i.mechanism).filter((m): m is string => Boolean(m)))];
  return {
    // What every shard had, and no more.
    network: all.every((i) => i.network),
    pid: all.every((i) => i.pid),
    filesystem: all.every((i) => i.filesystem),
    limits: all.every((i) => i.limits),
    ...(mechanisms.length ? { mechanism: mechanisms.join(" + ") } : {}),
  };
}

/** One run from every shard of a split (checked with checkShards). */
export function mergeRuns(inputs: readonly ShardInput[]): CleanroomRun {
  const shards = checkShards(inputs);
  const runs = shards.map((s) => s.run);
  const tests: TestResult[] = [];
  const owner = new Map<string, ShardInput>();
  for (const s of shards)
    for (const t of s.run.tests) {
      const other = owner.get(t.id);
      if (other)
        throw fail(
          `test '${t.id}' is in ${label(other.run.shard!)} (${other.path}) and ${label(s.run.shard!)} (${s.path})`,
        );
      owner.set(t.id, s);
      tests.push(t);
    }
  const sources = new Map<string, { ref: Reference; from: ShardInput }>();
  for (const s of shards)
    for (const ref of s.run.sources ?? []) {
      const known = sources.get(ref.path);
      if (known && known.ref.sha256 !== ref.sha256)
        throw fail(
          `${ref.path} differs between shards: ${known.from.path} tested ${known.ref.sha256.slice(0, 12)}…, ${s.path} tested ${ref.sha256.slice(0, 12)}…`,
        );
      sources.set(ref.path, { ref, from: s });
    }
  const startedAt = runs.map((r) => r.startedAt).sort()[0]!;
  const finishedAt = runs
    .map((r) => r.finishedAt)
    .sort()
    .at(-1)!;
  const names = [...new Set(runs.map((r) => r.environment.name))];
  const services = new Map<string, CleanroomRun["services"][number]>();
  for (const r of runs)
    for (const v of r.services) services.set(JSON.stringify([v.name, v.image, v.binary, v.endpoint]), v);
  const max = (f: (r: CleanroomRun) => number) => Math.max(...runs.map(f));
  const sum = (f: (r: CleanroomRun) => number | undefined) => runs.reduce((a, r) => a + (f(r) ?? 0), 0);
  const stamp = startedAt.replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
  const merged: CleanroomRun = {
    kind: "cleanroom-run/v1",
    // The same shards always merge to the same id.
    runId: `run-${stamp}-${sha256(runs.map((r) => r.runId).join("\n")).slice(0, 6)}`,
    ...(runs[0]!.tool ? { tool: runs[0]!.tool } : {}),
    startedAt,
    finishedAt,
    ...(runs[0]!.manifest && same(runs.map((r) => r.manifest)) ? { manifest: runs[0]!.manifest } : {}),
    shards: shards.map((s) => ({
      path: s.path,
      sha256: s.sha256,
      index: s.run.shard!.index,
      total: s.run.shard!.total,
      ...(s.attestation ? { attestation: s.attestation } : {}),
    })),
    sources: [...sources.values()]
      .map((v) => v.ref)
      .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)),
    environment: {
      name: names.length === 1 ? names[0]! : `${runs.length} shards`,
      backend: runs[0]!.environment.backend,
      isolation: mergeIsolation(runs.map((r) => r.environment.isolation)),
    },
    services: [...services.values()],
    tests,
    summary: summarize(tests),
    timings: {
      // Shards run side by side: each phase took as long as its slowest shard; the total is wall time.
      setupMs: max((r) => r.timings.setupMs),
      testMs: max((r) => r.timings.testMs),
      teardownMs: max((r) => r.timings.teardownMs),
      totalMs: Math.max(0, Date.parse(finishedAt) - Date.parse(startedAt)),
    },
    resources: {
      peakMemoryMb: max((r) => r.resources.peakMemoryMb),
      cpuPercent: max((r) => r.resources.cpuPercent),
      ...(runs.some((r) => r.resources.cpuUserMs !== undefined)
        ? { cpuUserMs: sum((r) => r.resources.cpuUserMs) }
        : {}),
      ...(runs.some((r) => r.resources.cpuSystemMs !== undefined)
        ? { cpuSystemMs: sum((r) => r.resources.cpuSystemMs) }
        : {}),
    },
  };
  return merged;
}
