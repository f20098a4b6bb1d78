// The local backend's services: native PostgreSQL and Redis, started detached (they outlive this
// process, found again through their state entry) in the environment's network namespace when it has
// one. What goes into the entry is the handle's data, never its functions or credentials twice.
import { readlinkSync, realpathSync } from "node:fs";
import { join } from "node:path";
import { GgenError, isInside } from "@ggen/support";
import type { ServiceSpec } from "../backend.js";
import type { CleanroomConfig } from "../config.js";
import {
  type PostgresInstance,
  postgresHandle,
  postgresHealth,
  startPostgres,
} from "../services/postgres.js";
import { type RedisInstance, redisHandle, redisHealth, startRedis } from "../services/redis.js";
import type { ServiceInstance } from "../state/records.js";
import type { EnvironmentRecord } from "../state/store.js";
import { removeInstanceDir } from "../util/fs.js";
import { isAlive } from "../util/proc.js";

type NativeInstance = PostgresInstance | RedisInstance;

/** Starts `spec` natively for environment `rec`; persistent ones live under the state dir, not the environment. */
export async function startNative(
  rec: EnvironmentRecord,
  spec: ServiceSpec,
  o: { persistent: boolean; stateDir: string; config: CleanroomConfig },
): Promise<ServiceInstance & { local: NativeInstance }> {
  const baseDir = o.persistent ? join(o.stateDir, "services") : join(rec.dir, "services");
  const timeoutMs = spec.timeoutMs ?? o.config.containers.startTimeoutSeconds * 1000;
  const where = {
    detached: true,
    baseDir,
    timeoutMs,
    ...(rec.netns ? { netns: rec.netns } : {}),
    ...(spec.port !== undefined ? { port: spec.port } : {}),
  };
  if (spec.kind === "postgres") {
    const binDir = spec.image || o.config.local.postgresBinDir;
    const h = await startPostgres({
      ...where,
      ...(spec.database ? { database: spec.database } : {}),
      ...(spec.user ? { user: spec.user } : {}),
      ...(spec.password ? { password: spec.password } : {}),
      ...(binDir ? { binDir } : {}),
    });
    const local = instanceData(h) as unknown as PostgresInstance;
    return { local, url: h.url, redactedUrl: h.redactedUrl, env: h.env, readyMs: local.readyMs };
  }
  if (spec.kind === "redis") {
    const binary = spec.image || o.config.local.redisBinary;
    const h = await startRedis({
      ...where,
      ...(spec.password ? { password: spec.password } : {}),
      ...(binary ? { binary } : {}),
    });
    const local = instanceData(h) as unknown as RedisInstance;
    return { local, url: h.url, redactedUrl: h.redactedUrl, env: h.env, readyMs: local.readyMs };
  }
  throw new GgenError(
    "CLEANROOM_SERVICE_KIND",
    `the local backend cannot run service ${JSON.stringify(spec.kind)}`,
    {
      kind: "usage",
      hint: "local services: postgres, redis (others need the testcontainers backend)",
    },
  );
}

/** A handle's data as stored in the entry: no functions, and the URL and env only once (in the entry). */
function instanceData<T extends object>(h: T): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(h)) {
    if (typeof v !== "function" && k !== "url" && k !== "redactedUrl" && k !== "env") out[k] = v;
  }
  return out;
}

/**
 * Is the service's process running, and is it the service? PostgreSQL and Redis work in their own dirs, so
 * a pid whose working directory is elsewhere is not the service (a pid reused since, or an entry that names
 * another process): it is never signalled.
 */
export function nativeRunning(local: NativeInstance): boolean {
  if (!isAlive(local.pid)) return false;
  try {
    const cwd = readlinkSync(`/proc/${local.pid}/cwd`);
    return isInside(realpathSync(local.dir), cwd);
  } catch {
    return false; // its dir is gone, or the process is not ours to look at
  }
}

export async function stopNative(local: NativeInstance | undefined, graceMs?: number): Promise<void> {
  if (!local) return;
  if (!nativeRunning(local)) {
    removeInstanceDir(local.dir);
    return;
  }
  if (local.kind === "postgres") await postgresHandle(local).stop(graceMs);
  else await redisHandle(local).stop(graceMs);
}

export function nativeLogs(local: NativeInstance): string {
  return local.kind === "postgres" ? postgresHandle(local).logs() : redisHandle(local).logs();
}

export function nativeHealth(local: NativeInstance): Promise<{ healthy: boolean; detail: string }> {
  return local.kind === "postgres" ? postgresHealth(local) : redisHealth(local);
}

/** PostgreSQL returns to its snapshot (template database), Redis to empty (FLUSHALL). */
export async function resetNative(local: NativeInstance): Promise<void> {
  if (local.kind === "postgres") await postgresHandle(local).reset();
  else await redisHandle(local).reset();
}

/** PostgreSQL: the current content becomes what reset returns to; Redis resets to empty anyway. */
export async function snapshotNative(local: NativeInstance): Promise<void> {
  if (local.kind === "postgres") await postgresHandle(local).snapshot();
}
