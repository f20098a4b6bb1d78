// Runs a pack's declared stages: each as soon as the stages it comes after have ended and its lane is
// free (a lane's stages share a build directory, so they go one at a time); a stage whose dependency
// did not pass is skipped, not failed. Each command's result goes through its named parser. Runs
// through any exec function: a cleanroom environment's, or the host's.

import type { PipelineCoverage, TestResult } from "@ggen/contract";
import type { ExecFn } from "../engine.js";
import { type CoverageSetup, type Exec, llvmCoverage, v8Coverage } from "./coverage.js";
import { BUILTINS, type CommandOutput, PARSERS, type StageFacts } from "./parsers.js";
import type { DeclaredStatus, PipelinePlan, PlannedStage } from "./plan.js";
import type { PreparedToolchain } from "./toolchains.js";

export interface DeclaredStageResult {
  readonly status: DeclaredStatus;
  readonly summary: string;
  readonly facts?: StageFacts;
  readonly coverage?: PipelineCoverage;
  /** From the start of the run of the stages. */
  readonly startMs: number;
  readonly durationMs: number;
}

export interface DeclaredRun {
  readonly stages: ReadonlyMap<string, DeclaredStageResult>;
  /** Every test result the stages' parsers read. */
  readonly tests: readonly TestResult[];
  readonly coverage?: PipelineCoverage;
}

export interface DeclaredRunInput {
  readonly plan: PipelinePlan;
  /** The generated output here, and as the commands see it. */
  readonly root: string;
  readonly visibleRoot: string;
  /** Where commands start, in the exec function's terms. */
  readonly workdir: string;
  readonly exec: ExecFn;
  readonly toolchain: PreparedToolchain;
  /** The environment's own variables (its services'). */
  readonly env?: Record<string, string>;
  readonly signal: AbortSignal;
  readonly maxParallel?: number;
  readonly onStart?: (stage: string) => void;
  readonly onEnd?: (stage: string, result: DeclaredStageResult) => void;
}

/**
 * A stage without a timeout of its own is bounded by the run's (--timeout, through the signal) — not by
 * the environment's default limit per command, which would cut a cold build off on a loaded machine.
 */
const NO_STAGE_LIMIT_MS = 24 * 3600_000;

/** The stage a toolchain's work before the lanes shows as (a cold crate's dependency build). */
export const DEPENDENCY_STAGE = "dependencies";

/** How a stage off the critical path starts: a lower CPU priority, not a lower share when cores are idle. */
export const YIELD = ["nice", "-n", "10"] as const;

/** Runs the plan's stages to the end (or the abort); never throws for a stage that failed. */
export async function runDeclared(input: DeclaredRunInput): Promise<DeclaredRun> {
  const { plan, toolchain, signal } = input;
  const t0 = performance.now();
  const results = new Map<string, DeclaredStageResult>();
  const tests: TestResult[] = [];
  let coverage: PipelineCoverage | undefined;

  // What the toolchain does once before the lanes (a cold crate's dependency build) shows as a stage of
  // its own, which no gate reads.
  const begun = toolchain.begin?.((argv, o) =>
    input.exec(argv, {
      cwd: o.cwd,
      env: { ...input.env, ...o.env },
      signal,
      timeoutMs: NO_STAGE_LIMIT_MS,
    }),
  );
  if (begun) {
    input.onStart?.(DEPENDENCY_STAGE);
    void begun.then((summary) =>
      input.onEnd?.(DEPENDENCY_STAGE, {
        status: signal.aborted ? "skipped" : "passed",
        summary,
        startMs: 0,
        durationMs: performance.now() - t0,
      }),
    );
  }

  // Coverage is set up before anything builds: an llvm-cov stage, and the stages of its lane it comes
  // after (its build), build instrumented, so they share their artifacts; the lane's other stages (a
  // publish dry run) build as usual.
  const setups = new Map<string, CoverageSetup>();
  const instrumented = new Map<string, Record<string, string>>();
  const byName = new Map(plan.stages.map((s) => [s.name, s]));
  const before = (s: PlannedStage): PlannedStage[] =>
    s.after.flatMap((d) => {
      const dep = byName.get(d);
      return dep && dep.lane === s.lane ? [dep, ...before(dep)] : [];
    });
  for (const s of plan.stages) {
    if (!s.coverage) continue;
    // The instrumentation's files go into the lane's build directory: once that is in place.
    await toolchain.laneReady?.(s.lane);
    const lane = toolchain.lane(s.lane);
    const target = {
      root: input.root,
      visibleRoot: input.visibleRoot,
      ...(lane.targetDir ? { targetDir: lane.targetDir } : {}),
      ...(lane.visibleTargetDir ? { visibleTargetDir: lane.visibleTargetDir } : {}),
      env: toolchain.env,
      ...(toolchain.coverageTools ? { tools: toolchain.coverageTools } : {}),
    };
    if (s.coverage === "llvm-cov") {
      const llvm = await llvmCoverage(target);
      setups.set(s.name, llvm);
      for (const t of [s, ...before(s)])
        instrumented.set(t.name, { ...instrumented.get(t.name), ...llvm.laneEnv });
    } else setups.set(s.name, await v8Coverage(target));
  }

  const envOf = (s: PlannedStage) => ({
    ...input.env,
    ...toolchain.env,
    ...toolchain.lane(s.lane).env,
    ...instrumented.get(s.name),
    ...setups.get(s.name)?.env,
  });
  const exec: Exec = async (argv, o = {}) => {
    const r = await input.exec(argv, {
      cwd: input.workdir,
      env: { ...input.env, ...toolchain.env, ...o.env },
      signal,
      ...(o.timeoutMs ? { timeoutMs: o.timeoutMs } : {}),
    });
    return r;
  };

  // Stages no other stage waits for, in lanes no such stage is in, run at a lower CPU priority: on a
  // machine of few cores, the chain the others wait for (the build, then its tests) keeps a core, and
  // the checks with time to spare take whatever is idle (the scheduler never leaves a core unused).
  const awaited = new Set(plan.stages.flatMap((s) => s.after));
  const criticalLanes = new Set(plan.stages.filter((s) => awaited.has(s.name) && s.lane).map((s) => s.lane));
  const yielding = (s: PlannedStage) => !awaited.has(s.name) && !(s.lane && criticalLanes.has(s.lane));

  const runOne = async (s: PlannedStage): Promise<Omit<DeclaredStageResult, "startMs" | "durationMs">> => {
    let output: CommandOutput;
    if (s.uses) output = await BUILTINS[s.uses](input.root);
    else {
      await toolchain.laneReady?.(s.lane);
      const setup = setups.get(s.name);
      const command = setup ? setup.argv(s.run ?? []) : [...(s.run ?? [])];
      const argv = yielding(s) ? [...YIELD, ...command] : command;
      output = await exec(argv, { env: envOf(s), timeoutMs: s.timeoutMs ?? NO_STAGE_LIMIT_MS });
      if (setup) {
        const c = await setup.collect(output, (a) => exec(a, { env: envOf(s) }));
        output = c.output;
        coverage = c.coverage;
        if (signal.aborted) return { status: "skipped", summary: "cut off" };
        const facts = await PARSERS[s.parse]({ stage: s.name, root: input.root, output });
        return finish(s, output, facts, c.coverage);
      }
    }
    if (signal.aborted) return { status: "skipped", summary: "cut off" };
    return finish(s, output, await PARSERS[s.parse]({ stage: s.name, root: input.root, output }));
  };

  const finish = (
    s: PlannedStage,
    output: CommandOutput,
    facts: StageFacts,
    cov?: PipelineCoverage,
  ): Omit<DeclaredStageResult, "startMs" | "durationMs"> => {
    if (facts.tests) tests.push(...facts.tests);
    const timedOut = output.timedOut;
    return {
      status: timedOut ? "timed-out" : facts.ok ? "passed" : "failed",
      summary: timedOut
        ? `over its timeout (${Math.round((s.timeoutMs ?? 0) / 1000)} s)`
        : `${facts.summary}${cov ? `; coverage ${cov.status === "measured" ? `${cov.percent} %` : `unavailable (${cov.reason})`}` : ""}`,
      facts,
      ...(cov ? { coverage: cov } : {}),
    };
  };

  // A lane none of whose stages has started yet, when a stage it waits for in another lane ends: the
  // lane starts from that lane's build directory (the toolchain copies it, when the lane has none of
  // its own yet) — done before anything else starts in either lane.
  const seeds = new Map<string, { lane: string; from: string }[]>();
  for (const s of plan.stages)
    for (const dep of s.after.map((d) => byName.get(d)))
      if (s.lane && dep?.lane && dep.lane !== s.lane && !seeds.get(dep.name)?.some((x) => x.lane === s.lane))
        seeds.set(dep.name, [...(seeds.get(dep.name) ?? []), { lane: s.lane, from: dep.lane }]);
  const lanesStarted = new Set<string>();
  const seed = async (name: string, status: DeclaredStatus) => {
    if (status !== "passed" || !toolchain.seedLane) return;
    for (const { lane, from } of seeds.get(name) ?? [])
      if (!lanesStarted.has(lane)) await toolchain.seedLane(lane, from);
  };

  const pending = [...plan.stages];
  const running = new Map<string, Promise<void>>();
  const busyLanes = new Set<string>();
  const max = Math.max(1, input.maxParallel ?? 4);
  const end = (name: string, r: DeclaredStageResult) => {
    results.set(name, r);
    input.onEnd?.(name, r);
  };

  while (pending.length > 0 || running.size > 0) {
    // Stages that can never run: a dependency did not pass, or the run was cut off.
    for (let i = 0; i < pending.length; i++) {
      const s = pending[i]!;
      const blocker = signal.aborted
        ? "cut off"
        : s.after.find((d) => results.has(d) && results.get(d)!.status !== "passed");
      if (!blocker) continue;
      pending.splice(i--, 1);
      const at = performance.now() - t0;
      end(s.name, {
        status: "skipped",
        summary:
          blocker === "cut off" ? "not started: the run was cut off" : `not run: ${blocker} did not pass`,
        startMs: at,
        durationMs: 0,
      });
    }
    for (let i = 0; i < pending.length && running.size < max; i++) {
      const s = pending[i]!;
      if (!s.after.every((d) => results.get(d)?.status === "passed")) continue;
      if (s.lane && busyLanes.has(s.lane)) continue;
      pending.splice(i--, 1);
      if (s.lane) {
        busyLanes.add(s.lane);
        lanesStarted.add(s.lane);
      }
      input.onStart?.(s.name);
      const start = performance.now();
      const p = runOne(s)
        .catch((e: unknown) => ({
          status: signal.aborted ? ("skipped" as const) : ("failed" as const),
          summary: signal.aborted ? "cut off" : (e instanceof Error ? e.message : String(e)).split("\n")[0]!,
        }))
        .then(async (r) => {
          const durationMs = performance.now() - start;
          await seed(s.name, r.status).catch(() => undefined); // a lane not seeded just builds more
          end(s.name, { ...r, startMs: start - t0, durationMs });
          if (s.lane) busyLanes.delete(s.lane);
          running.delete(s.name);
        });
      running.set(s.name, p);
    }
    if (running.size === 0) {
      if (pending.length === 0) break;
      // Nothing runs and nothing can start: only a stage waiting on a lane or a dependency that will
      // never end could cause this, which the plan's checks rule out — but never spin.
      for (const s of pending.splice(0))
        end(s.name, {
          status: "skipped",
          summary: "not run",
          startMs: performance.now() - t0,
          durationMs: 0,
        });
      break;
    }
    await Promise.race(running.values());
  }
  return { stages: results, tests, ...(coverage ? { coverage } : {}) };
}
