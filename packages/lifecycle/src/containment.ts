// What a phase's command starts, found again to be stopped: on a timeout or an interrupt every process
// the command started goes, also one that left its process group (setsid) or was re-parented.
// - "cgroup": root with a writable cgroup v2 — the command joins its own cgroup before it runs, and the
//   kill empties that cgroup (cgroup.kill). Nothing it starts can leave.
// - "process-tree" (elsewhere): the process group, the descendants found by /proc parent links (recorded
//   once a second while it runs, and again at the kill), and every process still carrying the command's
//   GGEN_PHASE_RUN marker in its environment. A process that leaves the group, is re-parented before a
//   sweep sees it and clears its environment (`env -i setsid …`) escapes.
// Both modes also kill the process group and the tree, so the cgroup is a strict addition.
import { randomBytes } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type ProcessRef, refAlive } from "@ggen/support";

export type ContainmentMode = "cgroup" | "process-tree";

/** The environment variable every process of a phase's command inherits (what the sweep looks for). */
export const PHASE_MARKER = "GGEN_PHASE_RUN";

let cgroupBase: string | null | undefined;

/** The cgroup v2 directory this process is in, when it may create groups there (root, writable). */
function cgroupV2Base(): string | null {
  if (cgroupBase !== undefined) return cgroupBase;
  cgroupBase = null;
  try {
    const mount = readFileSync("/proc/self/mountinfo", "utf8")
      .split("\n")
      .map((l) => l.split(" "))
      .find((f) => f[f.indexOf("-") + 1] === "cgroup2")?.[4];
    const own = readFileSync("/proc/self/cgroup", "utf8")
      .split("\n")
      .find((l) => l.startsWith("0::"))
      ?.slice(3);
    if (!mount || own === undefined) return null;
    const dir = join(mount, own);
    const probe = join(dir, `ggen-probe-${process.pid}-${randomBytes(3).toString("hex")}`);
    mkdirSync(probe);
    rmdirSync(probe);
    cgroupBase = dir;
  } catch {
    cgroupBase = null;
  }
  return cgroupBase;
}

/** How phases are contained on this machine. */
export function containmentMode(): ContainmentMode {
  return cgroupV2Base() ? "cgroup" : "process-tree";
}

interface ProcInfo {
  ppid: number;
  start: string;
}

/** Every process's parent and start time, from /proc/<pid>/stat. */
function processTable(): Map<number, ProcInfo> {
  const table = new Map<number, ProcInfo>();
  for (const e of readdirSync("/proc")) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, "utf8");
      // Fields after the parenthesised name (which may hold spaces): state, ppid, …, starttime (22nd).
      const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (rest[0] === "Z") continue;
      table.set(Number(e), { ppid: Number(rest[1]), start: rest[19] ?? "" });
    } catch {
      // gone meanwhile
    }
  }
  return table;
}

function carriesMarker(pid: number, marker: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/environ`, "utf8").split("\0").includes(marker);
  } catch {
    return false;
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // gone, or not ours
  }
}

/** One command's processes: its cgroup (when the machine allows), its group, its tree, its marker. */
export class PhaseProcesses {
  readonly token = `${process.pid}-${randomBytes(6).toString("hex")}`;
  readonly mode: ContainmentMode;
  private readonly cgroup: string | undefined;
  private leader: number | undefined;
  private readonly seen = new Map<number, ProcessRef>();
  private sweeper: NodeJS.Timeout | undefined;

  /** `mode` "process-tree" declines a cgroup even where one could be made. */
  constructor(mode: "auto" | "process-tree" = "auto") {
    const base = mode === "auto" ? cgroupV2Base() : null;
    let dir: string | undefined;
    if (base) {
      dir = join(base, `ggen-phase-${this.token}`);
      try {
        mkdirSync(dir);
      } catch {
        dir = undefined;
      }
    }
    this.cgroup = dir;
    this.mode = dir ? "cgroup" : "process-tree";
  }

  get marker(): string {
    return `${PHASE_MARKER}=${this.token}`;
  }

  /** The program and arguments that run `command` under /bin/sh inside the containment. */
  wrap(command: string): { file: string; args: string[] } {
    if (!this.cgroup) return { file: "/bin/sh", args: ["-c", command] };
    // The shell joins the cgroup, then becomes the command: nothing runs before it is inside.
    return {
      file: "/bin/sh",
      args: [
        "-c",
        'echo $$ > "$1" || { echo "ggen: cannot join the phase cgroup $1" >&2; exit 125; }; exec /bin/sh -c "$2"',
        "ggen-phase",
        join(this.cgroup, "cgroup.procs"),
        command,
      ],
    };
  }

  /** Starts recording the tree under `pid` (the leader of a new process group). */
  started(pid: number): void {
    this.leader = pid;
    if (this.mode === "process-tree") {
      this.sweeper = setInterval(() => this.record(processTable()), 1000);
      this.sweeper.unref();
    }
  }

  /** Descendants of the leader and of everything seen before, by parent links. */
  private record(table: Map<number, ProcInfo>): void {
    if (this.leader === undefined) return;
    const known = new Set<number>([this.leader, ...this.seen.keys()]);
    let grew = true;
    while (grew) {
      grew = false;
      for (const [pid, p] of table) {
        if (!known.has(pid) && known.has(p.ppid)) {
          known.add(pid);
          this.seen.set(pid, { pid, start: p.start });
          grew = true;
        }
      }
    }
  }

  /** Every process that is the command's now. */
  private members(): number[] {
    const out = new Set<number>();
    if (this.cgroup) {
      try {
        for (const l of readFileSync(join(this.cgroup, "cgroup.procs"), "utf8").split("\n"))
          if (l) out.add(Number(l));
      } catch {
        // removed
      }
    }
    const table = processTable();
    this.record(table);
    for (const [pid, ref] of this.seen) if (refAlive(ref)) out.add(pid);
    for (const pid of table.keys()) {
      if (pid !== process.pid && carriesMarker(pid, this.marker)) out.add(pid);
    }
    out.delete(process.pid);
    return [...out];
  }

  /** Signals the group and every member (SIGTERM: a chance to clean up; SIGKILL: gone). */
  signalAll(sig: NodeJS.Signals): void {
    if (this.leader !== undefined) signal(-this.leader, sig);
    if (sig === "SIGKILL" && this.cgroup) {
      try {
        writeFileSync(join(this.cgroup, "cgroup.kill"), "1");
      } catch {
        // an older kernel: the members are killed one by one below
      }
    }
    for (const pid of this.members()) signal(pid, sig);
  }

  /** SIGKILL until nothing is left (a fork loop keeps forking while we kill). */
  async killAll(): Promise<void> {
    for (let round = 0; round < 40; round++) {
      this.signalAll("SIGKILL");
      await new Promise((r) => setTimeout(r, round < 5 ? 5 : 25));
      if (this.members().length === 0) return;
    }
  }

  /**
   * Done with the command: the sweep stops and the cgroup goes. What the command left running on
   * purpose (a phase that succeeded) moves to this process's own cgroup first, so it keeps running. A
   * cgroup whose last process just exited can stay busy for a moment: removal is retried for up to 2 s.
   */
  async dispose(): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper);
    if (!this.cgroup) return;
    const procs = join(this.cgroup, "cgroup.procs");
    const parent = join(this.cgroup, "..", "cgroup.procs");
    for (let i = 0; i < 200; i++) {
      try {
        rmdirSync(this.cgroup);
        return;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "ENOENT") return;
      }
      try {
        for (const l of readFileSync(procs, "utf8").split("\n")) if (l) writeFileSync(parent, l);
      } catch {
        // gone meanwhile
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}
