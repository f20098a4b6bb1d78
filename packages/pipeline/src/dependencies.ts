// The generated project's dependencies, installed once per dependency set and reused: the first run
// installs them (from npm's cache where it can, which warms that cache too) into a prepared tree under
// $GGEN_HOME/cache/node-modules/<key>; every run copies that tree into the project. The key covers the
// declared dependencies, Node's major version, the platform and the architecture; an entry older than
// MAX_AGE_MS is installed afresh, so new releases within the declared ranges are picked up. The caller
// says where the cache is (ggen: $GGEN_HOME/cache/node-modules).

import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, statSync, writeFileSync } from "node:fs";
import { copyFile, cp, mkdir, readdir, readFile, rename, rm, stat, utimes } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { GgenError, isInside, sha256, tempPathFor } from "@ggen/support";

export const MAX_AGE_MS = 7 * 24 * 3600 * 1000;

export interface PreparedDependencies {
  /** "cache": copied from a prepared tree; "install": installed now (and kept for next time); "none":
   * the project declares no dependencies or already has node_modules. */
  source: "cache" | "install" | "none";
  key?: string;
}

type Manifest = Record<string, unknown> & {
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
};

const sorted = (o: Record<string, string> | undefined) =>
  Object.fromEntries(Object.entries(o ?? {}).sort(([a], [b]) => a.localeCompare(b)));

/** The cache key of a package.json's dependency set (undefined when it declares none). */
export function dependencyKey(manifest: Manifest): string | undefined {
  const deps = {
    dependencies: sorted(manifest.dependencies),
    devDependencies: sorted(manifest.devDependencies),
    optionalDependencies: sorted(manifest.optionalDependencies),
  };
  if (Object.values(deps).every((d) => Object.keys(d).length === 0)) return undefined;
  const node = process.versions.node.split(".")[0];
  return sha256(JSON.stringify({ deps, node, platform: process.platform, arch: process.arch })).slice(0, 24);
}

function npmInstall(cwd: string, signal: AbortSignal): Promise<void> {
  return new Promise<void>((res, rej) => {
    execFile(
      "npm",
      [
        "install",
        "--prefer-offline",
        "--no-audit",
        "--no-fund",
        "--ignore-scripts",
        "--no-package-lock",
        "--loglevel=error",
      ],
      { cwd, signal, timeout: 300_000 },
      (err, _out, stderr) =>
        err
          ? rej(
              signal.aborted
                ? signal.reason
                : new GgenError(
                    "DEPENDENCY_CACHE",
                    `could not install the generated project's dependencies: ${stderr.trim().split("\n")[0] || err.message}`,
                  ),
            )
          : res(),
    );
  });
}

/** Copies `from` to `to` through a temporary sibling and a rename: `to` is never half there. */
async function copyTree(from: string, to: string): Promise<void> {
  const tmp = `${to}.tmp-${process.pid}-${Date.now().toString(36)}`;
  try {
    // cp(1) is ten times faster than fs.cp on a tree of small files; fs.cp where there is none.
    await new Promise<void>((res, rej) =>
      execFile("cp", ["-a", from, tmp], (err) => (err ? rej(err) : res())),
    ).catch(async () => {
      await rm(tmp, { recursive: true, force: true });
      await cp(from, tmp, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
    });
    await rename(tmp, to);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

function fresh(entry: string): boolean {
  const s = statSync(join(entry, "node_modules"), { throwIfNoEntry: false });
  return s !== undefined && Date.now() - s.mtimeMs < MAX_AGE_MS;
}

/** Trees being prepared in this process, by dependency key: an early start and the project's own wait for one. */
const preparing = new Map<string, Promise<"cache" | "install">>();

/** The dependency set of a package.json's text, or undefined when it declares none (or does not parse). */
function dependencySet(text: string): { manifest: Manifest; key: string } | undefined {
  let manifest: Manifest;
  try {
    manifest = JSON.parse(text) as Manifest;
  } catch {
    return undefined; // the tests stage reports an unreadable package.json
  }
  const key = dependencyKey(manifest);
  return key ? { manifest, key } : undefined;
}

/**
 * The prepared tree of a dependency set in the cache: "cache" when a fresh one is there, else "install"
 * once it is installed (or another run's tree landed first). A preparation already under way for the set
 * in this process (started early, from a package.json as it was rendered) is joined, never repeated.
 * Synchronous up to npm's start: a caller in the middle of long synchronous work (the generator checking
 * the pack's contract, say) would otherwise hold the install back until it yields, and on a first run
 * the install is the longest chain.
 */
function preparedTree(
  manifest: Manifest,
  key: string,
  options: { cacheDir: string; signal: AbortSignal },
): Promise<"cache" | "install"> {
  let p = preparing.get(key);
  if (!p) {
    try {
      p = fresh(join(options.cacheDir, key))
        ? Promise.resolve("cache" as const)
        : installTree(manifest, key, options).then(() => "install" as const);
    } catch (e) {
      p = Promise.reject(e);
    }
    p = p.finally(() => preparing.delete(key));
    preparing.set(key, p);
  }
  return p;
}

/** Installs a dependency set in a scratch dir and renames it into the cache (a stale tree goes aside first). */
function installTree(
  manifest: Manifest,
  key: string,
  options: { cacheDir: string; signal: AbortSignal },
): Promise<void> {
  const cacheDir = options.cacheDir;
  const entry = join(cacheDir, key);
  mkdirSync(cacheDir, { recursive: true });
  const scratch = mkdtempSync(join(cacheDir, `.tmp-${key}-`));
  const installed = (async () => {
    // Only what decides the tree: no scripts, no files of the project.
    const { dependencies, devDependencies, optionalDependencies } = manifest;
    writeFileSync(
      join(scratch, "package.json"),
      `${JSON.stringify({ name: "ggen-prepared-deps", private: true, dependencies, devDependencies, optionalDependencies }, null, 2)}\n`,
    );
    await npmInstall(scratch, options.signal);
    // A stale tree goes aside first (a rename), so the new one lands in one step.
    const old = `${entry}.old-${process.pid}`;
    if (
      await rename(entry, old).then(
        () => true,
        () => false,
      )
    )
      await rm(old, { recursive: true, force: true });
    await rename(scratch, entry).catch(() => undefined); // another run's tree landed first: keep it
  })();
  return installed.finally(() => rm(scratch, { recursive: true, force: true }));
}

/**
 * Starts preparing the tree of the dependency set `packageJson` (a package.json's text) declares, before
 * the project exists: `prepareDependencies` of a project with that set then waits for it instead of
 * installing. Nothing when the set is in the cache already or declares nothing.
 */
export async function prefetchDependencies(
  packageJson: string,
  options: { cacheDir: string; signal: AbortSignal },
): Promise<void> {
  const set = dependencySet(packageJson);
  if (set) await preparedTree(set.manifest, set.key, options);
}

/**
 * Gives `projectDir` its node_modules: a copy of the prepared tree for its dependency set, installed
 * first when there is none (or it is older than MAX_AGE_MS). Concurrent runs are safe: a new tree is
 * installed in a scratch dir and renamed into place; the loser of a race keeps the winner's.
 */
export async function prepareDependencies(
  projectDir: string,
  options: { cacheDir: string; signal: AbortSignal },
): Promise<PreparedDependencies> {
  const pkgFile = join(projectDir, "package.json");
  if (!existsSync(pkgFile) || existsSync(join(projectDir, "node_modules"))) return { source: "none" };
  const set = dependencySet(await readFile(pkgFile, "utf8"));
  if (!set) return { source: "none" };
  const source = await preparedTree(set.manifest, set.key, options);
  await copyTree(join(options.cacheDir, set.key, "node_modules"), join(projectDir, "node_modules"));
  return { source, key: set.key };
}

/**
 * The type checker's incremental state (a `.tsbuildinfo`) of a project whose tsconfig.json names one
 * (`incremental`, `tsBuildInfoFile` inside the project), kept with the dependency set it was made
 * against: the declaration files it read are that set's. `tsc -b` then re-checks only the sources whose
 * content differs from the state's, and none when all are as they were. Keyed also by tsconfig.json and
 * package.json as they are (options and module kinds decide every result).
 */
export interface TypecheckState {
  /** The state file in the project. */
  readonly file: string;
  /** Where it is kept in the dependency-set cache. */
  readonly kept: string;
  /** Restored from the cache (false: none kept yet). */
  readonly restored: boolean;
}

/** The oldest modification time (ms) of the project's files outside node_modules, dist and .ggen. */
async function oldestSourceTime(root: string): Promise<number> {
  let oldest = Number.POSITIVE_INFINITY;
  const walk = async (dir: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      if (e.name === "node_modules" || e.name === "dist" || e.name === ".ggen") continue;
      const p = join(dir, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) oldest = Math.min(oldest, (await stat(p)).mtimeMs);
    }
  };
  await walk(root);
  return oldest;
}

/**
 * Puts the kept type-check state of `projectDir`'s dependency set and configuration into the project,
 * older than every source (so tsc compares each one's content, never trusts its time) and no older than
 * tsconfig.json (whose content is part of the key, so it need not be compared). Undefined when the
 * project keeps no such state.
 */
export async function restoreTypecheckState(
  projectDir: string,
  options: { readonly cacheDir: string; readonly key?: string | undefined },
): Promise<TypecheckState | undefined> {
  if (!options.key) return undefined;
  const configFile = join(projectDir, "tsconfig.json");
  const configText = await readFile(configFile, "utf8").catch(() => undefined);
  if (configText === undefined) return undefined;
  let infoPath: unknown;
  try {
    const config = JSON.parse(configText) as { extends?: unknown; compilerOptions?: Record<string, unknown> };
    const o = config.compilerOptions;
    // A configuration spread over files (extends) is not all in the key: no state kept.
    if (config.extends === undefined && (o?.incremental === true || o?.composite === true))
      infoPath = o.tsBuildInfoFile;
  } catch {
    return undefined; // the type check reports an unreadable tsconfig.json
  }
  if (typeof infoPath !== "string") return undefined;
  const file = resolve(projectDir, infoPath);
  if (!isInside(projectDir, file)) return undefined;
  const pkgText = await readFile(join(projectDir, "package.json"), "utf8").catch(() => "");
  const kept = join(
    options.cacheDir,
    options.key,
    "typecheck",
    `${sha256(`${configText}\0${pkgText}`).slice(0, 24)}.tsbuildinfo`,
  );
  if (!existsSync(kept) || existsSync(file)) return { file, kept, restored: false };
  await mkdir(dirname(file), { recursive: true });
  await copyFile(kept, file);
  // One second before the oldest source: tsc -b takes a source newer than its state as possibly changed
  // and compares its content; one no newer would be trusted unread.
  const at = new Date(Math.floor((await oldestSourceTime(projectDir)) / 1000) * 1000 - 2000);
  await utimes(file, at, at);
  await utimes(configFile, at, at);
  return { file, kept, restored: true };
}

/** Keeps the project's type-check state for the next project with the same dependencies and configuration. */
export async function keepTypecheckState(state: TypecheckState): Promise<void> {
  if (!existsSync(state.file)) return;
  await mkdir(dirname(state.kept), { recursive: true });
  const tmp = tempPathFor(state.kept);
  try {
    await copyFile(state.file, tmp);
    await rename(tmp, state.kept);
  } finally {
    await rm(tmp, { force: true });
  }
}
