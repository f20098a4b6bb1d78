// .ggen/lifecycle-state.json: written atomically under a lock, with N rotating backups. A corrupt file is
// reported with the newest valid backup; nothing here ever leaves a half-written state behind.
import { promises as fs } from "node:fs";
import { join } from "node:path";
import {
  GgenError,
  isGgenError,
  type LifecycleEnvironmentState,
  type LifecyclePhaseRecord,
  type LifecycleReleaseRecord,
  type LifecycleRunRecord,
  type LifecycleStateDocument,
  parseJson,
  validate,
} from "@ggen/contract";
import { withLock, writeFileAtomic } from "@ggen/support";

// The state's shapes are the lifecycle-state/v1 contract's (@ggen/contract), under this package's names.
export type RequirementStatus = LifecycleStateDocument["requirements"][string];
export type PhaseRecord = LifecyclePhaseRecord;
export type ReleaseRecord = LifecycleReleaseRecord;
export type EnvironmentState = LifecycleEnvironmentState;
export type RunRecord = LifecycleRunRecord;
export type LifecycleState = LifecycleStateDocument;

export const STATE_FILE = ".ggen/lifecycle-state.json";

export function emptyState(): LifecycleState {
  return {
    version: 1,
    updatedAt: new Date(0).toISOString(),
    currentPhase: null,
    environment: null,
    phases: {},
    history: [],
    runs: [],
    requirements: {},
    environments: {},
  };
}

const backupName = (file: string, i: number) => `${file}.bak.${i}`;

/** The state, checked against lifecycle-state/v1: a wrong shape is one line naming the first wrong key. */
function check(value: unknown): LifecycleState {
  const r = validate("lifecycle-state/v1", value);
  if (r.ok) return r.value;
  const first = r.errors[0]!;
  const more = r.errors.length > 1 ? ` (and ${r.errors.length - 1} more)` : "";
  throw new Error(`${first.path} ${first.message}${more}`);
}

async function readState(file: string): Promise<LifecycleState | undefined> {
  let text: string;
  try {
    text = await fs.readFile(file, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
  return check(parseState(text));
}

/** JSON text → value; a syntax error says where, never echoing the bytes it met. */
const parseState = (text: string): unknown =>
  parseJson(text, STATE_FILE, "LIFECYCLE_STATE_CORRUPT", "failure");

/** The newest backup that parses, if any. */
export async function newestValidBackup(dir: string, count = 20): Promise<string | undefined> {
  const file = join(dir, STATE_FILE);
  for (let i = 1; i <= count; i++) {
    try {
      if (await readState(backupName(file, i))) return backupName(file, i);
    } catch {
      // try the next one
    }
  }
  return undefined;
}

/** Reads the state (an empty one when there is none). A corrupt file is a failure naming a good backup. */
export async function loadState(dir: string): Promise<LifecycleState> {
  const file = join(dir, STATE_FILE);
  try {
    return (await readState(file)) ?? emptyState();
  } catch (e) {
    const backup = await newestValidBackup(dir);
    const rel = backup ? backup.slice(dir.length + 1) : undefined;
    const code = (e as NodeJS.ErrnoException).code;
    const why =
      code === "EISDIR" ? "a directory where the state file should be" : (e as Error).message.split("\n")[0];
    throw new GgenError("LIFECYCLE_STATE_CORRUPT", `the lifecycle state is corrupt: ${why}`, {
      location: isGgenError(e) && e.location ? e.location : { file: STATE_FILE },
      hint: rel
        ? `newest valid backup is ${rel}; restore it with 'ggen lifecycle status --restore'`
        : "no valid backup; delete the file to start afresh",
    });
  }
}

/** Replaces a corrupt state with its newest valid backup; returns the backup used. */
export async function restoreBackup(dir: string): Promise<string> {
  const backup = await newestValidBackup(dir);
  if (!backup) {
    throw new GgenError("LIFECYCLE_NO_BACKUP", `no valid backup of ${STATE_FILE}`, {
      location: { file: STATE_FILE },
    });
  }
  const file = join(dir, STATE_FILE);
  await withLock(file, async () => writeFileAtomic(file, await fs.readFile(backup)), STATE_LOCK);
  return backup.slice(dir.length + 1);
}

// A lock whose owner died (kill -9) is taken over at once; a live one is waited for, then reported.
const STATE_LOCK = { what: STATE_FILE, code: "LIFECYCLE_STATE_LOCKED", waitMs: 60_000 } as const;

// One writer at a time inside this process too (parallel phases update the same file).
const queues = new Map<string, Promise<unknown>>();

/** Read-modify-write of the state under the lock; keeps `backups` rotating copies of the previous state. */
export async function updateState(
  dir: string,
  mutate: (s: LifecycleState) => void,
  backups = 5,
): Promise<LifecycleState> {
  const file = join(dir, STATE_FILE);
  const prev = queues.get(file) ?? Promise.resolve();
  const next = prev
    .catch(() => undefined)
    .then(() =>
      withLock(
        file,
        async () => {
          let current: LifecycleState;
          let raw: Buffer | undefined;
          try {
            raw = await fs.readFile(file);
            current = check(parseState(raw.toString("utf8")));
          } catch (e) {
            if ((e as NodeJS.ErrnoException).code === "ENOENT") current = emptyState();
            else return loadState(dir); // throws the corrupt-state error with its backup hint
          }
          mutate(current);
          current.updatedAt = new Date().toISOString();
          if (raw && backups > 0) await rotate(file, raw, backups);
          // Atomic, not fsync'ed: rewritten as every run and phase starts and ends (four fsyncs with the
          // backup, ≈ 10 ms each here, before a phase's command could start); a crash may lose the last
          // update, never tear the file.
          await writeFileAtomic(file, `${JSON.stringify(current, null, 2)}\n`, { fsync: false });
          return current;
        },
        STATE_LOCK,
      ),
    );
  queues.set(file, next);
  try {
    return await next;
  } finally {
    if (queues.get(file) === next) queues.delete(file);
  }
}

async function rotate(file: string, previous: Buffer, backups: number): Promise<void> {
  await fs.rm(backupName(file, backups), { force: true });
  for (let i = backups - 1; i >= 1; i--) {
    try {
      await fs.rename(backupName(file, i), backupName(file, i + 1));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    }
  }
  await writeFileAtomic(backupName(file, 1), previous, { fsync: false });
}
