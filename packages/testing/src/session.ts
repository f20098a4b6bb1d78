// One recorded run from start to finish: an environment (the one named, or a throwaway one with the
// project mounted at `workspace/`), the services asked for, the work (tests or a scenario) through that
// environment's exec, teardown, and the result stored as a cleanroom-run/v1 under `.cleanroom/runs/`
// with a line in `.cleanroom/metrics.jsonl`. Without a backend, commands run straight on the host.

import { randomBytes } from "node:crypto";
import { posix, resolve } from "node:path";
import type { Backend, Environment, EnvironmentSpec, Service, ServiceSpec } from "@ggen/cleanroom-backends";
import { type CleanroomRun, GgenError, type Reference, type TestResult } from "@ggen/contract";
import { isSecretName, redactText } from "@ggen/support";
import { type ExecFn, spawnExec } from "./exec.js";
import { buildRun, hashFiles, hostIsolation, newRunId, type TimelineEntry } from "./result.js";
import { appendMetrics, type MetricsEntry, type StoreLocation, saveRun } from "./store.js";

/** Where the project root appears inside an environment (relative to its workdir). */
export const WORKSPACE = "workspace";

export interface WorkContext {
  exec: ExecFn;
  /** The project root as the exec function sees it (a cwd to pass). */
  workdir: string;
  /** Variables that reach the services (DATABASE_URL…). */
  env: Record<string, string>;
  services: Service[];
  /** The environment's limits (for saying which one killed a command). */
  limits: { memoryMb?: number; pids?: number };
  resetBetween?: () => Promise<void>;
  signal?: AbortSignal;
}

/** What the work hands back: its tests and timeline, and the wall time per test file when it knows it. */
export interface WorkOutcome {
  tests: TestResult[];
  timeline: TimelineEntry[];
  files?: Record<string, number>;
  /** Line coverage in percent, when the work measured it (for the run's summary). */
  coveragePercent?: number;
}

export interface SessionOptions {
  root: string;
  stateDir: string;
  /** Where the run and its metrics line go (default: under stateDir). */
  store?: StoreLocation;
  /** false: tests' output tails are not kept in the stored run (`[testing] collect_logs = false`). */
  keepOutput?: boolean;
  kind: MetricsEntry["kind"];
  backend?: Backend;
  /** Use this existing environment (it stays); otherwise a throwaway one is made and removed. */
  envName?: string;
  isolated?: boolean;
  /** Package caches the throwaway environment gets (offline installs; the shared cache is never written). */
  caches?: ("npm" | "cargo")[];
  services?: ServiceSpec[];
  resetBetween?: boolean;
  /** Files (relative to root) to hash as the run's sources. */
  sources?: readonly string[];
  /** Sources already hashed (names relative to where `report --verify` runs); used instead of `sources`. */
  sourceRefs?: Reference[];
  manifest?: Reference;
  tool?: { name: string; version: string };
  /** This run is one shard of a split suite (recorded in the run and its metrics line). */
  shard?: { index: number; total: number; plan: string };
  signal?: AbortSignal;
  onNote?: (text: string) => void;
  work: (ctx: WorkContext) => Promise<WorkOutcome>;
}

export interface SessionResult {
  run: CleanroomRun;
  timeline: TimelineEntry[];
  path: string;
}

/** An exec function running argv inside `env`, with cwd handled by `cd` (works for every backend). */
export function backendExec(backend: Backend, env: string, extraEnv: Record<string, string> = {}): ExecFn {
  return (argv, options = {}) => {
    const { cwd, ...rest } = options;
    const full = cwd ? ["sh", "-c", 'cd "$1" && shift && exec "$@"', "sh", cwd, ...argv] : argv;
    return backend.exec(env, full, { ...rest, env: { ...extraEnv, ...rest.env } });
  };
}

export async function runSession(options: SessionOptions): Promise<SessionResult> {
  const startedAt = new Date();
  const t0 = performance.now();
  const runId = newRunId(startedAt);
  const backend = options.backend;
  const envName = options.envName ?? `run-${runId.slice(-6)}-${randomBytes(2).toString("hex")}`;
  const throwaway = backend !== undefined && options.envName === undefined;
  const started: Service[] = [];
  let services: Service[] = [];
  let environment: CleanroomRun["environment"] = { name: "host", backend: "local", isolation: hostIsolation };
  let exec: ExecFn = spawnExec;
  let workdir = options.root;
  let resources: CleanroomRun["resources"] = { peakMemoryMb: 0, cpuPercent: 0 };
  let outcome: WorkOutcome | undefined;
  let limits: WorkContext["limits"] = {};
  let setupMs = 0;
  let testMs = 0;
  let teardownStart = 0;
  // Ctrl-C (or the caller's signal) kills what runs — commands sit in their own process groups, so the
  // terminal's SIGINT does not reach them — and teardown still happens.
  const abort = new AbortController();
  const onSignal = () => abort.abort();
  options.signal?.addEventListener("abort", onSignal, { once: true });
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    if (backend) {
      if (throwaway) {
        const made = await backend.createEnvironment({
          name: envName,
          // If this process dies without tearing down (SIGKILL), status and prune see the owner gone.
          throwaway: true,
          ...(options.isolated ? { isolated: true } : {}),
          ...(options.caches?.length ? { caches: options.caches } : {}),
          mounts: [{ host: options.root, target: WORKSPACE, writable: true }],
        });
        environment = { name: made.name, backend: made.backend, isolation: made.isolation };
        limits = specLimits(made.spec);
      } else {
        const status = await backend.environmentStatus(envName);
        if (!status)
          throw new GgenError("CLEANROOM_NO_ENV", `no environment '${envName}' (${backend.name} backend)`, {
            kind: "usage",
          });
        environment = { name: status.name, backend: status.backend, isolation: status.isolation };
        services = status.services;
        limits = specLimits(status.spec);
      }
      for (const spec of options.services ?? []) {
        options.onNote?.(`starting ${spec.kind}…`);
        const svc = await backend.startService(envName, spec);
        started.push(svc);
        services.push(svc);
      }
      if (options.resetBetween) for (const s of services) await backend.snapshotService?.(envName, s.name);
      const env = Object.assign({}, ...services.map((s) => s.env)) as Record<string, string>;
      exec = backendExec(backend, envName, env);
      const status = throwaway ? undefined : await backend.environmentStatus(envName);
      const mounted = throwaway ? WORKSPACE : status && projectMount(status, options.root, backend.name);
      workdir = mounted ?? WORKSPACE;
      if (!mounted) {
        // An environment made without the project mounted: copy the project in (not its state or VCS).
        const { readdirSync } = await import("node:fs");
        for (const entry of readdirSync(options.root)) {
          if (entry === ".cleanroom" || entry === ".git") continue;
          await backend.copyIn(envName, posix.join(options.root, entry), posix.join(WORKSPACE, entry));
        }
      }
    }
    setupMs = performance.now() - t0;
    const env = Object.assign({}, ...services.map((s) => s.env)) as Record<string, string>;
    const ctx: WorkContext = { exec, workdir, env, services, limits, signal: abort.signal };
    if (backend && options.resetBetween && services.length > 0) {
      const b = backend;
      ctx.resetBetween = async () => {
        for (const s of services) await b.resetService(envName, s.name);
      };
    }
    const w0 = performance.now();
    outcome = await options.work(ctx);
    testMs = performance.now() - w0;
    if (backend) {
      try {
        resources = await backend.metrics(envName);
      } catch {
        // metrics are best effort
      }
    }
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    options.signal?.removeEventListener("abort", onSignal);
    teardownStart = performance.now();
    if (backend) {
      if (throwaway) {
        await backend.deleteEnvironment(envName, { force: true }).catch(() => {});
      } else {
        for (const s of started) await backend.stopService(envName, s.name).catch(() => {});
      }
    }
  }
  const teardownMs = performance.now() - teardownStart;
  // Secrets the services were given never reach the stored run: their values become ***.
  const secrets = secretValues(services);
  const scrub = (t: string) => redactText(t, secrets);
  if (secrets.length > 0)
    outcome.tests = outcome.tests.map((t) => ({
      ...t,
      ...(t.failureMessage ? { failureMessage: scrub(t.failureMessage) } : {}),
      ...(t.outputTail ? { outputTail: scrub(t.outputTail) } : {}),
    }));
  if (options.keepOutput === false) outcome.tests = outcome.tests.map(({ outputTail: _, ...t }) => t);
  const finishedAt = new Date();
  const run = buildRun({
    runId,
    startedAt,
    finishedAt,
    ...(options.tool ? { tool: options.tool } : {}),
    ...(options.manifest ? { manifest: options.manifest } : {}),
    ...(options.shard ? { shard: options.shard } : {}),
    sources: options.sourceRefs ?? (await hashFiles(options.root, options.sources ?? [])),
    environment,
    services: services.map((s) => ({
      name: s.name,
      ...(s.image ? { image: s.image } : { binary: s.binary ?? s.kind }),
      readyMs: Math.round(s.readyMs),
      // No credentials at all in the run (not even a user name).
      endpoint: s.redactedUrl.replace(/\/\/[^@/]*@/, "//"),
    })),
    tests: outcome.tests,
    ...(outcome.coveragePercent !== undefined ? { coveragePercent: outcome.coveragePercent } : {}),
    timings: { setupMs, testMs, teardownMs },
    resources: {
      peakMemoryMb: Math.round(resources.peakMemoryMb * 10) / 10,
      cpuPercent: Math.round(resources.cpuPercent * 10) / 10,
      ...(resources.cpuUserMs !== undefined ? { cpuUserMs: Math.round(resources.cpuUserMs) } : {}),
      ...(resources.cpuSystemMs !== undefined ? { cpuSystemMs: Math.round(resources.cpuSystemMs) } : {}),
    },
  });
  const store = options.store ?? options.stateDir;
  const path = await saveRun(store, run, outcome.timeline);
  const steps: Record<string, number> = {};
  for (const t of outcome.timeline) steps[t.name] = t.durationMs;
  await appendMetrics(store, {
    runId: run.runId,
    at: run.finishedAt,
    kind: options.kind,
    backend: run.environment.backend,
    totalMs: run.timings.totalMs,
    setupMs: run.timings.setupMs,
    testMs: run.timings.testMs,
    teardownMs: run.timings.teardownMs,
    tests: {
      total: run.summary.total,
      passed: run.summary.passed,
      failed: run.summary.failed + run.summary.errored + run.summary.timedOut,
      skipped: run.summary.skipped,
    },
    steps,
    ...(outcome.files ? { files: outcome.files } : {}),
    ...(options.shard ? { shard: { index: options.shard.index, total: options.shard.total } } : {}),
    peakMemoryMb: run.resources.peakMemoryMb,
  });
  return { run, timeline: outcome.timeline, path };
}

/** Values worth hiding: secret-looking variables, and passwords inside connection URLs. */
export function secretValues(services: readonly Service[]): string[] {
  const out = new Set<string>();
  for (const s of services) {
    for (const [k, v] of Object.entries(s.env)) {
      if (isSecretName(k) && v.length >= 4) out.add(v);
      const m = /\/\/[^:/@]+:([^@]+)@/.exec(v);
      if (m?.[1] && m[1].length >= 4) {
        out.add(m[1]);
        out.add(v);
      }
    }
  }
  // Longest first, so a URL goes before the password inside it.
  return [...out].sort((a, b) => b.length - a.length);
}

const specLimits = (spec: EnvironmentSpec): WorkContext["limits"] => ({
  ...(spec.memoryMb ? { memoryMb: spec.memoryMb } : {}),
  ...(spec.pids ? { pids: spec.pids } : {}),
});

/**
 * Where the project is inside an environment, as a cwd for its commands: the target of the mount whose
 * host directory is the project root (else one mounted at `workspace`), or undefined when the project
 * is not mounted. Containers see an absolute target as is; the local backend keeps every target inside
 * its workdir, where commands start.
 */
export function projectMount(
  env: Pick<Environment, "spec">,
  root: string,
  backend: Backend["name"],
): string | undefined {
  const mounts = env.spec.mounts ?? [];
  const inside = (t: string) => posix.normalize(t.replace(/^\/+/, ""));
  const m =
    mounts.find((x) => resolve(x.host) === resolve(root)) ??
    mounts.find((x) => inside(x.target) === WORKSPACE);
  if (!m) return undefined;
  return m.target.startsWith("/") && backend !== "local" ? m.target : inside(m.target);
}
