// Where runs and metrics live: `.cleanroom/runs/<runId>.json` (a cleanroom-run/v1, written atomically),
// its timeline beside it, a `last` pointer, and one line per run in `.cleanroom/metrics.jsonl`
// (appended under a lock so parallel runs never interleave half lines).

import { mkdirSync } from "node:fs";
import { appendFile, readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { type CleanroomRun, GgenError, parseJson, validate } from "@ggen/contract";
import { withLock, writeFileAtomic } from "@ggen/support";
import type { TimelineEntry } from "./result.js";

export interface StoredRun {
  run: CleanroomRun;
  timeline: TimelineEntry[];
  path: string;
}

export interface MetricsEntry {
  runId: string;
  at: string;
  kind: "test" | "scenario" | "ultra-fast-test";
  backend: string;
  totalMs: number;
  setupMs: number;
  testMs: number;
  teardownMs: number;
  tests: { total: number; passed: number; failed: number; skipped: number };
  /** Duration per step (scenario step, runner invocation, or stage) in ms. */
  steps: Record<string, number>;
  /** Wall time per test file (relative path → ms): what shards are balanced by. */
  files?: Record<string, number>;
  /** The run was one shard of a split suite (such lines never balance a split: see fileDurations). */
  shard?: { index: number; total: number };
  peakMemoryMb: number;
}

const runsDir = (stateDir: string) => join(stateDir, "runs");

export async function saveRun(
  stateDir: string,
  run: CleanroomRun,
  timeline: TimelineEntry[] = [],
): Promise<string> {
  const dir = runsDir(stateDir);
  const path = join(dir, `${run.runId}.json`);
  // The record is durable; its timeline (derived, for the HTML report) and the `last` pointer (lastRun
  // falls back to the newest record) are only atomic.
  await writeFileAtomic(join(dir, `${run.runId}.timeline.json`), `${JSON.stringify(timeline)}\n`, {
    fsync: false,
  });
  await writeFileAtomic(path, `${JSON.stringify(run, null, 2)}\n`);
  await writeFileAtomic(join(dir, "last"), `${run.runId}\n`, { fsync: false });
  return path;
}

/** Past this a file given as a run, a scenario or an attestation is refused, not read. */
export const MAX_INPUT_BYTES = 64 * 1024 * 1024;

/**
 * A file the user named (a run, a scenario, an attestation, a key), read as UTF-8 — refused in one line
 * when it is missing, not a regular file (a directory, /dev/zero, a FIFO would never end) or too big.
 */
export async function readInputFile(
  path: string,
  what: string,
  options: { maxBytes?: number; code?: string } = {},
): Promise<string> {
  const max = options.maxBytes ?? MAX_INPUT_BYTES;
  const code = options.code ?? "FILE_NOT_FOUND";
  const fail = (why: string) =>
    new GgenError(code, `${what} ${why}: ${path}`, { kind: "usage", location: { file: path } });
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(path);
  } catch {
    throw fail("not found");
  }
  if (info.isDirectory()) throw fail("is a directory");
  if (!info.isFile()) throw fail("is not a regular file");
  if (info.size > max) throw fail(`is larger than ${Math.round(max / 1024 / 1024)} MiB`);
  const buf = await readFile(path);
  if (buf.length > max) throw fail(`is larger than ${Math.round(max / 1024 / 1024)} MiB`);
  return buf.toString("utf8");
}

export async function loadRun(path: string): Promise<StoredRun> {
  const text = await readInputFile(path, "run", { code: "RUN_NOT_FOUND" });
  const data = parseJson(text, path, "RUN_INVALID", "usage");
  const checked = validate("cleanroom-run/v1", data);
  if (!checked.ok) {
    const first = checked.errors[0]!;
    throw new GgenError("RUN_INVALID", `not a cleanroom-run/v1: ${first.path} ${first.message}`, {
      kind: "usage",
      location: { file: path },
    });
  }
  let timeline: TimelineEntry[] = [];
  try {
    if (path.endsWith(".json")) {
      const t: unknown = JSON.parse(
        await readInputFile(path.replace(/\.json$/, ".timeline.json"), "timeline"),
      );
      if (Array.isArray(t)) timeline = t as TimelineEntry[];
    }
  } catch {
    // runs written elsewhere have no timeline; reports synthesize one
  }
  return { run: checked.value, timeline, path };
}

export async function listRuns(stateDir: string): Promise<string[]> {
  try {
    const names = await readdir(runsDir(stateDir));
    return names
      .filter((n) => n.endsWith(".json") && !n.endsWith(".timeline.json"))
      .sort()
      .map((n) => join(runsDir(stateDir), n));
  } catch {
    return [];
  }
}

/** The last run stored under stateDir; a usage error when there is none. */
export async function lastRun(stateDir: string): Promise<StoredRun> {
  let id: string | undefined;
  try {
    id = (await readFile(join(runsDir(stateDir), "last"), "utf8")).trim();
  } catch {
    id = (await listRuns(stateDir))
      .at(-1)
      ?.replace(/^.*\//, "")
      .replace(/\.json$/, "");
  }
  if (!id)
    throw new GgenError("NO_RUNS", `no test runs recorded under ${runsDir(stateDir)}`, {
      kind: "usage",
      hint: "run 'cleanroom test run' first",
    });
  return loadRun(join(runsDir(stateDir), `${id}.json`));
}

export async function appendMetrics(stateDir: string, entry: MetricsEntry): Promise<void> {
  mkdirSync(stateDir, { recursive: true });
  const file = join(stateDir, "metrics.jsonl");
  // A lock with an owner: a run killed while appending leaves a lock the next run takes over at once.
  await withLock(file, () => appendFile(file, `${JSON.stringify(entry)}\n`), { what: "metrics.jsonl" });
}

/** Metrics lines, oldest first; a line that does not parse is skipped and counted. */
export async function readMetrics(stateDir: string): Promise<{ entries: MetricsEntry[]; skipped: number }> {
  let text = "";
  try {
    text = await readFile(join(stateDir, "metrics.jsonl"), "utf8");
  } catch {
    return { entries: [], skipped: 0 };
  }
  const entries: MetricsEntry[] = [];
  let skipped = 0;
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    try {
      entries.push(JSON.parse(line) as MetricsEntry);
    } catch {
      skipped++;
    }
  }
  return { entries, skipped };
}
