// deployment-metrics/v1 history (.ggen/deployments.jsonl): append, read, summarise, trends, compare.
import { promises as fs } from "node:fs";
import { join } from "node:path";
import { type DeploymentMetrics, GgenError, validate } from "@ggen/contract";
import lockfile from "proper-lockfile";

export const METRICS_FILE = ".ggen/deployments.jsonl";

/** Validates `record` against deployment-metrics/v1 and appends it (one line) under a lock. */
export async function appendDeploymentMetrics(
  dir: string,
  record: DeploymentMetrics,
  file = METRICS_FILE,
): Promise<void> {
  const r = validate("deployment-metrics/v1", record);
  if (!r.ok) {
    throw new GgenError(
      "LIFECYCLE_METRICS_INVALID",
      `deployment metrics record is not a valid deployment-metrics/v1: ${r.errors.map((e) => `${e.path} ${e.message}`).join("; ")}`,
    );
  }
  const path = join(dir, file);
  await fs.mkdir(join(path, ".."), { recursive: true });
  const release = await lockfile.lock(path, {
    realpath: false,
    stale: 10_000,
    retries: { retries: 50, minTimeout: 20, maxTimeout: 200 },
  });
  try {
    // A line is appended in one write; a torn last line (power loss) is skipped by the reader.
    const handle = await fs.open(path, "a");
    try {
      await handle.write(`${JSON.stringify(record)}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
  } finally {
    await release();
  }
}

export interface MetricsProblem {
  line: number;
  message: string;
}

/**
 * Reads metrics from a file: JSON Lines, a JSON array or one JSON object. Invalid records are reported
 * with their line, not fatal (a torn last line must not hide the history).
 */
export async function readMetricsFile(
  path: string,
  display = path,
): Promise<{ records: DeploymentMetrics[]; problems: MetricsProblem[] }> {
  let text: string;
  try {
    text = await fs.readFile(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") {
      throw new GgenError("LIFECYCLE_METRICS_MISSING", `no metrics file ${display}`, {
        kind: "usage",
        location: { file: display },
      });
    }
    throw e;
  }
  return parseMetrics(text, display);
}

export function parseMetrics(
  text: string,
  display: string,
): { records: DeploymentMetrics[]; problems: MetricsProblem[] } {
  const records: DeploymentMetrics[] = [];
  const problems: MetricsProblem[] = [];
  const trimmed = text.trim();
  const add = (value: unknown, line: number) => {
    const r = validate("deployment-metrics/v1", value);
    if (r.ok) records.push(r.value);
    else problems.push({ line, message: r.errors.map((e) => `${e.path} ${e.message}`).join("; ") });
  };
  if (trimmed.startsWith("[") || (trimmed.startsWith("{") && !trimmed.includes("\n{"))) {
    try {
      const v = JSON.parse(trimmed) as unknown;
      if (Array.isArray(v)) for (const x of v) add(x, 1);
      else add(v, 1);
      return { records, problems };
    } catch (e) {
      if (trimmed.startsWith("[")) {
        throw new GgenError(
          "LIFECYCLE_METRICS_INVALID",
          `${display}: invalid JSON: ${(e as Error).message}`,
          {
            kind: "usage",
            location: { file: display, line: 1 },
          },
        );
      }
    }
  }
  const lines = text.split("\n");
  lines.forEach((l, i) => {
    if (!l.trim()) return;
    try {
      add(JSON.parse(l), i + 1);
    } catch (e) {
      problems.push({ line: i + 1, message: `invalid JSON: ${(e as Error).message}` });
    }
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
