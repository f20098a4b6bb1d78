// A process named so that a reused pid is not mistaken for it: its pid and its start time (clock ticks
// since boot, from /proc). What owner records and locks store, so a dead owner is recognised at once.
import { accessSync, constants, readFileSync, statSync } from "node:fs";
import { delimiter, join } from "node:path";

export interface ProcessRef {
  pid: number;
  /** /proc/<pid>/stat field 22; "" where /proc is not readable (then only the pid is compared). */
  start: string;
}

function startTicks(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Field 22 (starttime), counted after the parenthesised command name, which may hold spaces.
    const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return rest[0] === "Z" ? undefined : rest[19];
  } catch {
    return undefined;
  }
}

export function processRef(pid: number = process.pid): ProcessRef {
  return { pid, start: startTicks(pid) ?? "" };
}

/** Is `pid` running (EPERM counts: it exists, it is someone else's)? */
export function isAlive(pid: number | undefined): boolean {
  if (!pid || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Is the process `ref` names still running (same pid, same start time, not a zombie)? */
export function refAlive(ref: ProcessRef): boolean {
  if (!isAlive(ref.pid)) return false;
  const now = startTicks(ref.pid);
  if (now === undefined) return ref.start === "";
  return ref.start === "" || now === ref.start;
}

/**
 * `name` found on PATH as the shell's `command -v` finds it (an executable regular file), or undefined:
 * looked up here rather than by starting a shell, which costs a process per question.
 */
export function which(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (!name || name.includes("/")) return undefined;
  for (const dir of (env.PATH ?? "").split(delimiter)) {
    if (!dir) continue;
    const file = join(dir, name);
    try {
      if (!statSync(file).isFile()) continue;
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return undefined;
}
