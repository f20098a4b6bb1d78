// Publishing to a file registry (ensureFileRegistry's layout: a git index and crates/), the way a
// registry server would: the .crate under crates/<name>/, one JSON line per version in the index file
// cargo looks up, committed. Verified by building a fresh crate that depends on the published version
// through the registry, as a user of it would; a failed verification restores the index as it was.
import { existsSync } from "node:fs";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { GgenError, sha256, withLock, writeFileAtomic } from "@ggen/support";
import { DEBIAN_CRATE_DIR, type FileRegistry } from "./cargo-home.js";
import { git, type RunResult, run } from "./exec.js";
import { type ManifestDependency, parseCargoManifest, parseToml, type TomlTable } from "./manifest.js";
import type { Toolchain } from "./toolchain.js";

/** crates.io's index, as an alternative registry's entries name it for crates.io dependencies. */
export const CRATES_IO_INDEX = "https://github.com/rust-lang/crates.io-index";

/** Where cargo looks up a crate in an index: 1/a, 2/ab, 3/a/abc, ab/cd/abcd… (lowercase). */
export function indexPath(name: string): string {
  const n = name.toLowerCase();
  if (n.length <= 2) return `${n.length}/${n}`;
  if (n.length === 3) return `3/${n[0]}/${n}`;
  return `${n.slice(0, 2)}/${n.slice(2, 4)}/${n}`;
}

interface IndexDependency {
  name: string;
  req: string;
  features: string[];
  optional: boolean;
  default_features: boolean;
  target: string | null;
  kind: "normal" | "dev" | "build";
  registry?: string;
  package?: string;
}

/** The index line of one version (the registry index format cargo reads). Pure. */
export function indexEntry(manifestText: string, cksum: string): string {
  const m = parseCargoManifest(manifestText);
  const doc = parseToml(manifestText, "Cargo.toml", "CARGO_MANIFEST");
  const features = (doc.features ?? {}) as TomlTable;
  const deps = m.dependencies.map((d: ManifestDependency) => {
    const out: IndexDependency = {
      name: d.package,
      req: d.req,
      features: d.features,
      optional: d.optional,
      default_features: d.defaultFeatures,
      target: d.target ?? null,
      kind: d.kind,
    };
    if (d.cratesIo) out.registry = CRATES_IO_INDEX;
    // A renamed dependency: the index names the real crate and keeps the local name in `package`'s place.
    if (d.package !== d.name) {
      out.name = d.name;
      out.package = d.package;
    }
    return out;
  });
  return JSON.stringify({
    name: m.name,
    vers: m.version,
    deps,
    cksum,
    features: Object.fromEntries(
      Object.entries(features).map(([k, v]) => [k, Array.isArray(v) ? v.map(String) : []]),
    ),
    yanked: false,
    links: null,
  });
}

const commit = (indexDir: string, message: string) =>
  git(indexDir, [
    ["add", "-A"],
    ["commit", "-q", "--allow-empty", "-m", message],
  ]);

/** What a publish replaced, to put back on rollback. */
export interface IndexSnapshot {
  name: string;
  version: string;
  /** The index file before (absent: the crate was new). */
  indexText?: string;
  /** The .crate of the same version before, when it was replaced. */
  previousCrate?: Buffer;
}

export interface Published {
  name: string;
  version: string;
  cksum: string;
  /** Where the .crate now is. */
  crateFile: string;
  /** The same version was there already (a local registry takes a new build of it). */
  replaced: boolean;
  /** The newest version the index had before, if any. */
  previousVersion?: string;
  snapshot: IndexSnapshot;
}

const versionsOf = (indexText: string | undefined) =>
  (indexText ?? "")
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => (JSON.parse(l) as { vers: string }).vers);

/**
 * Adds `crateFile` (a `cargo package` output) to the registry: its .crate, its index line (the line of
 * the same version replaced), one commit. Under the registry's lock.
 */
export async function publishCrate(
  registry: FileRegistry,
  crateFile: string,
  manifestText: string,
): Promise<Published> {
  const m = parseCargoManifest(manifestText);
  if (!m.name || !m.version)
    throw new GgenError("FILE_REGISTRY", "the crate's Cargo.toml has no [package] name and version");
  return withLock(
    join(registry.dir, ".publish"),
    async () => {
      const bytes = await readFile(crateFile);
      const cksum = sha256(bytes);
      const file = join(registry.indexDir, indexPath(m.name));
      const indexText = await readFile(file, "utf8").catch(() => undefined);
      const dest = join(registry.cratesDir, m.name, `${m.name}-${m.version}.crate`);
      const previousCrate = existsSync(dest) ? await readFile(dest) : undefined;
      const before = versionsOf(indexText);
      const kept = (indexText ?? "")
        .split("\n")
        .filter((l) => l.trim() && (JSON.parse(l) as { vers: string }).vers !== m.version);
      await mkdir(dirname(dest), { recursive: true });
      await writeFileAtomic(dest, bytes, { fsync: false });
      await mkdir(dirname(file), { recursive: true });
      await writeFileAtomic(file, `${[...kept, indexEntry(manifestText, cksum)].join("\n")}\n`);
      await commit(registry.indexDir, `${m.name} ${m.version}`);
      const previousVersion = before.at(-1);
      return {
        name: m.name,
        version: m.version,
        cksum,
        crateFile: dest,
        replaced: before.includes(m.version),
        ...(previousVersion ? { previousVersion } : {}),
        snapshot: {
          name: m.name,
          version: m.version,
          ...(indexText !== undefined ? { indexText } : {}),
          ...(previousCrate ? { previousCrate } : {}),
        },
      };
    },
    { what: `the registry ${registry.dir}` },
  );
}

/** Puts the index (and a replaced .crate) back as they were before `publishCrate`. */
export async function restoreIndex(registry: FileRegistry, snapshot: IndexSnapshot): Promise<void> {
  await withLock(
    join(registry.dir, ".publish"),
    async () => {
      const file = join(registry.indexDir, indexPath(snapshot.name));
      const dest = join(registry.cratesDir, snapshot.name, `${snapshot.name}-${snapshot.version}.crate`);
      if (snapshot.indexText === undefined) await rm(file, { force: true });
      else await writeFileAtomic(file, snapshot.indexText);
      if (snapshot.previousCrate) await writeFileAtomic(dest, snapshot.previousCrate);
      else if (!versionsOf(snapshot.indexText).includes(snapshot.version)) await rm(dest, { force: true });
      await commit(registry.indexDir, `roll back ${snapshot.name} ${snapshot.version}`);
    },
    { what: `the registry ${registry.dir}` },
  );
}

export interface ConsumerOptions {
  registry: FileRegistry;
  /** The published crate, and its library's name (how Rust code refers to it). */
  crate: { name: string; version: string; lib: string };
  /** A fresh directory: the consumer crate and its own cargo home go there (removed first). */
  dir: string;
  toolchain: Toolchain;
  /** A target dir whose dependencies are already built (the crate's own), so only the two crates compile. */
  targetDir?: string;
  /** The directory source standing in for crates.io (default Debian's). */
  crateDir?: string;
  /** More environment for cargo: the codegen settings the target dir was built with, so it is reused. */
  env?: Record<string, string>;
  /**
   * `cargo check` instead of `cargo build`: the crate resolves, downloads (checksum verified) and
   * compiles as a dependency, short of machine code — for when a build of the packaged crate was
   * verified already (`cargo publish --dry-run`). `targetDir` then has the dependencies checked, not built.
   */
  check?: boolean;
  signal?: AbortSignal;
  timeoutMs?: number;
}

/** How a consumer crate's package name starts (the target cache never keeps its units). */
export const CONSUMER_PREFIX = "ggen-consumer-of-";

/** The registry's name in the consumer's cargo home. */
const DEPLOY_REGISTRY = "ggen-deploy";

/**
 * Builds (or checks) a new crate that depends on `crate` from `registry` (exactly that version), with a
 * cargo home of its own (nothing cached from an earlier publish of the same version). The result is cargo's.
 */
export async function buildConsumer(o: ConsumerOptions): Promise<RunResult> {
  await rm(o.dir, { recursive: true, force: true });
  const home = join(o.dir, "cargo-home");
  const crate = join(o.dir, "consumer");
  await mkdir(join(crate, "src"), { recursive: true });
  await mkdir(home, { recursive: true });
  const q = JSON.stringify;
  await writeFile(
    join(home, "config.toml"),
    [
      "[source.crates-io]",
      'replace-with = "debian"',
      "[source.debian]",
      `directory = ${q(o.crateDir ?? DEBIAN_CRATE_DIR)}`,
      `[registries.${DEPLOY_REGISTRY}]`,
      `index = ${q(o.registry.indexUrl)}`,
      "",
    ].join("\n"),
  );
  await writeFile(
    join(crate, "Cargo.toml"),
    [
      "[package]",
      `name = "${CONSUMER_PREFIX}${o.crate.name.replace(/_/g, "-")}"`,
      'version = "0.0.0"',
      'edition = "2021"',
      "publish = false",
      "",
      "[dependencies]",
      `${o.crate.name} = { version = ${q(`=${o.crate.version}`)}, registry = ${q(DEPLOY_REGISTRY)} }`,
      "",
    ].join("\n"),
  );
  await writeFile(
    join(crate, "src", "lib.rs"),
    `//! Checks that ${o.crate.name} ${o.crate.version} builds as a dependency.\npub use ${o.crate.lib} as published;\n`,
  );
  return run(o.toolchain.cargo, [o.check ? "check" : "build", "--quiet"], {
    cwd: crate,
    env: {
      ...process.env,
      ...o.toolchain.env,
      ...o.env,
      CARGO_HOME: home,
      CARGO_TARGET_DIR: o.targetDir ?? join(o.dir, "target"),
      CARGO_TERM_COLOR: "never",
    },
    ...(o.signal ? { signal: o.signal } : {}),
    ...(o.timeoutMs ? { timeoutMs: o.timeoutMs } : {}),
  });
}
