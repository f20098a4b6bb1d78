// The generated project's dependencies, installed once per dependency set and reused: the first run
// installs them (from npm's cache where it can, which warms that cache too) into a prepared tree under
// $GGEN_HOME/cache/node-modules/<key>; every run copies that tree into the project. The key covers the
// declared dependencies, Node's major version, the platform and the architecture; an entry older than
// MAX_AGE_MS is installed afresh, so new releases within the declared ranges are picked up. The caller
// says where the cache is (ggen: $GGEN_HOME/cache/node-modules).

import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { cp, mkdir, mkdtemp, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { GgenError, sha256 } from "@ggen/support";

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

async function fresh(entry: string): Promise<boolean> {
  const s = await stat(join(entry, "node_modules")).catch(() => undefined);
  return s !== undefined && Date.now() - s.mtimeMs < MAX_AGE_MS;
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
  const text = await readFile(pkgFile, "utf8");
  let manifest: Manifest;
  try {
    manifest = JSON.parse(text) as Manifest;
  } catch {
    return { source: "none" }; // the tests stage reports an unreadable package.json
  }
  const key = dependencyKey(manifest);
  if (!key) return { source: "none" };
  const cacheDir = options.cacheDir;
  const entry = join(cacheDir, key);
  const target = join(projectDir, "node_modules");
  if (await fresh(entry)) {
    await copyTree(join(entry, "node_modules"), target);
    return { source: "cache", key };
  }
  await mkdir(cacheDir, { recursive: true });
  const scratch = await mkdtemp(join(cacheDir, `.tmp-${key}-`));
  try {
    // Only what decides the tree: no scripts, no files of the project.
    const { dependencies, devDependencies, optionalDependencies } = manifest;
    await writeFile(
      join(scratch, "package.json"),
      `${JSON.stringify({ name: "ggen-prepared-deps", private: true, dependencies, devDependencies, optionalDependencies }, null, 2)}\n`,
    );
    await npmInstall(scratch, options.signal);
    await copyTree(join(scratch, "node_modules"), target);
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
    return { source: "install", key };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
