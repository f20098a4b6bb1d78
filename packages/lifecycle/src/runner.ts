// Runs phases: dependencies first, independent phases at once (p-limit), hooks, input-hash caching,
// environment rules (tests/security gates, approval), deploy/verify, state and logs. Reports progress
// through events; never prints. A run is a sequence of named steps over one explicit `Run` record.
import { randomBytes } from "node:crypto";
import { statSync } from "node:fs";
import { join } from "node:path";
import { GgenError, isGgenError } from "@ggen/contract";
import {
  isSecretName,
  processRef,
  redactRecord,
  redactText,
  refAlive,
  resolveInside,
  sha256,
  writeFileAtomic,
} from "@ggen/support";
import pLimit from "p-limit";
import {
  asConfig,
  type ConfigSource,
  type EnvironmentConfig,
  type LifecycleConfig,
  type PhaseConfig,
  type ProfileConfig,
  phaseLocation,
  type VerifyConfig,
} from "./config.js";
import { type DeployEvent, type DeployResult, deploy, environmentOf, verify } from "./deploy.js";
import { execCommand } from "./exec.js";
import { exists, globFiles, hashFiles } from "./fsutil.js";
import { KeptOutput } from "./output.js";
import { type Plan, planPhases } from "./plan.js";
import { emptyState, type LifecycleState, loadState, type PhaseRecord, updateState } from "./state.js";
import { CHECKS, type CheckName, readTestsReport, validate } from "./validate.js";

export type LifecycleEvent =
  | {
      type: "run-start";
      runId: string;
      phases: string[];
      waves: string[][];
      environment: string;
      profile?: string;
    }
  | { type: "phase-start"; phase: string; commands: string[] }
  | { type: "phase-output"; phase: string; line: string; stream: "stdout" | "stderr" }
  | { type: "phase-skip"; phase: string; reason: "cached" | "profile" | "blocked" | "not-run" }
  | {
      type: "phase-finish";
      phase: string;
      status: PhaseOutcome["status"];
      durationMs: number;
      exitCode: number | null;
      message?: string;
    }
  | { type: "hook-start"; hook: string; entry: string }
  | { type: "hook-finish"; hook: string; entry: string; ok: boolean }
  | { type: "gate"; environment: string; check: string; ok: boolean; errors: number; warnings: number }
  | { type: "run-finish"; ok: boolean; durationMs: number }
  | DeployEvent;

export interface RunOptions {
  /** Environment (default: the config's default_env). */
  env?: string;
  profile?: string;
  dryRun?: boolean;
  /** Phases run at once (a whole number >= 1); default: the profile's jobs, else 2. */
  jobs?: number;
  /** Run phases one at a time in the order given (ggen lifecycle pipeline). */
  sequential?: boolean;
  noCache?: boolean;
  /** Approval given up front (--yes). */
  yes?: boolean;
  /** Asks a person to approve; absent means nobody can be asked. */
  confirm?: (question: string) => Promise<boolean>;
  onEvent?: (e: LifecycleEvent) => void;
  signal?: AbortSignal;
}

export interface PhaseOutcome {
  phase: string;
  status: "success" | "failed" | "timed-out" | "cached" | "skipped" | "blocked" | "not-run";
  /** When it started, from the run's start (absent when it did not run). */
  startedAtMs?: number;
  durationMs: number;
  exitCode: number | null;
  commands: string[];
  message?: string;
  cached?: boolean;
}

export interface RunResult {
  runId: string;
  ok: boolean;
  dryRun: boolean;
  environment: string;
  profile?: string;
  plan: Plan;
  phases: PhaseOutcome[];
  durationMs: number;
  deployment?: DeployResult;
  /** The first failure, as the one line a CLI prints. */
  failure?: GgenError;
  /** 0 ok, 1 failure (a failed verify whose release was rolled back too: see `rolledBack`). */
  exitCode: 0 | 1;
  /** True when verify failed and the previous release was restored automatically. */
  rolledBack?: boolean;
}

/** The environment in effect (an undeclared default environment is an empty one). */
function resolveEnv(config: LifecycleConfig, name: string | undefined): EnvironmentConfig {
  if (name !== undefined) return environmentOf(config, name);
  return (
    config.environments.get(config.defaultEnv) ?? {
      name: config.defaultEnv,
      vars: {},
      requireTests: false,
      requireSecurity: false,
      requireApproval: false,
      rollback: false,
    }
  );
}

function resolveProfile(config: LifecycleConfig, name: string | undefined): ProfileConfig | undefined {
  if (name === undefined) return undefined;
  const p = config.profiles.get(name);
  if (!p) {
    const names = [...config.profiles.keys()];
    throw new GgenError("LIFECYCLE_UNKNOWN_PROFILE", `unknown profile '${name}'`, {
      kind: "usage",
      location: { file: config.file },
      hint: names.length ? `profiles: ${names.join(", ")}` : "declare [profiles.<name>] in the config",
    });
  }
  return p;
}

/** The rules in effect for an environment under a profile (a profile overrides the environment). */
export function effectiveRules(env: EnvironmentConfig, profile: ProfileConfig | undefined) {
  return {
    requireTests: profile?.requireTests ?? env.requireTests,
    requireSecurity: profile?.requireSecurity ?? env.requireSecurity,
    requireApproval: profile?.requireApproval ?? env.requireApproval,
    rollback: profile?.rollback ?? env.rollback,
  };
}

const lastLine = (tail: readonly string[]) =>
  tail
    .filter((l) => l.trim())
    .pop()
    ?.trim();

/** One run: what it runs, where and under which rules, and what it has learned so far. */
interface Run {
  readonly config: LifecycleConfig;
  readonly opts: RunOptions;
  readonly env: EnvironmentConfig;
  readonly profile: ProfileConfig | undefined;
  readonly rules: ReturnType<typeof effectiveRules>;
  readonly plan: Plan;
  readonly noCache: boolean;
  readonly started: number;
  /** The run's start on the wall clock (epoch ms): the origin of its timeline. */
  readonly startedAt: number;
  readonly emit: (e: LifecycleEvent) => void;
  /** Each phase's outcome, once it has one. */
  readonly outcomes: Map<string, PhaseOutcome>;
  /** Filled in as the run goes (deployment, rolledBack) and at its end. */
  readonly result: RunResult;
  /** The state as the run found it (the last successes' input hashes). */
  state: LifecycleState;
  /** The variables every command sees (a phase adds its own env and GGEN_PHASE). */
  baseVars: Record<string, string>;
  /** A phase failed: phases that have not started are not run. */
  failed: boolean;
}

/** Where a phase's outcome stands while it runs: the status so far, the last exit code, why it failed. */
interface PhaseStep {
  status: PhaseOutcome["status"];
  exitCode: number | null;
  message?: string;
}

/** What one phase's commands and hooks run with. */
interface PhaseContext {
  readonly stack: readonly string[];
  readonly vars: Record<string, string>;
  readonly cwd: string;
  readonly deadline: number | undefined;
  readonly log: KeptOutput;
}

export async function runPhases(
  source: ConfigSource,
  names: readonly string[],
  opts: RunOptions = {},
): Promise<RunResult> {
  const run = planRun(await asConfig(source), names, opts);
  run.emit({
    type: "run-start",
    runId: run.result.runId,
    phases: run.plan.order,
    waves: run.plan.waves,
    environment: run.env.name,
    ...(run.profile ? { profile: run.profile.name } : {}),
  });
  skipByProfile(run);
  if (opts.dryRun) return dryRun(run);
  // Approval comes first: nothing should run when the person says no.
  await approve(run);
  await recordRunStart(run);
  try {
    await runAll(run);
  } finally {
    await recordRunFinish(run);
  }
  return finish(run);
}

/**
 * Phases at once, as typed (`--jobs 4`): a whole number >= 1, else a usage error echoing what was typed.
 * Undefined stays undefined (the profile's jobs, else 2).
 */
export function parseJobs(jobs: string | number | undefined, what = "--jobs"): number | undefined {
  if (jobs === undefined) return undefined;
  const text = String(jobs).trim();
  if (/^\d+$/.test(text) && Number(text) >= 1) return Number(text);
  throw new GgenError(
    "LIFECYCLE_BAD_JOBS",
    `${what} ${JSON.stringify(text)}: expected a whole number of phases, 1 or more`,
    { kind: "usage" },
  );
}

/**
 * Every planned phase's working directory: inside the project (also through symlinks), there, and a
 * directory — checked before anything runs, so a bad one is a usage error at its key, not a crash.
 */
function checkPhaseDirs(config: LifecycleConfig, phases: readonly string[]): void {
  for (const name of phases) {
    const cwd = config.phases.get(name)?.cwd;
    if (!cwd) continue;
    const location = config.locations.get(`cwd:${name}`) ?? phaseLocation(config, name);
    const fail = (why: string): never => {
      throw new GgenError("LIFECYCLE_PHASE_CWD", `phases.${name}.cwd '${cwd}' ${why}`, {
        kind: "usage",
        location,
      });
    };
    let abs = "";
    try {
      abs = resolveInside(config.root, cwd, { what: `phases.${name}.cwd`, code: "LIFECYCLE_PATH_ESCAPE" });
    } catch {
      fail("leads outside the project");
    }
    const stat = statSync(abs, { throwIfNoEntry: false });
    if (!stat) fail("does not exist");
    else if (!stat.isDirectory()) fail("is not a directory");
  }
}

/** The environment, profile, rules and plan of a request; nothing runs yet. */
function planRun(config: LifecycleConfig, names: readonly string[], opts: RunOptions): Run {
  const started = performance.now();
  parseJobs(opts.jobs);
  const env = resolveEnv(config, opts.env);
  const profile = resolveProfile(config, opts.profile ?? config.defaultProfile);
  const plan = opts.sequential
    ? sequentialPlan(config, names, profile?.skip ?? [])
    : planPhases(config, names, profile?.skip ?? []);
  const hookPhases = [...config.hooks.values()].flat().filter((e) => config.phases.has(e));
  checkPhaseDirs(config, [...plan.order, ...hookPhases]);
  const runId = `run-${Date.now().toString(36)}-${randomBytes(3).toString("hex")}`;
  return {
    config,
    opts,
    env,
    profile,
    rules: effectiveRules(env, profile),
    plan,
    noCache: opts.noCache === true || profile?.noCache === true,
    started,
    startedAt: Date.now(),
    emit: (e) => opts.onEvent?.(e),
    outcomes: new Map(),
    result: {
      runId,
      ok: true,
      dryRun: opts.dryRun === true,
      environment: env.name,
      ...(profile ? { profile: profile.name } : {}),
      plan,
      phases: [],
      durationMs: 0,
      exitCode: 0,
    },
    state: emptyState(),
    baseVars: {},
    failed: false,
  };
}

function skipByProfile(run: Run): void {
  for (const s of run.plan.skipped) {
    run.outcomes.set(s, {
      phase: s,
      status: "skipped",
      durationMs: 0,
      exitCode: null,
      commands: run.config.phases.get(s)!.commands,
      message: `skipped by profile ${run.profile?.name}`,
    });
    run.emit({ type: "phase-skip", phase: s, reason: "profile" });
  }
}

/** --dry-run: the plan, every phase not run. */
function dryRun(run: Run): RunResult {
  const { config, plan, outcomes, result } = run;
  for (const p of plan.order) {
    outcomes.set(p, {
      phase: p,
      status: "not-run",
      durationMs: 0,
      exitCode: null,
      commands: config.phases.get(p)!.commands,
    });
  }
  result.phases = [...plan.skipped, ...plan.order].map((p) => outcomes.get(p)!);
  result.durationMs = performance.now() - run.started;
  return result;
}

/** A deploy to an environment that requires approval needs --yes or a person's yes. */
async function approve(run: Run): Promise<void> {
  const { config, env, opts } = run;
  const deploying = run.plan.order.includes("deploy") && env.deploy !== undefined;
  if (!deploying || !run.rules.requireApproval || opts.yes) return;
  if (!opts.confirm) {
    throw new GgenError("LIFECYCLE_APPROVAL_REQUIRED", `deploying to '${env.name}' requires approval`, {
      kind: "usage",
      hint: "pass --yes, or run on a terminal to be asked",
    });
  }
  if (!(await opts.confirm(`Deploy ${config.name} to ${env.name}?`))) {
    throw new GgenError("LIFECYCLE_APPROVAL_DECLINED", `deployment to '${env.name}' was not approved`);
  }
}

/** The run in the state (runs whose process is gone become interrupted), then the state and base vars. */
async function recordRunStart(run: Run): Promise<void> {
  const { config, env, profile } = run;
  await updateState(
    config.root,
    (s) => {
      for (const r of s.runs) {
        if (r.status === "running" && !refAlive({ pid: r.pid, start: r.start ?? "" }))
          r.status = "interrupted";
      }
      const me = processRef();
      s.runs.push({
        id: run.result.runId,
        phases: run.plan.order,
        startedAt: new Date().toISOString(),
        status: "running",
        pid: me.pid,
        ...(me.start ? { start: me.start } : {}),
        environment: env.name,
        ...(profile ? { profile: profile.name } : {}),
      });
      s.runs = s.runs.slice(-50);
      s.environment = env.name;
    },
    config.stateBackups,
  );
  run.state = await loadState(config.root);
  run.baseVars = {
    ...(process.env as Record<string, string>),
    ...env.vars,
    ...(profile?.env ?? {}),
    GGEN_ENV: env.name,
    GGEN_PROJECT_ROOT: config.root,
    ...(profile ? { GGEN_PROFILE: profile.name } : {}),
  };
}

/** Every planned phase after its dependencies: independent ones at once (up to jobs), or in order. */
async function runAll(run: Run): Promise<void> {
  const { opts, plan } = run;
  const limit = pLimit(Math.max(1, opts.sequential ? 1 : (opts.jobs ?? run.profile?.jobs ?? 2)));
  const promises = new Map<string, Promise<PhaseOutcome>>();
  const schedule = (name: string): Promise<PhaseOutcome> => {
    const existing = promises.get(name);
    if (existing) return existing;
    const promise = (async () => {
      const p = run.config.phases.get(name)!;
      const deps = await Promise.all(p.dependsOn.filter((d) => plan.order.includes(d)).map(schedule));
      const bad = deps.find((d) => d.status !== "success" && d.status !== "cached");
      if (bad) return blocked(run, p, bad);
      return limit(() => startPhase(run, p));
    })().then((o) => {
      run.outcomes.set(name, o);
      return o;
    });
    promises.set(name, promise);
    return promise;
  };
  if (opts.sequential) {
    for (const n of plan.order) await schedule(n);
  } else {
    await Promise.all(plan.order.map(schedule));
  }
}

function blocked(run: Run, p: PhaseConfig, bad: PhaseOutcome): PhaseOutcome {
  run.emit({ type: "phase-skip", phase: p.name, reason: "blocked" });
  return {
    phase: p.name,
    status: "blocked",
    durationMs: 0,
    exitCode: null,
    commands: p.commands,
    message: `not run: '${bad.phase}' ${bad.status}`,
  };
}

/** A phase whose turn came: run it, unless the run already failed or was interrupted. */
async function startPhase(run: Run, p: PhaseConfig): Promise<PhaseOutcome> {
  if (run.failed || run.opts.signal?.aborted) {
    run.emit({ type: "phase-skip", phase: p.name, reason: "not-run" });
    return { phase: p.name, status: "not-run", durationMs: 0, exitCode: null, commands: p.commands };
  }
  const o = await executePhaseSafely(run, p.name, [p.name]);
  if (o.status !== "success" && o.status !== "cached") run.failed = true;
  return o;
}

/** A phase whose work threw (a command that could not start, a state it could not write) failed: its
 * error becomes its message, never an unhandled rejection. */
async function executePhaseSafely(run: Run, name: string, stack: readonly string[]): Promise<PhaseOutcome> {
  const t0 = performance.now();
  try {
    return await executePhase(run, name, stack);
  } catch (e) {
    const message = isGgenError(e) ? e.toLine() : e instanceof Error ? e.message : String(e);
    run.emit({
      type: "phase-finish",
      phase: name,
      status: "failed",
      durationMs: performance.now() - t0,
      exitCode: null,
      message,
    });
    return {
      phase: name,
      status: "failed",
      startedAtMs: Date.now() - run.startedAt - (performance.now() - t0),
      durationMs: performance.now() - t0,
      exitCode: null,
      commands: run.config.phases.get(name)?.commands ?? [],
      message: `phase '${name}' failed: ${message}`,
    };
  }
}

/** One phase: cached, or its before hook, commands, deploy/verify and after hook; on_error on failure. */
async function executePhase(run: Run, name: string, stack: readonly string[]): Promise<PhaseOutcome> {
  const { config } = run;
  const p = config.phases.get(name)!;
  const t0 = performance.now();
  const startedAtMs = Date.now() - run.startedAt;
  const startedAt = new Date().toISOString();
  const vars = { ...run.baseVars, ...p.env, GGEN_PHASE: name };
  const cwd = p.cwd
    ? resolveInside(config.root, p.cwd, { what: `phases.${name}.cwd`, code: "LIFECYCLE_PATH_ESCAPE" })
    : config.root;
  const key = await cacheKey(run, p, vars);
  const cached = await cachedOutcome(run, p, key);
  if (cached) {
    run.emit({ type: "phase-skip", phase: name, reason: "cached" });
    await recordPhase(run, cached, startedAt, key, undefined);
    return cached;
  }
  run.emit({ type: "phase-start", phase: name, commands: p.commands });
  await updateState(
    config.root,
    (s) => {
      s.currentPhase = name;
    },
    config.stateBackups,
  );
  const ctx: PhaseContext = {
    stack,
    vars,
    cwd,
    deadline: p.timeoutMs ? t0 + p.timeoutMs : undefined,
    log: new KeptOutput(config.limits.logChars),
  };
  let step = await runPhaseSteps(run, p, ctx);
  if (step.status !== "success") {
    const onError = await runHook(run, "on_error", [...stack, "on_error"], {
      ...vars,
      GGEN_FAILED_PHASE: name,
      GGEN_ERROR: step.message ?? "",
    });
    if (onError) step = { ...step, message: `${step.message}; ${onError}` };
  }
  const { status, exitCode, message } = step;
  const o: PhaseOutcome = {
    phase: name,
    status,
    startedAtMs,
    durationMs: performance.now() - t0,
    exitCode,
    commands: p.commands,
    ...(message ? { message } : {}),
  };
  await recordPhase(run, o, startedAt, status === "success" ? key : undefined, ctx.log);
  run.emit({
    type: "phase-finish",
    phase: name,
    status,
    durationMs: o.durationMs,
    exitCode,
    ...(message ? { message } : {}),
  });
  return o;
}

/** The phase's input hash (its files, commands, cwd and env), when it declares inputs and caching is on. */
async function cacheKey(run: Run, p: PhaseConfig, vars: Record<string, string>): Promise<string | undefined> {
  if (p.inputs.length === 0 || run.noCache) return undefined;
  const files = await globFiles(run.config.root, p.inputs);
  const contentHash = await hashFiles(run.config.root, files);
  const relevantEnv = { ...run.env.vars, ...(run.profile?.env ?? {}), ...p.env };
  return sha256(
    JSON.stringify({
      contentHash,
      commands: p.commands,
      cwd: p.cwd ?? "",
      env: relevantEnv,
      envName: vars.GGEN_ENV,
    }),
  );
}

/** Cached: the inputs hash as at the last success and the outputs are still there. */
async function cachedOutcome(
  run: Run,
  p: PhaseConfig,
  key: string | undefined,
): Promise<PhaseOutcome | undefined> {
  const prev = run.state.phases[p.name];
  if (!key || prev?.inputsHash !== key || (prev.status !== "success" && prev.status !== "cached")) {
    return undefined;
  }
  const outputsOk = p.outputs.length === 0 || (await globFiles(run.config.root, p.outputs)).length > 0;
  if (!outputsOk) return undefined;
  return {
    phase: p.name,
    status: "cached",
    durationMs: 0,
    exitCode: 0,
    commands: p.commands,
    cached: true,
    message: "inputs unchanged since the last success",
  };
}

/** before hook → commands → deploy or verify → after hook; the first failure ends the phase. */
async function runPhaseSteps(run: Run, p: PhaseConfig, ctx: PhaseContext): Promise<PhaseStep> {
  const before = await runHook(run, `before_${p.name}`, ctx.stack, ctx.vars, ctx.deadline);
  if (before) return { status: "failed", exitCode: 0, message: before };
  const commands = await runCommands(run, p, ctx);
  if (commands.status !== "success") return commands;
  const provider =
    p.name === "deploy" && run.env.deploy
      ? await deployStep(run, p)
      : p.name === "verify" && run.env.verify
        ? await verifyStep(run, run.env.verify)
        : undefined;
  if (provider) return { status: "failed", exitCode: commands.exitCode, message: provider };
  const after = await runHook(run, `after_${p.name}`, ctx.stack, ctx.vars, ctx.deadline);
  if (after) return { status: "failed", exitCode: commands.exitCode, message: after };
  return commands;
}

/** The phase's commands in order; the first that fails or times out ends the phase. */
async function runCommands(run: Run, p: PhaseConfig, ctx: PhaseContext): Promise<PhaseStep> {
  let exitCode: number | null = 0;
  for (const c of p.commands) {
    const r = await runCommand(run, p, c, ctx);
    exitCode = r.exitCode;
    if (r.timedOut) {
      return {
        status: "timed-out",
        exitCode,
        message: `phase '${p.name}' timed out after ${formatMs(p.timeoutMs ?? 0)} running '${c}'`,
      };
    }
    if (r.exitCode !== 0) {
      const last = lastLine(r.tail);
      return {
        status: "failed",
        exitCode,
        message: `phase '${p.name}' failed: '${c}' exited with ${r.exitCode ?? r.signal}${last ? `: ${last}` : ""}`,
      };
    }
  }
  return { status: "success", exitCode };
}

/** One command of a phase, its output lines (secrets redacted) logged and sent as events. */
function runCommand(run: Run, p: PhaseConfig, command: string, ctx: PhaseContext) {
  const { env, profile, opts } = run;
  const declared = { ...env.vars, ...(profile?.env ?? {}), ...p.env };
  const secrets = Object.entries(declared)
    .filter(([k]) => isSecretName(k) && k.length > 0)
    .map(([, v]) => v)
    .filter((v) => v.length > 3);
  // Most lines hold no secret and no URL: they skip redactText (a flood of lines costs per line).
  const redact = (line: string) =>
    line.includes("@") || secrets.some((s) => line.includes(s)) ? redactText(line, secrets) : line;
  const remaining = ctx.deadline === undefined ? 0 : Math.max(1, ctx.deadline - performance.now());
  return execCommand(command, {
    cwd: ctx.cwd,
    env: ctx.vars,
    timeoutMs: remaining,
    lineChars: run.config.limits.lineChars,
    onLine: (raw, stream) => {
      const line = redact(raw);
      ctx.log.push(line);
      run.emit({ type: "phase-output", phase: p.name, line, stream });
    },
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
}

/** Runs hook entries (commands or phases); the first failure is returned as a message. */
async function runHook(
  run: Run,
  hook: string,
  stack: readonly string[],
  vars: Record<string, string>,
  deadline?: number,
): Promise<string | undefined> {
  const { config } = run;
  for (const entry of config.hooks.get(hook) ?? []) {
    run.emit({ type: "hook-start", hook, entry });
    let problem: string | undefined;
    if (config.phases.has(entry)) {
      if (stack.includes(entry)) problem = `hook recursion: ${[...stack, entry].join(" → ")}`;
      else {
        const o = await executePhaseSafely(run, entry, [...stack, entry]);
        if (o.status !== "success" && o.status !== "cached")
          problem = o.message ?? `phase '${entry}' ${o.status}`;
      }
    } else {
      problem = await runHookCommand(run, entry, vars, deadline);
    }
    run.emit({ type: "hook-finish", hook, entry, ok: problem === undefined });
    if (problem) return `hook ${hook} failed: ${problem}`;
  }
  return undefined;
}

/** One hook command, within the phase's deadline and [lifecycle] hooks_timeout_seconds; its problem, if any. */
async function runHookCommand(
  run: Run,
  entry: string,
  vars: Record<string, string>,
  deadline: number | undefined,
): Promise<string | undefined> {
  const { config, opts } = run;
  const phaseLeft = deadline === undefined ? undefined : Math.max(1, deadline - performance.now());
  const hookLimit = config.hookTimeoutMs;
  const limit = phaseLeft === undefined ? hookLimit : Math.min(phaseLeft, hookLimit ?? phaseLeft);
  let r: Awaited<ReturnType<typeof execCommand>>;
  try {
    r = await execCommand(entry, {
      cwd: config.root,
      env: vars,
      lineChars: config.limits.lineChars,
      ...(limit !== undefined ? { timeoutMs: limit } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
  if (r.timedOut) {
    return hookLimit !== undefined && limit === hookLimit
      ? `'${entry}' ran past [lifecycle] hooks_timeout_seconds (${formatMs(hookLimit)})`
      : `'${entry}' ran past the phase's timeout`;
  }
  if (r.exitCode !== 0) {
    const last = lastLine(r.tail);
    return `'${entry}' exited with ${r.exitCode ?? r.signal}${last ? `: ${last}` : ""}`;
  }
  return undefined;
}

/** "90s", "2m 5s", "1500ms": a limit as a person reads it. */
export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${s % 60 ? ` ${s % 60}s` : ""}`;
  const h = Math.floor(s / 3600);
  return `${h}h${Math.floor((s % 3600) / 60) ? ` ${Math.floor((s % 3600) / 60)}m` : ""}`;
}

/** The deploy phase's deploy: behind the environment's gates, then deploy (with verify and rollback). */
async function deployStep(run: Run, p: PhaseConfig): Promise<string | undefined> {
  const { config, env, profile, result } = run;
  const gate = await runGates(run, p.name);
  if (gate) return gate;
  const testMetrics = await testMetricsFor(config);
  // The phases that ran before the deploy, on the run's clock: the record's total is wall time.
  const stages = [...run.outcomes.values()]
    .filter((o) => o.status === "success" && o.startedAtMs !== undefined)
    .map((o) => ({ name: o.phase, startedAtMs: o.startedAtMs!, durationMs: o.durationMs }));
  const dr = await deploy(config, env.name, {
    env: { ...env.vars, ...(profile?.env ?? {}), ...p.env },
    rollback: run.rules.rollback,
    ...(profile?.verifyRetries !== undefined ? { verifyRetries: profile.verifyRetries } : {}),
    timeline: { startedAt: run.startedAt, stages },
    ...(testMetrics ? { testMetrics } : {}),
    onEvent: run.emit,
  });
  result.deployment = dr;
  if (dr.status === "success") return undefined;
  if (dr.status === "rolled-back") result.rolledBack = true;
  return `deploy to '${env.name}' ${dr.status === "rolled-back" ? "rolled back" : "failed"}: ${dr.message}`;
}

/** The verify phase's health check of the environment. */
async function verifyStep(run: Run, v: VerifyConfig): Promise<string | undefined> {
  const { profile } = run;
  const r = await verify(v, {
    ...(profile?.verifyRetries !== undefined ? { retries: profile.verifyRetries } : {}),
    onEvent: run.emit,
  });
  if (r.ok) return undefined;
  return `verify of '${run.env.name}' failed: ${r.url}: ${r.detail} after ${r.attempts} attempt(s)`;
}

/** The tests and security checks an environment requires before a deploy; the first that fails blocks it. */
async function runGates(run: Run, phase: string): Promise<string | undefined> {
  const { config, env, rules } = run;
  // [deployment] validate_before_deploy: every check (requirements, tests, security, errors) at once.
  const checks: CheckName[][] = config.deployPolicy.validateBeforeDeploy
    ? [[...CHECKS.filter((c) => c !== "warnings")]]
    : [
        ...(rules.requireTests ? [["tests" as const]] : []),
        ...(rules.requireSecurity ? [["security" as const]] : []),
      ];
  for (const group of checks) {
    const check = group.join("+");
    const v = await validate(config, { checks: group, env: env.name });
    run.emit({
      type: "gate",
      environment: env.name,
      check,
      ok: v.passed,
      errors: v.errors,
      warnings: v.warnings,
    });
    if (!v.passed) {
      const f = v.findings.find((x) => x.severity === "error");
      const where = f?.file ? `${f.file}${f.line ? `:${f.line}` : ""}: ` : "";
      const rule = config.deployPolicy.validateBeforeDeploy
        ? "[deployment] validate_before_deploy requires validation"
        : `'${env.name}' requires ${check} checks`;
      return `phase '${phase}' blocked: ${rule} to pass (${v.errors} error(s); ${where}${f?.message ?? ""})`;
    }
  }
  return undefined;
}

/** The last tests report's counts, for the deployment metrics; none when there is no readable report. */
async function testMetricsFor(config: LifecycleConfig) {
  try {
    const t = await readTestsReport(config);
    if (!t) return undefined;
    const s = t.run.summary;
    return {
      totalTests: s.total,
      passed: s.passed,
      failed: s.failed,
      skipped: s.skipped,
      durationSeconds: t.run.timings.testMs / 1000,
    };
  } catch {
    return undefined;
  }
}

/** A phase's outcome in the state (and its log in .ggen/logs/), with the input hash a later run may skip on. */
async function recordPhase(
  run: Run,
  o: PhaseOutcome,
  startedAt: string,
  inputsHash: string | undefined,
  log: KeptOutput | undefined,
): Promise<void> {
  const { config } = run;
  const name = o.phase;
  const status: PhaseRecord["status"] =
    o.status === "cached"
      ? "cached"
      : o.status === "success"
        ? "success"
        : o.status === "timed-out"
          ? "timed-out"
          : "failed";
  if (log) {
    await writeFileAtomic(join(config.root, ".ggen", "logs", `${name}.log`), `${log.text()}\n`, {
      fsync: false,
    });
  }
  await updateState(
    config.root,
    (s) => {
      const prev = s.phases[name];
      const rec: PhaseRecord = {
        status,
        startedAt,
        durationMs: Math.round(o.durationMs),
        exitCode: o.exitCode,
        environment: run.env.name,
      };
      const keepHash =
        status === "success" || status === "cached"
          ? (inputsHash ?? (status === "cached" ? prev?.inputsHash : undefined))
          : undefined;
      if (keepHash) rec.inputsHash = keepHash;
      if (o.message) rec.message = o.message;
      s.phases[name] = rec;
      s.history.push({
        phase: name,
        status,
        at: new Date().toISOString(),
        durationMs: Math.round(o.durationMs),
        exitCode: o.exitCode,
      });
      s.history = s.history.slice(-200);
      if (s.currentPhase === name) s.currentPhase = null;
    },
    config.stateBackups,
  );
}

/** The run's end in the state: failed when any phase did not succeed (or never ran). */
async function recordRunFinish(run: Run): Promise<void> {
  const finalStatus = [...run.outcomes.values()].some((o) =>
    ["failed", "timed-out", "blocked", "not-run"].includes(o.status),
  )
    ? "failed"
    : "success";
  await updateState(
    run.config.root,
    (s) => {
      const r = s.runs.find((x) => x.id === run.result.runId);
      if (r) {
        r.status = finalStatus;
        r.finishedAt = new Date().toISOString();
      }
      s.currentPhase = null;
    },
    run.config.stateBackups,
  );
}

/** The result: every phase in plan order, and the first failure as the one line a CLI prints. */
function finish(run: Run): RunResult {
  const { config, plan, outcomes, result } = run;
  result.phases = [...plan.skipped, ...plan.order].map((p) => outcomes.get(p)!).filter(Boolean);
  const firstBad = result.phases.find((o) => o.status === "failed" || o.status === "timed-out");
  if (
    firstBad ||
    result.phases.some((o) => o.status !== "success" && o.status !== "cached" && o.status !== "skipped")
  ) {
    result.ok = false;
    if (result.exitCode === 0) result.exitCode = 1;
    const msg = firstBad?.message ?? "the run was interrupted";
    result.failure = new GgenError(
      firstBad?.status === "timed-out" ? "LIFECYCLE_TIMEOUT" : "LIFECYCLE_PHASE_FAILED",
      msg,
      { location: firstBad ? phaseLocation(config, firstBad.phase) : { file: config.file } },
    );
  }
  result.durationMs = performance.now() - run.started;
  run.emit({ type: "run-finish", ok: result.ok, durationMs: result.durationMs });
  return result;
}

/** `pipeline`: the named phases in the order given, each preceded by dependencies not yet listed. */
function sequentialPlan(config: LifecycleConfig, names: readonly string[], skip: readonly string[]): Plan {
  const order: string[] = [];
  const skipped: string[] = [];
  for (const n of names) {
    const sub = planPhases(config, [n], skip);
    for (const p of sub.order) if (!order.includes(p)) order.push(p);
    for (const s of sub.skipped) if (!skipped.includes(s)) skipped.push(s);
  }
  return { order, waves: order.map((p) => [p]), skipped };
}

/** Describes a phase for `show`: commands, dependencies, hooks, cache and its last run. */
export async function describePhase(source: ConfigSource, name: string) {
  const config = await asConfig(source);
  const p = config.phases.get(name);
  if (!p) {
    const { unknownPhase } = await import("./plan.js");
    throw unknownPhase(config, name);
  }
  const state = await loadState(config.root);
  const hooks: Record<string, string[]> = {};
  for (const h of [`before_${name}`, `after_${name}`]) {
    const entries = config.hooks.get(h);
    if (entries) hooks[h] = entries;
  }
  const dependents = [...config.phases.values()].filter((q) => q.dependsOn.includes(name)).map((q) => q.name);
  const outputsPresent = p.outputs.length ? (await globFiles(config.root, p.outputs)).length > 0 : undefined;
  return {
    name,
    ...(p.description ? { description: p.description } : {}),
    commands: p.commands,
    ...(p.cwd ? { cwd: p.cwd } : {}),
    env: redactRecord(p.env),
    dependsOn: p.dependsOn,
    dependents,
    ...(p.timeoutMs ? { timeoutMs: p.timeoutMs } : {}),
    inputs: p.inputs,
    outputs: p.outputs,
    ...(outputsPresent !== undefined ? { outputsPresent } : {}),
    hooks,
    order: planPhases(config, [name]).order,
    lastRun: state.phases[name] ?? null,
    logFile: (await exists(join(config.root, ".ggen", "logs", `${name}.log`)))
      ? `.ggen/logs/${name}.log`
      : null,
  };
}
