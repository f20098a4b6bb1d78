// Containment: no path escapes its root — checked lexically and again after following symlinks, since
// a link inside the root can point anywhere.
import { existsSync, realpathSync } from "node:fs";
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { GgenError } from "./errors.js";

/** Is `p` (absolute) `root` (absolute) or inside it, lexically? */
export function isInside(root: string, p: string): boolean {
  const r = relative(root, p);
  return r === "" || (!isAbsolute(r) && r !== ".." && !r.startsWith(`..${sep}`));
}

/** The real path of `p`'s deepest existing ancestor (or of `p`), with the part that does not exist yet appended. */
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
    // A dangling symlink or no permission: keep the lexical path.
  }
  return rest.length ? join(real, ...rest) : real;
}

/** Inside `root` lexically and after following symlinks. */
export function staysInside(root: string, p: string): boolean {
  return isInside(resolve(root), resolve(p)) && isInside(realish(root), realish(p));
}

export interface ContainOptions {
  /** What the path is, for the message ("template output", "pack file"). */
  what?: string;
  /** Error code (default PATH_ESCAPE). */
  code?: string;
}

/** Resolves `p` against `root` and returns it, or throws a usage error when it lands outside. */
export function resolveInside(root: string, p: string, options: ContainOptions = {}): string {
  const abs = resolve(root, p);
  if (!staysInside(root, abs)) {
    throw new GgenError(
      options.code ?? "PATH_ESCAPE",
      `${options.what ?? "path"} '${p}' is outside ${root}`,
      { kind: "usage" },
    );
  }
  return abs;
}
