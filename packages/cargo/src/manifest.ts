// What this package reads from a Cargo.toml and a Cargo.lock: the dependency tables and the locked
// packages. Pure: text in, data out; errors point at the file's line and column.
import { GgenError } from "@ggen/support";
import { parse, TomlError } from "smol-toml";

export type TomlTable = Record<string, unknown>;

export const isTable = (v: unknown): v is TomlTable =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** Parses TOML text; a syntax error is a GgenError at file:line:col. `lineOffset` shifts lines (front matter). */
export function parseToml(text: string, file: string, code: string, lineOffset = 0): TomlTable {
  try {
    return parse(text) as TomlTable;
  } catch (e) {
    if (e instanceof TomlError) {
      throw new GgenError(code, `${file}: invalid TOML: ${e.message.split("\n")[0]}`, {
        location: { file, line: e.line + lineOffset, column: e.column },
      });
    }
    throw e;
  }
}

export interface ManifestDependency {
  /** The name the crate is declared under. */
  name: string;
  /** The crate's real name (`package = "…"` renames). */
  package: string;
  /** The version requirement ("*" when none is given). */
  req: string;
  kind: "normal" | "dev" | "build";
  /** cfg(…) or target triple of a [target.…] table. */
  target?: string;
  /** From crates.io (no path, git or other registry). */
  cratesIo: boolean;
  features: string[];
  optional: boolean;
  defaultFeatures: boolean;
}

export interface CrateManifest {
  name: string;
  version: string;
  /** The library's crate name, as code refers to it ([lib] name, else the package name with '_'). */
  lib: string;
  dependencies: ManifestDependency[];
  /** The tables that decide how dependencies build, for cache keys. */
  dependencyTables: TomlTable;
}

const KINDS = [
  ["dependencies", "normal"],
  ["dev-dependencies", "dev"],
  ["build-dependencies", "build"],
] as const;

function depsOf(table: unknown, kind: ManifestDependency["kind"], target?: string): ManifestDependency[] {
  if (!isTable(table)) return [];
  return Object.entries(table).map(([name, spec]) => {
    const s: TomlTable = typeof spec === "string" ? { version: spec } : isTable(spec) ? spec : {};
    const dep: ManifestDependency = {
      name,
      package: typeof s.package === "string" ? s.package : name,
      req: typeof s.version === "string" ? s.version : "*",
      kind,
      cratesIo: s.path === undefined && s.git === undefined && s.registry === undefined,
      features: Array.isArray(s.features) ? s.features.map(String) : [],
      optional: s.optional === true,
      defaultFeatures: s["default-features"] !== false && s.default_features !== false,
    };
    if (target !== undefined) dep.target = target;
    return dep;
  });
}

/** The package name, version and dependencies of a Cargo.toml. */
export function parseCargoManifest(text: string, file = "Cargo.toml"): CrateManifest {
  const doc = parseToml(text, file, "CARGO_MANIFEST");
  const pkg = isTable(doc.package) ? doc.package : {};
  const dependencies: ManifestDependency[] = [];
  const dependencyTables: TomlTable = {};
  for (const [key, kind] of KINDS) {
    dependencies.push(...depsOf(doc[key], kind));
    if (doc[key] !== undefined) dependencyTables[key] = doc[key];
  }
  if (isTable(doc.target)) {
    for (const [target, t] of Object.entries(doc.target)) {
      if (!isTable(t)) continue;
      for (const [key, kind] of KINDS) dependencies.push(...depsOf(t[key], kind, target));
    }
    dependencyTables.target = doc.target;
  }
  for (const key of ["features", "profile", "patch", "replace"]) {
    if (doc[key] !== undefined) dependencyTables[key] = doc[key];
  }
  const name = typeof pkg.name === "string" ? pkg.name : "";
  const lib = isTable(doc.lib) && typeof doc.lib.name === "string" ? doc.lib.name : name.replace(/-/g, "_");
  return {
    name,
    version: typeof pkg.version === "string" ? pkg.version : "",
    lib,
    dependencies,
    dependencyTables,
  };
}

export interface LockedPackage {
  name: string;
  version: string;
  /** "registry+https://github.com/rust-lang/crates.io-index", "git+…"; absent for the crate's own packages. */
  source?: string;
  checksum?: string;
  dependencies: string[];
}

/** The packages of a Cargo.lock (any lockfile version). */
export function parseCargoLock(text: string, file = "Cargo.lock"): LockedPackage[] {
  const doc = parseToml(text, file, "CARGO_LOCK");
  const list = Array.isArray(doc.package) ? doc.package : [];
  return list.filter(isTable).map((p) => {
    const out: LockedPackage = {
      name: String(p.name ?? ""),
      version: String(p.version ?? ""),
      dependencies: Array.isArray(p.dependencies) ? p.dependencies.map(String) : [],
    };
    if (typeof p.source === "string") out.source = p.source;
    if (typeof p.checksum === "string") out.checksum = p.checksum;
    return out;
  });
}

/** Whether a locked package comes from crates.io (or what replaces it: the Debian directory source). */
export const fromCratesIo = (p: LockedPackage): boolean =>
  p.source !== undefined &&
  (p.source.startsWith("registry+https://github.com/rust-lang/crates.io-index") ||
    p.source.startsWith("sparse+https://index.crates.io/"));
