// Deploy providers (command, release-dir, process), HTTP verify, rollback. release-dir keeps
// releases/<id>/ and a `current` symlink switched atomically (symlink to a temp name, then rename).
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { promises as fs } from "node:fs";
import { join, relative } from "node:path";
import { type DeploymentMetrics, GgenError } from "@ggen/contract";
import { withLock } from "@ggen/support";
import {
  asConfig,
  type ConfigSource,
  type DeployConfig,
  type EnvironmentConfig,
  type LifecycleConfig,
  type VerifyConfig,
} from "./config.js";
import { execCommand } from "./exec.js";
import { exists, insideRoot, processAlive } from "./fsutil.js";
import { appendDeploymentMetrics, type RunTimeline, type StageTiming, timelineMetrics } from "./metrics.js";
import { type ReleaseRecord, updateState } from "./state.js";
import { SUPERVISOR_SOURCE } from "./supervisor.js";

export type DeployEvent =
  | { type: "deploy-start"; environment: string; provider: string; releaseId?: string }
  | { type: "deploy-finish"; environment: string; releaseId?: string; durationMs: number }
  | { type: "verify-attempt"; url: string; attempt: number; ok: boolean; detail: string }
  | { type: "rollback"; environment: string; from?: string; to: string };

export interface VerifyResult {
  ok: boolean;
  url: string;
  attempts: number;
  status?: number;
  detail: string;
  durationMs: number;
}

export interface DeployResult {
  environment: string;
  provider: string;
  status: "success" | "failed" | "rolled-back";
  releaseId?: string;
  previousRelease?: string;
  rolledBackTo?: string;
  verify?: VerifyResult;
  message?: string;
  durationMs: number;
  /** Seconds per step (deployment, verification, rollback). */
  phases: Record<string, number>;
  /** The same steps on the run's clock (offsets from the timeline's start, or from this deploy's). */
  steps: StageTiming[];
  metrics?: DeploymentMetrics;
}

export interface DeployOptions {
  /** Extra variables for commands and the service. */
  env?: Record<string, string>;
  onEvent?: (e: DeployEvent) => void;
  /** Run verify after deploying (default: when the environment has a verify section). */
  verify?: boolean;
  /** Roll back automatically when verify fails (default: the environment's `rollback`). */
  rollback?: boolean;
  verifyRetries?: number;
  /**
   * The run this deploy ends, on one clock: the metrics record keeps each stage's start and duration,
   * adds the deploy's own steps, and takes the wall time from `timeline.startedAt` as its total.
   */
  timeline?: RunTimeline;
  /**
   * @deprecated Durations without start times: they are taken to have run one after another (the total
   * adds them up, which overcounts stages that ran in parallel). Pass `timeline`.
   */
  phases?: Record<string, number>;
  testMetrics?: DeploymentMetrics["testMetrics"];
  /** Append a deployment-metrics/v1 record (default true). */
  recordMetrics?: boolean;
  version?: string;
  backups?: number;
}

export function environmentOf(config: LifecycleConfig, name: string): EnvironmentConfig {
  const env = config.environments.get(name);
  if (!env) {
    const names = [...config.environments.keys()];
    throw new GgenError("LIFECYCLE_UNKNOWN_ENV", `unknown environment '${name}'`, {
      kind: "usage",
      location: { file: config.file },
      hint: names.length
        ? `environments: ${names.join(", ")}`
        : "declare [environments.<name>] in the config",
    });
  }
  return env;
}

function deployConfigOf(config: LifecycleConfig, envName: string): DeployConfig {
  const env = environmentOf(config, envName);
  if (!env.deploy) {
    throw new GgenError(
      "LIFECYCLE_NO_DEPLOY",
      `environment '${envName}' has no [environments.${envName}.deploy]`,
      {
        kind: "usage",
        location: config.locations.get(`env:${envName}`) ?? { file: config.file },
      },
    );
  }
  return env.deploy;
}

export function newReleaseId(now = new Date()): string {
  const iso = now.toISOString().replace(/[-:]/g, "").replace("T", "-").replace(/\..*/, "");
  const ms = String(now.getMilliseconds()).padStart(3, "0");
  return `${iso}-${ms}-${randomBytes(2).toString("hex")}`;
}

async function deployRoot(config: LifecycleConfig, d: DeployConfig): Promise<string> {
  return insideRoot(config.root, d.dir, "deploy dir");
}

/** The release `current` points at, if any. */
export async function currentRelease(root: string): Promise<string | undefined> {
  try {
    const target = await fs.readlink(join(root, "current"));
    return target.split("/").pop();
  } catch {
    return undefined;
  }
}

/** Release ids on disk, oldest first (ids sort by time). */
export async function listReleases(root: string): Promise<string[]> {
  try {
    const entries = await fs.readdir(join(root, "releases"), { withFileTypes: true });
    return entries
      .filter((e) => e.isDirectory() && !e.name.startsWith("."))
      .map((e) => e.name)
      .sort();
  } catch {
    return [];
  }
}

/** Points `current` at releases/<id> atomically: a new symlink under a temp name renamed over the old. */
export async function switchCurrent(root: string, id: string): Promise<void> {
  const tmp = join(root, `.current-${randomBytes(4).toString("hex")}`);
  await fs.symlink(join("releases", id), tmp);
  try {
    await fs.rename(tmp, join(root, "current"));
  } catch (e) {
    await fs.rm(tmp, { force: true });
    throw e;
  }
}

async function createRelease(
  config: LifecycleConfig,
  d: DeployConfig,
  root: string,
  id: string,
): Promise<void> {
  const source = await insideRoot(config.root, d.source, "deploy source");
  if (!(await exists(source))) {
    throw new GgenError("LIFECYCLE_DEPLOY_SOURCE", `deploy source '${d.source}' does not exist`, {
      location: { file: config.file },
      hint: "build it first (e.g. 'ggen lifecycle run build') or set deploy.source",
    });
  }
  const releases = join(root, "releases");
  await fs.mkdir(releases, { recursive: true });
  await removePartials(root);
  const staging = join(releases, `.${id}.partial`);
  try {
    await copyTree(source, staging);
    await fs.rename(staging, join(releases, id));
  } catch (e) {
    await fs.rm(staging, { recursive: true, force: true });
    throw e;
  }
}

/** Leftovers of a release copy that was interrupted (kill -9): only ever under the deploy lock. */
async function removePartials(root: string): Promise<void> {
  for (const e of await fs.readdir(join(root, "releases")).catch(() => [] as string[])) {
    if (e.endsWith(".partial")) await fs.rm(join(root, "releases", e), { recursive: true, force: true });
  }
}

/** A recursive copy keeping symlinks as they are: cp(1) (an order of magnitude faster than fs.cp on
 * a release with node_modules), fs.cp where cp fails or is missing. cp runs under `setpriv --pdeathsig`
 * where util-linux has it, so a deploy killed with -9 does not leave it copying. */
async function copyTree(from: string, to: string): Promise<void> {
  const run = (file: string, args: string[]) =>
    new Promise<boolean>((res) => {
      const child = spawn(file, args, { stdio: "ignore" });
      child.once("error", () => res(false));
      child.once("close", (code) => res(code === 0));
    });
  const cp = ["cp", "-a", from, to];
  for (const [file, ...args] of [["setpriv", "--pdeathsig", "KILL", "--", ...cp], cp]) {
    if (await run(file!, args)) return;
    await fs.rm(to, { recursive: true, force: true });
  }
  await fs.cp(from, to, { recursive: true, verbatimSymlinks: true });
}

async function prune(
  root: string,
  keep: number,
  protect: readonly (string | undefined)[],
): Promise<string[]> {
  const all = await listReleases(root);
  const removed: string[] = [];
  const excess = all.length - keep;
  for (const id of all) {
    if (removed.length >= excess) break;
    if (protect.includes(id)) continue;
    await fs.rm(join(root, "releases", id), { recursive: true, force: true });
    removed.push(id);
  }
  await removePartials(root);
  return removed;
}

function baseEnv(
  config: LifecycleConfig,
  env: EnvironmentConfig,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    ...(process.env as Record<string, string>),
    ...env.vars,
    ...extra,
    GGEN_ENV: env.name,
    GGEN_PROJECT_ROOT: config.root,
  };
}

// ---- process provider -------------------------------------------------------------------------

const alive = processAlive;

async function readPid(file: string): Promise<number | undefined> {
  try {
    const n = Number.parseInt(await fs.readFile(file, "utf8"), 10);
    return Number.isFinite(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

/** Stops the supervisor (and so the service) of a process deployment; true when one was running. */
export async function stopService(source: ConfigSource, envName: string): Promise<boolean> {
  const config = await asConfig(source);
  const d = deployConfigOf(config, envName);
  const root = await deployRoot(config, d);
  return stopSupervisor(root);
}

async function stopSupervisor(root: string): Promise<boolean> {
  const pidFile = join(root, "supervisor.pid");
  const pid = await readPid(pidFile);
  if (!pid || !alive(pid)) {
    await fs.rm(pidFile, { force: true });
    const svc = await readPid(join(root, "service.pid"));
    if (svc && alive(svc)) process.kill(svc, "SIGKILL");
    await fs.rm(join(root, "service.pid"), { force: true });
    return false;
  }
  process.kill(pid, "SIGTERM");
  const deadline = Date.now() + 6000;
  while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  if (alive(pid)) {
    const svc = await readPid(join(root, "service.pid"));
    process.kill(pid, "SIGKILL");
    if (svc && alive(svc)) process.kill(svc, "SIGKILL");
  }
  await fs.rm(pidFile, { force: true });
  await fs.rm(join(root, "service.pid"), { force: true });
  return true;
}

async function startSupervisor(
  root: string,
  d: DeployConfig,
  id: string,
  env: Record<string, string>,
): Promise<number> {
  const cwd = join(root, "releases", id);
  const childEnv = { ...env, ...(d.port !== undefined ? { PORT: String(d.port) } : {}), GGEN_RELEASE: id };
  const child = spawn(
    process.execPath,
    [
      "-e",
      SUPERVISOR_SOURCE,
      d.start!,
      cwd,
      join(root, "supervisor.pid"),
      join(root, "service.pid"),
      join(root, "service.log"),
      import.meta.resolve("@ggen/support"),
    ],
    { cwd, env: childEnv, detached: true, stdio: "ignore" },
  );
  child.unref();
  const pidFile = join(root, "supervisor.pid");
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    const pid = await readPid(pidFile);
    if (pid !== undefined && pid === child.pid) return pid;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new GgenError("LIFECYCLE_SUPERVISOR", `the supervisor for release ${id} did not start`);
}

// ---- verify ------------------------------------------------------------------------------------

/**
 * One GET of `url` over node:http(s), redirects not followed, on a connection of its own (no keep-alive
 * socket left to hold the process). Not fetch: its client (undici) would be loaded for one request, on
 * the deploy's critical path.
 */
async function httpGet(url: string, timeoutMs: number): Promise<{ status: number; body: string }> {
  const { request } = url.startsWith("https:") ? await import("node:https") : await import("node:http");
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        body += chunk;
      });
      res.on("end", () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, body });
      });
      res.on("error", fail);
    });
    // The whole exchange, not one idle gap, is what the timeout bounds.
    const timer = setTimeout(() => req.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    function fail(error: Error) {
      clearTimeout(timer);
      reject(error);
    }
    req.on("error", fail);
    req.end();
  });
}

/** HTTP health check: up to `retries` attempts, each with its own timeout, `intervalMs` apart. */
export async function verify(
  v: VerifyConfig,
  opts: { retries?: number; onEvent?: (e: DeployEvent) => void; signal?: AbortSignal } = {},
): Promise<VerifyResult> {
  const started = performance.now();
  const attempts = Math.max(1, opts.retries ?? v.retries);
  let detail = "";
  let status: number | undefined;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    let ok = false;
    try {
      const res = await httpGet(v.url, v.timeoutMs);
      status = res.status;
      if (res.status !== v.expectStatus) detail = `HTTP ${res.status} (expected ${v.expectStatus})`;
      else if (v.expectBody !== undefined && !res.body.includes(v.expectBody)) {
        detail = `HTTP ${res.status} but the body lacks '${v.expectBody}'`;
      } else {
        ok = true;
        detail = `HTTP ${res.status}`;
      }
    } catch (e) {
      const err = e as Error & { code?: string };
      detail = err.code ?? err.message;
    }
    opts.onEvent?.({ type: "verify-attempt", url: v.url, attempt, ok, detail });
    if (ok)
      return {
        ok,
        url: v.url,
        attempts: attempt,
        ...(status ? { status } : {}),
        detail,
        durationMs: performance.now() - started,
      };
    if (opts.signal?.aborted) break;
    if (attempt < attempts) await new Promise((r) => setTimeout(r, v.intervalMs));
  }
  return {
    ok: false,
    url: v.url,
    attempts,
    ...(status ? { status } : {}),
    detail,
    durationMs: performance.now() - started,
  };
}

/** Verifies an environment using its [environments.<env>.verify] section. */
export async function verifyEnvironment(
  source: ConfigSource,
  envName: string,
  opts: { retries?: number; onEvent?: (e: DeployEvent) => void } = {},
): Promise<VerifyResult> {
  const config = await asConfig(source);
  const env = environmentOf(config, envName);
  if (!env.verify) {
    throw new GgenError(
      "LIFECYCLE_NO_VERIFY",
      `environment '${envName}' has no [environments.${envName}.verify]`,
      {
        kind: "usage",
        location: { file: config.file },
      },
    );
  }
  return verify(env.verify, opts);
}

// ---- deploy / rollback ---------------------------------------------------------------------------

/**
 * One deploy or rollback per environment at a time (across processes): a second one fails at once while
 * the first runs; a lock whose owner died (kill -9) is taken over at once.
 */
function withDeployLock<T>(config: LifecycleConfig, envName: string, fn: () => Promise<T>): Promise<T> {
  return withLock(join(config.root, ".ggen", `deploy-${envName}`), fn, {
    waitMs: 0,
    what: `the deploy of '${envName}'`,
    code: "LIFECYCLE_DEPLOY_BUSY",
  });
}

async function recordRelease(
  config: LifecycleConfig,
  envName: string,
  id: string,
  status: ReleaseRecord["status"],
  backups: number,
) {
  await updateState(
    config.root,
    (s) => {
      s.environments[envName] ??= { releases: [] };
      const e = s.environments[envName];
      for (const r of e.releases) if (r.status === "active") r.status = "previous";
      e.releases.push({ id, deployedAt: new Date().toISOString(), status });
      e.releases = e.releases.slice(-50);
      if (status === "active") e.current = id;
      e.lastDeployAt = new Date().toISOString();
      s.environment = envName;
    },
    backups,
  );
}

async function markCurrent(
  config: LifecycleConfig,
  envName: string,
  to: string,
  from: string | undefined,
  backups: number,
) {
  await updateState(
    config.root,
    (s) => {
      s.environments[envName] ??= { releases: [] };
      const e = s.environments[envName];
      for (const r of e.releases) {
        if (r.id === from) r.status = "rolled-back";
        else if (r.status === "active") r.status = "previous";
      }
      const target = e.releases.find((r) => r.id === to);
      if (target) target.status = "active";
      else e.releases.push({ id: to, deployedAt: new Date().toISOString(), status: "active" });
      e.current = to;
    },
    backups,
  );
}

/**
 * Deploys to `envName` with its provider, verifies (when configured) and rolls back automatically when
 * verify fails and rollback is enabled. Appends a deployment-metrics/v1 record. Never throws for a
 * failed verify: the result's status says "failed" or "rolled-back".
 */
export async function deploy(
  source: ConfigSource,
  envName: string,
  opts: DeployOptions = {},
): Promise<DeployResult> {
  const config = await asConfig(source);
  environmentOf(config, envName);
  return withDeployLock(config, envName, () => deployLocked(config, envName, opts));
}

async function deployLocked(
  config: LifecycleConfig,
  envName: string,
  opts: DeployOptions,
): Promise<DeployResult> {
  const env = environmentOf(config, envName);
  const d = deployConfigOf(config, envName);
  const backups = opts.backups ?? config.stateBackups;
  const started = performance.now();
  const startedAt = Date.now();
  const origin = opts.timeline?.startedAt ?? startedAt;
  const vars = baseEnv(config, env, opts.env);
  const result: DeployResult = {
    environment: envName,
    provider: d.provider,
    status: "success",
    durationMs: 0,
    phases: {},
    steps: [],
  };
  // Each step on the run's clock (and in seconds, as DeployResult.phases has always had them).
  const step = (name: string, from: number, to = Date.now()) => {
    result.steps.push({ name, startedAtMs: from - origin, durationMs: to - from });
    result.phases[name] = (to - from) / 1000;
  };
  let deployError: unknown;
  try {
    if (d.provider === "command") {
      const id = newReleaseId();
      result.releaseId = id;
      opts.onEvent?.({ type: "deploy-start", environment: envName, provider: d.provider, releaseId: id });
      for (const c of d.commands) {
        const r = await execCommand(c, { cwd: config.root, env: { ...vars, GGEN_RELEASE: id } });
        if (r.exitCode !== 0) {
          throw new GgenError(
            "LIFECYCLE_DEPLOY_FAILED",
            `deploy command '${c}' exited with ${r.exitCode ?? r.signal}: ${r.tail.filter(Boolean).pop() ?? ""}`.trim(),
          );
        }
      }
      await recordRelease(config, envName, id, "active", backups);
    } else {
      const root = await deployRoot(config, d);
      await fs.mkdir(root, { recursive: true });
      const previous = await currentRelease(root);
      if (previous) result.previousRelease = previous;
      const id = newReleaseId();
      result.releaseId = id;
      opts.onEvent?.({ type: "deploy-start", environment: envName, provider: d.provider, releaseId: id });
      await createRelease(config, d, root, id);
      if (d.provider === "process") await stopSupervisor(root);
      await switchCurrent(root, id);
      if (d.provider === "process") await startSupervisor(root, d, id, vars);
      await recordRelease(config, envName, id, "active", backups);
      await prune(root, d.keep, [id, previous]);
    }
  } catch (e) {
    deployError = e;
    result.status = "failed";
    result.message = e instanceof Error ? e.message : String(e);
  }
  step("deployment", startedAt);
  opts.onEvent?.({
    type: "deploy-finish",
    environment: envName,
    ...(result.releaseId ? { releaseId: result.releaseId } : {}),
    durationMs: performance.now() - started,
  });

  const shouldVerify = opts.verify ?? env.verify !== undefined;
  if (!deployError && shouldVerify && env.verify) {
    const verifyFrom = Date.now();
    const v = await verify(env.verify, {
      ...(opts.verifyRetries !== undefined ? { retries: opts.verifyRetries } : {}),
      ...(opts.onEvent ? { onEvent: opts.onEvent } : {}),
    });
    result.verify = v;
    step("verification", verifyFrom);
    if (!v.ok) {
      result.status = "failed";
      result.message = `verify failed: ${v.url}: ${v.detail} after ${v.attempts} attempt(s)`;
      const canRollback = opts.rollback ?? env.rollback;
      if (canRollback && (result.previousRelease || d.rollbackCommands.length > 0)) {
        const rollbackFrom = Date.now();
        try {
          const rb = await rollbackLocked(config, envName, {
            backups,
            ...(opts.env ? { env: opts.env } : {}),
            ...(opts.onEvent ? { onEvent: opts.onEvent } : {}),
          });
          result.status = "rolled-back";
          result.rolledBackTo = rb.to;
          result.message += `; rolled back to ${rb.to}`;
          const again = await verify(env.verify, {
            ...(opts.verifyRetries !== undefined ? { retries: opts.verifyRetries } : {}),
          });
          if (!again.ok) result.message += ` (but the restored release fails verify too: ${again.detail})`;
        } catch (e) {
          result.message += `; rollback failed: ${(e as Error).message}`;
        }
        step("rollback", rollbackFrom);
      } else if (canRollback) {
        result.message += "; no previous release to roll back to";
      }
    }
  }
  result.durationMs = performance.now() - started;

  if (opts.recordMetrics !== false) {
    const usage = process.resourceUsage();
    const cpuSeconds = (usage.userCPUTime + usage.systemCPUTime) / 1e6;
    const record: DeploymentMetrics = {
      kind: "deployment-metrics/v1",
      deploymentId: result.releaseId ?? newReleaseId(),
      timestamp: new Date().toISOString(),
      environment: envName,
      name: config.name,
      ...(opts.version ? { version: opts.version } : {}),
      status: result.status,
      ...deployTiming(opts, result, origin),
      testMetrics: opts.testMetrics ?? { totalTests: 0, passed: 0, failed: 0, durationSeconds: 0 },
      resourceUsage: {
        peakMemoryMb: Math.round((usage.maxRSS / 1024) * 10) / 10,
        cpuPercent: Math.round((cpuSeconds / Math.max(process.uptime(), 0.001)) * 1000) / 10,
      },
    };
    await appendDeploymentMetrics(config.root, record);
    result.metrics = record;
  }
  return result;
}

/** The record's total, phases and stages: the wall time of the run's timeline (see DeployOptions). */
function deployTiming(opts: DeployOptions, result: DeployResult, origin: number) {
  if (!opts.timeline && opts.phases) {
    const phases = { ...opts.phases, ...result.phases };
    const total = Object.values(opts.phases).reduce((a, b) => a + b, 0) + result.durationMs / 1000;
    const round = (x: number) => Math.round(x * 1000) / 1000;
    return {
      totalTimeSeconds: round(total),
      phases: Object.fromEntries(Object.entries(phases).map(([k, v]) => [k, round(v)])),
    };
  }
  return timelineMetrics({ startedAt: origin, stages: [...(opts.timeline?.stages ?? []), ...result.steps] });
}

export interface RollbackResult {
  environment: string;
  from?: string;
  to: string;
  provider: string;
}

export interface RollbackOptions {
  to?: string;
  env?: Record<string, string>;
  onEvent?: (e: DeployEvent) => void;
  backups?: number;
}

/** Switches `envName` back to `to` (or the release before the current one) and restarts a process service. */
export async function rollback(
  source: ConfigSource,
  envName: string,
  opts: RollbackOptions = {},
): Promise<RollbackResult> {
  const config = await asConfig(source);
  environmentOf(config, envName);
  return withDeployLock(config, envName, () => rollbackLocked(config, envName, opts));
}

async function rollbackLocked(
  config: LifecycleConfig,
  envName: string,
  opts: RollbackOptions,
): Promise<RollbackResult> {
  const env = environmentOf(config, envName);
  const d = deployConfigOf(config, envName);
  const backups = opts.backups ?? config.stateBackups;
  const vars = baseEnv(config, env, opts.env);
  if (d.provider === "command") {
    if (d.rollbackCommands.length === 0) {
      throw new GgenError(
        "LIFECYCLE_NO_ROLLBACK",
        `environment '${envName}' (provider command) has no deploy.rollback commands`,
        {
          kind: "usage",
          location: { file: config.file },
        },
      );
    }
    const to = opts.to ?? "previous";
    const limit = config.deployPolicy.rollbackTimeoutMs;
    for (const c of d.rollbackCommands) {
      const r = await execCommand(c, {
        cwd: config.root,
        env: { ...vars, GGEN_ROLLBACK_TO: to },
        ...(limit !== undefined ? { timeoutMs: limit } : {}),
      });
      if (r.timedOut) {
        throw new GgenError(
          "LIFECYCLE_ROLLBACK_FAILED",
          `rollback command '${c}' ran past [deployment] rollback_timeout_seconds (${limit! / 1000}s)`,
        );
      }
      if (r.exitCode !== 0) {
        throw new GgenError(
          "LIFECYCLE_ROLLBACK_FAILED",
          `rollback command '${c}' exited with ${r.exitCode ?? r.signal}`,
        );
      }
    }
    opts.onEvent?.({ type: "rollback", environment: envName, to });
    return { environment: envName, to, provider: d.provider };
  }
  const root = await deployRoot(config, d);
  const from = await currentRelease(root);
  const all = await listReleases(root);
  let to = opts.to;
  if (to !== undefined) {
    if (!all.includes(to)) {
      throw new GgenError(
        "LIFECYCLE_UNKNOWN_RELEASE",
        `no release '${to}' in ${relative(config.root, root) || "."}/releases`,
        {
          kind: "usage",
          hint: all.length ? `releases: ${all.slice(-5).join(", ")}` : "nothing has been deployed",
        },
      );
    }
  } else {
    const { loadState } = await import("./state.js");
    const s = await loadState(config.root);
    const bad = new Set(
      (s.environments[envName]?.releases ?? [])
        .filter((r) => r.status === "rolled-back" || r.status === "failed")
        .map((r) => r.id),
    );
    const older = all.filter((id) => (from === undefined || id < from) && !bad.has(id));
    to = older.pop();
    if (!to) {
      throw new GgenError(
        "LIFECYCLE_NO_PREVIOUS",
        `environment '${envName}' has no release before ${from ?? "the current one"}`,
        {
          hint: "pass --to <release> to pick one",
        },
      );
    }
  }
  if (d.provider === "process") await stopSupervisor(root);
  await switchCurrent(root, to);
  if (d.provider === "process") await startSupervisor(root, d, to, vars);
  await markCurrent(config, envName, to, from, backups);
  opts.onEvent?.({ type: "rollback", environment: envName, ...(from ? { from } : {}), to });
  return { environment: envName, ...(from ? { from } : {}), to, provider: d.provider };
}
