// The marketplace's own directories under a project: `.ggen/packages` (checked with lstat: a real
// directory, never a symlink followed elsewhere), and per operation a staging and a trash directory
// made fresh there (mkdir of a new name fails rather than reuse whatever sits at that path). Leftovers
// of a killed install are swept by the next command that holds the project lock.
import { randomBytes } from "node:crypto";
import { lstat, mkdir, readdir, rm } from "node:fs/promises";
import { join, relative } from "node:path";
import { GgenError, isAlive } from "@ggen/support";
import { packagesDir } from "./packs.js";

/** Staging (`.staging-<pid>-<random>`) and trash (`.trash-…`) directories: internal, never packs. */
export const INTERNAL_DIR = /^\.(staging|trash)(-|$)/;

/** `dir` as a real directory: made when missing, refused when it is a symlink or not a directory. */
async function realDir(dir: string, projectDir: string): Promise<void> {
  try {
    const st = await lstat(dir);
    if (st.isDirectory()) return;
    throw new GgenError(
      "UNSAFE_LAYOUT",
      `${relative(projectDir, dir)} is ${st.isSymbolicLink() ? "a symlink" : "not a directory"}; ggen keeps installed packs in a real directory`,
      { location: { file: dir }, hint: "remove it (ggen creates it again)" },
    );
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    await mkdir(dir);
  }
}

/** `.ggen/packages` of the project, made (one level at a time, each checked) when missing. */
export async function ensurePackagesDir(projectDir: string): Promise<string> {
  const pkgDir = packagesDir(projectDir);
  await realDir(join(projectDir, ".ggen"), projectDir);
  await realDir(pkgDir, projectDir);
  return pkgDir;
}

/** A new directory `<parent>/.<kind>-<pid>-<random>`; mkdir fails on anything already there. */
export async function freshDir(parent: string, kind: "staging" | "trash"): Promise<string> {
  const dir = join(parent, `.${kind}-${process.pid}-${randomBytes(6).toString("hex")}`);
  await mkdir(dir, { mode: 0o700 });
  return dir;
}

/**
 * Removes what a killed command left: staging and trash directories under `.ggen/packages` (any —
 * only the holder of the project lock makes them, and the caller holds it) and the temp files of a
 * lock taken by a process that is gone. `rm` removes a symlink itself, never what it points to.
 */
export async function sweepLeftovers(projectDir: string): Promise<void> {
  const pkgDir = packagesDir(projectDir);
  const names = await readdir(pkgDir).catch(() => [] as string[]);
  for (const name of names)
    if (INTERNAL_DIR.test(name)) await rm(join(pkgDir, name), { recursive: true, force: true });
  for (const name of await readdir(projectDir).catch(() => [] as string[])) {
    const m = /^ggen\.lock\.lock\.(\d+)\.[0-9a-f]+\.(tmp|dead)$/.exec(name);
    if (m && !isAlive(Number(m[1]))) await rm(join(projectDir, name), { force: true });
  }
}
