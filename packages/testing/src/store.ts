// Where runs and metrics live: `.cleanroom/runs/<runId>.json` (a cleanroom-run/v1, written atomically),
// its timeline beside it, a `last` pointer, and one line per run in `.cleanroom/metrics.jsonl`
// (appended under a lock so parallel runs never interleave half lines).

import { existsSync, mkdirSync } from "node:fs";
import { appendFile, readdir, readFile, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { type CleanroomRun, GgenError, parseJson, validate } from "@ggen/contract";
import { formatSize, parseSize, withLock, writeFileAtomic } from "@ggen/support";
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

/**
 * Where runs and metrics are kept: by default `<stateDir>/runs/` and `<stateDir>/metrics.jsonl`;
 * `.cleanroom/config.toml`'s `[testing] results_dir` and `[metrics] metrics_file` move them, and
 * `metricsFile: false` (`[metrics] enabled = false`, `[testing] collect_metrics = false`) records none.
 */
export interface StoreLocation {
  runsDir: string;
  metricsFile: string | false;
}

/** A store under `stateDir`, with what the configuration moved. */
export function storeAt(
  stateDir: string,
  moved: { runsDir?: string | undefined; metricsFile?: string | false | undefined } = {},
): StoreLocation {
  return {
    runsDir: moved.runsDir ?? join(stateDir, "runs"),
    metricsFile: moved.metricsFile ?? join(stateDir, "metrics.jsonl"),
  };
}

/** Every store function takes a state dir (the default layout under it) or a StoreLocation. */
export type StoreRef = string | StoreLocation;
const where = (s: StoreRef): StoreLocation => (typeof s === "string" ? storeAt(s) : s);
const runsDir = (s: StoreRef) => where(s).runsDir;

export async function saveRun(
  store: StoreRef,
  run: CleanroomRun,
  timeline: TimelineEntry[] = [],
): Promise<string> {
  const dir = runsDir(store);
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

/** Past this a file given as a run, a scenario or an attestation is refused, not read (the default). */
export const MAX_INPUT_BYTES = 64 * 1024 * 1024;

/** The input limit in force: CLEANROOM_MAX_INPUT_SIZE (512M, 1G) when set, else MAX_INPUT_BYTES. */
export function inputLimit(): number {
  const asked = process.env.CLEANROOM_MAX_INPUT_SIZE;
  return asked ? parseSize(asked, { flag: "CLEANROOM_MAX_INPUT_SIZE" }) : MAX_INPUT_BYTES;
}

/**
 * A file the user named (a run, a scenario, an attestation, a key), read as UTF-8 — refused in one line
 * when it is missing, not a regular file (a directory, /dev/zero, a FIFO would never end) or too big.
 */
export async function readInputFile(
  path: string,
  what: string,
  options: { maxBytes?: number; code?: string } = {},
): Promise<string> {
  const max = options.maxBytes ?? inputLimit();
  const code = options.code ?? "FILE_NOT_FOUND";
  const fail = (why: string, hint?: string) =>
    new GgenError(code, `${what} ${why}`, {
      kind: "usage",
      location: { file: path },
      ...(hint ? { hint } : {}),
    });
  const tooLarge = () =>
    fail(
      `is larger than ${formatSize(max)}`,
      options.maxBytes === undefined
        ? "raise the limit with CLEANROOM_MAX_INPUT_SIZE (e.g. 256M)"
        : undefined,
    );
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(path);
  } catch {
    throw fail("not found");
  }
  if (info.isDirectory()) throw fail("is a directory");
  if (!info.isFile()) throw fail("is not a regular file");
  if (info.size > max) throw tooLarge();
  const buf = await readFile(path);
  if (buf.length > max) throw tooLarge();
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

export async function listRuns(store: StoreRef): Promise<string[]> {
  try {
    const names = await readdir(runsDir(store));
    return names
      .filter((n) => n.endsWith(".json") && !n.endsWith(".timeline.json"))
      .sort()
      .map((n) => join(runsDir(store), n));
  } catch {
    return [];
  }
}

/** The last run stored; a usage error when there is none. */
export async function lastRun(store: StoreRef): Promise<StoredRun> {
  let id: string | undefined;
  try {
    id = (await readInputFile(join(runsDir(store), "last"), "last-run pointer", { maxBytes: 4096 })).trim();
  } catch {
    id = (await listRuns(store))
      .at(-1)
      ?.replace(/^.*\//, "")
      .replace(/\.json$/, "");
  }
  if (!id)
    throw new GgenError("NO_RUNS", `no test runs recorded under ${runsDir(store)}`, {
      kind: "usage",
      hint: "run 'cleanroom test run' first",
    });
  // A pointer is a run id, never a path: it cannot lead out of the runs directory.
  if (!/^[\w.-]+$/.test(id) || id.startsWith("."))
    throw new GgenError("NO_RUNS", `the last-run pointer in ${runsDir(store)} is not a run id`, {
      kind: "usage",
    });
  return loadRun(join(runsDir(store), `${id}.json`));
}

/** Appends a line to the metrics file (nothing when the store records no metrics). */
export async function appendMetrics(store: StoreRef, entry: MetricsEntry): Promise<void> {
  const file = where(store).metricsFile;
  if (file === false) return;
  mkdirSync(dirname(file), { recursive: true });
  // A lock with an owner: a run killed while appending leaves a lock the next run takes over at once.
  await withLock(file, () => appendFile(file, `${JSON.stringify(entry)}\n`), { what: basename(file) });
}

const finite = (v: unknown) => typeof v === "number" && Number.isFinite(v) && v >= 0;
const numbersIn = (v: unknown) =>
  typeof v === "object" && v !== null && !Array.isArray(v) && Object.values(v).every(finite);

/** A metrics line of the shape this package writes (a hand-edited or foreign line is skipped, not trusted). */
function isMetricsEntry(v: unknown): v is MetricsEntry {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return false;
  const e = v as Record<string, unknown>;
  return (
    typeof e.runId === "string" &&
    typeof e.at === "string" &&
    !Number.isNaN(Date.parse(e.at)) &&
    ["totalMs", "setupMs", "testMs", "teardownMs"].every((k) => finite(e[k])) &&
    numbersIn(e.tests) &&
    numbersIn(e.steps) &&
    (e.files === undefined || numbersIn(e.files))
  );
}

/** Metrics lines, oldest first; a line that is not a metrics entry is skipped and counted. */
export async function readMetrics(store: StoreRef): Promise<{ entries: MetricsEntry[]; skipped: number }> {
  const file = where(store).metricsFile;
  if (file === false || !existsSync(file)) return { entries: [], skipped: 0 };
  const text = await readInputFile(file, "metrics file");
  const entries: MetricsEntry[] = [];
  let skipped = 0;
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    try {
      const value: unknown = JSON.parse(line);
      if (isMetricsEntry(value)) entries.push(value);
      else skipped++;
    } catch {
      skipped++;
    }
  }
  return { entries, skipped };
}
