// Detect what isolation this machine allows and build the command line that achieves it:
// bubblewrap (read-only host, private /tmp, own PID namespace, own network unless the environment's
// namespace is entered), else `unshare` as root, else a plain process group. cgroups give limits and a
// reliable kill of the whole tree; prlimit covers CPU time (and memory/processes without cgroups).
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Isolation } from "@ggen/contract";
import { longTimeout } from "@ggen/support";
import type { ExecOptions, ExecResult } from "../backend.js";
import { commandExists, isAlive, killTree } from "../util/proc.js";
import { isRoot } from "../util/user.js";
import { type Cgroup, detectCgroups } from "./cgroup.js";

export interface Capabilities {
  bwrap: boolean;
  unshare: boolean;
  netns: boolean;
  cgroups: boolean;
  prlimit: boolean;
  setpriv: boolean;
  /** An overlay filesystem can be mounted in a private mount namespace (copy-on-write package caches). */
  overlay: boolean;
}

/** Try an overlay mount in a throwaway mount namespace (root only: unshare --mount, mount -t overlay). */
function overlayWorks(): boolean {
  if (!isRoot() || !commandExists("unshare") || !commandExists("mount")) return false;
  const dir = mkdtempSync(join(tmpdir(), "ggen-overlay-probe-"));
  try {
    for (const d of ["lower", "upper", "work", "merged"]) mkdirSync(join(dir, d));
    return works([
      "unshare",
      "--mount",
      "--propagation",
      "private",
      "mount",
      "-t",
      "overlay",
      "overlay",
      "-o",
      `lowerdir=${dir}/lower,upperdir=${dir}/upper,workdir=${dir}/work`,
      `${dir}/merged`,
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

let caps: Capabilities | undefined;

function works(argv: string[]): boolean {
  try {
    execFileSync(argv[0]!, argv.slice(1), { stdio: "ignore", timeout: 5000 });
    return true;
  } catch {
    return false;
  }
}

export function capabilities(): Capabilities {
  if (caps) return caps;
  const root = isRoot();
  caps = {
    bwrap:
      commandExists("bwrap") &&
      works([
        "bwrap",
        "--ro-bind",
        "/",
        "/",
        "--dev",
        "/dev",
        "--proc",
        "/proc",
        "--unshare-pid",
        "--unshare-net",
        "true",
      ]),
    unshare:
      root &&
      commandExists("unshare") &&
      works(["unshare", "--pid", "--fork", "--mount-proc", "--net", "true"]),
    netns: root && commandExists("ip") && commandExists("nsenter"),
    cgroups: detectCgroups() !== null,
    prlimit: commandExists("prlimit"),
    setpriv: works(["setpriv", "--pdeathsig=SIGKILL", "--", "true"]),
    overlay: overlayWorks(),
  };
  return caps;
}

/** What an environment gets here, reported as the contract's Isolation. */
export function plannedIsolation(isolated: boolean, wantsLimits: boolean): Isolation {
  const c = capabilities();
  const limits = wantsLimits && (c.cgroups || c.prlimit);
  const limitMech = c.cgroups ? "cgroups" : c.prlimit ? "prlimit" : "";
  if (!isolated) {
    return {
      network: false,
      pid: c.cgroups,
      filesystem: false,
      limits,
      mechanism: [
        "env-scrub",
        c.cgroups ? "cgroup-kill" : "process-group",
        ...(limits ? [limitMech] : []),
      ].join("+"),
    };
  }
  if (c.bwrap) {
    return {
      network: true,
      pid: true,
      filesystem: true,
      limits,
      mechanism: ["bubblewrap", ...(c.netns ? ["netns"] : []), ...(limits ? [limitMech] : [])].join("+"),
    };
  }
  if (c.unshare) {
    return {
      network: true,
      pid: true,
      filesystem: false,
      limits,
      mechanism: ["unshare", ...(limits ? [limitMech] : [])].join("+"),
    };
  }
  return {
    network: false,
    pid: false,
    filesystem: false,
    limits,
    mechanism: ["process-group", ...(limits ? [limitMech] : [])].join("+"),
  };
}

export interface SandboxPlan {
  isolated: boolean;
  /** Directories the command may write (work, tmp, outputs). */
  writable: string[];
  mounts: { host: string; target: string; writable?: boolean }[];
  netns?: string | undefined;
  cwd: string;
  env: Record<string, string>;
  cgroup?: Cgroup | undefined;
  cpuSeconds?: number | undefined;
  /** Used only without cgroups. */
  memoryMb?: number | undefined;
  pids?: number | undefined;
  /**
   * Copy-on-write views mounted (overlayfs, in a private mount namespace) before the command runs:
   * reads see `lower`, writes land in `upper`, `lower` is never written. `upper`/`work` are the
   * environment's, shared by its commands one at a time: the command that holds `overlayLock` (flock)
   * mounts them; one running beside it mounts its own `privateUpper`/`privateWork` over both (it sees
   * what earlier commands wrote; its own writes go when it ends) — two overlays on one upper/work dir
   * race at mount time (EBUSY, a half-made work dir) and are undefined behaviour after.
   */
  overlays?:
    | {
        lower: string;
        upper: string;
        work: string;
        privateUpper: string;
        privateWork: string;
        target: string;
      }[]
    | undefined;
  overlayLock?: string | undefined;
  /** Called with the command's pid (also its process group id) as soon as it runs. */
  onStart?: ((pid: number) => void) | undefined;
}

/** The full argv for `argv` under the plan. */
export function wrap(plan: SandboxPlan, argv: string[]): string[] {
  const c = capabilities();
  const out: string[] = [];
  if (plan.cgroup) {
    const dirs = plan.cgroup.dirs();
    out.push(
      "sh",
      "-c",
      'n=$1; shift; while [ "$n" -gt 0 ]; do echo $$ > "$1/cgroup.procs" || exit 125; shift; n=$((n-1)); done; exec "$@"',
      "cleanroom-cgroup",
      String(dirs.length),
      ...dirs,
    );
  }
  const rl: string[] = [];
  if (plan.cpuSeconds) rl.push(`--cpu=${plan.cpuSeconds}`);
  if (!plan.cgroup && plan.memoryMb) rl.push(`--as=${plan.memoryMb * 1024 * 1024}`);
  if (!plan.cgroup && plan.pids) rl.push(`--nproc=${plan.pids}`);
  if (rl.length > 0 && c.prlimit) out.push("prlimit", ...rl, "--");
  // If this process dies (even by a signal), the command's leader goes too; the cgroup or the PID
  // namespace takes the rest.
  if (c.setpriv) out.push("setpriv", "--pdeathsig=SIGKILL", "--");
  if (plan.isolated && plan.netns) out.push("nsenter", `--net=${plan.netns}`, "--");
  const overlays = plan.overlays ?? [];
  if (overlays.length > 0) {
    // The mounts live in a mount namespace of the command's own, gone when its last process is.
    out.push(
      "unshare",
      "--mount",
      "--propagation",
      "private",
      "--",
      "sh",
      "-c",
      // fd 9 keeps the lock for as long as the command (and whatever it starts) runs.
      "lock=$1; n=$2; shift 2; shared=0; " +
        'if command -v flock >/dev/null 2>&1 && exec 9>>"$lock" && flock -n 9; then shared=1; else exec 9>&-; fi; ' +
        'while [ "$n" -gt 0 ]; do ' +
        'if [ "$shared" = 1 ]; then l=$1; u=$2; w=$3; else l=$2:$1; u=$4; w=$5; mkdir -p "$u" "$w" || exit 125; fi; ' +
        'mount -t overlay overlay -o "lowerdir=$l,upperdir=$u,workdir=$w" "$6" || exit 125; ' +
        'shift 6; n=$((n-1)); done; exec "$@"',
      "cleanroom-overlay",
      plan.overlayLock ?? "/dev/null",
      String(overlays.length),
      ...overlays.flatMap((o) => [o.lower, o.upper, o.work, o.privateUpper, o.privateWork, o.target]),
    );
  }
  if (plan.isolated && c.bwrap) {
    out.push(
      "bwrap",
      "--die-with-parent",
      "--ro-bind",
      "/",
      "/",
      "--dev",
      "/dev",
      "--proc",
      "/proc",
      "--tmpfs",
      "/tmp",
      "--tmpfs",
      "/run",
      "--unshare-pid",
      "--unshare-ipc",
      "--unshare-uts",
      "--unshare-cgroup-try",
    );
    if (!plan.netns) out.push("--unshare-net");
    for (const dir of plan.writable) out.push("--bind", dir, dir);
    // `--ro-bind / /` made the overlays read-only too; they are the command's to write.
    for (const o of overlays) out.push("--bind", o.target, o.target);
    for (const m of plan.mounts) out.push(m.writable ? "--bind" : "--ro-bind", m.host, m.target);
    out.push("--chdir", plan.cwd, "--");
  } else if (plan.isolated && c.unshare) {
    out.push("unshare", "--pid", "--fork", "--kill-child", "--mount-proc");
    if (!plan.netns) out.push("--net");
    out.push("--");
  }
  out.push(...argv);
  return out;
}

const MAX_CAPTURE = 16 * 1024 * 1024;
const active = new Set<{ pid: number; cgroup?: Cgroup | undefined }>();
let hooked = false;

function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.once("exit", () => {
    for (const a of active) {
      for (const pid of a.cgroup?.procs() ?? []) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          // gone
        }
      }
      try {
        process.kill(-a.pid, "SIGKILL");
      } catch {
        // gone
      }
    }
  });
}

/** Run under the plan; on timeout/abort kill the whole tree (cgroup, process group, namespace). */
export async function runSandboxed(
  plan: SandboxPlan,
  argv: string[],
  options: ExecOptions,
): Promise<ExecResult & { limit?: "memory" | "pids" | "timeout" }> {
  const started = performance.now();
  const full = wrap(plan, argv);
  const before = plan.cgroup?.counters();
  hookExit();
  return await new Promise((resolve) => {
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    let settled = false;
    const child = spawn(full[0]!, full.slice(1), {
      cwd: plan.cwd,
      env: plan.env,
      detached: true,
      stdio: ["pipe", "pipe", "pipe"],
    });
    const entry = { pid: child.pid ?? -1, cgroup: plan.cgroup };
    active.add(entry);
    if (child.pid) plan.onStart?.(child.pid);
    const kill = async () => {
      if (plan.cgroup) await plan.cgroup.killAll();
      if (child.pid) {
        try {
          process.kill(-child.pid, "SIGKILL");
        } catch {
          // gone
        }
        if (isAlive(child.pid)) killTree(child.pid, "SIGKILL");
      }
    };
    // longTimeout: a timeout past Node's 24.8-day clamp must not fire at once.
    const timer =
      options.timeoutMs && options.timeoutMs > 0
        ? longTimeout(() => {
            timedOut = true;
            void kill();
          }, options.timeoutMs)
        : undefined;
    const onAbort = () => void kill();
    options.signal?.addEventListener("abort", onAbort, { once: true });
    child.stdout.setEncoding("utf8");
    child.stderr.setEncoding("utf8");
    child.stdout.on("data", (chunk: string) => {
      if (stdout.length < MAX_CAPTURE) stdout += chunk;
      options.onOutput?.(chunk, "stdout");
    });
    child.stderr.on("data", (chunk: string) => {
      if (stderr.length < MAX_CAPTURE) stderr += chunk;
      options.onOutput?.(chunk, "stderr");
    });
    child.stdin.on("error", () => undefined);
    if (options.stdin !== undefined) child.stdin.end(options.stdin);
    else child.stdin.end();
    const finish = async (code: number | null, signal: NodeJS.Signals | null, spawnError?: Error) => {
      if (settled) return;
      settled = true;
      timer?.clear();
      options.signal?.removeEventListener("abort", onAbort);
      // Anything the command left running in its cgroup or process group goes with it.
      await kill();
      active.delete(entry);
      const after = plan.cgroup?.counters();
      let limit: "memory" | "pids" | "timeout" | undefined;
      if (timedOut) limit = "timeout";
      else if (before && after && after.oomKills > before.oomKills) limit = "memory";
      else if (before && after && after.pidsMax > before.pidsMax) limit = "pids";
      if (spawnError) stderr += `cleanroom: cannot run ${argv[0]}: ${spawnError.message}\n`;
      resolve({
        exitCode: spawnError ? 127 : code,
        signal: signal ?? (code !== null && code > 128 && plan.isolated ? signalName(code - 128) : null),
        stdout,
        stderr,
        durationMs: Math.round(performance.now() - started),
        timedOut,
        ...(limit ? { limit } : {}),
      });
    };
    child.on("error", (error) => void finish(null, null, error));
    child.on("close", (code, signal) => void finish(code, signal));
  });
}

function signalName(n: number): string | null {
  const names: Record<number, string> = {
    9: "SIGKILL",
    15: "SIGTERM",
    6: "SIGABRT",
    11: "SIGSEGV",
    24: "SIGXCPU",
  };
  return names[n] ?? null;
}
