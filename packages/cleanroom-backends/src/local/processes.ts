// The processes a local environment may leave behind, found in /proc: commands still carrying its
// TEST_TMPDIR, services working in its services dir, process groups its entry recorded, and processes
// working under a state dir that no entry owns.
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { join, sep } from "node:path";
import type { EnvironmentRecord } from "../state/store.js";
import { groupMembers } from "../util/proc.js";

/** Processes whose working directory is under `root`, except `owned`, their children and our ancestors. */
export function orphanPids(root: string, owned: Set<number>, live: string[]): number[] {
  const ancestors = new Set<number>();
  for (let pid = process.pid; pid > 1; ) {
    ancestors.add(pid);
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      pid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    } catch {
      break;
    }
  }
  const out: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (owned.has(pid) || ancestors.has(pid)) continue;
    try {
      const cwd = readlinkSync(`/proc/${pid}/cwd`);
      if (!`${cwd}/`.startsWith(root) || live.some((dir) => `${cwd}/`.startsWith(dir))) continue;
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (owned.has(ppid)) continue; // a service's own worker processes
      out.push(pid);
    } catch {
      // gone, or not ours to read
    }
  }
  return out;
}

const attempt = (f: () => boolean): boolean => {
  try {
    return f();
  } catch {
    return false;
  }
};

/** Kill every process (but this one) whose environment holds `mark` (`NAME=value`); returns their pids. */
export function killCarrying(mark: string, alsoIf: (pid: string) => boolean = () => false): number[] {
  const killed: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    // Each unreadable (gone, or not ours) counts as no.
    const marked = attempt(() => readFileSync(`/proc/${entry}/environ`, "utf8").split("\0").includes(mark));
    if (!marked && !alsoIf(entry)) continue;
    try {
      process.kill(Number(entry), "SIGKILL");
      killed.push(Number(entry));
    } catch {
      // gone already
    }
  }
  return killed;
}

/**
 * Kill every process still carrying the environment's own TEST_TMPDIR (what its commands left, also
 * one started just before its caller died and so never recorded), and every process working in its
 * services dir (a service whose caller died before recording it: PostgreSQL and Redis overwrite their
 * environment with their process titles, but run in their data dirs). Returns their pids.
 */
export function killMarked(rec: EnvironmentRecord): number[] {
  const services = `${join(rec.dir, "services")}${sep}`;
  return killCarrying(`TEST_TMPDIR=${join(rec.dir, "tmp")}`, (pid) =>
    attempt(() => `${readlinkSync(`/proc/${pid}/cwd`)}${sep}`.startsWith(services)),
  );
}

/**
 * Kill process group `pgid` if it still belongs to `rec`: some member runs with the environment's own
 * TEST_TMPDIR, so a group number reused by an unrelated program is left alone. True when killed.
 */
export function killGroup(pgid: number, rec: EnvironmentRecord): boolean {
  const mark = `TEST_TMPDIR=${join(rec.dir, "tmp")}`;
  const members = groupMembers(pgid);
  const ours = members.some((pid) => {
    try {
      return readFileSync(`/proc/${pid}/environ`, "utf8").split("\0").includes(mark);
    } catch {
      return false;
    }
  });
  if (!ours) return false;
  try {
    process.kill(-pgid, "SIGKILL");
  } catch {
    // gone meanwhile
  }
  return true;
}
