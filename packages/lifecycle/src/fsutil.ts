// Small file helpers shared by the lifecycle: atomic writes, hashing, globbing, path containment.
import { createHash, randomBytes } from "node:crypto";
import { promises as fs, readFileSync } from "node:fs";
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { GgenError } from "@ggen/contract";

/** Writes `data` to a temp file in the same directory, fsyncs it and renames it over `file`. */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  await fs.mkdir(dirname(file), { recursive: true });
  const tmp = join(dirname(file), `.${randomBytes(6).toString("hex")}.tmp`);
  const handle = await fs.open(tmp, "w");
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await fs.rename(tmp, file);
  } catch (e) {
    await fs.rm(tmp, { force: true });
    throw e;
  }
}

export function sha256(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

export async function sha256File(file: string): Promise<string> {
  return sha256(await fs.readFile(file));
}

export async function exists(p: string): Promise<boolean> {
  try {
    await fs.lstat(p);
    return true;
  } catch {
    return false;
  }
}

/** Resolves `p` against `root` and refuses anything that lands outside it (also through symlinks). */
export async function insideRoot(root: string, p: string, what = "path"): Promise<string> {
  const abs = resolve(root, p);
  const check = (candidate: string, base: string) => {
    const rel = relative(base, candidate);
    if (rel.startsWith("..") || isAbsolute(rel)) {
      throw new GgenError("LIFECYCLE_PATH_ESCAPE", `${what} '${p}' is outside the project root`, {
        kind: "usage",
      });
    }
  };
  check(abs, resolve(root));
  try {
    const realRoot = await fs.realpath(root);
    const real = await fs.realpath(abs);
    check(real, realRoot);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
  }
  return abs;
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

/** Compiles a glob (`**`, `*`, `?`, `{a,b}`) to a RegExp over "/"-separated relative paths. */
export function globToRegExp(glob: string): RegExp {
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
  return new RegExp(`^${re}(?:/.*)?$`);
}

/** The files under `root` matching any of `globs`, sorted. */
export async function globFiles(root: string, globs: readonly string[]): Promise<string[]> {
  if (globs.length === 0) return [];
  const res = globs.map(globToRegExp);
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

const SECRET_NAME = /password|secret|token|key/i;

/** Copies `env` with values of secret-looking names replaced by `***`. */
export function redactEnv(env: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) out[k] = SECRET_NAME.test(k) ? "***" : v;
  return out;
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
