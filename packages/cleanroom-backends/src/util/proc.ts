// Process helpers: liveness, killing a whole tree, waiting for a condition.
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

export function isAlive(pid: number | undefined): boolean {
  if (!pid || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
  // A zombie answers kill(0) but is gone for our purposes.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    return state !== "Z" && state !== "X";
  } catch {
    return false;
  }
}

/** A process named so that a reused pid is not mistaken for it: its pid and its start time (in clock ticks). */
export interface ProcessRef {
  pid: number;
  start: string;
}

function startTicks(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Field 22 (starttime), counted after the parenthesised command name, which may hold spaces.
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}

export function processRef(pid: number = process.pid): ProcessRef {
  return { pid, start: startTicks(pid) ?? "" };
}

/** Is the process `ref` names still running (same pid, same start time, not a zombie)? */
export function refAlive(ref: ProcessRef): boolean {
  return isAlive(ref.pid) && (ref.start === "" || startTicks(ref.pid) === ref.start);
}

/** Members of process group `pgid`, read from /proc. */
export function groupMembers(pgid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(rest[2]) === pgid && rest[0] !== "Z") out.push(Number(entry));
    } catch {
      // raced with exit
    }
  }
  return out;
}

/** Children of every process, read from /proc. */
function childrenMap(): Map<number, number[]> {
  const map = new Map<number, number[]>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const ppid = Number(rest[1]);
      const list = map.get(ppid) ?? [];
      list.push(Number(entry));
      map.set(ppid, list);
    } catch {
      // raced with exit
    }
  }
  return map;
}

/** `pid` and all its descendants. */
export function descendants(pid: number): number[] {
  const map = childrenMap();
  const out: number[] = [];
  const stack = [pid];
  while (stack.length > 0) {
    const next = stack.pop()!;
    out.push(next);
    for (const child of map.get(next) ?? []) stack.push(child);
  }
  return out;
}

/** Signal a process and every descendant (children first stopped, so none escapes by re-parenting). */
export function killTree(pid: number, signal: NodeJS.Signals = "SIGKILL"): void {
  const all = descendants(pid);
  for (const p of all) {
    try {
      process.kill(p, "SIGSTOP");
    } catch {
      // gone
    }
  }
  for (const p of all) {
    try {
      process.kill(p, signal);
      if (signal !== "SIGKILL") process.kill(p, "SIGCONT");
    } catch {
      // gone
    }
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Wait until `pid` is gone, up to `timeoutMs`; true when it is. */
export async function waitExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return true;
    await sleep(10);
  }
  return !isAlive(pid);
}

/** Stop a service process: `signal`, then SIGKILL on its tree after `graceMs`. */
export async function stopProcess(pid: number, signal: NodeJS.Signals, graceMs = 5000): Promise<void> {
  if (!isAlive(pid)) return;
  try {
    process.kill(pid, signal);
  } catch {
    return;
  }
  if (await waitExit(pid, graceMs)) return;
  killTree(pid, "SIGKILL");
  await waitExit(pid, 2000);
}

export function commandExists(name: string): boolean {
  try {
    execFileSync("sh", ["-c", `command -v ${name}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}
