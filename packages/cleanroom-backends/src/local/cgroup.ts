// cgroup v1/v2 limits for local environments: memory, pids, CPU quota, and accounting for metrics.
// One cgroup per environment (the limits), one child per exec (so a timeout kills exactly its tree).
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { isMainThread } from "node:worker_threads";
import { sleep } from "../util/proc.js";

const ROOT = "/sys/fs/cgroup";
export type Controller = "memory" | "pids" | "cpu" | "cpuacct";

export interface CgroupLayout {
  version: 1 | 2;
  /** Absolute directory per controller (v1) under which cleanroom creates its groups. */
  parents: Partial<Record<Controller, string>>;
}

let detected: CgroupLayout | null | undefined;

function writable(dir: string): boolean {
  const probe = join(dir, `ggen-probe-${process.pid}`);
  try {
    mkdirSync(probe);
    rmdirSync(probe);
    return true;
  } catch {
    return false;
  }
}

/** Where we may create cgroups, or null (not root, read-only cgroupfs, …). */
export function detectCgroups(): CgroupLayout | null {
  if (detected !== undefined) return detected;
  detected = null;
  try {
    const own = readFileSync("/proc/self/cgroup", "utf8").trim().split("\n");
    if (existsSync(join(ROOT, "memory")) || existsSync(join(ROOT, "pids"))) {
      const parents: CgroupLayout["parents"] = {};
      for (const line of own) {
        const [, controllers = "", path = "/"] = line.split(":");
        for (const c of controllers.split(",")) {
          if (c === "memory" || c === "pids" || c === "cpu" || c === "cpuacct") {
            const dir = join(ROOT, c, path);
            if (writable(dir)) parents[c] = dir;
          }
        }
      }
      if (parents.memory || parents.pids) detected = { version: 1, parents };
    } else if (existsSync(join(ROOT, "cgroup.controllers"))) {
      const path = own.find((l) => l.startsWith("0::"))?.slice(3) ?? "/";
      const dir = join(ROOT, path);
      if (writable(dir))
        detected = { version: 2, parents: { memory: dir, pids: dir, cpu: dir, cpuacct: dir } };
    }
  } catch {
    detected = null;
  }
  return detected;
}

function tryWrite(file: string, value: string): boolean {
  try {
    writeFileSync(file, value);
    return true;
  } catch {
    return false;
  }
}

function readNum(file: string): number {
  try {
    return Number(readFileSync(file, "utf8").trim()) || 0;
  } catch {
    return 0;
  }
}

function readKeyed(file: string, key: string): number {
  try {
    const line = readFileSync(file, "utf8")
      .split("\n")
      .find((l) => l.startsWith(`${key} `));
    return Number(line?.split(" ")[1] ?? 0) || 0;
  } catch {
    return 0;
  }
}

export interface Limits {
  memoryMb?: number | undefined;
  pids?: number | undefined;
  cpus?: number | undefined;
}

/** A group of directories (one per controller, or one for v2) at the same relative name. */
export class Cgroup {
  private constructor(
    readonly layout: CgroupLayout,
    readonly name: string,
  ) {}

  static open(layout: CgroupLayout, name: string): Cgroup {
    return new Cgroup(layout, name);
  }

  dirs(): string[] {
    const set = new Set<string>();
    for (const parent of Object.values(this.layout.parents)) if (parent) set.add(join(parent, this.name));
    return [...set];
  }

  private dir(c: Controller): string | undefined {
    const parent = this.layout.parents[c];
    return parent ? join(parent, this.name) : undefined;
  }

  create(limits: Limits): void {
    for (const d of this.dirs()) mkdirSync(d, { recursive: true });
    const mem = this.dir("memory");
    const pids = this.dir("pids");
    const cpu = this.dir("cpu");
    if (this.layout.version === 1) {
      if (mem && limits.memoryMb) {
        const bytes = String(limits.memoryMb * 1024 * 1024);
        tryWrite(join(mem, "memory.limit_in_bytes"), bytes);
        tryWrite(join(mem, "memory.memsw.limit_in_bytes"), bytes);
        tryWrite(join(mem, "memory.swappiness"), "0");
      }
      if (pids && limits.pids) tryWrite(join(pids, "pids.max"), String(limits.pids));
      if (cpu && limits.cpus) {
        tryWrite(join(cpu, "cpu.cfs_period_us"), "100000");
        tryWrite(join(cpu, "cpu.cfs_quota_us"), String(Math.round(limits.cpus * 100000)));
      }
    } else if (mem) {
      tryWrite(join(mem, "..", "cgroup.subtree_control"), "+memory +pids +cpu");
      if (limits.memoryMb) {
        tryWrite(join(mem, "memory.max"), String(limits.memoryMb * 1024 * 1024));
        tryWrite(join(mem, "memory.swap.max"), "0");
      }
      if (limits.pids) tryWrite(join(mem, "pids.max"), String(limits.pids));
      if (limits.cpus) tryWrite(join(mem, "cpu.max"), `${Math.round(limits.cpus * 100000)} 100000`);
    }
  }

  /**
   * Can `spawnInside` place a child here? cgroup v1 moves one thread (the main thread, whose id is the
   * pid); v2 would move the whole process, and from a worker thread the thread that forks is not the one
   * moved — there the command is moved in by a shell before it runs (see sandbox.ts).
   */
  canSpawnInside(): boolean {
    return this.layout.version === 1 && isMainThread;
  }

  /**
   * Runs `spawn` (synchronous: fork and exec happen inside it) with this thread moved into the group, and
   * moves it back: the child starts in the group, under its limits, before any code of its own runs —
   * no shell in between. Nothing else of this process runs meanwhile (one thread of JavaScript).
   */
  spawnInside<T>(spawn: () => T): T {
    if (!this.canSpawnInside()) throw new Error("spawnInside needs cgroup v1 and the main thread");
    const tid = String(process.pid);
    const home = [...new Set(Object.values(this.layout.parents))];
    const moveBack = () => {
      for (const dir of home) writeFileSync(join(dir, "tasks"), tid);
    };
    try {
      for (const dir of this.dirs()) writeFileSync(join(dir, "tasks"), tid);
      return spawn();
    } finally {
      moveBack();
    }
  }

  /** The names of the groups directly under this one. */
  children(): string[] {
    const dir = this.dirs()[0];
    try {
      return dir
        ? readdirSync(dir, { withFileTypes: true })
            .filter((e) => e.isDirectory())
            .map((e) => e.name)
        : [];
    } catch {
      return [];
    }
  }

  /** A group under this one, made now: in every controller, or only in `without`'s complement. */
  child(name: string, without: Controller[] = []): Cgroup {
    const parents = { ...this.layout.parents };
    for (const c of without) delete parents[c];
    const child = new Cgroup({ ...this.layout, parents }, join(this.name, name));
    for (const d of child.dirs()) mkdirSync(d, { recursive: true });
    return child;
  }

  /** Every process in this group and its children (an environment's execs live in child groups). */
  procs(): number[] {
    const dir = this.dir("pids") ?? this.dir("memory");
    if (!dir) return [];
    const out: number[] = [];
    const walk = (d: string) => {
      try {
        for (const line of readFileSync(join(d, "cgroup.procs"), "utf8").split("\n"))
          if (line) out.push(Number(line));
        for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) walk(join(d, e.name));
      } catch {
        // removed meanwhile
      }
    };
    walk(dir);
    return out;
  }

  /** SIGKILL every process (repeatedly: a fork bomb keeps forking while we kill). */
  async killAll(): Promise<void> {
    for (let round = 0; round < 50; round++) {
      // This process is never one of them (it is in a group only while it spawns into it).
      const pids = this.procs().filter((pid) => pid !== process.pid);
      if (pids.length === 0) return;
      for (const pid of pids) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          // gone
        }
      }
      await sleep(round < 5 ? 2 : 20);
    }
  }

  counters(): { oomKills: number; pidsMax: number; memFail: number } {
    const mem = this.dir("memory");
    const pids = this.dir("pids");
    if (this.layout.version === 1) {
      return {
        oomKills: mem ? readKeyed(join(mem, "memory.oom_control"), "oom_kill") : 0,
        memFail: mem ? readNum(join(mem, "memory.failcnt")) : 0,
        pidsMax: pids ? readKeyed(join(pids, "pids.events"), "max") : 0,
      };
    }
    return {
      oomKills: mem ? readKeyed(join(mem, "memory.events"), "oom_kill") : 0,
      memFail: mem ? readKeyed(join(mem, "memory.events"), "max") : 0,
      pidsMax: mem ? readKeyed(join(mem, "pids.events"), "max") : 0,
    };
  }

  usage(): { peakMemoryMb: number; cpuUserMs: number; cpuSystemMs: number; cpuTotalMs: number } {
    const mem = this.dir("memory");
    const acct = this.dir("cpuacct");
    if (this.layout.version === 1) {
      const peak = mem ? readNum(join(mem, "memory.max_usage_in_bytes")) : 0;
      const total = acct ? readNum(join(acct, "cpuacct.usage")) / 1e6 : 0;
      // cpuacct.stat is in USER_HZ ticks (100/s).
      const user = acct ? readKeyed(join(acct, "cpuacct.stat"), "user") * 10 : 0;
      const system = acct ? readKeyed(join(acct, "cpuacct.stat"), "system") * 10 : 0;
      return { peakMemoryMb: peak / 1024 / 1024, cpuUserMs: user, cpuSystemMs: system, cpuTotalMs: total };
    }
    const peak = mem ? readNum(join(mem, "memory.peak")) : 0;
    const user = mem ? readKeyed(join(mem, "cpu.stat"), "user_usec") / 1000 : 0;
    const system = mem ? readKeyed(join(mem, "cpu.stat"), "system_usec") / 1000 : 0;
    return {
      peakMemoryMb: peak / 1024 / 1024,
      cpuUserMs: user,
      cpuSystemMs: system,
      cpuTotalMs: user + system,
    };
  }

  /** Remove the directories if nothing is in them (the shared parent of all environments). */
  removeIfEmpty(): void {
    for (const d of this.dirs()) {
      try {
        rmdirSync(d);
      } catch {
        // still used by another environment
      }
    }
  }

  /** Kill what is left and remove the directories (children first). */
  async remove(): Promise<void> {
    await this.killAll();
    for (const d of this.dirs()) removeTree(d);
  }
}

function removeTree(dir: string): void {
  if (!existsSync(dir)) return;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) removeTree(join(dir, entry.name));
  }
  for (let i = 0; i < 20; i++) {
    try {
      rmdirSync(dir);
      return;
    } catch {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
    }
  }
}
