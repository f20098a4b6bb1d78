// The DAG executor: steps whose `depends` are done run concurrently (p-limit caps how many), a step
// with `parallel: false` runs alone, a failed or timed-out step has its process group killed (by the
// exec adapter) and everything depending on it is skipped. A scenario timeout kills what runs and
// skips the rest.

import { availableParallelism } from "node:os";
import { isAbsolute, join } from "node:path";
import { longTimeout } from "@ggen/support";
import pLimit from "p-limit";
import { type ExecFn, tail } from "./exec.js";
import type { Scenario, ScenarioStep } from "./scenario.js";

export type StepStatus = "passed" | "failed" | "skipped" | "timed-out";

export interface StepResult {
  name: string;
  status: StepStatus;
  exitCode: number | null;
  attempts: number;
  /** Milliseconds from the scenario's start. */
  startedAtMs: number;
  durationMs: number;
  stdout: string;
  stderr: string;
  message?: string;
  /** Failed, but `continue_on_error` let the scenario go on. */
  allowedFailure?: boolean;
}

export interface ScenarioResult {
  name: string;
  file: string;
  startedAt: string;
  durationMs: number;
  ok: boolean;
  timedOut: boolean;
  steps: StepResult[];
}

export type StepEvent =
  | { type: "start"; step: string; attempt: number }
  | { type: "finish"; step: string; result: StepResult };

export interface ScenarioRunOptions {
  exec: ExecFn;
  /** Where relative step `cwd`s resolve from (in the environment's terms). */
  cwd?: string;
  env?: Record<string, string>;
  maxParallel?: number;
  signal?: AbortSignal;
  onEvent?: (event: StepEvent) => void;
}

/** A readers–writer lock: ordinary steps share it, `parallel: false` steps take it alone. */
class StepLock {
  private readers = 0;
  private writer = false;
  private waiting: { exclusive: boolean; go: () => void }[] = [];

  async acquire(exclusive: boolean): Promise<() => void> {
    await new Promise<void>((go) => {
      this.waiting.push({ exclusive, go });
      this.pump();
    });
    return () => {
      if (exclusive) this.writer = false;
      else this.readers--;
      this.pump();
    };
  }

  private pump(): void {
    while (this.waiting.length > 0) {
      const next = this.waiting[0]!;
      if (this.writer) return;
      if (next.exclusive) {
        if (this.readers > 0) return;
        this.writer = true;
      } else this.readers++;
      this.waiting.shift();
      next.go();
    }
  }
}

/** Why a finished command does not meet its step's `expect`, or undefined when it does. */
export function checkExpect(
  step: Pick<ScenarioStep, "expect">,
  result: { exitCode: number | null; signal?: string | null; stdout: string; stderr: string },
): string | undefined {
  const e = step.expect;
  if (result.exitCode === null || !e.exitCodes.includes(result.exitCode)) {
    const got = result.exitCode === null ? `signal ${result.signal ?? "?"}` : `exit code ${result.exitCode}`;
    const last = tail(result.stderr || result.stdout, 1, 300);
    return `${got}, expected ${e.exitCodes.join(" or ")}${last ? `: ${last}` : ""}`;
  }
  for (const s of e.stdoutContains) if (!result.stdout.includes(s)) return `stdout does not contain '${s}'`;
  for (const s of e.stderrContains) if (!result.stderr.includes(s)) return `stderr does not contain '${s}'`;
  for (const r of e.stdoutMatches) if (!r.test(result.stdout)) return `stdout does not match /${r.source}/`;
  for (const r of e.stderrMatches) if (!r.test(result.stderr)) return `stderr does not match /${r.source}/`;
  return undefined;
}

export async function runScenario(scenario: Scenario, options: ScenarioRunOptions): Promise<ScenarioResult> {
  const startedAt = new Date();
  const t0 = performance.now();
  const concurrency = scenario.concurrent
    ? Math.max(1, options.maxParallel ?? availableParallelism() * 2)
    : 1;
  const limit = pLimit(concurrency);
  const lock = new StepLock();
  const abort = new AbortController();
  let scenarioTimedOut = false;
  const onOuterAbort = () => abort.abort();
  options.signal?.addEventListener("abort", onOuterAbort, { once: true });
  // longTimeout: a scenario's timeout_ms past Node's 24.8-day clamp must not fire at once.
  const timer =
    scenario.timeoutMs !== undefined
      ? longTimeout(() => {
          scenarioTimedOut = true;
          abort.abort();
        }, scenario.timeoutMs)
      : undefined;

  const byName = new Map(scenario.steps.map((s) => [s.name, s]));
  const results = new Map<string, Promise<StepResult>>();
  const skipped = (step: ScenarioStep, message: string): StepResult => ({
    name: step.name,
    status: "skipped",
    exitCode: null,
    attempts: 0,
    startedAtMs: performance.now() - t0,
    durationMs: 0,
    stdout: "",
    stderr: "",
    message,
  });

  const execute = async (step: ScenarioStep): Promise<StepResult> => {
    const start = performance.now();
    let last: StepResult | undefined;
    for (let attempt = 1; attempt <= step.retries + 1; attempt++) {
      if (abort.signal.aborted) break;
      options.onEvent?.({ type: "start", step: step.name, attempt });
      const cwd =
        step.cwd === undefined
          ? options.cwd
          : isAbsolute(step.cwd) || options.cwd === undefined
            ? step.cwd
            : join(options.cwd, step.cwd);
      const r = await options.exec(step.argv, {
        ...(cwd !== undefined ? { cwd } : {}),
        env: { ...options.env, ...step.env },
        ...(step.timeoutMs !== undefined ? { timeoutMs: step.timeoutMs } : {}),
        signal: abort.signal,
      });
      const timedOut = r.timedOut || (abort.signal.aborted && scenarioTimedOut);
      const problem = timedOut
        ? r.timedOut
          ? `timed out after ${step.timeoutMs} ms`
          : `scenario timed out after ${scenario.timeoutMs} ms`
        : abort.signal.aborted
          ? "aborted"
          : checkExpect(step, r);
      last = {
        name: step.name,
        status: timedOut ? "timed-out" : problem ? "failed" : "passed",
        exitCode: r.exitCode,
        attempts: attempt,
        startedAtMs: start - t0,
        durationMs: performance.now() - start,
        stdout: r.stdout,
        stderr: r.stderr,
      };
      if (problem) last.message = problem;
      if (last.status === "passed") break;
    }
    if (!last) return skipped(step, scenarioTimedOut ? "scenario timed out" : "aborted");
    if (last.status !== "passed" && step.continueOnError) last.allowedFailure = true;
    options.onEvent?.({ type: "finish", step: step.name, result: last });
    return last;
  };

  const schedule = (step: ScenarioStep): Promise<StepResult> => {
    const known = results.get(step.name);
    if (known) return known;
    const p = (async () => {
      const deps = await Promise.all(step.depends.map((d) => schedule(byName.get(d)!)));
      const blocker = deps.find((d) => d.status !== "passed" && !d.allowedFailure);
      if (blocker) {
        const r = skipped(
          step,
          `'${blocker.name}' ${blocker.status === "skipped" ? "was skipped" : blocker.status}`,
        );
        options.onEvent?.({ type: "finish", step: step.name, result: r });
        return r;
      }
      return limit(async () => {
        if (abort.signal.aborted) return skipped(step, scenarioTimedOut ? "scenario timed out" : "aborted");
        const release = await lock.acquire(!step.parallel);
        try {
          return await execute(step);
        } finally {
          release();
        }
      });
    })();
    results.set(step.name, p);
    return p;
  };

  let steps: StepResult[];
  try {
    steps = await Promise.all(scenario.steps.map(schedule));
  } finally {
    timer?.clear();
    options.signal?.removeEventListener("abort", onOuterAbort);
  }
  return {
    name: scenario.name,
    file: scenario.file,
    startedAt: startedAt.toISOString(),
    durationMs: performance.now() - t0,
    ok: steps.every((s) => s.status === "passed" || s.allowedFailure === true),
    timedOut: scenarioTimedOut,
    steps,
  };
}
