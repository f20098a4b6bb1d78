// deployment-metrics/v1 history (.ggen/deployments.jsonl, or $GGEN_METRICS_FILE): append, read,
// summarise, trends, compare. A record's total is the run's wall time; each stage keeps its start
// offset and duration, so stages that ran in parallel are never added up.
import { promises as fs } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import { type DeploymentMetrics, GgenError, parseJson, validate } from "@ggen/contract";
import { withLock } from "@ggen/support";

export const METRICS_FILE = ".ggen/deployments.jsonl";

/** Where deployment records are written and read: $GGEN_METRICS_FILE (relative to the project) or METRICS_FILE. */
export function metricsFileOf(root: string, env: NodeJS.ProcessEnv = process.env): string {
  const chosen = env.GGEN_METRICS_FILE?.trim();
  return chosen ? resolve(root, chosen) : join(root, METRICS_FILE);
}

/** One stage of a run as a timeline has it: offsets from the run's start, in milliseconds. */
export interface StageTiming {
  name: string;
  /** When it started, from the run's start (absent: it never started). */
  startedAtMs?: number;
  durationMs?: number;
}

/** A run's stages on one clock: `startedAt` (epoch ms) is where the offsets count from. */
export interface RunTimeline {
  startedAt: number;
  stages: readonly StageTiming[];
}

const secs = (ms: number) => Math.round(ms) / 1000;

/**
 * The timing part of a deployment-metrics/v1 record: each finished stage's duration (`phases`) and its
 * start and duration (`stages`), and the total as wall time from the run's start to `endedAt` (epoch
 * ms) — never the sum of stages that overlapped.
 */
export function timelineMetrics(
  t: RunTimeline,
  endedAt: number = Date.now(),
): Pick<DeploymentMetrics, "totalTimeSeconds" | "phases"> & {
  stages: NonNullable<DeploymentMetrics["stages"]>;
} {
  const phases: Record<string, number> = {};
  const stages: NonNullable<DeploymentMetrics["stages"]> = {};
  let end = endedAt - t.startedAt;
  for (const s of t.stages) {
    if (s.startedAtMs === undefined || s.durationMs === undefined) continue;
    const start = Math.max(0, s.startedAtMs);
    const duration = Math.max(0, s.durationMs);
    phases[s.name] = secs(duration);
    stages[s.name] = { startSeconds: secs(start), durationSeconds: secs(duration) };
    end = Math.max(end, start + duration);
  }
  return { totalTimeSeconds: secs(Math.max(0, end)), phases, stages };
}

/**
 * Validates `record` against deployment-metrics/v1 and appends it (one line) under a lock. `file` is
 * relative to `dir` (default: $GGEN_METRICS_FILE, else .ggen/deployments.jsonl).
 */
export async function appendDeploymentMetrics(
  dir: string,
  record: DeploymentMetrics,
  file?: string,
): Promise<void> {
  const r = validate("deployment-metrics/v1", record);
  if (!r.ok) {
    throw new GgenError(
      "LIFECYCLE_METRICS_INVALID",
      `deployment metrics record is not a valid deployment-metrics/v1: ${r.errors.map((e) => `${e.path} ${e.message}`).join("; ")}`,
    );
  }
  const path = file === undefined ? metricsFileOf(dir) : isAbsolute(file) ? file : join(dir, file);
  await fs.mkdir(join(path, ".."), { recursive: true });
  // A line is appended in one write; a torn last line (power loss) is skipped by the reader.
  await withLock(
    path,
    async () => {
      const handle = await fs.open(path, "a");
      try {
        await handle.write(`${JSON.stringify(record)}\n`);
        await handle.sync();
      } finally {
        await handle.close();
      }
    },
    { what: path, code: "LIFECYCLE_METRICS_LOCKED" },
  );
}

export interface MetricsProblem {
  line: number;
  message: string;
}

/**
 * Reads metrics from a file: JSON Lines, a JSON array or one JSON object. Lenient (the history): an
 * invalid record is reported with its line, not fatal — a torn last line must not hide the history.
 * Strict (a file a person names): the first invalid record, bad JSON, a binary file or an empty one is a
 * usage error at its file:line.
 */
export async function readMetricsFile(
  path: string,
  display = path,
  mode: "lenient" | "strict" = "lenient",
): Promise<{ records: DeploymentMetrics[]; problems: MetricsProblem[] }> {
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "EISDIR") {
      throw new GgenError(
        "LIFECYCLE_METRICS_MISSING",
        code === "EISDIR" ? `${display} is a directory, not a metrics file` : `no metrics file ${display}`,
        { kind: "usage", location: { file: display } },
      );
    }
    throw e;
  }
  const bad = (message: string, line?: number): never => {
    throw new GgenError("LIFECYCLE_METRICS_INVALID", `${message}`, {
      kind: "usage",
      location: { file: display, ...(line ? { line } : {}) },
      hint: "a metrics file holds deployment-metrics/v1 records: JSON Lines, a JSON array or one object",
    });
  };
  const text = bytes.toString("utf8");
  // JSON never holds raw control characters (but tab, CR and LF), nor invalid UTF-8: such a file is binary.
  if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\ufffd]/.test(text))
    bad("not a text file (binary or not UTF-8)");
  const read = parseMetrics(text, display);
  if (mode === "lenient") return read;
  const lastLine = text.trimEnd().split("\n").length;
  // A torn last line (no newline after it) is what a crash mid-append leaves: skipped, as in the history.
  const torn = (p: MetricsProblem) =>
    p.line === lastLine && !text.endsWith("\n") && read.problems.length === 1 && read.records.length > 0;
  const first = read.problems.find((p) => !torn(p));
  if (first) bad(first.message, first.line);
  if (read.records.length === 0) bad("no deployment-metrics/v1 record");
  return read;
}

/** JSON text → value, or the syntax error as a problem (its message never echoes the input's bytes). */
function parseValue(text: string, display: string): { value: unknown } | { error: string } {
  try {
    return { value: parseJson(text, display, "LIFECYCLE_METRICS_INVALID", "usage") };
  } catch (e) {
    const loc = (e as GgenError).location;
    return { error: `${(e as Error).message}${loc?.column ? ` at column ${loc.column}` : ""}` };
  }
}

export function parseMetrics(
  text: string,
  display: string,
): { records: DeploymentMetrics[]; problems: MetricsProblem[] } {
  const records: DeploymentMetrics[] = [];
  const problems: MetricsProblem[] = [];
  const trimmed = text.trim();
  const add = (value: unknown, line: number, where = "") => {
    const r = validate("deployment-metrics/v1", value);
    if (r.ok) records.push(r.value);
    else {
      const at = (path: string) => (where ? `record ${where}${path === "/" ? "" : path}` : path);
      problems.push({ line, message: r.errors.map((e) => `${at(e.path)} ${e.message}`).join("; ") });
    }
  };
  if (trimmed.startsWith("[") || (trimmed.startsWith("{") && !trimmed.includes("\n{"))) {
    const parsed = parseValue(trimmed, display);
    if ("value" in parsed) {
      const v = parsed.value;
      if (Array.isArray(v)) for (const [i, x] of v.entries()) add(x, 1, `[${i}]`);
      else add(v, 1);
      return { records, problems };
    }
    if (trimmed.startsWith("[")) {
      problems.push({ line: 1, message: parsed.error });
      return { records, problems };
    }
  }
  const lines = text.split("\n");
  lines.forEach((l, i) => {
    if (!l.trim()) return;
    const parsed = parseValue(l, display);
    if ("value" in parsed) add(parsed.value, i + 1);
    else problems.push({ line: i + 1, message: parsed.error });
  });
  return { records, problems };
}

export interface MetricsSummary {
  deployments: number;
  success: number;
  failed: number;
  rolledBack: number;
  successRate: number;
  meanTotalSeconds: number;
  p95TotalSeconds: number;
  last?: DeploymentMetrics;
  /** Mean seconds per phase, and its share of the mean total. */
  breakdown: { phase: string; meanSeconds: number; share: number; runs: number }[];
}

const round = (x: number, d = 3) => Math.round(x * 10 ** d) / 10 ** d;

export function summarizeMetrics(records: readonly DeploymentMetrics[]): MetricsSummary {
  const n = records.length;
  const totals = records.map((r) => r.totalTimeSeconds).sort((a, b) => a - b);
  const mean = n ? totals.reduce((a, b) => a + b, 0) / n : 0;
  const phaseSums = new Map<string, { sum: number; runs: number }>();
  for (const r of records) {
    for (const [p, s] of Object.entries(r.phases)) {
      const e = phaseSums.get(p) ?? { sum: 0, runs: 0 };
      e.sum += s;
      e.runs++;
      phaseSums.set(p, e);
    }
  }
  const breakdown = [...phaseSums.entries()]
    .map(([phase, { sum, runs }]) => ({
      phase,
      meanSeconds: round(sum / runs),
      share: mean > 0 ? round(sum / n / mean, 4) : 0,
      runs,
    }))
    .sort((a, b) => b.meanSeconds - a.meanSeconds);
  const count = (s: DeploymentMetrics["status"]) => records.filter((r) => r.status === s).length;
  const summary: MetricsSummary = {
    deployments: n,
    success: count("success"),
    failed: count("failed"),
    rolledBack: count("rolled-back"),
    successRate: n ? round(count("success") / n, 4) : 0,
    meanTotalSeconds: round(mean),
    p95TotalSeconds: n ? round(totals[Math.min(n - 1, Math.ceil(0.95 * n) - 1)]!) : 0,
    breakdown,
  };
  const last = records[n - 1];
  if (last) summary.last = last;
  return summary;
}

export interface Trend {
  metric: string;
  /** Least-squares slope in seconds per deployment. */
  slopePerDeployment: number;
  firstHalfMean: number;
  secondHalfMean: number;
  changePercent: number;
  direction: "improving" | "regressing" | "stable";
}

function slope(ys: readonly number[]): number {
  const n = ys.length;
  if (n < 2) return 0;
  const mx = (n - 1) / 2;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  ys.forEach((y, x) => {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  });
  return den ? num / den : 0;
}

/** Trends of total time and each phase over the records (in file order), lower being better. */
export function metricsTrends(records: readonly DeploymentMetrics[], stableWithinPercent = 5): Trend[] {
  const series = new Map<string, number[]>();
  series.set(
    "total",
    records.map((r) => r.totalTimeSeconds),
  );
  for (const r of records) {
    for (const p of Object.keys(r.phases)) if (!series.has(`phase:${p}`)) series.set(`phase:${p}`, []);
  }
  for (const [k, arr] of series) {
    if (k === "total") continue;
    const p = k.slice(6);
    for (const r of records) {
      const v = r.phases[p];
      if (v !== undefined) arr.push(v);
    }
  }
  const trends: Trend[] = [];
  for (const [metric, ys] of series) {
    const half = Math.floor(ys.length / 2);
    const a = ys.slice(0, Math.max(1, half));
    const b = ys.slice(half);
    const ma = a.reduce((x, y) => x + y, 0) / (a.length || 1);
    const mb = b.reduce((x, y) => x + y, 0) / (b.length || 1);
    const change = ma > 0 ? ((mb - ma) / ma) * 100 : 0;
    trends.push({
      metric,
      slopePerDeployment: round(slope(ys), 4),
      firstHalfMean: round(ma),
      secondHalfMean: round(mb),
      changePercent: round(change, 2),
      direction: Math.abs(change) <= stableWithinPercent ? "stable" : change < 0 ? "improving" : "regressing",
    });
  }
  return trends;
}

export interface MetricDelta {
  metric: string;
  baseline: number;
  current: number;
  deltaSeconds: number;
  deltaPercent: number;
  regression: boolean;
}

/** Compares `current` with `baseline`: total and every phase; over `tolerancePercent` slower is a regression. */
export function compareMetrics(
  baseline: DeploymentMetrics,
  current: DeploymentMetrics,
  tolerancePercent = 10,
): { deltas: MetricDelta[]; regressions: number } {
  const pairs: [string, number, number][] = [["total", baseline.totalTimeSeconds, current.totalTimeSeconds]];
  const phases = new Set([...Object.keys(baseline.phases), ...Object.keys(current.phases)]);
  for (const p of phases) pairs.push([`phase:${p}`, baseline.phases[p] ?? 0, current.phases[p] ?? 0]);
  const deltas = pairs.map(([metric, b, c]) => {
    const d = c - b;
    const pct = b > 0 ? (d / b) * 100 : c > 0 ? 100 : 0;
    return {
      metric,
      baseline: round(b),
      current: round(c),
      deltaSeconds: round(d),
      deltaPercent: round(pct, 2),
      regression: pct > tolerancePercent && d > 0.001,
    };
  });
  return { deltas, regressions: deltas.filter((d) => d.regression).length };
}

/**
 * The records a command reads: a file a person names (`file`, relative to `root`: strict — see
 * readMetricsFile), else the history ($GGEN_METRICS_FILE or .ggen/deployments.jsonl: lenient, none
 * when absent; each skipped record told to `onSkipped`).
 */
export async function readMetricsRecords(
  root: string,
  file: string | undefined,
  onSkipped: (note: string) => void = () => undefined,
): Promise<DeploymentMetrics[]> {
  if (file !== undefined) return (await readMetricsFile(resolve(root, file), file, "strict")).records;
  const history = metricsFileOf(root);
  const display = history.startsWith(`${root}/`) ? history.slice(root.length + 1) : history;
  const exists = await fs.stat(history).then(
    () => true,
    () => false,
  );
  if (!exists) return [];
  const r = await readMetricsFile(history, display);
  for (const p of r.problems) onSkipped(`${display}:${p.line}: skipped an invalid record: ${p.message}`);
  return r.records;
}
