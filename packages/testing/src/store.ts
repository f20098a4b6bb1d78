// Where runs and metrics live: `.cleanroom/runs/<runId>.json` (a cleanroom-run/v1, written atomically),
// its timeline beside it, a `last` pointer, and one line per run in `.cleanroom/metrics.jsonl`
// (appended under a lock so parallel runs never interleave half lines).

import { mkdirSync } from "node:fs";
import { appendFile, readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { type CleanroomRun, GgenError, parseJson, validate } from "@ggen/contract";
import { writeFileAtomic } from "@ggen/support";
import lockfile from "proper-lockfile";
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

export async function loadRun(path: string): Promise<StoredRun> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch {
    throw new GgenError("RUN_NOT_FOUND", `no run at ${path}`, { kind: "usage", location: { file: path } });
  }
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
    timeline = JSON.parse(
      await readFile(path.replace(/\.json$/, ".timeline.json"), "utf8"),
    ) as TimelineEntry[];
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
  const release = await lockfile.lock(stateDir, {
    lockfilePath: `${file}.lock`,
    realpath: false,
    retries: { retries: 50, minTimeout: 20, maxTimeout: 200 },
    stale: 10_000,
  });
  try {
    await appendFile(file, `${JSON.stringify(entry)}\n`);
  } finally {
    await release();
  }
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
