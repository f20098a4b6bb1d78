// Metrics across runs: p50 / p95 per step from `.cleanroom/metrics.jsonl` lines.

export interface MetricsLine {
  runId: string;
  at: string;
  kind: string;
  backend?: string;
  totalMs: number;
  setupMs?: number;
  testMs?: number;
  teardownMs?: number;
  tests?: { total: number; passed: number; failed: number; skipped?: number };
  steps?: Record<string, number>;
  peakMemoryMb?: number;
}

export interface StepStats {
  name: string;
  runs: number;
  p50: number;
  p95: number;
  min: number;
  max: number;
  last: number;
}

export interface MetricsSummary {
  runs: number;
  first?: string;
  last?: string;
  passRate: number;
  total: StepStats;
  phases: StepStats[];
  steps: StepStats[];
}

/** Nearest-rank percentile (p in 0..100) of values; 0 for none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export function stats(name: string, values: readonly number[]): StepStats {
  return {
    name,
    runs: values.length,
    p50: percentile(values, 50),
    p95: percentile(values, 95),
    min: values.length ? Math.min(...values) : 0,
    max: values.length ? Math.max(...values) : 0,
    last: values.at(-1) ?? 0,
  };
}

export function summarizeMetrics(lines: readonly MetricsLine[]): MetricsSummary {
  const steps = new Map<string, number[]>();
  for (const l of lines)
    for (const [k, v] of Object.entries(l.steps ?? {})) {
      const list = steps.get(k) ?? [];
      list.push(v);
      steps.set(k, list);
    }
  const phase = (k: "setupMs" | "testMs" | "teardownMs", name: string) =>
    stats(
      name,
      lines.map((l) => l[k]).filter((v): v is number => typeof v === "number"),
    );
  const passed = lines.filter((l) => (l.tests?.failed ?? 0) === 0).length;
  const summary: MetricsSummary = {
    runs: lines.length,
    passRate: lines.length ? Math.round((passed / lines.length) * 1000) / 10 : 0,
    total: stats(
      "total",
      lines.map((l) => l.totalMs),
    ),
    phases: [phase("setupMs", "setup"), phase("testMs", "tests"), phase("teardownMs", "teardown")],
    steps: [...steps.entries()].map(([k, v]) => stats(k, v)).sort((a, b) => b.p95 - a.p95),
  };
  if (lines[0]) summary.first = lines[0].at;
  if (lines.at(-1)) summary.last = lines.at(-1)!.at;
  return summary;
}
