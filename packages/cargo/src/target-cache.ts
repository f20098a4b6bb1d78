// The seed's "pre-compiled common crates": a content-addressed cache of cargo target directories.
// The key is the crate's dependency set — its locked packages from crates.io, the dependency tables
// of its Cargo.toml (features included), rustc's `-vV` and the flags that change codegen — so two
// crates with the same dependencies share one entry whatever their names. An entry holds the
// dependencies' compiled artifacts only (the crate's own units are pruned), and a build gets its own
// copy of it as <crate>/target: cargo then finds every dependency fresh and compiles just the crate.
//
// The copy is copy-on-write in effect: in "link" mode (the default) the compiled artifacts (.rlib,
// .rmeta, .so, build-script executables) are hard links, because rustc and the linker replace an
// output (write aside, rename) rather than rewrite it, and every other file — fingerprints, dep-info,
// build-script output, which cargo does rewrite in place — is a real copy. "copy" mode copies
// everything (`cp -a --reflink=auto`: a true reflink on btrfs/xfs).
import { createHash, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import {
  copyFile,
  link,
  lstat,
  mkdir,
  readdir,
  readFile,
  readlink,
  rename,
  rm,
  symlink,
  utimes,
} from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { GgenError, writeFileAtomic } from "@ggen/support";
import { ggenHome } from "./cargo-home.js";
import { firstLine, run } from "./exec.js";
import { type LockedPackage, parseCargoLock, parseCargoManifest, type TomlTable } from "./manifest.js";
import { CONSUMER_PREFIX } from "./registry.js";
import { rustcVersion, type Toolchain } from "./toolchain.js";

/** Environment variables that change how dependencies compile, so they are part of the key. */
export const CODEGEN_ENV = [
  "RUSTFLAGS",
  "CARGO_ENCODED_RUSTFLAGS",
  "CARGO_BUILD_RUSTFLAGS",
  "CARGO_BUILD_TARGET",
  "CARGO_PROFILE_DEV_OPT_LEVEL",
  "CARGO_PROFILE_DEV_DEBUG",
  "CARGO_PROFILE_RELEASE_OPT_LEVEL",
] as const;

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value instanceof Date) return value.toISOString();
  if (typeof value === "object" && value !== null)
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, canonical((value as TomlTable)[k])]),
    );
  return value;
}

export interface TargetKeyInput {
  /** Cargo.lock text. */
  lockText: string;
  /** Cargo.toml text. */
  manifestText: string;
  /** `rustc -vV` output. */
  rustcVersion: string;
  /** Only CODEGEN_ENV is read. */
  env?: NodeJS.ProcessEnv;
}

/** The locked packages a crate depends on: all but its own (those without a source). */
export const lockedDependencies = (lockText: string): LockedPackage[] =>
  parseCargoLock(lockText)
    .filter((p) => p.source !== undefined)
    .sort((a, b) => a.name.localeCompare(b.name) || a.version.localeCompare(b.version));

/** The cache key of a crate's dependency set (24 hex digits). Pure. */
export function targetCacheKey(input: TargetKeyInput): string {
  const manifest = parseCargoManifest(input.manifestText);
  const env = Object.fromEntries(CODEGEN_ENV.filter((k) => input.env?.[k]).map((k) => [k, input.env![k]]));
  const material = {
    packages: lockedDependencies(input.lockText).map((p) => [p.name, p.version, p.source, p.checksum ?? ""]),
    tables: canonical(manifest.dependencyTables),
    rustc: input.rustcVersion.trim(),
    env,
  };
  return createHash("sha256").update(JSON.stringify(material)).digest("hex").slice(0, 24);
}

/** Where entries live: <ggenHome>/cache/cargo-target ($GGEN_HOME or ~/.ggen by default). */
export function targetCacheDir(home: string = ggenHome()): string {
  return join(home, "cache", "cargo-target");
}

export type CopyMode = "link" | "copy";

/** Under a crate's target dir: the target dirs of other lanes (builds that run beside the main one). */
export const LANES_DIR = "ggen-lanes";

const ARTIFACT =
  /\.(rlib|rmeta|so|dylib|a)$|(^|\/)build\/[^/]+\/(build-script-build|build_script_build-[0-9a-f]+)$/;

/**
 * Copies the tree `from` to `to` (which must not exist) the way `mode` says. With `merge`, `to` may
 * exist and files already there are kept (a second target dir's units joining the first's).
 */
export async function copyTarget(from: string, to: string, mode: CopyMode, merge = false): Promise<void> {
  if (mode === "copy" && !merge) {
    const r = await run("cp", ["-a", "--reflink=auto", from, to]);
    if (r.code !== 0) throw new GgenError("TARGET_CACHE", `copying ${from} failed: ${firstLine(r.stderr)}`);
    return;
  }
  const walk = async (rel: string): Promise<void> => {
    // Never part of a copy: other lanes' target dirs (merged on their own) and coverage profiles.
    if (rel === LANES_DIR || rel === "ggen-coverage") return;
    const src = join(from, rel);
    const dst = join(to, rel);
    const st = await lstat(src);
    if (st.isDirectory()) {
      await mkdir(dst, { recursive: true });
      await Promise.all((await readdir(src)).map((name) => walk(rel ? `${rel}/${name}` : name)));
    } else if (st.isSymbolicLink()) {
      if (merge && existsSync(dst)) return;
      await symlink(await readlink(src), dst);
    } else if (st.isFile()) {
      if (merge && existsSync(dst)) return;
      if (ARTIFACT.test(rel)) {
        try {
          return await link(src, dst);
        } catch {
          // another file system: fall through to a copy
        }
      }
      await copyFile(src, dst);
      // cargo compares modification times (build-script rerun-if-changed, dep-info): keep them.
      await utimes(dst, st.atime, st.mtime);
    }
  };
  await walk("");
}

export interface PreparedTarget {
  key: string;
  /** The cache entry: <cacheDir>/<key>. */
  entry: string;
  /** The target directory the builds use (CARGO_TARGET_DIR). */
  targetDir: string;
  /** "cache": copied from the entry; "cold": no entry yet; "present": the crate already had a target dir, kept. */
  source: "cache" | "cold" | "present";
  /** Merge into a cargo run's environment. */
  env: { CARGO_TARGET_DIR: string };
  /**
   * The `alongside` target dirs, each settled once its copy of the entry is there (at once when it is
   * not copied: no entry, or the dir had something in it already).
   */
  alongside: ReadonlyMap<string, Promise<void>>;
}

export interface PrepareTargetOptions {
  crateDir: string;
  toolchain: Toolchain;
  /** Extra environment for cargo (e.g. the cargo home's CARGO_HOME, so the lockfile resolves offline). */
  env?: NodeJS.ProcessEnv;
  /** Default <ggenHome>/cache/cargo-target. */
  cacheDir?: string;
  /** Default $GGEN_HOME or ~/.ggen. */
  ggenHome?: string;
  /** Default <crateDir>/target. */
  targetDir?: string;
  mode?: CopyMode;
  signal?: AbortSignal;
  /** Where resolutions are remembered (see ensureLockfile); with `crateSource`, the cargo home's directory source. */
  lockCache?: string;
  crateSource?: string;
  /**
   * More target dirs (builds beside the main one) that start from the same entry: copied at the same
   * time as the main one, each only when empty, without waiting for them (see `alongside`).
   */
  alongside?: readonly string[];
}

const cargoEnv = (o: { toolchain: Toolchain; env?: NodeJS.ProcessEnv }) => ({
  ...process.env,
  ...o.env,
  ...o.toolchain.env,
});

/**
 * The key of a resolution: offline, `cargo generate-lockfile` depends only on Cargo.toml, the toolchain
 * (rustc's `-vV`: rustup pairs each rustc with its cargo), cargo's configuration (the cargo home's
 * source replacement) and what the directory source offers (its listing: one directory per crate
 * version). Pure.
 */
export function lockfileKey(input: {
  manifestText: string;
  rustcVersion: string;
  cargoConfig: string;
  crates: readonly string[];
}): string {
  const material = [
    input.manifestText,
    input.rustcVersion.trim(),
    input.cargoConfig,
    [...input.crates].sort(),
  ];
  return createHash("sha256").update(JSON.stringify(material)).digest("hex").slice(0, 32);
}

/** A remembered resolution for `lockfileKey`'s inputs, when the caller keeps them (`lockCache`). */
async function rememberedLockfile(
  crateDir: string,
  opts: { toolchain: Toolchain; env?: NodeJS.ProcessEnv; lockCache?: string; crateSource?: string },
): Promise<{ file: string; text?: string } | undefined> {
  if (!opts.lockCache || !opts.crateSource || !opts.env?.CARGO_HOME) return undefined;
  const [manifestText, rustc, cargoConfig, crates] = await Promise.all([
    readFile(join(crateDir, "Cargo.toml"), "utf8"),
    rustcVersion(opts.toolchain, cargoEnv(opts)),
    readFile(join(opts.env.CARGO_HOME, "config.toml"), "utf8").catch(() => ""),
    readdir(opts.crateSource),
  ]);
  const file = join(
    opts.lockCache,
    `${lockfileKey({ manifestText, rustcVersion: rustc.text, cargoConfig, crates })}.lock`,
  );
  const text = await readFile(file, "utf8").catch(() => undefined);
  return { file, ...(text !== undefined ? { text } : {}) };
}

/**
 * Cargo.lock of the crate, written by `cargo generate-lockfile` when there is none yet — or, with a
 * `lockCache` (and the cargo home's directory source `crateSource`), copied from the resolution made
 * for the same inputs before.
 */
export async function ensureLockfile(
  crateDir: string,
  opts: {
    toolchain: Toolchain;
    env?: NodeJS.ProcessEnv;
    signal?: AbortSignal;
    lockCache?: string;
    crateSource?: string;
  },
): Promise<string> {
  const file = join(crateDir, "Cargo.lock");
  if (!existsSync(file)) {
    const remembered = await rememberedLockfile(crateDir, opts).catch(() => undefined);
    if (remembered?.text !== undefined) {
      await writeFileAtomic(file, remembered.text, { fsync: false });
      return remembered.text;
    }
    const r = await run(opts.toolchain.cargo, ["generate-lockfile"], {
      cwd: crateDir,
      env: cargoEnv(opts),
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    if (r.code !== 0) {
      const why = r.stderr
        .split("\n")
        .find((l) => l.startsWith("error:"))
        ?.replace(/^error:\s*/, "");
      throw new GgenError(
        "CARGO_LOCK",
        `cannot resolve the dependencies of ${crateDir}: ${why ?? firstLine(r.stderr)}`,
        {
          hint: "offline, crates come from Debian's packages: see scripts/system-packages.txt",
        },
      );
    }
    if (remembered) {
      const text = await readFile(file, "utf8");
      await mkdir(opts.lockCache!, { recursive: true });
      await writeFileAtomic(remembered.file, text, { fsync: false });
      return text;
    }
  }
  return readFile(file, "utf8");
}

const isEmptyDir = async (dir: string) => (await readdir(dir).catch(() => [])).length === 0;

/**
 * Gives a crate its target directory for a build: a copy of the cache entry of its dependency set when
 * there is one (cargo then compiles only the crate), else an empty one (`storeTarget` after the build
 * fills the entry). A crate that already has a target directory keeps it.
 */
export async function prepareTarget(opts: PrepareTargetOptions): Promise<PreparedTarget> {
  const crateDir = resolve(opts.crateDir);
  const lockText = await ensureLockfile(crateDir, opts);
  const manifestText = await readFile(join(crateDir, "Cargo.toml"), "utf8");
  const rustc = await rustcVersion(opts.toolchain, cargoEnv(opts));
  const key = targetCacheKey({ lockText, manifestText, rustcVersion: rustc.text, env: cargoEnv(opts) });
  const entry = join(opts.cacheDir ?? targetCacheDir(opts.ggenHome), key);
  const targetDir = resolve(opts.targetDir ?? join(crateDir, "target"));
  const env = { CARGO_TARGET_DIR: targetDir };
  const none = new Map((opts.alongside ?? []).map((d) => [resolve(d), Promise.resolve()]));
  if (!(await isEmptyDir(targetDir)))
    return { key, entry, targetDir, source: "present", env, alongside: none };
  if (!existsSync(join(entry, "meta.json")))
    return { key, entry, targetDir, source: "cold", env, alongside: none };
  // Each copy is made aside (beside the main dir: a lane's dir is inside it) and renamed into place.
  const scratchOf = () => `${targetDir}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
  const fill = async (dir: string, landed?: Promise<void>) => {
    const scratch = scratchOf();
    try {
      await copyTarget(join(entry, "target"), scratch, opts.mode ?? "link");
      await landed;
      if (!(await isEmptyDir(dir))) return;
      await rm(dir, { recursive: true, force: true });
      await mkdir(dirname(dir), { recursive: true });
      await rename(scratch, dir);
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  };
  // The other dirs' copies run beside the main one (the file system's work overlaps); one inside the
  // main dir is renamed into place after the main dir is.
  const main = fill(targetDir);
  const alongside = new Map<string, Promise<void>>();
  for (const d of opts.alongside ?? []) {
    const dir = resolve(d);
    const p = fill(dir, dir.startsWith(`${targetDir}/`) ? main : undefined);
    p.catch(() => undefined); // awaited by whoever uses the dir
    alongside.set(dir, p);
  }
  await main;
  return { key, entry, targetDir, source: "cache", env, alongside };
}

/** The crate's own units, by the names cargo gives their files: from `cargo metadata --no-deps`. */
async function ownUnits(crateDir: string, opts: { toolchain: Toolchain; env?: NodeJS.ProcessEnv }) {
  const r = await run(opts.toolchain.cargo, ["metadata", "--no-deps", "--format-version", "1", "--offline"], {
    cwd: crateDir,
    env: cargoEnv(opts),
  });
  const packages = new Set<string>();
  const crates = new Set<string>();
  if (r.code === 0) {
    const meta = JSON.parse(r.stdout) as { packages: { name: string; targets: { name: string }[] }[] };
    for (const p of meta.packages) {
      packages.add(p.name);
      for (const t of p.targets) crates.add(t.name.replace(/-/g, "_"));
    }
  } else {
    const name = parseCargoManifest(await readFile(join(crateDir, "Cargo.toml"), "utf8")).name;
    packages.add(name);
    crates.add(name.replace(/-/g, "_"));
  }
  return { packages, crates };
}

/** A deployment's consumer crate (buildConsumer), which may have built in the crate's target dir. */
const CONSUMER_CRATE = CONSUMER_PREFIX.replace(/-/g, "_");

/** Whether a deps/ file (`libfoo-<hash>.rlib`, `foo-<hash>`, `foo-<hash>.d`) belongs to one of `crates` (or a consumer). */
function ownFile(file: string, crates: Set<string>): boolean {
  const base = /^(.+)-[0-9a-f]{16}(\..+)?$/.exec(file)?.[1];
  if (base === undefined) return false;
  const name = base.startsWith("lib") && !crates.has(base) ? base.slice(3) : base;
  return crates.has(base) || crates.has(name) || name.startsWith(CONSUMER_CRATE);
}

/**
 * Removes what a build leaves outside deps/ for the crate itself — its uplifted outputs (files directly
 * in a profile dir: the binaries and libraries by their plain names), examples/, incremental/ — and
 * returns the profile dirs.
 */
async function pruneUplifted(target: string): Promise<string[]> {
  const profiles: string[] = [];
  for (const profile of await readdir(target, { withFileTypes: true }).catch(() => [])) {
    const dir = join(target, profile.name);
    if (!profile.isDirectory() || !existsSync(join(dir, "deps"))) continue;
    profiles.push(dir);
    await rm(join(dir, "incremental"), { recursive: true, force: true });
    await rm(join(dir, "examples"), { recursive: true, force: true });
    for (const e of await readdir(dir, { withFileTypes: true })) {
      // cargo's lock file goes too: a copy of it is no lock.
      if (!e.isDirectory()) await rm(join(dir, e.name), { force: true });
    }
  }
  return profiles;
}

/** Removes the crate's own units from a copied target dir, leaving the dependencies' artifacts. */
async function pruneOwnUnits(target: string, own: { packages: Set<string>; crates: Set<string> }) {
  await rm(join(target, "doc"), { recursive: true, force: true });
  await rm(join(target, "package"), { recursive: true, force: true });
  await rm(join(target, "tmp"), { recursive: true, force: true });
  // The pipeline's own: other lanes' target dirs (merged in separately) and coverage profiles.
  await rm(join(target, LANES_DIR), { recursive: true, force: true });
  await rm(join(target, "ggen-coverage"), { recursive: true, force: true });
  for (const dir of await pruneUplifted(target)) {
    for (const f of await readdir(join(dir, "deps"))) {
      if (ownFile(f, own.crates)) await rm(join(dir, "deps", f), { recursive: true, force: true });
    }
    for (const sub of [".fingerprint", "build"]) {
      for (const f of await readdir(join(dir, sub)).catch(() => [] as string[])) {
        const pkg = /^(.+)-[0-9a-f]{16}$/.exec(f)?.[1];
        if (pkg !== undefined && (own.packages.has(pkg) || pkg.startsWith(CONSUMER_PREFIX)))
          await rm(join(dir, sub, f), { recursive: true, force: true });
      }
    }
  }
}

/**
 * Leaves only the dependencies' units in `target`, a target dir the crate at `crateDir` built in. Its
 * own units must go before the dir seeds another build: a unit of a crate of the same name and version
 * at the same place in its workspace gets the same name, and its fingerprint reads the sources by
 * relative path — a stub's empty library would pass for the crate's.
 */
export async function pruneCrateUnits(
  target: string,
  crateDir: string,
  opts: { toolchain: Toolchain; env?: NodeJS.ProcessEnv },
): Promise<void> {
  await pruneOwnUnits(target, await ownUnits(resolve(crateDir), opts));
}

export interface StoredTarget {
  /** "stored": the entry was written now; "kept": an entry was already there. */
  outcome: "stored" | "kept";
  entry: string;
}

/**
 * After the crate's builds (build, test, clippy, doc: each compiles dependencies its own way) fills
 * the cache entry of its dependency set from its target dir, without the crate's own units. An
 * existing entry is kept; concurrent stores are safe (built aside, renamed into place).
 */
export async function storeTarget(
  prepared: PreparedTarget,
  opts: {
    crateDir: string;
    toolchain: Toolchain;
    env?: NodeJS.ProcessEnv;
    mode?: CopyMode;
    /** Other target dirs the crate's builds used (lanes run beside the main one): their units join the entry. */
    lanes?: readonly string[];
  },
): Promise<StoredTarget> {
  if (existsSync(join(prepared.entry, "meta.json"))) return { outcome: "kept", entry: prepared.entry };
  const own = await ownUnits(resolve(opts.crateDir), opts);
  const scratch = `${prepared.entry}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
  try {
    await mkdir(scratch, { recursive: true });
    await copyTarget(prepared.targetDir, join(scratch, "target"), opts.mode ?? "link");
    for (const lane of opts.lanes ?? [])
      if (existsSync(lane)) await copyTarget(lane, join(scratch, "target"), opts.mode ?? "link", true);
    await pruneOwnUnits(join(scratch, "target"), own);
    const meta = { key: prepared.key, created: new Date().toISOString(), from: [...own.packages] };
    await writeFileAtomic(join(scratch, "meta.json"), `${JSON.stringify(meta, null, 2)}\n`, { fsync: false });
    // A leftover without meta.json is an interrupted store: replace it.
    if (existsSync(prepared.entry) && !existsSync(join(prepared.entry, "meta.json")))
      await rm(prepared.entry, { recursive: true, force: true });
    const landed = await rename(scratch, prepared.entry).then(
      () => true,
      () => false, // another run's entry landed first: keep it
    );
    return { outcome: landed ? "stored" : "kept", entry: prepared.entry };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
