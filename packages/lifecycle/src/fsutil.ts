// Small file helpers of the lifecycle: globbing, input hashes, containment in the project root, process
// liveness. Atomic writes, sha256 and redaction are @ggen/support's.
import { createHash } from "node:crypto";
import { promises as fs, readFileSync } from "node:fs";
import { join, sep } from "node:path";
import { compilePattern, type SafePattern } from "@ggen/contract";
import { resolveInside } from "@ggen/support";

export async function exists(p: string): Promise<boolean> {
  try {
    await fs.lstat(p);
    return true;
  } catch {
    return false;
  }
}

/** `p` resolved against the project root; a usage error when it lands outside (also through symlinks). */
export function insideRoot(root: string, p: string, what = "path"): string {
  return resolveInside(root, p, { what, code: "LIFECYCLE_PATH_ESCAPE" });
}

// Tools' own state (ggen, cleanroom, turbo) and build output are not the project's sources.
const DEFAULT_IGNORES = new Set([
  ".git",
  "node_modules",
  ".ggen",
  ".cleanroom",
  ".turbo",
  "target",
  "dist",
  "coverage",
]);

/** Every regular file under `root` (relative paths with "/"), skipping VCS, dependency and state dirs. */
export async function walkFiles(
  root: string,
  ignore: ReadonlySet<string> = DEFAULT_IGNORES,
): Promise<string[]> {
  const out: string[] = [];
  async function visit(dir: string, rel: string): Promise<void> {
    let entries: import("node:fs").Dirent[];
    try {
      entries = await fs.readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const childRel = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) {
        if (ignore.has(e.name)) continue;
        await visit(join(dir, e.name), childRel);
      } else if (e.isFile()) out.push(childRel);
    }
  }
  await visit(root, "");
  return out.sort();
}

/**
 * Compiles a glob (`**`, `*`, `?`, `{a,b}`) to a pattern over "/"-separated relative paths — on RE2, like
 * every pattern a user writes, so `*a*a*a*…` cannot backtrack catastrophically.
 */
export function globPattern(glob: string): SafePattern {
  let re = "";
  const g = glob.replace(/^\.\//, "");
  for (let i = 0; i < g.length; i++) {
    const c = g[i]!;
    if (c === "*") {
      if (g[i + 1] === "*") {
        const slash = g[i + 2] === "/";
        re += slash ? "(?:.*/)?" : ".*";
        i += slash ? 2 : 1;
      } else re += "[^/]*";
    } else if (c === "?") re += "[^/]";
    else if (c === "{") {
      const end = g.indexOf("}", i);
      if (end < 0) re += "\\{";
      else {
        re += `(?:${g
          .slice(i + 1, end)
          .split(",")
          .map((s) => s.replace(/[.+^${}()|[\]\\*?]/g, "\\$&"))
          .join("|")})`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  }
  // A bare directory name matches everything below it.
  return compilePattern(`^${re}(?:/.*)?$`, { what: `glob '${glob}'` });
}

/** The files under `root` matching any of `globs`, sorted. */
export async function globFiles(root: string, globs: readonly string[]): Promise<string[]> {
  if (globs.length === 0) return [];
  const res = globs.map(globPattern);
  const all = await walkFiles(root, new Set([".git", "node_modules", ".ggen", ".cleanroom"]));
  return all.filter((f) => res.some((r) => r.test(f)));
}

/** One digest over the named files' paths and contents (order-independent). */
export async function hashFiles(root: string, files: readonly string[]): Promise<string> {
  const h = createHash("sha256");
  for (const f of [...files].sort()) {
    h.update(f);
    h.update("\0");
    h.update(await fs.readFile(join(root, f)));
    h.update("\0");
  }
  return h.digest("hex");
}

export function toPosix(p: string): string {
  return sep === "/" ? p : p.split(sep).join("/");
}

/** Whether a process is running (a zombie waiting to be reaped counts as gone). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return true;
  }
}
