// Assembling a `cleanroom-run/v1`: summary from the tests, scenario steps as tests, hashes of sources.

import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type {
  BackendName,
  CleanroomRun,
  Isolation,
  Reference,
  TestResult,
  TestSummary,
} from "@ggen/contract";
import { sha256 } from "@ggen/support";
import type { ScenarioResult } from "./dag.js";
import { tail } from "./exec.js";

/** One bar of a run's timeline: a stage (setup, tests, teardown) or a step / runner invocation. */
export interface TimelineEntry {
  name: string;
  /** "stage" bars span the run's phases; "step" bars are scenario steps and runner invocations. */
  lane: "stage" | "step";
  startMs: number;
  durationMs: number;
  status: "passed" | "failed" | "skipped" | "timed-out" | "errored";
}

export function summarize(tests: readonly TestResult[]): TestSummary {
  const s: TestSummary = { total: tests.length, passed: 0, failed: 0, skipped: 0, timedOut: 0, errored: 0 };
  for (const t of tests) {
    if (t.status === "passed") s.passed++;
    else if (t.status === "failed") s.failed++;
    else if (t.status === "skipped") s.skipped++;
    else if (t.status === "timed-out") s.timedOut++;
    else s.errored++;
  }
  return s;
}

/** True when nothing failed, errored or timed out. */
export function runPassed(run: Pick<CleanroomRun, "summary">): boolean {
  return run.summary.failed === 0 && run.summary.errored === 0 && run.summary.timedOut === 0;
}

export function newRunId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
  return `run-${stamp}-${sha256(`${process.pid}${Math.random()}${now.getTime()}`).slice(0, 6)}`;
}

/** References (path + sha256) for files under root, paths kept as given (relative to root). */
export async function hashFiles(root: string, paths: readonly string[]): Promise<Reference[]> {
  const refs = await Promise.all(
    [...new Set(paths)].sort().map(async (p) => ({ path: p, sha256: sha256(await readFile(join(root, p))) })),
  );
  return refs;
}

/** Scenario steps as tests: file = the scenario file, suite = its name. */
export function scenarioTests(result: ScenarioResult): TestResult[] {
  return result.steps.map((s) => {
    const t: TestResult = {
      id: `${result.file}#${s.name}`,
      file: result.file,
      name: s.name,
      suite: result.name,
      status: s.allowedFailure ? "passed" : s.status,
      durationMs: Math.round(s.durationMs * 1000) / 1000,
    };
    if (s.message) t.failureMessage = s.allowedFailure ? `allowed failure: ${s.message}` : s.message;
    const out = tail(`${s.stdout}${s.stderr ? `\n${s.stderr}` : ""}`);
    if (s.status !== "passed" && out) t.outputTail = out;
    return t;
  });
}

export function scenarioTimeline(result: ScenarioResult): TimelineEntry[] {
  return result.steps
    .filter((s) => s.status !== "skipped")
    .map((s) => ({
      name: s.name,
      lane: "step" as const,
      startMs: Math.round(s.startedAtMs),
      durationMs: Math.round(s.durationMs),
      status: s.allowedFailure ? "passed" : s.status,
    }));
}

export interface RunParts {
  runId?: string;
  tool?: { name: string; version: string };
  startedAt: Date;
  finishedAt: Date;
  manifest?: Reference;
  shard?: CleanroomRun["shard"];
  sources?: Reference[];
  environment: { name: string; backend: BackendName; isolation: Isolation };
  services?: CleanroomRun["services"];
  tests: TestResult[];
  /** Line coverage the work measured (percent). */
  coveragePercent?: number;
  timings: Omit<CleanroomRun["timings"], "totalMs"> & { totalMs?: number };
  resources?: CleanroomRun["resources"];
}

const round = (n: number) => Math.max(0, Math.round(n * 10) / 10);

export function buildRun(parts: RunParts): CleanroomRun {
  const run: CleanroomRun = {
    kind: "cleanroom-run/v1",
    runId: parts.runId ?? newRunId(parts.startedAt),
    startedAt: parts.startedAt.toISOString(),
    finishedAt: parts.finishedAt.toISOString(),
    environment: parts.environment,
    services: parts.services ?? [],
    tests: parts.tests,
    summary: {
      ...summarize(parts.tests),
      ...(parts.coveragePercent !== undefined ? { coveragePercent: parts.coveragePercent } : {}),
    },
    timings: {
      setupMs: round(parts.timings.setupMs),
      testMs: round(parts.timings.testMs),
      teardownMs: round(parts.timings.teardownMs),
      totalMs: round(parts.timings.totalMs ?? parts.finishedAt.getTime() - parts.startedAt.getTime()),
    },
    resources: parts.resources ?? { peakMemoryMb: 0, cpuPercent: 0 },
  };
  if (parts.tool) run.tool = parts.tool;
  if (parts.manifest) run.manifest = parts.manifest;
  if (parts.shard) run.shard = parts.shard;
  if (parts.sources) run.sources = parts.sources;
  return run;
}

/** No isolation at all: commands ran straight on the host. */
export const hostIsolation: Isolation = {
  network: false,
  pid: false,
  filesystem: false,
  limits: false,
  mechanism: "none",
};
