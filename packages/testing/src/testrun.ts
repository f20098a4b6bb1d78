// A test run: resolve the files asked for (checked before anything starts), split them into runner
// invocations, run those through an exec function (a backend's or the host's), and collect per-test
// results and a timeline.

import { existsSync, statSync } from "node:fs";
import { join, posix, relative, resolve, sep } from "node:path";
import { GgenError, type TestResult } from "@ggen/contract";
import pLimit from "p-limit";
import { glob } from "tinyglobby";
import { type ExecFn, limitMessage } from "./exec.js";
import type { TimelineEntry } from "./result.js";
import {
  parseUnit,
  planUnits,
  type RunnerName,
  type TestUnit,
  uniqueIds,
  unitCommand,
} from "./runners/index.js";
import { planShards, type ShardPlan, type ShardSpec } from "./shard.js";

export interface SelectOptions {
  /** Explicit files (each must exist). */
  files?: readonly string[];
  /** Glob patterns relative to root (each must match something). */
  globs?: readonly string[];
  /** Drop files whose name has `.slow.` in it. */
  skipSlow?: boolean;
}

export const DEFAULT_GLOBS = ["**/*.{test,spec}.{js,mjs,cjs,ts,mts,cts}"];
const IGNORE = ["**/node_modules/**", "**/dist/**", "**/.git/**", "**/.cleanroom/**", "**/target/**"];

/** The test files to run, as absolute paths, sorted; usage errors for anything missing or empty. */
export async function selectFiles(root: string, options: SelectOptions): Promise<string[]> {
  const found = new Set<string>();
  for (const f of options.files ?? []) {
    const abs = resolve(root, f);
    if (!existsSync(abs))
      throw new GgenError("FILE_NOT_FOUND", `test file not found: ${f}`, {
        kind: "usage",
        location: { file: f },
      });
    found.add(abs);
  }
  for (const pattern of options.globs ?? []) {
    const matches = await glob(pattern, { cwd: root, absolute: true, ignore: IGNORE, dot: false });
    if (matches.length === 0)
      throw new GgenError("GLOB_EMPTY", `--files '${pattern}' matches no file under ${root}`, {
        kind: "usage",
      });
    for (const m of matches) found.add(resolve(m));
  }
  if (!options.files?.length && !options.globs?.length) {
    for (const pattern of DEFAULT_GLOBS)
      for (const m of await glob(pattern, { cwd: root, absolute: true, ignore: IGNORE }))
        found.add(resolve(m));
    if (existsSync(join(root, "Cargo.toml"))) found.add(join(root, "Cargo.toml"));
    if (found.size === 0)
      throw new GgenError("NO_TESTS", `no test files under ${root}`, {
        kind: "usage",
        hint: `give --file or --files, or name tests like *.test.mjs`,
      });
  }
  let files = [...found].sort();
  if (options.skipSlow) files = files.filter((f) => !/\.slow\./.test(f));
  for (const f of files) {
    if (!f.startsWith(root + sep) && f !== root)
      throw new GgenError("OUTSIDE_ROOT", `${relative(root, f)} is outside ${root}`, { kind: "usage" });
    statSync(f);
  }
  return files;
}

/**
 * This shard's files (absolute, sorted) out of the whole selection, and the split they belong to
 * (balanced by `durations`, relative path → ms, when there are any).
 */
export function shardFiles(
  root: string,
  files: readonly string[],
  shard: ShardSpec,
  durations?: ReadonlyMap<string, number>,
): { files: string[]; plan: ShardPlan } {
  const rel = files.map((f) => relative(root, f).split(sep).join("/"));
  const plan = planShards(rel, shard.total, durations);
  return { files: plan.shards[shard.index - 1]!.map((f) => join(root, f)), plan };
}

export interface UnitEvent {
  type: "start" | "finish";
  unit: TestUnit;
  label: string;
  tests?: TestResult[];
  durationMs?: number;
}

export interface TestRunOptions {
  root: string;
  exec: ExecFn;
  /** Where root is inside the environment (root itself on the host). */
  workdir?: string;
  runner?: RunnerName;
  /** node's ES module test files in one runner process, each under its own describe (see planUnits). */
  batch?: boolean;
  parallel?: boolean;
  maxParallel?: number;
  timeoutMs?: number;
  env?: Record<string, string>;
  shard?: ShardSpec;
  /** The environment's limits, for the message when one kills a runner ("memory limit 512 MiB reached"). */
  limits?: { memoryMb?: number; pids?: number };
  node?: string;
  /** Called before each runner invocation with --reset-between (services back to their snapshot). */
  resetBetween?: () => Promise<void>;
  signal?: AbortSignal;
  onEvent?: (event: UnitEvent) => void;
}

export interface TestRunOutcome {
  tests: TestResult[];
  timeline: TimelineEntry[];
  durationMs: number;
  /** Wall time per test file (relative path → ms): what later shards are balanced by. */
  files: Record<string, number>;
}

export function unitLabel(unit: TestUnit): string {
  if (unit.runner === "cargo")
    return `cargo test${unit.cargoTest ? ` --test ${unit.cargoTest}` : ""} (${unit.dir})`;
  if (unit.runner === "vitest" || unit.files.length > 1)
    return `${unit.runner} (${unit.files.length} file${unit.files.length === 1 ? "" : "s"})`;
  return unit.files[0]!;
}

/** Runs the files (absolute, under root) and returns their tests in a stable order. */
export async function runTests(files: readonly string[], options: TestRunOptions): Promise<TestRunOutcome> {
  const units = planUnits(options.root, files, options.runner, { batch: options.batch === true });
  const workdir = options.workdir ?? options.root;
  const limit = pLimit(options.parallel ? Math.max(1, options.maxParallel ?? 4) : 1);
  const t0 = performance.now();
  const timeline: TimelineEntry[] = [];
  const fileMs: Record<string, number> = {};
  const baseEnv: Record<string, string> = { ...options.env };
  if (options.shard) {
    baseEnv.TEST_SHARD_INDEX = String(options.shard.index - 1);
    baseEnv.TEST_TOTAL_SHARDS = String(options.shard.total);
  }
  const perUnit = await Promise.all(
    units.map((unit) =>
      limit(async () => {
        const label = unitLabel(unit);
        if (options.signal?.aborted) return [] as TestResult[];
        if (options.resetBetween) await options.resetBetween();
        options.onEvent?.({ type: "start", unit, label });
        const start = performance.now();
        const argv = unitCommand(unit, {
          root: options.root,
          ...(options.node ? { node: options.node } : {}),
        });
        const result = await options.exec(argv, {
          cwd: unit.dir === "." ? workdir : posix.join(workdir, unit.dir),
          env: baseEnv,
          ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
          ...(options.signal ? { signal: options.signal } : {}),
        });
        const tests = parseUnit(unit, result, options.root, limitMessage(result, options.limits));
        const durationMs = performance.now() - start;
        for (const [file, ms] of Object.entries(splitDuration(unit, tests, durationMs))) fileMs[file] = ms;
        const bad = tests.find(
          (t) => t.status === "failed" || t.status === "errored" || t.status === "timed-out",
        );
        timeline.push({
          name: label,
          lane: "step",
          startMs: Math.round(start - t0),
          durationMs: Math.round(durationMs),
          status: result.timedOut ? "timed-out" : bad ? "failed" : "passed",
        });
        options.onEvent?.({ type: "finish", unit, label, tests, durationMs });
        return tests;
      }),
    ),
  );
  timeline.sort((a, b) => a.startMs - b.startMs);
  const perFile: Record<string, number> = {};
  for (const f of Object.keys(fileMs).sort()) perFile[f] = fileMs[f]!;
  return { tests: uniqueIds(perUnit.flat()), timeline, durationMs: performance.now() - t0, files: perFile };
}

/** A unit's wall time per file: all of it for one file, else shared by the files' test time. */
function splitDuration(unit: TestUnit, tests: readonly TestResult[], ms: number): Record<string, number> {
  const files = unit.files;
  if (files.length === 1) return { [files[0]!]: Math.round(ms) };
  const own = new Map<string, number>(files.map((f) => [f, 0]));
  for (const t of tests) if (own.has(t.file)) own.set(t.file, own.get(t.file)! + t.durationMs);
  const sum = [...own.values()].reduce((a, b) => a + b, 0);
  const out: Record<string, number> = {};
  for (const [f, v] of own) out[f] = Math.round(sum > 0 ? (ms * v) / sum : ms / files.length);
  return out;
}
