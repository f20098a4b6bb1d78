// Runs phases: dependencies first, independent phases at once (p-limit), hooks, input-hash caching,
// environment rules (tests/security gates, approval), deploy/verify, state and logs. Reports progress
// through events; never prints.
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { GgenError } from "@ggen/contract";
import pLimit from "p-limit";
import {
  asConfig,
  type ConfigSource,
  type EnvironmentConfig,
  type LifecycleConfig,
  type PhaseConfig,
  type ProfileConfig,
} from "./config.js";
import { type DeployEvent, type DeployResult, deploy, environmentOf, verify } from "./deploy.js";
import { execCommand } from "./exec.js";
import {
  exists,
  globFiles,
  hashFiles,
  insideRoot,
  processAlive,
  redactEnv,
  sha256,
  writeFileAtomic,
} from "./fsutil.js";
import { type Plan, planPhases } from "./plan.js";
import { loadState, type PhaseRecord, updateState } from "./state.js";
import { readTestsReport, validate } from "./validate.js";

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
  /** Phases run at once; default: the profile's jobs, else 2. */
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

const SECRET_NAME = /password|secret|token|key/i;

/** Replaces the values of secret-looking variables declared in the config with `***`. */
function redact(line: string, vars: Record<string, string>): string {
  let out = line;
  for (const [k, v] of Object.entries(vars)) {
    if (v.length >= 4 && SECRET_NAME.test(k) && out.includes(v)) out = out.split(v).join("***");
  }
  return out;
}

const lastLine = (tail: readonly string[]) =>
  tail
    .filter((l) => l.trim())
    .pop()
    ?.trim();

export async function runPhases(
  source: ConfigSource,
  names: readonly string[],
  opts: RunOptions = {},
): Promise<RunResult> {
  const config = await asConfig(source);
  const started = performance.now();
  const env = resolveEnv(config, opts.env);
  const profile = resolveProfile(config, opts.profile);
  const rules = effectiveRules(env, profile);
  const plan = opts.sequential
    ? sequentialPlan(config, names, profile?.skip ?? [])
    : planPhases(config, names, profile?.skip ?? []);
  const runId = `run-${Date.now().toString(36)}-${randomBytes(3).toString("hex")}`;
  const emit = (e: LifecycleEvent) => opts.onEvent?.(e);
  const outcomes = new Map<string, PhaseOutcome>();
  const result: RunResult = {
    runId,
    ok: true,
    dryRun: opts.dryRun === true,
    environment: env.name,
    ...(profile ? { profile: profile.name } : {}),
    plan,
    phases: [],
    durationMs: 0,
    exitCode: 0,
  };
  const phaseLoc = (p: string) => {
    const line = config.lines.get(`phase:${p}`);
    return { file: config.file, ...(line ? { line, column: 1 } : {}) };
  };

  emit({
    type: "run-start",
    runId,
    phases: plan.order,
    waves: plan.waves,
    environment: env.name,
    ...(profile ? { profile: profile.name } : {}),
  });
  for (const s of plan.skipped) {
    outcomes.set(s, {
      phase: s,
      status: "skipped",
      durationMs: 0,
      exitCode: null,
      commands: config.phases.get(s)!.commands,
      message: `skipped by profile ${profile?.name}`,
    });
    emit({ type: "phase-skip", phase: s, reason: "profile" });
  }

  if (opts.dryRun) {
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
    result.durationMs = performance.now() - started;
    return result;
  }

  // Approval comes first: nothing should run when the person says no.
  const deploying = plan.order.includes("deploy") && env.deploy !== undefined;
  if (deploying && rules.requireApproval && !opts.yes) {
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

  await updateState(
    config.root,
    (s) => {
      for (const r of s.runs) if (r.status === "running" && !processAlive(r.pid)) r.status = "interrupted";
      s.runs.push({
        id: runId,
        phases: plan.order,
        startedAt: new Date().toISOString(),
        status: "running",
        pid: process.pid,
        environment: env.name,
        ...(profile ? { profile: profile.name } : {}),
      });
      s.runs = s.runs.slice(-50);
      s.environment = env.name;
    },
    config.stateBackups,
  );
  const state = await loadState(config.root);

  const baseVars: Record<string, string> = {
    ...(process.env as Record<string, string>),
    ...env.vars,
    ...(profile?.env ?? {}),
    GGEN_ENV: env.name,
    GGEN_PROJECT_ROOT: config.root,
    ...(profile ? { GGEN_PROFILE: profile.name } : {}),
  };
  let failed = false;
  const noCache = opts.noCache === true || profile?.noCache === true;

  const runCommand = async (
    phaseName: string,
    command: string,
    cwd: string,
    vars: Record<string, string>,
    deadline: number | undefined,
    log: string[],
  ) => {
    const remaining = deadline === undefined ? 0 : Math.max(1, deadline - performance.now());
    return execCommand(command, {
      cwd,
      env: vars,
      timeoutMs: remaining,
      onLine: (raw, stream) => {
        const line = redact(raw, {
          ...env.vars,
          ...(profile?.env ?? {}),
          ...(config.phases.get(phaseName)?.env ?? {}),
        });
        log.push(line);
        emit({ type: "phase-output", phase: phaseName, line, stream });
      },
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
  };

  /** Runs hook entries (commands or phases); the first failure is returned as a message. */
  const runHook = async (
    hook: string,
    stack: readonly string[],
    vars: Record<string, string>,
    deadline?: number,
  ): Promise<string | undefined> => {
    for (const entry of config.hooks.get(hook) ?? []) {
      emit({ type: "hook-start", hook, entry });
      let problem: string | undefined;
      if (config.phases.has(entry)) {
        if (stack.includes(entry)) problem = `hook recursion: ${[...stack, entry].join(" → ")}`;
        else {
          const o = await executePhase(entry, [...stack, entry]);
          if (o.status !== "success" && o.status !== "cached")
            problem = o.message ?? `phase '${entry}' ${o.status}`;
        }
      } else {
        const r = await execCommand(entry, {
          cwd: config.root,
          env: vars,
          ...(deadline !== undefined ? { timeoutMs: Math.max(1, deadline - performance.now()) } : {}),
          ...(opts.signal ? { signal: opts.signal } : {}),
        });
        if (r.timedOut) problem = `'${entry}' ran past the phase's timeout`;
        else if (r.exitCode !== 0) {
          const last = lastLine(r.tail);
          problem = `'${entry}' exited with ${r.exitCode ?? r.signal}${last ? `: ${last}` : ""}`;
        }
      }
      emit({ type: "hook-finish", hook, entry, ok: problem === undefined });
      if (problem) return `hook ${hook} failed: ${problem}`;
    }
    return undefined;
  };

  const cacheKey = async (p: PhaseConfig, vars: Record<string, string>): Promise<string | undefined> => {
    if (p.inputs.length === 0 || noCache) return undefined;
    const files = await globFiles(config.root, p.inputs);
    const contentHash = await hashFiles(config.root, files);
    const relevantEnv = { ...env.vars, ...(profile?.env ?? {}), ...p.env };
    return sha256(
      JSON.stringify({
        contentHash,
        commands: p.commands,
        cwd: p.cwd ?? "",
        env: relevantEnv,
        envName: vars.GGEN_ENV,
      }),
    );
  };

  const record = async (
    name: string,
    o: PhaseOutcome,
    startedAt: string,
    inputsHash: string | undefined,
    log: string[],
  ) => {
    const status: PhaseRecord["status"] =
      o.status === "cached"
        ? "cached"
        : o.status === "success"
          ? "success"
          : o.status === "timed-out"
            ? "timed-out"
            : "failed";
    if (o.status !== "cached") {
      await writeFileAtomic(join(config.root, ".ggen", "logs", `${name}.log`), `${log.join("\n")}\n`);
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
          environment: env.name,
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
  };

  const executePhase = async (name: string, stack: readonly string[]): Promise<PhaseOutcome> => {
    const p = config.phases.get(name)!;
    const t0 = performance.now();
    const startedAt = new Date().toISOString();
    const vars = { ...baseVars, ...p.env, GGEN_PHASE: name };
    const cwd = p.cwd ? await insideRoot(config.root, p.cwd, `phases.${name}.cwd`) : config.root;
    const key = await cacheKey(p, vars);
    const prev = state.phases[name];
    if (key && prev?.inputsHash === key && (prev.status === "success" || prev.status === "cached")) {
      const outputsOk = p.outputs.length === 0 || (await globFiles(config.root, p.outputs)).length > 0;
      if (outputsOk) {
        const o: PhaseOutcome = {
          phase: name,
          status: "cached",
          durationMs: 0,
          exitCode: 0,
          commands: p.commands,
          cached: true,
          message: "inputs unchanged since the last success",
        };
        emit({ type: "phase-skip", phase: name, reason: "cached" });
        await record(name, o, startedAt, key, []);
        return o;
      }
    }
    emit({ type: "phase-start", phase: name, commands: p.commands });
    await updateState(
      config.root,
      (s) => {
        s.currentPhase = name;
      },
      config.stateBackups,
    );
    const log: string[] = [];
    const deadline = p.timeout ? t0 + p.timeout * 1000 : undefined;
    let message: string | undefined;
    let status: PhaseOutcome["status"] = "success";
    let exitCode: number | null = 0;

    message = await runHook(`before_${name}`, stack, vars, deadline);
    if (message) status = "failed";
    for (const c of status === "success" ? p.commands : []) {
      const r = await runCommand(name, c, cwd, vars, deadline, log);
      exitCode = r.exitCode;
      if (r.timedOut) {
        status = "timed-out";
        message = `phase '${name}' timed out after ${p.timeout}s running '${c}'`;
        break;
      }
      if (r.exitCode !== 0) {
        status = "failed";
        const last = lastLine(r.tail);
        message = `phase '${name}' failed: '${c}' exited with ${r.exitCode ?? r.signal}${last ? `: ${last}` : ""}`;
        break;
      }
    }
    if (status === "success" && name === "deploy" && env.deploy) {
      const gate = await runGates(name);
      if (gate) {
        status = "failed";
        message = gate;
      } else {
        const testMetrics = await testMetricsFor();
        const phasesSoFar: Record<string, number> = {};
        for (const o of outcomes.values())
          if (o.status === "success") phasesSoFar[o.phase] = Math.round(o.durationMs) / 1000;
        const dr = await deploy(config, env.name, {
          env: { ...env.vars, ...(profile?.env ?? {}), ...p.env },
          rollback: rules.rollback,
          ...(profile?.verifyRetries !== undefined ? { verifyRetries: profile.verifyRetries } : {}),
          phases: phasesSoFar,
          ...(testMetrics ? { testMetrics } : {}),
          onEvent: emit,
        });
        result.deployment = dr;
        if (dr.status !== "success") {
          status = "failed";
          message = `deploy to '${env.name}' ${dr.status === "rolled-back" ? "rolled back" : "failed"}: ${dr.message}`;
          if (dr.status === "rolled-back") result.rolledBack = true;
        }
      }
    } else if (status === "success" && name === "verify" && env.verify) {
      const v = await verify(env.verify, {
        ...(profile?.verifyRetries !== undefined ? { retries: profile.verifyRetries } : {}),
        onEvent: emit,
      });
      if (!v.ok) {
        status = "failed";
        message = `verify of '${env.name}' failed: ${v.url}: ${v.detail} after ${v.attempts} attempt(s)`;
      }
    }
    if (status === "success") {
      const after = await runHook(`after_${name}`, stack, vars, deadline);
      if (after) {
        status = "failed";
        message = after;
      }
    }
    if (status !== "success") {
      const onError = await runHook("on_error", [...stack, "on_error"], {
        ...vars,
        GGEN_FAILED_PHASE: name,
        GGEN_ERROR: message ?? "",
      });
      if (onError) message = `${message}; ${onError}`;
    }
    const o: PhaseOutcome = {
      phase: name,
      status,
      durationMs: performance.now() - t0,
      exitCode,
      commands: p.commands,
      ...(message ? { message } : {}),
    };
    await record(name, o, startedAt, status === "success" ? key : undefined, log);
    emit({
      type: "phase-finish",
      phase: name,
      status,
      durationMs: o.durationMs,
      exitCode,
      ...(message ? { message } : {}),
    });
    return o;
  };

  const testMetricsFor = async () => {
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
  };

  const runGates = async (phase: string): Promise<string | undefined> => {
    const checks = [
      ...(rules.requireTests ? (["tests"] as const) : []),
      ...(rules.requireSecurity ? (["security"] as const) : []),
    ];
    for (const check of checks) {
      const v = await validate(config, { checks: [check], env: env.name });
      emit({
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
        return `phase '${phase}' blocked: '${env.name}' requires ${check} checks to pass (${v.errors} error(s); ${where}${f?.message ?? ""})`;
      }
    }
    return undefined;
  };

  const limit = pLimit(Math.max(1, opts.sequential ? 1 : (opts.jobs ?? profile?.jobs ?? 2)));
  const promises = new Map<string, Promise<PhaseOutcome>>();
  const schedule = (name: string): Promise<PhaseOutcome> => {
    const existing = promises.get(name);
    if (existing) return existing;
    const p = config.phases.get(name)!;
    const promise = (async () => {
      const deps = await Promise.all(p.dependsOn.filter((d) => plan.order.includes(d)).map(schedule));
      const bad = deps.find((d) => d.status !== "success" && d.status !== "cached");
      if (bad) {
        const o: PhaseOutcome = {
          phase: name,
          status: "blocked",
          durationMs: 0,
          exitCode: null,
          commands: p.commands,
          message: `not run: '${bad.phase}' ${bad.status}`,
        };
        emit({ type: "phase-skip", phase: name, reason: "blocked" });
        return o;
      }
      return limit(async () => {
        if (failed || opts.signal?.aborted) {
          emit({ type: "phase-skip", phase: name, reason: "not-run" });
          return {
            phase: name,
            status: "not-run",
            durationMs: 0,
            exitCode: null,
            commands: p.commands,
          } satisfies PhaseOutcome;
        }
        const o = await executePhase(name, [name]);
        if (o.status !== "success" && o.status !== "cached") failed = true;
        return o;
      });
    })();
    promise.then((o) => outcomes.set(name, o));
    promises.set(name, promise);
    return promise;
  };

  try {
    if (opts.sequential) {
      for (const n of plan.order) await schedule(n);
    } else {
      await Promise.all(plan.order.map(schedule));
    }
  } finally {
    const finalStatus = [...outcomes.values()].some((o) =>
      ["failed", "timed-out", "blocked", "not-run"].includes(o.status),
    )
      ? "failed"
      : "success";
    await updateState(
      config.root,
      (s) => {
        const run = s.runs.find((r) => r.id === runId);
        if (run) {
          run.status = finalStatus;
          run.finishedAt = new Date().toISOString();
        }
        s.currentPhase = null;
      },
      config.stateBackups,
    );
  }

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
      {
        location: firstBad ? phaseLoc(firstBad.phase) : { file: config.file },
      },
    );
  }
  result.durationMs = performance.now() - started;
  emit({ type: "run-finish", ok: result.ok, durationMs: result.durationMs });
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
    env: redactEnv(p.env),
    dependsOn: p.dependsOn,
    dependents,
    ...(p.timeout ? { timeout: p.timeout } : {}),
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
