// Benchmark harness. Every benchmark is a ratio against a baseline measured in the same run (a peer
// tool or a floor such as `node -e 0`), so results compare across machines; absolute targets are
// recorded next to the measurement and reported, never asserted in unit tests.
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";

export const benchDir = dirname(fileURLToPath(import.meta.url));
export const repoRoot = join(benchDir, "..");
export const resultsDir = join(benchDir, "results");

function quantile(sorted, q) {
  if (sorted.length === 0) return 0;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

export function summarize(name, samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    name,
    median: round(quantile(sorted, 0.5)),
    p95: round(quantile(sorted, 0.95)),
    min: round(sorted[0] ?? 0),
    runs: sorted.length,
    unit: "ms",
  };
}

const round = (x) => Math.round(x * 1000) / 1000;

/** Times `fn` (sync or async) `runs` times after `warmup` runs. */
export async function measure(name, fn, { runs = 20, warmup = 2 } = {}) {
  for (let i = 0; i < warmup; i++) await fn();
  const samples = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    samples.push(performance.now() - t0);
  }
  return summarize(name, samples);
}

/**
 * Times `subject` and `baseline` (functions, sync or async) alternately, `runs` times each after `warmup`
 * rounds, so that the machine's drift and the heap's growth hit both alike; the subject's result carries
 * the ratio of the medians (and the target, when given).
 */
export async function compare(subject, baseline, { runs = 10, warmup = 1, target } = {}) {
  const time = async (fn) => {
    const t0 = performance.now();
    await fn();
    return performance.now() - t0;
  };
  for (let i = 0; i < warmup; i++) {
    await baseline.fn();
    await subject.fn();
  }
  const a = [];
  const b = [];
  for (let i = 0; i < runs; i++) {
    b.push(await time(baseline.fn));
    a.push(await time(subject.fn));
  }
  return ratio(summarize(subject.name, a), summarize(baseline.name, b), target);
}

/** Times a whole process, start to exit; fails loudly if the process fails. */
export function measureProcess(
  name,
  command,
  args = [],
  { runs = 10, warmup = 1, cwd, env, expectStatus = 0 } = {},
) {
  const once = () => {
    const t0 = performance.now();
    const r = spawnSync(command, args, {
      cwd,
      env: env ?? process.env,
      encoding: "utf8",
      maxBuffer: 64 << 20,
    });
    const ms = performance.now() - t0;
    if (expectStatus !== null && r.status !== expectStatus) {
      throw new Error(
        `${name}: ${command} ${args.join(" ")} exited ${r.status}: ${(r.stderr || r.stdout).slice(-2000)}`,
      );
    }
    return ms;
  };
  for (let i = 0; i < warmup; i++) once();
  const samples = [];
  for (let i = 0; i < runs; i++) samples.push(once());
  return summarize(name, samples);
}

/** Interleaves two process measurements so machine noise hits both alike. */
export function compareProcesses(subject, baseline, opts = {}) {
  const runs = opts.runs ?? 10;
  const a = [];
  const b = [];
  measureProcess(baseline.name, baseline.command, baseline.args, {
    ...opts,
    ...baseline.opts,
    runs: 1,
    warmup: 1,
  });
  for (let i = 0; i < runs; i++) {
    b.push(
      measureProcess(baseline.name, baseline.command, baseline.args, {
        ...opts,
        ...baseline.opts,
        runs: 1,
        warmup: 0,
      }).median,
    );
    a.push(
      measureProcess(subject.name, subject.command, subject.args, {
        ...opts,
        ...subject.opts,
        runs: 1,
        warmup: 0,
      }).median,
    );
  }
  return ratio(summarize(subject.name, a), summarize(baseline.name, b), opts.target);
}

/** A result with its ratio to the baseline (median / median) and, when given, the target ratio. */
export function ratio(subject, baseline, target) {
  const r = baseline.median > 0 ? round(subject.median / baseline.median) : null;
  const out = {
    ...subject,
    baseline: { name: baseline.name, median: baseline.median, p95: baseline.p95, runs: baseline.runs },
    ratio: r,
  };
  if (target !== undefined) {
    out.target = target;
    out.meetsTarget = r !== null && r <= target;
  }
  return out;
}

/** An absolute result with a target in ms (for targets the issues state in time, e.g. "≤ 5 ms"). */
export function withTarget(result, targetMs) {
  return { ...result, targetMs, meetsTarget: result.median <= targetMs };
}

/** Records a suite's results in bench/results/<suite>.json (merged into bench/results.json by summary.mjs). */
export function record(suite, results) {
  mkdirSync(resultsDir, { recursive: true });
  const file = join(resultsDir, `${suite}.json`);
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(
    tmp,
    `${JSON.stringify({ suite, recordedAt: new Date().toISOString(), results }, null, 2)}\n`,
  );
  renameSync(tmp, file);
  for (const r of results) {
    const rr = r.ratio !== undefined && r.ratio !== null ? `  ratio ${r.ratio}× vs ${r.baseline.name}` : "";
    const t =
      r.target !== undefined
        ? ` (target ≤ ${r.target}×: ${r.meetsTarget ? "met" : "NOT met"})`
        : r.targetMs !== undefined
          ? ` (target ≤ ${r.targetMs} ms: ${r.meetsTarget ? "met" : "NOT met"})`
          : "";
    process.stdout.write(
      `[bench] ${suite} › ${r.name}: median ${r.median} ms, p95 ${r.p95} ms, ${r.runs} runs${rr}${t}\n`,
    );
  }
  return file;
}

export function readJson(file) {
  return JSON.parse(readFileSync(file, "utf8"));
}

export function cleanResults() {
  rmSync(resultsDir, { recursive: true, force: true });
}
