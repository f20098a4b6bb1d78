// ggen.lock: JSON, validated against schemas/lock.v1.json, written atomically under a proper-lockfile
// lock so concurrent `ggen market add` runs in one project serialize instead of corrupting it.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { GgenError, parseJson } from "@ggen/contract";
import lockSchema from "../schemas/lock.v1.json" with { type: "json" };
import { describeSchemaError, lineOf, schemaValidator, writeFileAtomic } from "./util.js";

export const LOCK_FILE = "ggen.lock";
export { lockSchema };

export interface LockEntry {
  version: string;
  /** sha256 of the archive, as the index listed it and as verified before extraction. */
  sha256: string;
  /** sha256 over the installed tree (see treeHash); `ggen market verify` recomputes it. */
  integrity: string;
  /** The registry it came from. */
  source: string;
  /** The archive's resolved location. */
  archive: string;
  /** The range asked for on the command line, or null when installed only as a dependency. */
  requested: string | null;
  /** Resolved dependencies: id → exact version. */
  dependencies: Record<string, string>;
}

export interface Lockfile {
  lockfileVersion: 1;
  packs: Record<string, LockEntry>;
}

export const emptyLock = (): Lockfile => ({ lockfileVersion: 1, packs: {} });

export function lockPath(projectDir: string): string {
  return join(projectDir, LOCK_FILE);
}

export function parseLock(text: string, file: string): Lockfile {
  const data = parseJson(text, file, "LOCKFILE_INVALID", "usage");
  const validate = schemaValidator(lockSchema);
  if (!validate(data)) {
    const err = validate.errors?.[0];
    const msg = err ? describeSchemaError(err) : "does not match the lockfile schema";
    const key = err?.instancePath.split("/")[2];
    const line = key ? lineOf(text, JSON.stringify(key.replace(/~1/g, "/").replace(/~0/g, "~"))) : undefined;
    throw new GgenError("LOCKFILE_INVALID", `invalid lockfile: ${msg}`, {
      kind: "usage",
      location: { file, ...(line ? { line } : {}) },
      hint: "fix it, or delete it and run 'ggen market add' again",
    });
  }
  return data as Lockfile;
}

/** The project's lock, or an empty one when there is none. */
export async function readLock(projectDir: string): Promise<Lockfile> {
  const file = lockPath(projectDir);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return emptyLock();
    throw e;
  }
  return parseLock(text, file);
}

export function serializeLock(lock: Lockfile): string {
  const packs: Record<string, LockEntry> = {};
  for (const id of Object.keys(lock.packs).sort()) {
    const e = lock.packs[id]!;
    const deps: Record<string, string> = {};
    for (const d of Object.keys(e.dependencies).sort()) deps[d] = e.dependencies[d]!;
    packs[id] = {
      version: e.version,
      sha256: e.sha256,
      integrity: e.integrity,
      source: e.source,
      archive: e.archive,
      requested: e.requested,
      dependencies: deps,
    };
  }
  return `${JSON.stringify({ lockfileVersion: 1, packs }, null, 2)}\n`;
}

export async function writeLock(projectDir: string, lock: Lockfile): Promise<void> {
  await writeFileAtomic(lockPath(projectDir), serializeLock(lock));
}

/** Runs `fn` holding the project's lock (ggen.lock.lock), waiting for other holders. */
export async function withProjectLock<T>(projectDir: string, fn: () => Promise<T>): Promise<T> {
  const lockfile = await import("proper-lockfile");
  const lock = lockfile.default?.lock ?? lockfile.lock;
  let release: () => Promise<void>;
  try {
    release = await lock(lockPath(projectDir), {
      realpath: false,
      stale: 30_000,
      retries: { retries: 600, factor: 1, minTimeout: 50, maxTimeout: 100 },
    });
  } catch (e) {
    throw new GgenError("LOCK_BUSY", `another ggen is changing this project (${(e as Error).message})`, {
      location: { file: lockPath(projectDir) },
    });
  }
  try {
    return await fn();
  } finally {
    await release();
  }
}
