// A CommonJS bundle run through node:vm with V8's code cache: the first run compiles the bundle (and the
// functions it calls) and, as the process exits, saves what V8 compiled; later runs load that instead of
// parsing and compiling again. The second run saves it once more, with what it compiled beyond the
// first (a first run often takes a path of its own: nothing cached yet), and that entry stays. Node 20
// has no compile cache for modules (`module.enableCompileCache` is Node 22) and an ES module takes a
// cache only behind --experimental-vm-modules, hence CommonJS + vm.Script.
// The cache is an optimisation only: a missing, stale or unwritable one costs a compile, never a result.

import {
  closeSync,
  existsSync,
  fstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { basename, dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { Script } from "node:vm";

export interface CachedRunOptions {
  /**
   * The `require` the bundle's own `require()` calls go through: one made for the bundle's directory —
   * `createRequire(file)`, or the caller's own `require` when the bundle sits beside it (which spares a
   * short run loading node:module, ≈ 5 M instructions).
   */
  require: NodeJS.Require;
  /** Where the code cache is kept (created when missing); undefined runs without one. */
  cacheDir?: string;
  /** Values the bundle sees as free variables (e.g. an `import()` bound to the caller's module). */
  params?: Record<string, unknown>;
}

export interface CachedRun<T> {
  /** The bundle's `module.exports`. */
  exports: T;
  /** "hit": compiled code came from the cache; "miss": none yet; "rejected": V8 refused it (another Node,
   * other flags); "off": no cache dir. A miss or rejection writes a new cache as the process exits with 0,
   * and the first hit on it writes it once more (see saveAtExit). */
  cache: "hit" | "miss" | "rejected" | "off";
}

/** FNV-1a, 32 bits: names a cache entry (not a security boundary; V8 checks the data itself). */
function fnv(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(36);
}

/**
 * The cache file of `file`: `<name>-<where>-<what>.v8`, where `where` is the bundle's path (two installs
 * sharing a cache dir keep one entry each) and `what` is what makes compiled code valid — the bundle's
 * size and mtime (V8 itself checks only the source's length), Node's version and the architecture.
 */
export function cacheFileFor(file: string, cacheDir: string): string {
  return cacheFileOf(file, cacheDir, statSync(file, { bigint: true }));
}

function cacheFileOf(file: string, cacheDir: string, s: { size: bigint; mtimeNs: bigint }): string {
  const key = [s.size, s.mtimeNs, process.version, process.arch].join("\0");
  return join(cacheDir, `${basename(file)}-${fnv(file)}-${fnv(key)}.v8`);
}

/** Where one run's cache waits for the second run's (`<entry>.1.v8` beside `<entry>.v8`). */
const provisional = (cacheFile: string) => cacheFile.replace(/\.v8$/, ".1.v8");

/**
 * Writes the cache as the process exits — if it exits 0 — to `cacheFile`, and removes the bundle's
 * other entries. A cache holds what its run compiled, and a settled one is never written again: what
 * its run did not reach, every later run compiles anew. So a failing run, which usually stops early (a
 * usage error, a missing file), writes none; a first run writes a provisional entry, and the run that
 * first reads it writes the settled one, with what both compiled (a first run is often unlike the
 * next: its own caches are empty).
 */
function saveAtExit(script: Script, cacheFile: string): void {
  process.once("exit", (code) => {
    if (code !== 0) return;
    try {
      const dir = dirname(cacheFile);
      mkdirSync(dir, { recursive: true });
      const tmp = `${cacheFile}.${process.pid}.tmp`;
      writeFileSync(tmp, script.createCachedData());
      renameSync(tmp, cacheFile);
      // The entries of earlier builds of the same bundle (same path) are dead weight.
      const prefix = `${basename(cacheFile).replace(/-[^-]+\.v8$/, "")}-`;
      for (const f of readdirSync(dir))
        if (f.startsWith(prefix) && f.endsWith(".v8") && join(dir, f) !== cacheFile)
          rmSync(join(dir, f), { force: true });
    } catch {
      // A read-only or full disk: the next run compiles again.
    }
  });
}

const WRAPPED = "/*@ggen/code-cache ascii*/";
/** The function a bundle runs as: CommonJS's five parameters, then the names of `params`. */
const wrapperHead = (names: readonly string[]) =>
  `(function (exports, require, module, __filename, __dirname${names.map((n) => `, ${n}`).join("")}) {`;

/**
 * `code` as the file `runCached` reads with one copy, where it would otherwise decode UTF-8 (through a
 * growing buffer) and then copy again to wrap it: already wrapped in the function it runs as, marked
 * ASCII-only (esbuild's default output), so read as Latin-1 straight into V8. `params` are the names
 * `runCached` will be given; they are checked there.
 */
export function wrapBundle(code: string, params: readonly string[]): string {
  const beyond = /[^\x00-\x7f]/.exec(code);
  if (beyond)
    throw new Error(`wrapBundle: not ASCII at offset ${beyond.index} (esbuild's charset "ascii" escapes it)`);
  return `${WRAPPED}${wrapperHead(params)}${code}\n})`;
}

/** The script `bytes` (of `file`) run as, with `names` as its parameters (see wrapBundle for the form read as is). */
function scriptSource(bytes: Buffer, file: string, names: readonly string[]): string {
  const head = `${WRAPPED}${wrapperHead(names)}`;
  if (bytes.toString("latin1", 0, head.length) === head) return bytes.toString("latin1");
  if (bytes.toString("latin1", 0, WRAPPED.length) === WRAPPED)
    throw new Error(`${file} was wrapped for other parameters than ${names.join(", ") || "none"}`);
  return `${wrapperHead(names)}${bytes.toString("utf8")}\n})`;
}

/** The first `size` bytes of `fd` (fewer if it is shorter) into `buf`, from its start. */
function readInto(fd: number, buf: Buffer, size: number): Buffer {
  let n = 0;
  while (n < size) {
    const got = readSync(fd, buf, n, size - n, n);
    if (got === 0) break;
    n += got;
  }
  return buf.subarray(0, n);
}

/**
 * The bundle's script and its cache entry's bytes, read through one buffer: the script is copied out of
 * it into V8 before the entry is read in, so a run touches (and the kernel faults in) one buffer's pages,
 * not two; and the bundle's own fd gives the size and mtime that name the entry.
 */
function readBundle(
  file: string,
  names: readonly string[],
  cacheDir: string | undefined,
): { source: string; cacheFile: string | undefined; cachedData: Buffer | undefined; settled: boolean } {
  const fd = openSync(file, "r");
  let cfd: number | undefined;
  try {
    // As bigints: Node 20's realpathSync can read a plain stat's leftover result back for a cached path.
    const st = fstatSync(fd, { bigint: true });
    const cacheFile = cacheDir === undefined ? undefined : cacheFileOf(file, cacheDir, st);
    let cacheSize = 0;
    let settled = true;
    if (cacheFile)
      for (const f of [cacheFile, provisional(cacheFile)])
        try {
          cfd = openSync(f, "r");
          cacheSize = Number(fstatSync(cfd, { bigint: true }).size);
          settled = f === cacheFile;
          break;
        } catch {
          cfd = undefined; // none yet, or unreadable: compiled and written again
        }
    const size = Number(st.size);
    const buf = Buffer.allocUnsafe(Math.max(size, cacheSize));
    const source = scriptSource(readInto(fd, buf, size), file, names);
    const cachedData = cfd === undefined || cacheSize === 0 ? undefined : readInto(cfd, buf, cacheSize);
    return { source, cacheFile, cachedData, settled };
  } finally {
    closeSync(fd);
    if (cfd !== undefined) closeSync(cfd);
  }
}

/** Runs the CommonJS bundle `file` (as `require` would, plus `params`) with the code cache in `cacheDir`. */
export function runCached<T>(file: string, options: CachedRunOptions): CachedRun<T> {
  const names = Object.keys(options.params ?? {});
  const { source, cacheFile, cachedData, settled } = readBundle(file, names, options.cacheDir);
  const script = new Script(source, { filename: file, cachedData });
  const cache: CachedRun<T>["cache"] = !cacheFile
    ? "off"
    : !cachedData
      ? "miss"
      : script.cachedDataRejected
        ? "rejected"
        : "hit";
  if (cacheFile && cache !== "hit") saveAtExit(script, provisional(cacheFile));
  else if (cacheFile && !settled) saveAtExit(script, cacheFile);
  const module = { exports: {} as T };
  const run = script.runInThisContext() as (...args: unknown[]) => void;
  run(module.exports, options.require, module, file, dirname(file), ...names.map((n) => options.params?.[n]));
  return { exports: module.exports, cache };
}

/**
 * The file URL of package `name`'s entry as Node would find it from `fromDir` (node_modules upwards, links
 * resolved): what a bundled module's `import.meta.url` stands for, so its own `createRequire` and relative
 * files resolve where the package is installed.
 */
export function packageEntryUrl(name: string, fromDir: string): string {
  for (let dir = fromDir; ; dir = dirname(dir)) {
    const root = join(dir, "node_modules", name);
    if (existsSync(join(root, "package.json"))) {
      const real = realpathSync(root);
      const pkg = JSON.parse(readFileSync(join(real, "package.json"), "utf8")) as {
        main?: string;
        exports?: { ".": { import?: string } };
      };
      return pathToFileURL(join(real, pkg.exports?.["."]?.import ?? pkg.main ?? "index.js")).href;
    }
    if (dirname(dir) === dir) throw new Error(`cannot find package ${name} from ${fromDir}`);
  }
}
