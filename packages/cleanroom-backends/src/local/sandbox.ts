// What isolation this machine allows, and the command line that applies an environment's plan
// (isolation.ts decides it; mount-plan.ts lays out the filesystem): bubblewrap, or — without it — a
// private mount namespace built by `mount -a` as root (or as root mapped in a user namespace), with the
// command's capabilities dropped so that it cannot undo a read-only mount. cgroups give limits and a kill
// of the whole tree; prlimit covers CPU time (and memory/processes without cgroups).
import { execFile, execFileSync, spawn } from "node:child_process";
import type { Isolation } from "@ggen/contract";
import { longTimeout } from "@ggen/support";
import type { ExecOptions, ExecResult } from "../backend.js";
import { isolationOf, limitMessage } from "../state/records.js";
import { commandExists, isAlive, killTree } from "../util/proc.js";
import { isRoot } from "../util/user.js";
import { type Cgroup, detectCgroups } from "./cgroup.js";
import { type Capabilities, planIsolation, type SandboxKind } from "./isolation.js";
import { killCarrying } from "./processes.js";

export type { Capabilities } from "./isolation.js";

/** Runs `argv`; true when it exits 0 within the (generous: the machine may be loaded) time limit. */
function works(argv: string[]): boolean {
  try {
    execFileSync(argv[0]!, argv.slice(1), { stdio: "ignore", timeout: 30_000 });
    return true;
  } catch {
    return false;
  }
}

/** `works`, without blocking: the probes of `probeCapabilities` run side by side. */
function worksAsync(argv: string[]): Promise<boolean> {
  return new Promise((resolve) => {
    execFile(argv[0]!, argv.slice(1), { timeout: 30_000 }, (error) => resolve(!error));
  });
}

const OVERLAY_PROBE = [
  "unshare",
  "--mount",
  "--propagation",
  "private",
  "sh",
  "-c",
  "mount -t tmpfs cleanroom-probe /tmp && cd /tmp && mkdir l u w m && mount -t overlay overlay -o lowerdir=l,upperdir=u,workdir=w m",
];

/**
 * What each capability needs: the tools on PATH (looked up, no process) and the probe that must exit 0.
 * Overlay: tried in a throwaway mount namespace on a tmpfs of its own, so the probe leaves nothing on
 * disk, whatever happens to this process meanwhile. No probe makes a network namespace: creating one
 * waits while the kernel tears others down.
 */
function probes(
  root: boolean,
): Record<"bwrap" | "unshare" | "userns" | "setpriv" | "overlay", string[] | undefined> {
  const has = (...names: string[]) => names.every(commandExists);
  return {
    bwrap: has("bwrap")
      ? ["bwrap", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--unshare-pid", "true"]
      : undefined,
    unshare:
      root && has("unshare", "mount", "pivot_root")
        ? ["unshare", "--mount", "--pid", "--fork", "--mount-proc", "true"]
        : undefined,
    userns:
      !root && has("unshare", "mount", "pivot_root")
        ? ["unshare", "--user", "--map-root-user", "--mount", "--pid", "--fork", "--mount-proc", "true"]
        : undefined,
    setpriv: ["setpriv", "--pdeathsig=SIGKILL", "--", "true"],
    overlay: root && has("unshare", "mount") ? OVERLAY_PROBE : undefined,
  };
}

function capabilitiesFrom(
  root: boolean,
  works: Record<keyof ReturnType<typeof probes>, boolean>,
): Capabilities {
  return {
    root,
    ...works,
    netns: root && commandExists("ip") && commandExists("nsenter"),
    cgroups: detectCgroups() !== null,
    prlimit: commandExists("prlimit"),
  };
}

let cached: { path: string; caps: Capabilities } | undefined;

/**
 * What this machine allows, probed once per process (and again when PATH changes: a tool hidden from it is
 * not there). `probeCapabilities` gives the same answer without blocking, its probes side by side.
 */
export function capabilities(): Capabilities {
  const path = process.env.PATH ?? "";
  if (cached?.path === path) return cached.caps;
  const root = isRoot();
  const p = probes(root);
  const ran = Object.fromEntries(
    Object.entries(p).map(([k, argv]) => [k, argv !== undefined && works(argv)]),
  ) as Record<keyof typeof p, boolean>;
  const caps = capabilitiesFrom(root, ran);
  cached = { path, caps };
  return caps;
}

/** `capabilities()`, its probes run side by side without blocking; the answer is kept for `capabilities()`. */
export async function probeCapabilities(): Promise<Capabilities> {
  const path = process.env.PATH ?? "";
  if (cached?.path === path) return cached.caps;
  const root = isRoot();
  const p = probes(root);
  const entries = await Promise.all(
    Object.entries(p).map(async ([k, argv]) => [k, argv !== undefined && (await worksAsync(argv))] as const),
  );
  const caps = capabilitiesFrom(root, Object.fromEntries(entries) as Record<keyof typeof p, boolean>);
  if ((process.env.PATH ?? "") === path) cached = { path, caps };
  return caps;
}

/**
 * What an environment would get here, as the contract's Isolation. Deprecated: environments record what
 * they got (`guarantees`); kept for callers of the first API. Refused requests report nothing enforced.
 */
export function plannedIsolation(isolated: boolean, wantsLimits: boolean): Isolation {
  const plan = planIsolation(capabilities(), {
    isolated,
    mounts: [],
    limits: {},
    defaults: wantsLimits ? { pids: 1024 } : {},
  });
  if (!plan.ok) return { network: false, pid: false, filesystem: false, limits: false, mechanism: "refused" };
  return isolationOf(plan.guarantees);
}

export interface SandboxPlan {
  sandbox: SandboxKind;
  isolated: boolean;
  /** Bubblewrap's filesystem arguments (sandbox "bwrap"). */
  bwrap?: string[] | undefined;
  /** The new root's directory and the fstab `mount -a` applies (sandboxes "unshare", "userns"). */
  fstab?: { root: string; file: string } | undefined;
  /** The environment's network namespace (root); otherwise an isolated command gets one of its own. */
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
  /**
   * `NAME=value` every process of the command inherits: without a cgroup or a PID namespace, what escaped
   * the process group (setsid) is found by it and killed with the rest.
   */
  marker: string;
  /** The limits' values, for `limitMessage`. */
  limits?: { memoryMb?: number | undefined; pids?: number | undefined } | undefined;
  /** Called with the command's pid (also its process group id) as soon as it runs. */
  onStart?: ((pid: number) => void) | undefined;
}

/**
 * Builds the command's root from the fstab (`mount -a`, one process for all mounts), makes it read-only,
 * moves into it (pivot_root: the host's root is then unmounted, not merely out of sight), and drops the
 * capabilities that could undo any of it. Without a new root the mounts go over the host's paths.
 */
const MOUNT_SCRIPT = [
  "set -e",
  "root=$1 fstab=$2 cwd=$3 caps=$4 lo=$5; shift 5",
  'if [ "$lo" = 1 ]; then ip link set lo up 2>/dev/null || true; fi',
  'if [ -n "$root" ]; then',
  '  mount --bind "$root" "$root"',
  '  mount -a -T "$fstab"',
  '  mount -o remount,bind,ro "$root"',
  '  cd "$root"',
  "  pivot_root . .",
  "  umount -l .",
  "else",
  '  mount -a -T "$fstab"',
  "fi",
  'cd "$cwd"',
  'exec setpriv --bounding-set="$caps" --inh-caps="$caps" --no-new-privs -- "$@"',
].join("\n");

/** Is the command spawned straight into its cgroup (Cgroup.spawnInside), with no shell to move it there? */
export function spawnsIntoCgroup(plan: Pick<SandboxPlan, "cgroup">): boolean {
  return plan.cgroup?.canSpawnInside() === true;
}

/** The full argv for `argv` under the plan. */
export function wrap(plan: SandboxPlan, argv: string[]): string[] {
  const c = capabilities();
  const out: string[] = [];
  const direct = spawnsIntoCgroup(plan);
  if (plan.cgroup && !direct) {
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
  if (!plan.cgroup && plan.memoryMb) rl.push(`--as=${Math.round(plan.memoryMb * 1024 * 1024)}`);
  if (!plan.cgroup && plan.pids) rl.push(`--nproc=${plan.pids}`);
  if (rl.length > 0 && c.prlimit) out.push("prlimit", ...rl, "--");
  // If this process dies (even by a signal), the command's leader goes too; the cgroup or the PID
  // namespace takes the rest. A command spawned into its own cgroup needs no such process: the group is
  // named for its caller, and prune kills the group of a caller that is gone (LocalBackend.prune).
  if (c.setpriv && !direct) out.push("setpriv", "--pdeathsig=SIGKILL", "--");
  if (plan.isolated && plan.netns) out.push("nsenter", `--net=${plan.netns}`, "--");
  const overlays = plan.overlays ?? [];
  const shell = plan.sandbox === "unshare" || plan.sandbox === "userns";
  const ownNet = plan.isolated && !plan.netns;
  if (overlays.length > 0 || shell) {
    // The mounts live in a mount namespace of the command's own, gone when its last process is.
    out.push("unshare");
    if (plan.sandbox === "userns") out.push("--user", "--map-root-user");
    out.push("--mount", "--propagation", "private");
    if (shell && plan.isolated) out.push("--pid", "--fork", "--kill-child");
    if (shell && ownNet) out.push("--net");
    out.push("--");
  }
  if (overlays.length > 0) {
    out.push(
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
  if (plan.sandbox === "bwrap") {
    out.push("bwrap", "--die-with-parent");
    if (plan.isolated) {
      out.push("--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try");
      if (ownNet) out.push("--unshare-net");
    }
    // Run by root, bubblewrap leaves the command every capability — enough to remount a read-only mount
    // read-write. Isolated: none; otherwise all but that one.
    if (c.root) out.push("--cap-drop", plan.isolated ? "ALL" : "CAP_SYS_ADMIN");
    out.push(...(plan.bwrap ?? []), "--chdir", plan.cwd, "--");
  } else if (shell) {
    out.push(
      "sh",
      "-c",
      MOUNT_SCRIPT,
      "cleanroom-sandbox",
      plan.fstab?.root ?? "",
      plan.fstab?.file ?? "/dev/null",
      plan.cwd,
      plan.isolated ? "-all" : "-sys_admin",
      ownNet ? "1" : "0",
    );
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

/** Run under the plan; on timeout/abort kill the whole tree (cgroup, PID namespace, process group, marker). */
export async function runSandboxed(
  plan: SandboxPlan,
  argv: string[],
  options: ExecOptions,
): Promise<ExecResult> {
  const started = performance.now();
  const full = wrap(plan, argv);
  const before = plan.cgroup?.counters();
  hookExit();
  return await new Promise((resolve) => {
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    let settled = false;
    const start = () =>
      spawn(full[0]!, full.slice(1), {
        cwd: plan.cwd,
        env: { ...plan.env, [plan.marker.split("=")[0]!]: plan.marker.slice(plan.marker.indexOf("=") + 1) },
        detached: true,
        stdio: ["pipe", "pipe", "pipe"],
      });
    const child = plan.cgroup && spawnsIntoCgroup(plan) ? plan.cgroup.spawnInside(start) : start();
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
      // What left the process group (setsid) and the cgroup's reach: found by the command's marker.
      if (!plan.cgroup) killCarrying(plan.marker);
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
      // Anything the command left running in its cgroup, process group or namespace goes with it.
      await kill();
      active.delete(entry);
      const after = plan.cgroup?.counters();
      let limit: "memory" | "pids" | "timeout" | undefined;
      let limitValue: number | undefined;
      if (timedOut) {
        limit = "timeout";
        limitValue = options.timeoutMs;
      } else if (before && after && after.oomKills > before.oomKills) {
        limit = "memory";
        limitValue = plan.limits?.memoryMb === undefined ? undefined : plan.limits.memoryMb * 1024 * 1024;
      } else if (before && after && after.pidsMax > before.pidsMax) {
        limit = "pids";
        limitValue = plan.limits?.pids;
      }
      if (spawnError) stderr += `cleanroom: cannot run ${argv[0]}: ${spawnError.message}\n`;
      resolve({
        exitCode: spawnError ? 127 : code,
        signal: signal ?? (code !== null && code > 128 && plan.isolated ? signalName(code - 128) : null),
        stdout,
        stderr,
        durationMs: Math.round(performance.now() - started),
        timedOut,
        ...(limit
          ? {
              limit,
              ...(limitValue !== undefined ? { limitValue } : {}),
              limitMessage: limitMessage(limit, limitValue),
            }
          : {}),
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
