// The one interface both backends implement (local, testcontainers) and the conformance suite tests.
// Draft agreed before the backends land: extend it, keep its shape.

import type { BackendName, Isolation } from "@ggen/contract";

/** Which backend to use: `auto` picks testcontainers when Docker answers, local otherwise. */
export type BackendChoice = "auto" | "local" | "testcontainers";

export interface EnvironmentSpec {
  name: string;
  /** No network but loopback, own PID namespace, limits. */
  isolated?: boolean;
  /** Keep services across CLI calls; found again by a hash of their configuration. */
  persistent?: boolean;
  memoryMb?: number;
  cpus?: number;
  /** Host paths visible inside, read-only unless `writable`. */
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

export interface Environment {
  name: string;
  backend: BackendName;
  /** The working directory commands run in (host path for local, inside path for containers). */
  workdir: string;
  createdAt: string;
  isolation: Isolation;
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
}

export interface BackendMetrics {
  peakMemoryMb: number;
  cpuPercent: number;
  cpuUserMs?: number;
  cpuSystemMs?: number;
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
   * Lets go of what this object holds in-process (the testcontainers backend: its Docker client), so a
   * program can end cleanly; call it once done with the object. Never stops an environment or a
   * service: they live in the state dir and outlive the object by design. Safe to call twice.
   */
  close(): Promise<void>;
}
