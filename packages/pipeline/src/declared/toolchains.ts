// How the environment is prepared before a pack's stages run, by the toolchain it names: cargo (ggen's
// cargo home serving Debian's crates, one target dir per lane from the dependency set's cache entry,
// the entry filled afterwards), npm (the dependency set's prepared node_modules), none. The stages'
// commands then run verbatim with the environment given here.

import { existsSync } from "node:fs";
import { readdir, readFile, rm } from "node:fs/promises";
import { join, posix } from "node:path";
import type { PackPipeline, PipelineReport } from "@ggen/contract";
import { GgenError } from "@ggen/support";
import { prepareDependencies } from "../dependencies.js";

export interface ToolchainInput {
  /** The generated output here, and as the stages' commands see it (asked of the environment meanwhile). */
  readonly root: string;
  readonly visibleRoot: string | Promise<string>;
  readonly lanes: readonly string[];
  readonly signal: AbortSignal;
  /** Where the npm toolchain keeps prepared node_modules trees. */
  readonly nodeModulesCache: string;
  /** A stage measures coverage with llvm-cov: its tools are looked up while the rest is prepared. */
  readonly llvmCoverage?: boolean;
}

export interface LaneDirs {
  /** The lane's build directory here, and as the commands see it (cargo's CARGO_TARGET_DIR). */
  readonly targetDir?: string;
  readonly visibleTargetDir?: string;
  readonly env: Record<string, string>;
}

export interface PreparedToolchain {
  readonly name: NonNullable<PackPipeline["toolchain"]>;
  /** Every stage's environment. */
  readonly env: Record<string, string>;
  /** Every lane started with the dependencies compiled (from the dependency set's cache): only the crate's own units build. */
  readonly dependenciesBuilt?: boolean;
  /** A lane's build directory and environment (no lane: the first lane's). */
  lane(name?: string): LaneDirs;
  /** The setup line: "cargo 1.95.0; target cache: hit". */
  readonly summary: string;
  readonly package?: NonNullable<PipelineReport["package"]>;
  /**
   * Before the first stage of lane `lane` runs, when that stage comes after a stage of lane `from`
   * (which has just ended, and nothing runs in either): a lane that has nothing built yet starts from
   * a copy of `from`'s build directory, so what that stage compiled is not compiled again.
   */
  seedLane?(lane: string, from: string): Promise<void>;
  /** Settles when the lane's build directory is ready for its first stage (its copy may still run after setup). */
  laneReady?(lane?: string): Promise<void>;
  /** After the stages: keeps what the next run of the same dependency set can reuse (when `complete`). */
  finish(complete: boolean): Promise<string | undefined>;
  /**
   * Called once as the stages begin, with the way they run commands: a cold cargo toolchain compiles
   * the dependency set there, once, for every lane (each lane's laneReady waits for it). Settles with
   * a line saying what it did; undefined when there is nothing to do.
   */
  begin?(exec: ToolchainExec): Promise<string> | undefined;
  /** llvm-profdata/llvm-cov of rustc's LLVM, when asked for (or why there are none). */
  readonly coverageTools?: import("@ggen/cargo").CoverageTools;
}

/** Runs a command where the stages run (`cwd` as the commands see it). */
export type ToolchainExec = (
  argv: string[],
  options: { cwd: string; env: Record<string, string> },
) => Promise<{ exitCode: number | null }>;

/**
 * How ggen's runs compile a crate's own code: one-shot builds, so no incremental state to write, and
 * no debuginfo (coverage has its own mapping; a test's panic still names its file and line) — about a
 * quarter less CPU for build and test. Part of the target cache's key, like every codegen setting.
 */
export const CARGO_CODEGEN_ENV: Readonly<Record<string, string>> = {
  CARGO_INCREMENTAL: "0",
  CARGO_PROFILE_DEV_DEBUG: "0",
  // Not codegen (so not in the key): rustc's allocator (jemalloc) backs its heap with transparent huge
  // pages where the kernel offers them on request. Half the page faults of a build — each a trip
  // into the kernel, the largest part of its system time — and ≈ 10–15 % less CPU for a cold
  // dependency build. A MALLOC_CONF of the user's own is kept.
  ...(process.env.MALLOC_CONF === undefined ? { MALLOC_CONF: "thp:always,metadata_thp:always" } : {}),
};

/** Where lanes after the first keep their target dirs, under the crate's own target dir. */
const laneDir = (root: string, lanes: readonly string[], lane: string | undefined, lanesDir: string) =>
  !lane || lane === lanes[0] ? join(root, "target") : join(root, "target", lanesDir, lane);

async function cargoToolchain(input: ToolchainInput): Promise<PreparedToolchain> {
  const cargo = await import("@ggen/cargo");
  const toolchain = cargo.requireToolchain();
  const home = await cargo.prepareCargoHome();
  const manifestText = await readFile(join(input.root, "Cargo.toml"), "utf8");
  const manifest = cargo.parseCargoManifest(manifestText, join(input.root, "Cargo.toml"));
  const missing = cargo.missingCrates(manifest.dependencies, await cargo.vendoredCrates(home.crateDir));
  if (missing.length > 0)
    throw new GgenError(
      "CRATES_MISSING",
      `no offline source for ${missing.map((m) => `${m.name} ${m.req}`).join(", ")}`,
      {
        hint: `install ${missing.map((m) => m.debianPackage).join(" ")} (scripts/system-packages.txt lists them)`,
      },
    );
  const lanes = input.lanes.slice(1);
  const laneDirs = lanes.map((l) => laneDir(input.root, input.lanes, l, cargo.LANES_DIR));
  const [target, coverageTools, visibleRoot] = await Promise.all([
    // A lane starts from the same cache entry as the main one: its dependencies are fresh there too.
    // Its copy goes on after setup; the lane's first stage waits for it (laneReady).
    cargo.prepareTarget({
      crateDir: input.root,
      toolchain,
      env: { ...home.env, ...CARGO_CODEGEN_ENV },
      signal: input.signal,
      alongside: laneDirs,
      // A resolution of the same Cargo.toml against the same crates is remembered beside the target cache.
      lockCache: join(cargo.targetCacheDir(), "..", "cargo-lock"),
      crateSource: home.crateDir,
    }),
    input.llvmCoverage ? cargo.findCoverageTools({ toolchain, env: home.env }) : undefined,
    input.visibleRoot,
  ]);
  const env: Record<string, string> = {
    ...toolchain.env,
    ...home.env,
    ...CARGO_CODEGEN_ENV,
    CARGO_TERM_COLOR: "never",
  };
  const visible = (path: string) => posix.join(visibleRoot, ...path.slice(input.root.length + 1).split("/"));
  const lane = (name?: string): LaneDirs => {
    const targetDir = laneDir(input.root, input.lanes, name, cargo.LANES_DIR);
    return { targetDir, visibleTargetDir: visible(targetDir), env: { CARGO_TARGET_DIR: visible(targetDir) } };
  };
  // Cold: the dependency set compiles once, for a stub of the crate, before any lane builds; every lane
  // then starts from it (hard links), as it would from the cache entry. A failed dependency build only
  // leaves the lanes more to compile: the stages say what is wrong with the crate.
  const depsRoot = join(input.root, "target", cargo.DEPENDENCY_BUILD_DIR);
  const depsTarget = join(depsRoot, "target");
  let dependencies: Promise<string> | undefined;
  const begin = (exec: ToolchainExec) => {
    // A crate without dependencies has nothing to share: its lanes compile only themselves anyway.
    if (target.source !== "cold" || manifest.dependencies.length === 0 || dependencies) return undefined;
    dependencies = (async () => {
      const stub = join(depsRoot, "crate");
      await rm(depsRoot, { recursive: true, force: true });
      await cargo.writeDependencyStub(input.root, stub);
      const args = await cargo.dependencyBuildArgs(stub);
      const built = await exec(["cargo", ...args], {
        cwd: visible(stub),
        env: { ...env, CARGO_TARGET_DIR: visible(depsTarget) },
      });
      // The stub's own units go: they would pass for the crate's (see pruneCrateUnits).
      await cargo.pruneCrateUnits(depsTarget, stub, {
        toolchain,
        env: { ...home.env, ...CARGO_CODEGEN_ENV },
      });
      return built.exitCode === 0
        ? `built once for every lane (cargo ${args.join(" ")})`
        : "not all built: the lanes compile the rest";
    })().catch(
      (e: unknown) =>
        `not built (${String((e as Error)?.message ?? e).split("\n")[0]}): the lanes compile them`,
    );
    return dependencies;
  };
  const laneCopies = new Map<string, Promise<void>>();
  const laneReady = async (name?: string) => {
    const dir = laneDir(input.root, input.lanes, name, cargo.LANES_DIR);
    await target.alongside.get(dir);
    if (!dependencies) return;
    let copy = laneCopies.get(dir);
    if (!copy) {
      copy = dependencies
        .then(() => (existsSync(depsTarget) ? cargo.copyTarget(depsTarget, dir, "link", true) : undefined))
        .catch(() => undefined);
      laneCopies.set(dir, copy);
    }
    await copy;
  };
  const seedLane = async (to: string, from: string) => {
    const dir = laneDir(input.root, input.lanes, to, cargo.LANES_DIR);
    const src = laneDir(input.root, input.lanes, from, cargo.LANES_DIR);
    // Cold, a lane's dependencies (proc-macros and build scripts above all, which check and build
    // share) are compiled once, in the lane it comes after; warm, the lane started from the cache entry.
    // (The first lane's dir holds the other lanes' dirs: those are not its own builds.)
    const own = (await readdir(dir).catch(() => [])).filter((f) => f !== cargo.LANES_DIR);
    if (own.length > 0 || !existsSync(src)) return;
    await cargo.copyTarget(src, dir, "link", true);
  };
  const cacheWord = {
    cache: "hit",
    cold: "cold (filled after the builds)",
    present: "kept from the last run",
  }[target.source];
  return {
    name: "cargo",
    env,
    lane,
    seedLane,
    laneReady,
    begin,
    dependenciesBuilt: target.source === "cache",
    summary: `${home.auditShim ? "cargo audit → built-in audit; " : ""}target cache ${cacheWord}`,
    package: { name: manifest.name, version: manifest.version, ecosystem: "cargo" },
    ...(coverageTools ? { coverageTools } : {}),
    finish: async (complete) => {
      await Promise.allSettled([...target.alongside.values(), dependencies, ...laneCopies.values()]);
      await rm(depsRoot, { recursive: true, force: true });
      if (!complete || target.source !== "cold") return undefined;
      const stored = await cargo.storeTarget(target, {
        crateDir: input.root,
        toolchain,
        env: { ...home.env, ...CARGO_CODEGEN_ENV },
        lanes: laneDirs,
      });
      return stored.outcome === "stored" ? `target cache entry ${target.key} stored` : undefined;
    },
  };
}

async function npmToolchain(input: ToolchainInput): Promise<PreparedToolchain> {
  const prepared = await prepareDependencies(input.root, {
    cacheDir: input.nodeModulesCache,
    signal: input.signal,
  });
  const pkgFile = join(input.root, "package.json");
  const pkg = existsSync(pkgFile)
    ? (JSON.parse(await readFile(pkgFile, "utf8")) as { name?: string; version?: string })
    : {};
  return {
    name: "npm",
    env: {},
    lane: () => ({ env: {} }),
    summary: {
      cache: "dependencies from the prepared tree",
      install: "dependencies installed (and kept)",
      none: "",
    }[prepared.source],
    ...(pkg.name
      ? {
          package: {
            name: pkg.name,
            ...(pkg.version ? { version: pkg.version } : {}),
            ecosystem: "npm" as const,
          },
        }
      : {}),
    finish: async () => undefined,
  };
}

/**
 * Starts what a toolchain's setup asks of the machine but not of the generated output (cargo: rustc's
 * version, the coverage tools of its LLVM), so that it runs while the output is being generated; the
 * setup then finds the answers waiting. A failure here is the setup's to report: ignored now.
 */
export function probeToolchain(name: NonNullable<PackPipeline["toolchain"]>, llvmCoverage: boolean): void {
  if (name !== "cargo") return;
  void (async () => {
    const cargo = await import("@ggen/cargo");
    const toolchain = cargo.requireToolchain();
    const home = await cargo.prepareCargoHome();
    await Promise.all([
      cargo.rustcVersion(toolchain, { ...process.env, ...home.env }),
      llvmCoverage ? cargo.findCoverageTools({ toolchain, env: home.env }) : undefined,
    ]);
  })().catch(() => undefined);
}

/** The toolchains a pack may name. */
export const TOOLCHAINS: Readonly<
  Record<NonNullable<PackPipeline["toolchain"]>, (input: ToolchainInput) => Promise<PreparedToolchain>>
> = {
  cargo: cargoToolchain,
  npm: npmToolchain,
  none: async () => ({
    name: "none",
    env: {},
    lane: () => ({ env: {} }),
    summary: "",
    finish: async () => undefined,
  }),
};

/**
 * The environment a project's own commands need from its toolchain when run by hand (a scenario, a
 * test run): for a crate (a Cargo.toml at `root`), ggen's cargo home — Debian's crates offline, the
 * local registry for `cargo publish`, `cargo audit` as the built-in audit when cargo-audit is not
 * installed — and its target dir filled from the cache. Undefined for anything else.
 */
export async function projectToolchain(
  root: string,
  signal?: AbortSignal,
): Promise<{ env: Record<string, string>; notes: string[] } | undefined> {
  if (!existsSync(join(root, "Cargo.toml"))) return undefined;
  const cargo = await import("@ggen/cargo");
  const toolchain = cargo.requireToolchain();
  const home = await cargo.prepareCargoHome();
  // A crate whose dependencies do not resolve still runs: cargo then says why, in the step's output.
  const target = await cargo
    .prepareTarget({
      crateDir: root,
      toolchain,
      env: { ...home.env, ...CARGO_CODEGEN_ENV },
      ...(signal ? { signal } : {}),
    })
    .catch(() => undefined);
  const notes = [`cargo: crates from ${home.crateDir} through ggen's cargo home (${home.dir})`];
  if (home.auditShim)
    notes.push("cargo-audit is not installed: `cargo audit` runs ggen's built-in RustSec audit");
  if (target?.source === "cache") notes.push("target dir: dependencies from the cache");
  return { env: { ...toolchain.env, ...home.env, ...CARGO_CODEGEN_ENV, CARGO_TERM_COLOR: "never" }, notes };
}
