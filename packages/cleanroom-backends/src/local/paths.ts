// Where a local environment lives and which paths inside it are allowed: environment directories sit
// outside the project (environmentsRoot), and exec cwds and copies stay inside the workdir or a mount,
// also through symlinks.
import { existsSync, lstatSync, mkdirSync, readdirSync, realpathSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { GgenError, isInside } from "@ggen/support";
import { configHash } from "../state/records.js";
import { removeInstanceDir, removeTree } from "../util/fs.js";

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

/** An environment's directory, with the short socket dirs its services' links point to (outside it). */
export function removeEnvironmentDir(dir: string): void {
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
