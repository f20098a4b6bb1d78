// Crates offline from Debian's packaged crates. `apt-get install librust-<crate>-dev` (the list is
// scripts/system-packages.txt) puts crate sources with their checksums in /usr/share/cargo/registry,
// which cargo reads as a *directory source* standing in for crates.io. The replacement lives in a
// cargo home of ggen's own ($GGEN_HOME/cargo/home) that our runs select with CARGO_HOME: neither the
// user's ~/.cargo/config.toml nor the generated crate (which must stay publishable to the real
// crates.io) is touched, and the seed's commands run verbatim (`cargo build`, `cargo publish
// --dry-run`) once that variable is set. The same home names a local file registry as the default
// for `cargo publish`: cargo refuses to publish to a replaced crates.io, and a dry run needs a
// registry index to check against.
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, rename, rm } from "node:fs/promises";
import { homedir } from "node:os";
import { delimiter, dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { writeFileAtomic } from "@ggen/support";
import { git } from "./exec.js";
import type { ManifestDependency } from "./manifest.js";
import { satisfiesCargoReq } from "./version-req.js";

/** Where Debian's librust-*-dev packages install crate sources. */
export const DEBIAN_CRATE_DIR = "/usr/share/cargo/registry";
/** The name of the local registry `cargo publish` goes to by default in ggen's cargo home. */
export const LOCAL_REGISTRY_NAME = "ggen-local";

/** $GGEN_HOME, or ~/.ggen. */
export function ggenHome(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.GGEN_HOME ?? join(env.HOME ?? homedir(), ".ggen"));
}

const tomlString = (s: string) => JSON.stringify(s);

/** The config.toml of ggen's cargo home: crates.io → the directory source; publish → the local registry. */
export function cargoConfigToml(opts: { crateDir: string; localIndexUrl: string }): string {
  return [
    "# Written by ggen (@ggen/cargo); used only by runs that set CARGO_HOME to this directory.",
    "# crates.io is served from Debian's packaged crates (librust-*-dev), offline.",
    "[source.crates-io]",
    'replace-with = "debian"',
    "",
    "[source.debian]",
    `directory = ${tomlString(opts.crateDir)}`,
    "",
    "# `cargo publish` (and its --dry-run) goes to a local file registry: cargo will not publish to a",
    "# replaced crates.io.",
    "[registry]",
    `default = ${tomlString(LOCAL_REGISTRY_NAME)}`,
    "",
    `[registries.${LOCAL_REGISTRY_NAME}]`,
    `index = ${tomlString(opts.localIndexUrl)}`,
    "",
  ].join("\n");
}

export interface FileRegistry {
  /** The registry's root: index/ (a git repository) and crates/ (the .crate files). */
  dir: string;
  indexDir: string;
  /** file:// URL of the index, for `[registries.x] index` or `cargo publish --index`. */
  indexUrl: string;
  cratesDir: string;
}

/**
 * A Cargo registry on the file system (creating it when absent): a git index holding config.json, and
 * a crates/ directory its `dl` points at. Cargo reads a `file://` index as a git remote, so the index
 * must be a repository; concurrent callers are safe (built aside, renamed into place).
 */
export async function ensureFileRegistry(dir: string): Promise<FileRegistry> {
  const root = resolve(dir);
  const indexDir = join(root, "index");
  const cratesDir = join(root, "crates");
  const reg = { dir: root, indexDir, indexUrl: pathToFileURL(indexDir).href, cratesDir };
  if (existsSync(join(indexDir, ".git")) && existsSync(join(indexDir, "config.json"))) return reg;
  await mkdir(cratesDir, { recursive: true });
  const scratch = `${indexDir}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
  try {
    await mkdir(scratch, { recursive: true });
    // Cargo wants an `api` before it will even dry-run a publish; nothing ever calls it (a real publish
    // here is `cargo package` plus an index entry, not an upload).
    const config = {
      dl: `${pathToFileURL(cratesDir).href}/{crate}/{crate}-{version}.crate`,
      api: pathToFileURL(join(root, "api")).href,
    };
    await writeFileAtomic(join(scratch, "config.json"), `${JSON.stringify(config, null, 2)}\n`, {
      fsync: false,
    });
    await git(scratch, [
      ["init", "-q"],
      ["add", "config.json"],
      ["commit", "-q", "-m", "registry index"],
    ]);
    // Another process may have finished first: keep its index.
    await rename(scratch, indexDir).catch(() => undefined);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  return reg;
}

export interface CargoHome {
  /** The directory to use as CARGO_HOME. */
  dir: string;
  configFile: string;
  /** The directory source standing in for crates.io. */
  crateDir: string;
  /** The default registry of `cargo publish` in this home. */
  registry: FileRegistry;
  /** Merge into a cargo run's environment: CARGO_HOME. */
  env: Record<string, string>;
  /** `cargo audit` runs ggen's built-in audit (cargo-audit is not installed): <home>/bin/cargo-audit is its shim. */
  auditShim?: string;
}

export interface CargoHomeOptions {
  /** Default $GGEN_HOME or ~/.ggen; the home is <ggenHome>/cargo/home. */
  ggenHome?: string;
  /** Default DEBIAN_CRATE_DIR. */
  crateDir?: string;
  /** The local registry `cargo publish` targets; default <ggenHome>/cargo/registry. */
  registryDir?: string;
  env?: NodeJS.ProcessEnv;
  /** Where cargo-audit would be if installed (default: PATH, then ~/.cargo/bin). */
  searchPath?: string;
}

/**
 * `cargo audit` for a home whose machine has no cargo-audit: cargo looks for `cargo-<name>` in
 * $CARGO_HOME/bin first, so a shim there runs the built-in audit (which says so). Removed again when a
 * real cargo-audit is found, so it never shadows one.
 */
async function auditShim(dir: string, opts: CargoHomeOptions): Promise<string | undefined> {
  const file = join(dir, "bin", "cargo-audit");
  const env = opts.env ?? process.env;
  const path =
    opts.searchPath ?? [env.PATH ?? "", join(env.HOME ?? homedir(), ".cargo", "bin")].join(delimiter);
  const installed = path
    .split(delimiter)
    .filter(Boolean)
    .map((d) => join(d, "cargo-audit"))
    .find((f) => f !== file && existsSync(f));
  if (installed) {
    await rm(file, { force: true });
    return undefined;
  }
  // Beside this module in dist/; from the sources (tests), the built one.
  const bin = ["./audit-bin.js", "../dist/audit-bin.js"]
    .map((u) => fileURLToPath(new URL(u, import.meta.url)))
    .find((f) => existsSync(f));
  if (!bin) return undefined;
  const text = `#!/bin/sh\n# Written by ggen (@ggen/cargo): cargo-audit is not installed, so \`cargo audit\` runs ggen's\n# built-in RustSec audit (bundled advisories) and says so.\nexec ${shellQuote(process.execPath)} ${shellQuote(bin)} "$@"\n`;
  if ((await readFile(file, "utf8").catch(() => undefined)) !== text) {
    await mkdir(dirname(file), { recursive: true });
    await writeFileAtomic(file, text, { mode: 0o755 });
  }
  return file;
}

const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** Writes (or keeps) ggen's cargo home and its local registry; returns where they are and the env to use. */
export async function prepareCargoHome(opts: CargoHomeOptions = {}): Promise<CargoHome> {
  const base = join(opts.ggenHome ?? ggenHome(opts.env), "cargo");
  const dir = join(base, "home");
  const crateDir = resolve(opts.crateDir ?? DEBIAN_CRATE_DIR);
  const registry = await ensureFileRegistry(opts.registryDir ?? join(base, "registry"));
  const configFile = join(dir, "config.toml");
  const text = cargoConfigToml({ crateDir, localIndexUrl: registry.indexUrl });
  const current = await readFile(configFile, "utf8").catch(() => undefined);
  if (current !== text) {
    await mkdir(dir, { recursive: true });
    await writeFileAtomic(configFile, text);
  }
  const shim = await auditShim(dir, opts);
  return {
    dir,
    configFile,
    crateDir,
    registry,
    env: { CARGO_HOME: dir },
    ...(shim ? { auditShim: shim } : {}),
  };
}

export interface VendoredCrate {
  name: string;
  version: string;
  dir: string;
}

/** The crates of a directory source: its `<name>-<version>` directories (empty when it does not exist). */
export async function vendoredCrates(crateDir: string = DEBIAN_CRATE_DIR): Promise<VendoredCrate[]> {
  const entries = await readdir(crateDir, { withFileTypes: true }).catch(() => []);
  const out: VendoredCrate[] = [];
  for (const e of entries) {
    const m = /^(.+?)-(\d+\.\d+\.\d+(?:[-+].*)?)$/.exec(e.name);
    if (m && (e.isDirectory() || e.isSymbolicLink()))
      out.push({ name: m[1]!, version: m[2]!, dir: join(crateDir, e.name) });
  }
  return out.sort((a, b) => a.name.localeCompare(b.name) || a.version.localeCompare(b.version));
}

/** The Debian package that ships a crate: librust-<name, '_' as '-'>-dev. */
export const debianPackageOf = (crate: string): string =>
  `librust-${crate.toLowerCase().replace(/_/g, "-")}-dev`;

export interface MissingCrate {
  name: string;
  req: string;
  /** Versions the directory source has, none matching. */
  available: string[];
  debianPackage: string;
}

/**
 * The crates.io dependencies (direct, non-optional) that no vendored crate satisfies — so a run can say
 * "install librust-foo-dev" before cargo says "no matching package". Transitive ones are Debian's to
 * pull in (each librust package depends on its own).
 */
export function missingCrates(
  dependencies: readonly ManifestDependency[],
  available: readonly VendoredCrate[],
): MissingCrate[] {
  const out: MissingCrate[] = [];
  for (const d of dependencies) {
    if (!d.cratesIo || d.optional || d.target !== undefined) continue;
    const versions = available.filter((c) => c.name === d.package).map((c) => c.version);
    if (versions.some((v) => satisfiesCargoReq(v, d.req))) continue;
    if (out.some((m) => m.name === d.package && m.req === d.req)) continue;
    out.push({ name: d.package, req: d.req, available: versions, debianPackage: debianPackageOf(d.package) });
  }
  return out;
}
