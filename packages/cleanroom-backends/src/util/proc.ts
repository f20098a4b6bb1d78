// Process helpers: liveness, killing a whole tree, waiting for a condition.
import { readdirSync, readFileSync } from "node:fs";
import { isAlive as isRunning, which } from "@ggen/support";

/** Like @ggen/support's isAlive, and a zombie (which answers kill(0)) counts as gone: a service that
 * exited but was not reaped yet must be taken for dead. */
export function isAlive(pid: number | undefined): boolean {
  if (!isRunning(pid)) return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    return state !== "Z" && state !== "X";
  } catch {
    return false;
  }
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

/** Is `name` an executable on PATH (as `command -v` would find it)? */
export function commandExists(name: string): boolean {
  return which(name) !== undefined;
}
