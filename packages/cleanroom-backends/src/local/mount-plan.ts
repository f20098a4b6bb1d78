// The filesystem a sandboxed command sees, as a list of mount operations (pure), and its two renderings:
// bubblewrap's arguments, or an fstab that `mount -a` applies in a private mount namespace (root, or root
// mapped in a user namespace) when bubblewrap is missing. Both give the same guarantees: read-only
// mounts are read-only, an isolated command's root is read-only with a private /tmp, and mount targets
// outside the workdir (`/workspace`) exist at that path.
import { posix } from "node:path";

export type FsOp =
  /** `source` (a host path) at `target`, with the mounts under it (recursive). */
  | { kind: "bind"; source: string; target: string; readOnly: boolean; file?: boolean }
  /**
   * A mount that came with a recursive read-only bind, made read-only too: read-only is per mount, and
   * bubblewrap does it itself (fstab only). A user namespace cannot bind a tree without the mounts under
   * it (they are locked), so they are bound and then made read-only, one by one.
   */
  | { kind: "remount-ro"; target: string; flags: string[] }
  | { kind: "symlink"; target: string; link: string }
  | { kind: "tmpfs"; target: string; mode: string }
  /** A fresh procfs (the command's own PID namespace), its kernel knobs (`sys`, `sysrq-trigger`…) read-only. */
  | { kind: "proc"; target: string; knobs: string[] }
  /** Devices: bubblewrap's minimal /dev, else the host's with a private /dev/shm. */
  | { kind: "dev"; target: string };

/** A host top-level entry, as `lstat` saw it. */
export interface TopLevel {
  name: string;
  type: "dir" | "file" | "link";
  /** For a link: what it points to. */
  link?: string;
}

export interface FsPlanInput {
  /** Isolated: read-only root, private /tmp and /run, own procfs. Else the host's tree stays writable. */
  isolated: boolean;
  /** What `/` holds on the host (the new root is built from it). */
  topLevel: TopLevel[];
  /** Host directories commands write (workdir, temp, outputs, cache views), bound at the same path. */
  writable: string[];
  /** Mounts with their target as an absolute path in the namespace. */
  mounts: { host: string; target: string; writable: boolean; file: boolean }[];
  /** A new root (tmpfs) built from `topLevel`; false keeps the host's root and only adds the mounts. */
  newRoot: boolean;
  /** The kernel knobs under /proc this kernel has (sys, sysrq-trigger, irq, bus), made read-only. */
  procKnobs: string[];
  /**
   * The host's mounts (from /proc/self/mountinfo): those under a read-only bind are made read-only, keeping
   * their other flags (nosuid, nodev… may be locked: a remount without them is refused).
   */
  submounts: { path: string; options: string[] }[];
}

/** Per-mount flags a remount keeps (a user namespace may not clear them). */
const KEPT_FLAGS = new Set(["nosuid", "nodev", "noexec", "noatime", "nodiratime", "relatime", "strictatime"]);

/** Top-level entries that are never bound as they are (they are made fresh, or bound specially). */
const SPECIAL = new Set(["proc", "dev", "sys", "tmp", "run"]);

/** The mount operations, in order (later ones may mount inside earlier ones). */
export function fsOps(p: FsPlanInput): FsOp[] {
  const ops: FsOp[] = [];
  const ro = p.isolated;
  if (p.newRoot) {
    for (const e of p.topLevel) {
      const at = `/${e.name}`;
      if (e.type === "link") ops.push({ kind: "symlink", target: e.link ?? "", link: at });
      else if (SPECIAL.has(e.name) && e.type === "dir") continue;
      else
        ops.push({
          kind: "bind",
          source: at,
          target: at,
          readOnly: ro,
          ...(e.type === "file" ? { file: true } : {}),
        });
    }
    const has = (name: string) => p.topLevel.some((e) => e.name === name && e.type === "dir");
    if (p.isolated) {
      ops.push({ kind: "proc", target: "/proc", knobs: p.procKnobs }, { kind: "dev", target: "/dev" });
      if (has("sys")) ops.push({ kind: "bind", source: "/sys", target: "/sys", readOnly: true });
      ops.push(
        { kind: "tmpfs", target: "/tmp", mode: "1777" },
        { kind: "tmpfs", target: "/run", mode: "755" },
      );
    } else {
      for (const name of ["proc", "dev", "sys", "tmp", "run"])
        if (has(name)) ops.push({ kind: "bind", source: `/${name}`, target: `/${name}`, readOnly: false });
    }
  }
  if (p.isolated)
    for (const dir of p.writable) ops.push({ kind: "bind", source: dir, target: dir, readOnly: false });
  for (const m of p.mounts)
    ops.push({
      kind: "bind",
      source: m.host,
      target: m.target,
      readOnly: !m.writable,
      ...(m.file ? { file: true } : {}),
    });
  // What each read-only bind brought along is made read-only right after all binds (a later bind may sit
  // on top of one, which is then not reachable: it stays as the host has it, under the bind).
  const remounts: FsOp[] = [];
  for (const op of ops) {
    if (op.kind !== "bind" || !op.readOnly || op.file) continue;
    for (const sub of p.submounts) {
      if (sub.options.includes("ro")) continue; // read-only already
      const rel = posix.relative(op.source, sub.path);
      if (rel && !rel.startsWith("..") && !posix.isAbsolute(rel))
        remounts.push({
          kind: "remount-ro",
          target: posix.join(op.target, rel),
          flags: sub.options.filter((o) => KEPT_FLAGS.has(o)),
        });
    }
  }
  return [...ops, ...remounts];
}

/** bubblewrap's arguments for the operations (its root is a tmpfs it builds; `--remount-ro /` at the end). */
export function bwrapArgs(ops: FsOp[], newRoot: boolean, isolated: boolean): string[] {
  const out: string[] = newRoot ? [] : ["--dev-bind", "/", "/"];
  for (const op of ops) {
    if (op.kind === "remount-ro") continue; // --ro-bind is recursively read-only
    if (op.kind === "bind") {
      // Host device nodes keep working where the host's /dev (or a tree holding device nodes) is bound.
      const flag = op.readOnly ? "--ro-bind" : op.target === "/dev" || !isolated ? "--dev-bind" : "--bind";
      out.push(flag, op.source, op.target);
    } else if (op.kind === "symlink") out.push("--symlink", op.target, op.link);
    else if (op.kind === "tmpfs") out.push("--perms", op.mode.padStart(4, "0"), "--tmpfs", op.target);
    else if (op.kind === "proc") out.push("--proc", op.target);
    else out.push("--dev", op.target);
  }
  if (newRoot) out.push("--remount-ro", "/");
  return out;
}

/** A path in fstab's field syntax: space, tab, newline and backslash as octal escapes. */
function field(path: string): string {
  return path.replace(/[\\ \t\n]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, "0")}`);
}

/**
 * The operations as an fstab for `mount -a -T` (one process for every mount) under `root` (the new root's
 * directory on the host; "" when the host's root is kept). Symlinks are not mounts: they are made in the
 * root's skeleton on disk (see skeleton).
 */
export function fstab(ops: FsOp[], root: string): string {
  const at = (p: string) => field(root ? posix.join(root, p) : p);
  const lines: string[] = [];
  for (const op of ops) {
    if (op.kind === "bind") {
      // X-mount.mkdir makes a mount point that is missing (inside a tmpfs); on a read-only tree the
      // skeleton already holds it. A read-only bind is two steps (bind, then remount ro), which libmount does.
      const opts = [op.readOnly ? "rbind,ro" : "rbind", ...(op.file ? [] : ["X-mount.mkdir"])];
      lines.push(`${field(op.source)} ${at(op.target)} none ${opts.join(",")} 0 0`);
    } else if (op.kind === "remount-ro")
      lines.push(`none ${at(op.target)} none ${["remount", "bind", "ro", ...op.flags].join(",")} 0 0`);
    else if (op.kind === "tmpfs") lines.push(`tmpfs ${at(op.target)} tmpfs mode=${op.mode},nosuid,nodev 0 0`);
    else if (op.kind === "proc") {
      lines.push(`proc ${at(op.target)} proc nosuid,nodev,noexec 0 0`);
      // As procfs under bubblewrap: the kernel's knobs are not the command's to turn.
      for (const knob of op.knobs)
        lines.push(`${at(`${op.target}/${knob}`)} ${at(`${op.target}/${knob}`)} none bind,ro 0 0`);
    } else if (op.kind === "dev") {
      lines.push(`/dev ${at(op.target)} none rbind 0 0`);
      // The host's shared memory is host state: a private one over it.
      lines.push(`tmpfs ${at(`${op.target}/shm`)} tmpfs mode=1777,nosuid,nodev 0 0`);
    }
  }
  return `${lines.join("\n")}\n`;
}

/**
 * What the new root's directory must hold before `mount -a` (its tree is read-only once mounted): a mount
 * point for each top-level mount (an empty dir, or an empty file), each symlink, and the mount points of
 * mount targets that no mount above them holds (`/workspace`, `/opt2/app`). Paths relative to the root.
 */
export function skeleton(ops: FsOp[]): {
  dirs: string[];
  files: string[];
  links: { link: string; target: string }[];
} {
  const dirs = new Set<string>();
  const files: string[] = [];
  const links: { link: string; target: string }[] = [];
  // Top-level names something is mounted on (deeper mount points are then inside that mount).
  const covered = new Set<string>();
  for (const op of ops) {
    if (op.kind === "symlink") covered.add(op.link.slice(1));
    else if (op.kind === "remount-ro") continue;
    else if (op.target.split("/").filter(Boolean).length === 1) covered.add(op.target.slice(1));
  }
  for (const op of ops) {
    if (op.kind === "remount-ro") continue;
    if (op.kind === "symlink") {
      links.push({ link: op.link.slice(1), target: op.target });
      continue;
    }
    const parts = op.target.split("/").filter(Boolean);
    if (parts.length > 1 && covered.has(parts[0]!)) continue;
    for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join("/"));
    if (op.kind === "bind" && op.file) files.push(parts.join("/"));
    else dirs.add(parts.join("/"));
  }
  return { dirs: [...dirs], files, links };
}
