// What both backends write into and read from the state file, in one place: names and configuration
// hashes, new environment and service entries, their public views, owners, and lifetime metrics.
import type { BackendName, Isolation } from "@ggen/contract";
import { formatSize, GgenError, isoTime, type ProcessRef, processRef, refAlive, sha256 } from "@ggen/support";
import type {
  BackendMetrics,
  Environment,
  EnvironmentSpec,
  Guarantees,
  Service,
  ServiceSpec,
} from "../backend.js";
import type { EnvironmentRecord, ServiceRecord } from "./store.js";

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

/** Environment and service names become directory, container and cgroup names: a usage error otherwise. */
export function checkName(what: string, name: string): void {
  if (!NAME.test(name)) {
    // The name is echoed, not reproduced: a long one is cut (the error stays one readable line).
    const shown = name.length > 80 ? `${name.slice(0, 60)}… (${name.length} characters)` : name;
    throw new GgenError("CLEANROOM_NAME", `invalid ${what} name ${JSON.stringify(shown)}`, {
      kind: "usage",
      hint: "letters, digits, '.', '_' and '-', at most 63 characters",
    });
  }
}

const VARIABLE = /^[A-Za-z_][A-Za-z0-9_]*$/;
/**
 * Linux refuses to start a program when one `NAME=value` string of its environment is longer than
 * MAX_ARG_STRLEN (32 pages: 128 KiB with its NUL), and when all of them with the arguments pass ARG_MAX;
 * the spawn then fails with E2BIG. Checked before anything starts, so the refusal names the variable.
 */
export const MAX_VARIABLE_BYTES = 128 * 1024 - 1;
export const MAX_ENVIRONMENT_BYTES = 1024 * 1024;

/** A size as a person reads it, to one decimal (formatSize gives exact units, bytes when it is not round). */
const roughSize = (bytes: number): string =>
  bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MiB` : `${(bytes / 1024).toFixed(1)} KiB`;

const LARGE_DATA = "pass large data as a file (mount it, or copy it in) and its path in the variable";

/**
 * What is wrong with one environment variable (its name, a NUL, its size), or undefined. `portable`
 * (what a user types: a scenario, --set-env) asks for a POSIX name; otherwise a name is refused only where
 * the kernel would refuse it (empty, `=`, NUL), so a caller's own environment passes as it is.
 */
export function variableProblem(name: string, value: string, portable = true): string | undefined {
  if (portable ? !VARIABLE.test(name) : name === "" || /[=\0]/.test(name))
    return `${JSON.stringify(name.length > 80 ? `${name.slice(0, 60)}…` : name)} is not a variable name (${portable ? "letters, digits and '_', not starting with a digit" : "not empty, without '=' or NUL"})`;
  if (value.includes("\0")) return `${name} holds a NUL byte, which no environment variable can`;
  const bytes = Buffer.byteLength(name) + 1 + Buffer.byteLength(value);
  if (bytes > MAX_VARIABLE_BYTES)
    return `${name} is ${roughSize(bytes)}; one variable can hold at most ${formatSize(MAX_VARIABLE_BYTES + 1)} (Linux's MAX_ARG_STRLEN)`;
  return undefined;
}

/** Environment variables a backend is asked to pass: a usage error naming the first bad one. */
export function checkVariables(
  what: string,
  env: Record<string, string> | undefined,
  options: { portable?: boolean } = {},
): void {
  if (!env) return;
  let total = 0;
  for (const [name, value] of Object.entries(env)) {
    const problem = variableProblem(name, String(value), options.portable ?? true);
    if (problem)
      throw new GgenError("CLEANROOM_ENV_VARIABLE", `${what}: ${problem}`, {
        kind: "usage",
        ...(problem.includes("at most") ? { hint: LARGE_DATA } : {}),
      });
    total += Buffer.byteLength(name) + Buffer.byteLength(String(value)) + 2;
  }
  if (total > MAX_ENVIRONMENT_BYTES)
    throw new GgenError(
      "CLEANROOM_ENV_VARIABLE",
      `${what}: the variables take ${roughSize(total)}; together they can take at most ${formatSize(MAX_ENVIRONMENT_BYTES)}`,
      { kind: "usage", hint: LARGE_DATA },
    );
}

/** A short, stable key for a configuration (persistent services are found again by it). */
export function configHash(parts: unknown): string {
  return sha256(JSON.stringify(parts)).slice(0, 16);
}

/** The hash a persistent service is found again by: its spec and where it runs (`netns` / `network`). */
export function serviceHash(spec: ServiceSpec, where: Record<string, string>): string {
  return configHash({
    kind: spec.kind,
    database: spec.database,
    user: spec.user,
    password: spec.password,
    image: spec.image,
    env: spec.env,
    port: spec.port,
    ...where,
  });
}

/**
 * A new environment entry. A throwaway environment belongs to its creating process (`owner`, by default
 * this one): once that is gone, even by SIGKILL, the environment is stale.
 */
export function environmentRecord(
  backend: BackendName,
  spec: EnvironmentSpec,
  at: {
    workdir: string;
    dir: string;
    isolation: Isolation;
    guarantees?: Guarantees | undefined;
    /** How the local backend wraps commands (see local/isolation.ts). */
    sandbox?: EnvironmentRecord["sandbox"];
    owner?: ProcessRef | undefined;
    netns?: string | undefined;
    cgroup?: string | undefined;
    containerId?: string | undefined;
  },
): EnvironmentRecord {
  const owner = spec.throwaway ? (at.owner ?? processRef()) : undefined;
  return {
    name: spec.name,
    backend,
    workdir: at.workdir,
    createdAt: isoTime(),
    isolation: at.isolation,
    ...(at.guarantees ? { guarantees: at.guarantees } : {}),
    spec,
    dir: at.dir,
    ...(at.sandbox ? { sandbox: at.sandbox } : {}),
    ...(at.netns ? { netns: at.netns } : {}),
    ...(at.cgroup ? { cgroup: at.cgroup } : {}),
    ...(at.containerId ? { containerId: at.containerId } : {}),
    ...(owner ? { owner } : {}),
  };
}

/** The parts of a service entry that differ between backends: its instance and how to reach it. */
export type ServiceInstance = Pick<ServiceRecord, "url" | "redactedUrl" | "env" | "readyMs"> &
  Pick<ServiceRecord, "local" | "container">;

/** A service about to be started: its name, what was asked for, and its configuration hash. */
export interface ServiceLaunch {
  name: string;
  spec: ServiceSpec;
  hash: string;
  persistent: boolean;
}

export function serviceRecord(
  backend: BackendName,
  environment: string,
  want: ServiceLaunch,
  instance: ServiceInstance,
): ServiceRecord {
  return {
    environment,
    name: want.name,
    kind: want.spec.kind,
    backend,
    spec: want.spec,
    configHash: want.hash,
    persistent: want.persistent,
    startedAt: isoTime(),
    ...(instance.local ? { local: instance.local } : {}),
    ...(instance.container ? { container: instance.container } : {}),
    url: instance.url,
    redactedUrl: instance.redactedUrl,
    env: instance.env,
    readyMs: instance.readyMs,
  };
}

/** The contract's summary of guarantees. */
export function isolationOf(g: Guarantees): Isolation {
  return {
    network: g.network,
    pid: g.pid,
    filesystem: g.filesystem,
    limits: Object.keys(g.limits).length > 0,
    mechanism: g.mechanism,
  };
}

/** What a program prints when a limit stopped the command. */
export function limitMessage(limit: "memory" | "pids" | "timeout", value: number | undefined): string {
  if (limit === "memory")
    return `memory limit ${value ? `${formatSize(Math.round(value))} ` : ""}reached: killed`;
  if (limit === "pids")
    return `process limit ${value ?? ""}${value ? " " : ""}reached: the command could not start more`;
  const s = value === undefined ? undefined : value / 1000;
  return `time limit ${s === undefined ? "" : `${Number.isInteger(s) ? s : s.toFixed(1)} s `}reached: killed`;
}

export function publicEnv(rec: EnvironmentRecord): Environment {
  return {
    name: rec.name,
    backend: rec.backend,
    workdir: rec.workdir,
    createdAt: rec.createdAt,
    isolation: rec.isolation,
    ...(rec.guarantees ? { guarantees: rec.guarantees } : {}),
    spec: rec.spec,
  };
}

export function toService(svc: ServiceRecord): Service {
  const local = svc.local;
  return {
    name: svc.name,
    kind: svc.kind,
    environment: svc.environment,
    host: local?.host ?? svc.container?.host ?? "127.0.0.1",
    port: local?.port ?? svc.container?.port ?? 0,
    url: svc.url,
    redactedUrl: svc.redactedUrl,
    ...(svc.container ? { image: svc.container.image } : {}),
    ...(local ? { binary: local.binary } : {}),
    readyMs: svc.readyMs,
    env: svc.env,
  };
}

/** Why something owned by `owner` is stale: the owner is gone, else undefined. */
export function ownerGone(
  owner: ProcessRef | undefined,
  alive: (ref: ProcessRef) => boolean = refAlive,
): string | undefined {
  if (owner && !alive(owner)) return `its owner process ${owner.pid} is gone`;
  return undefined;
}

/** An environment's metrics from its cgroup's totals: CPU time over the wall time since it was made. */
export function lifetimeMetrics(
  u: { peakMemoryMb: number; cpuUserMs: number; cpuSystemMs: number; cpuTotalMs?: number },
  createdAt: string,
): BackendMetrics {
  const wall = Date.now() - Date.parse(createdAt);
  const cpuMs = u.cpuTotalMs ?? u.cpuUserMs + u.cpuSystemMs;
  return {
    peakMemoryMb: Math.round(u.peakMemoryMb * 10) / 10,
    cpuPercent: wall > 0 ? Math.round((cpuMs / wall) * 1000) / 10 : 0,
    cpuUserMs: Math.round(u.cpuUserMs),
    cpuSystemMs: Math.round(u.cpuSystemMs),
  };
}

/**
 * The environment variables a command gets, on either backend: what the backend lets through from the
 * host (`host`), Bazel's test conventions over the environment's own temp and outputs dirs, the caches'
 * variables, the environment's services' variables, sharding, then the spec's and the call's `env`.
 */
export function commandEnvironment(
  rec: EnvironmentRecord,
  services: Iterable<ServiceRecord>,
  options: { env?: Record<string, string>; shard?: { index: number; total: number } },
  at: { host: Record<string, string>; tmp: string; outputs: string; caches: Record<string, string> },
): Record<string, string> {
  const env: Record<string, string> = {
    ...at.host,
    HOME: at.tmp,
    TMPDIR: at.tmp,
    TEST_TMPDIR: at.tmp,
    TEST_UNDECLARED_OUTPUTS_DIR: at.outputs,
    TZ: "UTC",
    LANG: "C.UTF-8",
    LC_ALL: "C.UTF-8",
    CI: "true",
    CLEANROOM_ENVIRONMENT: rec.name,
    ...at.caches,
  };
  for (const svc of services) {
    if (svc.environment === rec.name) Object.assign(env, svc.env);
  }
  if (options.shard) {
    env.TEST_SHARD_INDEX = String(options.shard.index);
    env.TEST_TOTAL_SHARDS = String(options.shard.total);
    env.TEST_SHARD_STATUS_FILE = `${at.tmp}/.shard-status`;
  }
  Object.assign(env, rec.spec.env ?? {}, options.env ?? {});
  return env;
}
