// File-system helpers of the shell: containment checks that follow symlinks, atomic writes, digests.
import { createHash, randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, realpathSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, isAbsolute, join, relative, resolve } from "node:path";

export const sha256 = (data: string | Buffer): string => createHash("sha256").update(data).digest("hex");

/** Is `p` (absolute) inside `root` (absolute), lexically? */
export function isInside(root: string, p: string): boolean {
  const r = relative(root, p);
  return r === "" || (!isAbsolute(r) && r !== ".." && !r.startsWith(`..${"/"}`) && !r.startsWith("..\\"));
}

/** The real path of `p`'s deepest existing ancestor (or itself), with the non-existing rest appended. */
export function realish(p: string): string {
  let cur = resolve(p);
  const rest: string[] = [];
  while (!existsSync(cur)) {
    const up = dirname(cur);
    if (up === cur) break;
    rest.unshift(basename(cur));
    cur = up;
  }
  let real = cur;
  try {
    real = realpathSync(cur);
  } catch {
    // Dangling symlink or no permission: keep the lexical path.
  }
  return rest.length ? join(real, ...rest) : real;
}

/** Inside `root` lexically and after following symlinks. */
export function staysInside(root: string, p: string): boolean {
  return isInside(resolve(root), resolve(p)) && isInside(realish(root), realish(p));
}

const madeDirs = new Set<string>();

/**
 * Write via a temp file in the same directory and a rename; `mode` is applied before the rename.
 * Synchronous on purpose: for many small files it is several times faster than queuing them on the
 * libuv thread pool, and a generation run has nothing else to do meanwhile.
 */
export function writeAtomicSync(file: string, content: string, mode?: number): void {
  const dir = dirname(file);
  if (!madeDirs.has(dir)) {
    mkdirSync(dir, { recursive: true });
    madeDirs.add(dir);
  }
  const tmp = join(dir, `.${basename(file)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
  try {
    try {
      writeFileSync(tmp, content, mode === undefined ? undefined : { mode });
    } catch (e) {
      // The directory was removed since this process made it: make it again.
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
      mkdirSync(dir, { recursive: true });
      writeFileSync(tmp, content, mode === undefined ? undefined : { mode });
    }
    if (mode !== undefined) chmodSync(tmp, mode);
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

export async function writeAtomic(file: string, content: string, mode?: number): Promise<void> {
  writeAtomicSync(file, content, mode);
}
