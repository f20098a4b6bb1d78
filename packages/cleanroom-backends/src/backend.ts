// The one interface both backends implement (local, testcontainers) and the conformance suite tests.
// Draft agreed before the backends land: extend it, keep its shape.

import type { BackendName, Isolation } from "@ggen/contract";

/** Which backend to use: `auto` picks testcontainers when Docker answers, local otherwise. */
export type BackendChoice = "auto" | "local" | "testcontainers";

export interface EnvironmentSpec {
  name: string;
  /**
   * No network but loopback, own PID namespace, the host read-only (a read-only root, private /tmp),
   * limits — refused where the machine cannot give it. Unset: `[environment] default_isolated`.
   */
  isolated?: boolean;
  /** Keep services across CLI calls; found again by a hash of their configuration. */
  persistent?: boolean;
  /** Memory limit in MiB (fractions allowed: `parseSize(text) / 2 ** 20`). */
  memoryMb?: number;
  cpus?: number;
  /**
   * Host paths visible inside, read-only unless `writable`. A relative target is under the workdir; an
   * absolute one (`/workspace`) is at that path (local: in the command's mount namespace, also reachable
   * under the workdir).
   */
  mounts?: { host: string; target: string; writable?: boolean }[];
  /**
   * Prepared package caches, so isolated runs install offline; commands may write to their view of a
   * cache (copy-on-write or a private copy), never to the shared cache.
   */
  caches?: ("npm" | "cargo")[];
  env?: Record<string, string>;
  /** Process-count limit (cgroup pids, else RLIMIT_NPROC). Isolated environments default to config's. */
  pids?: number;
  /** CPU-time limit per command, in seconds (RLIMIT_CPU). */
  cpuSeconds?: number;
  /**
   * Belongs to the calling process (a run's throwaway environment): when that process is gone, even by
   * SIGKILL, `environmentStatus` and `stale()` report the environment stale and `prune` removes it.
   */
  throwaway?: boolean;
}

/**
 * What an environment's commands are guaranteed, as applied when it was made — never more than is
 * enforced: a guarantee the machine cannot give is refused at create, not reported. `isolation` (the
 * contract's summary, recorded in runs) is derived from it.
 */
export interface Guarantees {
  /** No network but the environment's own loopback (and its services). */
  network: boolean;
  /** Own PID namespace: commands see only their own processes. */
  pid: boolean;
  /** The host is not writable: only the workdir, its temp and outputs dirs, and writable mounts. */
  filesystem: boolean;
  /** The root filesystem is read-only (the seed's `read_only_root_fs`). */
  readOnlyRoot: boolean;
  /** /tmp (and /run) are the environment's own. */
  privateTmp: boolean;
  /** Every mount asked read-only is read-only (true when none is). */
  readOnlyMounts: boolean;
  /** Mount targets are at the path asked (`/workspace`), not only under the workdir. */
  mountTargets: boolean;
  /** The limits asked and what enforces each. */
  limits: {
    memoryMb?: { value: number; by: "cgroup" | "rlimit" | "docker" };
    cpus?: { value: number; by: "cgroup" | "docker" };
    pids?: { value: number; by: "cgroup" | "rlimit" | "docker" };
    cpuSeconds?: { value: number; by: "rlimit" };
  };
  /** How a timeout takes a command's whole tree, also what escaped with setsid. */
  kill: "cgroup" | "pid-namespace" | "process-group+marker";
  mechanism: string;
}

export interface Environment {
  name: string;
  backend: BackendName;
  /** The working directory commands run in (host path for local, inside path for containers). */
  workdir: string;
  createdAt: string;
  isolation: Isolation;
  /** What is enforced, in detail (absent in entries written before it existed). */
  guarantees?: Guarantees;
  spec: EnvironmentSpec;
}

export type ServiceKind = "postgres" | "redis" | (string & {});

export interface ServiceSpec {
  kind: ServiceKind;
  name?: string;
  env?: Record<string, string>;
  database?: string;
  user?: string;
  password?: string;
  /** Image override (testcontainers) or binary override (local). */
  image?: string;
  timeoutMs?: number;
  persistent?: boolean;
  /** TCP port on 127.0.0.1 (default: a free one; inside an isolated container network, the service's default). */
  port?: number;
}

export interface Service {
  name: string;
  kind: ServiceKind;
  environment: string;
  host: string;
  port: number;
  /** Connection URL with credentials (never logged) and the same without them. */
  url: string;
  redactedUrl: string;
  image?: string;
  binary?: string;
  readyMs: number;
  /** Env vars a test gets to reach the service (DATABASE_URL, REDIS_URL…). */
  env: Record<string, string>;
}

export interface ExecOptions {
  cwd?: string;
  env?: Record<string, string>;
  timeoutMs?: number;
  stdin?: string;
  /** Called with output as it arrives. */
  onOutput?: (chunk: string, stream: "stdout" | "stderr") => void;
  signal?: AbortSignal;
  /** Bazel's sharding variables: TEST_SHARD_INDEX, TEST_TOTAL_SHARDS (and TEST_SHARD_STATUS_FILE). */
  shard?: { index: number; total: number };
}

export interface ExecResult {
  exitCode: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  durationMs: number;
  timedOut: boolean;
  /** Which limit stopped the command, when one did. */
  limit?: "memory" | "pids" | "timeout";
  /** That limit's value: bytes (memory), processes (pids), milliseconds (timeout). */
  limitValue?: number;
  /** What a program prints about it, in text mode: `memory limit 512 MiB reached: killed`. */
  limitMessage?: string;
}

export interface BackendMetrics {
  peakMemoryMb: number;
  cpuPercent: number;
  cpuUserMs?: number;
  cpuSystemMs?: number;
}

/**
 * Where a backend waited on its container engine (Docker) since it was made: container starts, services
 * until ready, command round trips, removals — each part's count and milliseconds (parts overlap when
 * they ran at once, so `totalMs` is a sum, not wall time).
 */
export interface EngineTime {
  totalMs: number;
  parts: Record<string, { count: number; ms: number }>;
}

export interface Backend {
  readonly name: BackendName;
  createEnvironment(spec: EnvironmentSpec): Promise<Environment>;
  deleteEnvironment(name: string, options?: { force?: boolean }): Promise<void>;
  /** `stale` says why an environment is no longer alive (its owner or directory gone…), when it is not. */
  environmentStatus(
    name: string,
  ): Promise<(Environment & { services: Service[]; alive: boolean; stale?: string }) | undefined>;
  listEnvironments(): Promise<Environment[]>;
  startService(env: string, spec: ServiceSpec): Promise<Service>;
  stopService(env: string, name: string): Promise<void>;
  serviceLogs(env: string, name: string): Promise<string>;
  serviceHealth(env: string, name: string): Promise<{ healthy: boolean; detail: string }>;
  /** Snapshot/restore between tests: PostgreSQL template databases, Redis FLUSHALL. */
  resetService(env: string, name: string): Promise<void>;
  exec(env: string, argv: string[], options?: ExecOptions): Promise<ExecResult>;
  copyIn(env: string, hostPath: string, target: string): Promise<void>;
  copyOut(env: string, source: string, hostPath: string): Promise<void>;
  metrics(env: string): Promise<BackendMetrics>;
  /** Remove everything this backend started that no state entry owns any more (`all`: everything it started). */
  prune(options?: { all?: boolean }): Promise<{ removed: string[] }>;
  /** Save a service's current content as what `resetService` returns to (PostgreSQL template database). */
  snapshotService?(env: string, name: string): Promise<void>;
  /** The undeclared-outputs folder (TEST_UNDECLARED_OUTPUTS_DIR) on the host, and the files in it. */
  outputs?(env: string): Promise<{ dir: string; files: string[] }>;
  /** State entries whose process, directory, namespace or container is gone (`prune` removes them). */
  stale?(): Promise<{ environments: string[]; services: string[] }>;
  /**
   * Many commands will follow in this environment: run them through one long-lived channel (one engine
   * round trip in all instead of one per command). False when the environment cannot have one (its
   * commands then go one by one as before). Closed with the environment, or by close().
   */
  openExecChannel?(env: string): Promise<boolean>;
  /** The time this backend spent waiting on its container engine (undefined: it has none). */
  engineTime?(): EngineTime;
  /**
   * Lets go of what this object holds in-process (the testcontainers backend: its Docker client), so a
   * program can end cleanly; call it once done with the object. Never stops an environment or a
   * service: they live in the state dir and outlive the object by design. Safe to call twice.
   */
  close(): Promise<void>;
}
