// What a local environment gets on this machine, decided once at create (pure: capabilities in, a plan or
// the reason it cannot be given out). The rule: every guarantee asked for is enforced or refused, never
// quietly downgraded — the plan's guarantees are exactly what exec will apply.
import type { Guarantees } from "../backend.js";

/** What this machine allows (see sandbox.ts: capabilities). */
export interface Capabilities {
  root: boolean;
  /** bubblewrap runs (read-only root, PID namespace). */
  bwrap: boolean;
  /** As root: `unshare --mount --pid` (a private mount namespace, built by `mount -a`). */
  unshare: boolean;
  /** Not root: `unshare --user --map-root-user --mount --pid` (the same, as root mapped in a user namespace). */
  userns: boolean;
  /** As root: `ip netns` and `nsenter` (a network namespace services and commands share). */
  netns: boolean;
  cgroups: boolean;
  prlimit: boolean;
  setpriv: boolean;
  /** An overlay filesystem can be mounted in a private mount namespace (copy-on-write package caches). */
  overlay: boolean;
}

/** How commands are wrapped: bubblewrap, a mount namespace as root or in a user namespace, or none. */
export type SandboxKind = "bwrap" | "unshare" | "userns" | "none";

export interface LimitRequest {
  memoryMb?: number | undefined;
  cpus?: number | undefined;
  pids?: number | undefined;
  cpuSeconds?: number | undefined;
}

export interface IsolationRequest {
  isolated: boolean;
  mounts: { writable: boolean; absolute: boolean }[];
  /** Limits asked for (by the spec or by config.toml): each must be enforced. */
  limits: LimitRequest;
  /** Limits that are only built-in defaults: applied where they can be, dropped (and not claimed) elsewhere. */
  defaults: LimitRequest;
}

export type IsolationPlan =
  | {
      ok: true;
      sandbox: SandboxKind;
      /** Root: a network namespace made at create, shared by services and commands. */
      netns: boolean;
      /** No namespace made at create: each command gets its own (services are then out of reach over TCP). */
      commandNet: boolean;
      /** The limits that will be applied (the asked ones, and the defaults that can be). */
      limits: LimitRequest;
      guarantees: Guarantees;
    }
  | { ok: false; missing: string };

const INSTALL = "install bubblewrap (apt-get install bubblewrap)";

export function planIsolation(c: Capabilities, r: IsolationRequest): IsolationPlan {
  const readOnlyMount = r.mounts.some((m) => !m.writable);
  const absolute = r.mounts.some((m) => m.absolute);
  const needsNamespace = r.isolated || readOnlyMount || absolute;
  const sandbox: SandboxKind = !needsNamespace
    ? "none"
    : c.bwrap
      ? "bwrap"
      : c.root && c.unshare
        ? "unshare"
        : !c.root && c.userns
          ? "userns"
          : "none";
  if (needsNamespace && sandbox === "none") {
    const what = r.isolated
      ? "an isolated environment (own network, PIDs and a read-only host) needs"
      : readOnlyMount
        ? "a read-only mount needs"
        : "a mount target outside the workdir (an absolute one, like /workspace) needs";
    return {
      ok: false,
      // Root only lacks the tools (util-linux's unshare); "run as root" is advice for everyone else.
      missing: `${what} a mount namespace: bubblewrap does not work here, and ${c.root ? `unshare --mount --pid is missing or failed (${INSTALL}, or util-linux's unshare)` : `user namespaces are not allowed (${INSTALL}, or run as root)`}`,
    };
  }
  const limits: LimitRequest = {};
  const enforced: Record<string, { value: number; by: string }> = {};
  /** Applies limit `key` when `by` can enforce it; an asked limit nothing enforces is the problem returned. */
  const limit = (key: keyof LimitRequest, by: string | undefined, missing: string): string | undefined => {
    const asked = r.limits[key];
    const value = asked ?? r.defaults[key];
    if (value === undefined) return undefined;
    if (by === undefined) return asked === undefined ? undefined : missing;
    limits[key] = value;
    enforced[key] = { value, by };
    return undefined;
  };
  const problem =
    limit(
      "memoryMb",
      c.cgroups ? "cgroup" : c.prlimit ? "rlimit" : undefined,
      "a memory limit needs a writable cgroup hierarchy (root) or prlimit (util-linux)",
    ) ??
    limit(
      "cpus",
      c.cgroups ? "cgroup" : undefined,
      "a CPU limit needs a writable cgroup hierarchy (run as root)",
    ) ??
    // Root ignores RLIMIT_NPROC: only a cgroup limits a root command's processes.
    limit(
      "pids",
      c.cgroups ? "cgroup" : !c.root && c.prlimit ? "rlimit" : undefined,
      "a process limit needs a writable cgroup hierarchy, or prlimit and a non-root user",
    ) ??
    limit("cpuSeconds", c.prlimit ? "rlimit" : undefined, "a CPU-time limit needs prlimit (util-linux)");
  if (problem) return { ok: false, missing: problem };
  const netns = r.isolated && c.root && c.netns;
  const pidns = r.isolated;
  const sandboxName = { bwrap: "bubblewrap", unshare: "mount-namespace", userns: "user-namespace", none: "" }[
    sandbox
  ];
  const mechanism = [
    r.isolated ? "" : "env-scrub",
    sandboxName,
    netns ? "netns" : "",
    c.cgroups ? "cgroups" : pidns ? "" : "process-group",
    Object.values(enforced).some((l) => l.by === "rlimit") ? "prlimit" : "",
  ].filter(Boolean);
  return {
    ok: true,
    sandbox,
    netns,
    commandNet: r.isolated && !netns,
    limits,
    guarantees: {
      network: r.isolated,
      pid: pidns,
      filesystem: r.isolated,
      readOnlyRoot: r.isolated,
      privateTmp: r.isolated,
      readOnlyMounts: true,
      mountTargets: true,
      limits: enforced as Guarantees["limits"],
      kill: c.cgroups ? "cgroup" : pidns ? "pid-namespace" : "process-group+marker",
      mechanism: mechanism.join("+"),
    },
  };
}
