// Where a local environment lives and which paths inside it are allowed: environment directories sit
// outside the project (environmentsRoot), and exec cwds and copies stay inside the workdir or a mount,
// also through symlinks.
import { execFileSync } from "node:child_process";
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, posix, relative, resolve } from "node:path";
import { GgenError, isInside } from "@ggen/support";
import { configHash } from "../state/records.js";
import { removeInstanceDir, removeTree } from "../util/fs.js";
import type { TopLevel } from "./mount-plan.js";

/**
 * Resolve `target` inside `root`, refusing escapes, also through symlinks. A path under one of `mounts`
 * is checked against that mount's host directory (the link or placeholder at its target leads there),
 * anything else against `root` — in both cases real path against real path, so a mount reached through
 * a symlink is inside, and a symlink leading out of the root or out of the mount is not.
 */
export function inside(
  root: string,
  target: string,
  mounts: readonly { host: string; target: string }[] = [],
): string {
  const full = resolve(root, target.replace(/^\/+/, ""));
  if (!isInside(root, full)) {
    throw new GgenError("CLEANROOM_PATH", `${target} escapes the environment`, {
      kind: "usage",
      hint: "give a path inside the environment's workdir",
    });
  }
  const mount = mounts
    .map((m) => ({ host: m.host, at: resolve(root, m.target.replace(/^\/+/, "")) }))
    .filter((m) => isInside(m.at, full))
    .sort((a, b) => b.at.length - a.at.length)[0];
  const base = mount ? realpathSync(mount.host) : realpathSync(root);
  // The same path as the host sees it, then its deepest existing part (which may be a symlink).
  let probe = join(base, relative(mount ? mount.at : root, full));
  while (!lstatSync(probe, { throwIfNoEntry: false }) && probe !== base) probe = dirname(probe);
  let real: string | undefined;
  try {
    real = realpathSync(probe);
  } catch {
    real = undefined; // a dangling symlink: where it would lead is not known, so refuse it
  }
  if (real === undefined || !isInside(base, real)) {
    throw new GgenError("CLEANROOM_PATH", `${target} escapes the environment through a symlink`, {
      kind: "usage",
      hint: "links inside an environment (or a mount) must stay inside it",
    });
  }
  return full;
}

/**
 * Where a state dir's environment directories live: under the temp dir, per user, keyed by a hash of
 * the state dir — never inside the project, whose tree would then hold links back into itself.
 */
export function environmentsRoot(stateDir: string): string {
  // The real path of its nearest existing ancestor, so the key does not change once the dir is made.
  let known = resolve(stateDir);
  while (!existsSync(known) && dirname(known) !== known) known = dirname(known);
  const key = configHash(join(realpathSync(known), relative(known, resolve(stateDir))));
  return join(tmpdir(), `ggen-cleanroom-${process.getuid?.() ?? "user"}`, `envs-${key}`);
}

/** Make (or check) the per-user root under the shared temp dir: a real directory that we own. */
export function ensureUserRoot(dir: string): void {
  // Traversable by all (PostgreSQL runs as another user), listable by us only.
  mkdirSync(dir, { recursive: true, mode: 0o711 });
  const st = lstatSync(dir);
  const uid = process.getuid?.();
  if (!st.isDirectory() || (uid !== undefined && st.uid !== uid)) {
    throw new GgenError(
      "CLEANROOM_ENV_ROOT",
      `${dir} is not a directory owned by you, so environments cannot live there`,
      { hint: "remove it, or point TMPDIR at a directory of your own" },
    );
  }
}

/** Every mount in this process's mount namespace (from /proc/self/mountinfo): its point and its options. */
export function mountTable(): { path: string; options: string[] }[] {
  let info = "";
  try {
    info = readFileSync("/proc/self/mountinfo", "utf8");
  } catch {
    return [];
  }
  const decode = (p: string) =>
    p.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)));
  return info
    .split("\n")
    .map((line) => line.split(" "))
    .filter((f) => (f[4] ?? "") !== "")
    .map((f) => ({ path: decode(f[4]!), options: (f[5] ?? "").split(",") }));
}

/** Every mount point in this process's mount namespace. */
export function mountPoints(): string[] {
  return mountTable().map((m) => m.path);
}

/** Mount points at or under `dir` in this process's mount namespace, deepest first. */
export function mountsUnder(dir: string): string[] {
  let real = dir;
  try {
    real = realpathSync(dir);
  } catch {
    return []; // gone: nothing can be mounted under it
  }
  return mountPoints()
    .filter((p) => isInside(real, p))
    .sort((a, b) => b.length - a.length);
}

/**
 * Unmount what a command mounted under an environment's directory (a test's tmpfs, as root without a
 * mount namespace). Removing the tree first would reach into the mounted filesystem — a bind of a host
 * directory included — so a mount that stays is an error, and nothing is removed.
 */
export function unmountUnder(dir: string): void {
  for (let round = 0; round < 3; round++) {
    const mounts = mountsUnder(dir);
    if (mounts.length === 0) return;
    for (const m of mounts) {
      try {
        execFileSync("umount", ["-l", m], { stdio: "ignore", timeout: 30_000 });
      } catch {
        // reported below if it stays
      }
    }
  }
  const left = mountsUnder(dir);
  if (left.length > 0)
    throw new GgenError("CLEANROOM_MOUNTED", `${left[0]} is still mounted, so ${dir} was not removed`, {
      hint: `unmount it (umount -l ${left[0]}), then run \`cleanroom container prune\``,
    });
}

/** An environment's directory, with the short socket dirs its services' links point to (outside it). */
export function removeEnvironmentDir(dir: string): void {
  unmountUnder(dir);
  const services = join(dir, "services");
  if (existsSync(services))
    for (const entry of readdirSync(services)) {
      try {
        removeInstanceDir(join(services, entry));
      } catch {
        // removeTree below takes what this could not
      }
    }
  removeTree(dir);
}

/**
 * Where a mount's `target` lands: `relative` under the workdir, and for an absolute target also `absolute`,
 * that path in the command's mount namespace. A target that cannot be is refused before anything is made:
 * the root or a kernel filesystem, one holding the environment's own directory, one that escapes the
 * workdir, and one whose mount point would have to be made on the host (a new path inside an existing
 * host directory: only new top-level paths, /tmp and /run of an isolated environment, or paths that
 * already exist can take a mount).
 */
export function placeMount(
  target: string,
  o: { envDir: string; isolated: boolean; file: boolean },
): { relative: string; absolute?: string } {
  const refuse = (why: string): never => {
    throw new GgenError("CLEANROOM_MOUNT", `mount target ${JSON.stringify(target)} ${why}`, {
      kind: "usage",
      hint: "give a relative target (under the workdir, where commands start) or a new top-level path such as /workspace",
    });
  };
  const rel = posix.normalize(target.replace(/^\/+/, ""));
  if (rel === "." || rel === "" || rel === ".." || rel.startsWith("../"))
    refuse("is not a path inside the environment");
  if (!posix.isAbsolute(target)) return { relative: rel };
  const abs = posix.normalize(target);
  const [top = ""] = abs.split("/").filter(Boolean);
  if (["proc", "dev", "sys"].includes(top)) refuse("is a kernel filesystem");
  if (abs === "/tmp" || abs === "/run") refuse("would hide the environment's own directories");
  if (isInside(abs, o.envDir) || isInside(o.envDir, abs)) refuse("holds the environment's own directory");
  const st = lstatSync(abs, { throwIfNoEntry: false });
  if (st) {
    if (st.isSymbolicLink()) refuse("is a symbolic link on the host");
    if (st.isDirectory() === o.file)
      refuse(`is a ${o.file ? "directory" : "file"} on the host, the source is not`);
    return { relative: rel, absolute: abs };
  }
  const topStat = lstatSync(`/${top}`, { throwIfNoEntry: false });
  const fresh = !topStat || (o.isolated && (top === "tmp" || top === "run"));
  if (!fresh) refuse(`does not exist, and its mount point would have to be made inside /${top} on the host`);
  return { relative: rel, absolute: abs };
}

/** What `/` holds on this host, for building a command's root (mount-plan.ts). */
export function hostTopLevel(): TopLevel[] {
  const out: TopLevel[] = [];
  for (const name of readdirSync("/")) {
    const st = lstatSync(`/${name}`, { throwIfNoEntry: false });
    if (!st) continue;
    if (st.isSymbolicLink()) out.push({ name, type: "link", link: readlinkSync(`/${name}`) });
    else if (st.isDirectory()) out.push({ name, type: "dir" });
    else if (st.isFile()) out.push({ name, type: "file" });
  }
  return out;
}
