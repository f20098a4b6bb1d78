// Atomic writes and file locks (proper-lockfile), as CONTRIBUTING.md asks.
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import lockfile from "proper-lockfile";

export function atomicWrite(file: string, content: string, mode = 0o644): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = join(dirname(file), `.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`);
  writeFileSync(tmp, content, { mode });
  renameSync(tmp, file);
}

/** Run `fn` holding an exclusive lock on `path` (the path itself need not exist; its directory is made). */
export async function withLock<T>(path: string, fn: () => Promise<T> | T): Promise<T> {
  mkdirSync(dirname(path), { recursive: true });
  const release = await lockfile.lock(path, {
    realpath: false,
    lockfilePath: `${path}.lock`,
    stale: 30_000,
    update: 5_000,
    retries: { retries: 2000, minTimeout: 10, maxTimeout: 100, factor: 1.2 },
  });
  try {
    return await fn();
  } finally {
    await release().catch(() => undefined);
  }
}
