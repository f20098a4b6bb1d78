// Exclusive file locks whose owner is recorded (pid + start time + host), so a lock left by a killed
// process is taken over at once instead of after a staleness timeout (proper-lockfile, the library we
// used before, only knows mtimes: a kill -9 cost every later command 30 s). The lock is `<path>.lock`, a
// file made whole before it appears (written to a temp name, then hard-linked into place: link fails if
// the lock exists), so a reader never sees half an owner.
import { randomBytes } from "node:crypto";
import { link, mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { dirname } from "node:path";
import { GgenError } from "./errors.js";
import { type ProcessRef, processRef, refAlive } from "./process.js";
import { isoTime } from "./time.js";

export interface LockOwner extends ProcessRef {
  host: string;
  /** When it was taken (ISO). */
  since: string;
}

export interface LockOptions {
  /** How long to wait for a live owner before failing (default 60 s). */
  waitMs?: number;
  /** What is locked, for the message ("ggen.lock", "the deploy of production"). */
  what?: string;
  /** Error code when the wait runs out (default LOCKED). */
  code?: string;
  /** Told once when the lock is busy and this call starts waiting. */
  onWait?: (owner: LockOwner | undefined) => void;
}

export const lockPathFor = (path: string): string => `${path}.lock`;

async function readOwner(lockPath: string): Promise<LockOwner | undefined | "gone"> {
  try {
    const text = await readFile(lockPath, "utf8");
    const o = JSON.parse(text) as Partial<LockOwner>;
    if (typeof o.pid === "number" && typeof o.start === "string" && typeof o.host === "string")
      return o as LockOwner;
    return undefined;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return "gone";
    return undefined; // not ours (an old proper-lockfile directory, garbage): judged below
  }
}

/** Dead: on this host and not running. A lock from another host (a shared disk) is never judged dead. */
function ownerDead(owner: LockOwner | undefined): boolean {
  if (!owner) return true;
  return owner.host === hostname() && !refAlive(owner);
}

async function tryTake(lockPath: string, me: LockOwner): Promise<boolean> {
  const tmp = `${lockPath}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  await writeFile(tmp, JSON.stringify(me));
  try {
    await link(tmp, lockPath);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw e;
  } finally {
    await rm(tmp, { force: true });
  }
}

/** Moves a dead owner's lock aside (and puts back a live one moved by mistake in a race). */
async function removeDead(lockPath: string, dead: LockOwner | undefined): Promise<void> {
  const tomb = `${lockPath}.${process.pid}.${randomBytes(4).toString("hex")}.dead`;
  try {
    await rename(lockPath, tomb);
  } catch {
    return; // another waiter moved it first
  }
  const moved = await readOwner(tomb);
  const same =
    moved !== "gone" &&
    (moved === undefined
      ? dead === undefined
      : dead !== undefined && moved.pid === dead.pid && moved.start === dead.start);
  // Another waiter took the lock between our read and our rename: put theirs back.
  if (!same) await link(tomb, lockPath).catch(() => undefined);
  await rm(tomb, { recursive: true, force: true });
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Takes the lock on `path` (its directory is made), waiting for a live owner; returns its release. */
export async function acquireLock(path: string, options: LockOptions = {}): Promise<() => Promise<void>> {
  const lockPath = lockPathFor(path);
  await mkdir(dirname(lockPath), { recursive: true });
  const me: LockOwner = { ...processRef(), host: hostname(), since: isoTime() };
  const deadline = Date.now() + (options.waitMs ?? 60_000);
  let told = false;
  let delay = 5;
  for (;;) {
    if (await tryTake(lockPath, me)) break;
    const owner = await readOwner(lockPath);
    if (owner === "gone") continue;
    if (ownerDead(owner)) {
      await removeDead(lockPath, owner);
      continue;
    }
    if (Date.now() >= deadline) {
      const who = owner ? `process ${owner.pid} on ${owner.host} (since ${owner.since})` : "another process";
      throw new GgenError(options.code ?? "LOCKED", `${options.what ?? path} is locked by ${who}`, {
        hint: "wait for it to finish, or stop that process",
      });
    }
    if (!told) {
      told = true;
      options.onWait?.(owner);
    }
    await sleep(delay);
    delay = Math.min(delay * 2, 100);
  }
  let released = false;
  return async () => {
    if (released) return;
    released = true;
    // Only our own lock is removed (a takeover after we were judged dead is someone else's).
    const owner = await readOwner(lockPath);
    if (owner !== "gone" && owner?.pid === me.pid && owner.start === me.start)
      await rm(lockPath, { force: true });
  };
}

/** Runs `fn` holding the lock on `path`. */
export async function withLock<T>(
  path: string,
  fn: () => Promise<T> | T,
  options: LockOptions = {},
): Promise<T> {
  const release = await acquireLock(path, options);
  try {
    return await fn();
  } finally {
    await release();
  }
}
