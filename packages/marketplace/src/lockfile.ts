// ggen.lock: JSON, validated against @ggen/contract's lockfile/v1, written atomically under the
// project lock so concurrent `ggen market add` runs in one project serialize instead of corrupting it.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { GgenError, type LockEntry, type Lockfile, parseJson, validate } from "@ggen/contract";
import { withLock, writeFileAtomic } from "@ggen/support";
import { lineOf } from "./util.js";

export const LOCK_FILE = "ggen.lock";

export const emptyLock = (): Lockfile => ({ lockfileVersion: 1, packs: {} });

export function lockPath(projectDir: string): string {
  return join(projectDir, LOCK_FILE);
}

export function parseLock(text: string, file: string): Lockfile {
  const data = parseJson(text, file, "LOCKFILE_INVALID", "usage");
  const r = validate("lockfile/v1", data);
  if (!r.ok) {
    const err = r.errors[0]!;
    // The entry's key, to point at its line: /packs/<id>/…
    const key = err.path.split("/")[2];
    const line = key ? lineOf(text, JSON.stringify(key.replace(/~1/g, "/").replace(/~0/g, "~"))) : undefined;
    throw new GgenError("LOCKFILE_INVALID", `invalid lockfile: ${err.path} ${err.message}`, {
      kind: "usage",
      location: { file, ...(line ? { line } : {}) },
      hint: "fix it, or delete it and run 'ggen market add' again",
    });
  }
  return r.value;
}

/** The project's lock, or an empty one when there is none. */
export async function readLock(projectDir: string): Promise<Lockfile> {
  const file = lockPath(projectDir);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return emptyLock();
    // The shell words a system error; a read of a directory carries no path of its own.
    (e as NodeJS.ErrnoException).path ??= file;
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

/**
 * Runs `fn` holding the project's lock (`ggen.lock.lock`, @ggen/support's withLock): another live ggen
 * is waited for (up to a minute); a lock left by a dead process (kill -9) is taken over at once.
 */
export async function withProjectLock<T>(
  projectDir: string,
  fn: () => Promise<T>,
  onWait?: (message: string) => void,
): Promise<T> {
  return withLock(lockPath(projectDir), fn, {
    what: `${LOCK_FILE} of ${projectDir}`,
    code: "LOCK_BUSY",
    waitMs: 60_000,
    ...(onWait
      ? {
          onWait: (owner) =>
            onWait(
              `waiting for ${owner ? `process ${owner.pid}` : "another ggen"} to finish changing this project`,
            ),
        }
      : {}),
  });
}
