// An offline `cargo audit`: a Cargo.lock checked against an advisory database in RustSec's own format
// (github.com/rustsec/advisory-db: crates/<name>/RUSTSEC-YYYY-NNNN.md, a ```toml front matter then
// the Markdown text), so the real database's files can be dropped in as they are. Like cargo-audit,
// only crates.io packages are matched; a package version is affected unless it matches one of
// `patched` or `unaffected`; withdrawn (or old-style `yanked`) advisories are skipped; informational
// ones (unmaintained, unsound, notice) are warnings and do not fail the audit.
import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { GgenError } from "@ggen/support";
import { fromCratesIo, parseCargoLock, parseToml, type TomlTable } from "./manifest.js";
import { cargoReqToRange, satisfiesCargoReq } from "./version-req.js";

export interface Advisory {
  id: string;
  package: string;
  /** "YYYY-MM-DD" */
  date: string;
  title: string;
  url?: string;
  aliases: string[];
  categories: string[];
  /** "unmaintained" | "unsound" | "notice": a warning, not a vulnerability. */
  informational?: string;
  /** Withdrawn advisories are kept in the database but never reported. */
  withdrawn: boolean;
  patched: string[];
  unaffected: string[];
  /** [affected] os, when the advisory names some (reported; cargo-audit does not filter on it by default). */
  os: string[];
  /** The file it came from. */
  file: string;
}

const isTable = (v: unknown): v is TomlTable => typeof v === "object" && v !== null && !Array.isArray(v);
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : []);

function fail(file: string, message: string, line = 1): never {
  throw new GgenError("ADVISORY_DB", `${file}: ${message}`, { location: { file, line, column: 1 } });
}

/** Parses one advisory: RustSec's Markdown (```toml front matter + text) or its older plain-TOML form. */
export function parseAdvisory(text: string, file: string): Advisory {
  let toml = text;
  let body = "";
  let offset = 0;
  if (file.endsWith(".md")) {
    const m = /^```toml\r?\n([\s\S]*?)\r?\n```[^\n]*\n?([\s\S]*)$/.exec(text);
    if (!m) fail(file, "expected a ```toml front matter block at the top");
    toml = m[1]!;
    body = m[2]!;
    offset = 1;
  }
  const doc = parseToml(toml, file, "ADVISORY_DB", offset);
  const a = isTable(doc.advisory) ? doc.advisory : fail(file, "missing [advisory]");
  const versions = isTable(doc.versions) ? doc.versions : fail(file, "missing [versions]");
  const affected = isTable(doc.affected) ? doc.affected : {};
  for (const key of ["id", "package", "date"])
    if (typeof a[key] !== "string" && !(a[key] instanceof Date)) fail(file, `[advisory] ${key} is missing`);
  const reqs = [...strings(versions.patched), ...strings(versions.unaffected)];
  for (const r of reqs)
    if (cargoReqToRange(r) === undefined) fail(file, `version requirement '${r}' is not valid`);
  const date = a.date instanceof Date ? a.date.toISOString().slice(0, 10) : String(a.date);
  const title =
    (typeof a.title === "string" ? a.title : undefined) ??
    /^#\s+(.+)$/m.exec(body)?.[1]?.trim() ??
    String(a.id);
  const out: Advisory = {
    id: String(a.id),
    package: String(a.package),
    date,
    title,
    aliases: strings(a.aliases),
    categories: strings(a.categories),
    withdrawn: a.withdrawn !== undefined || a.yanked === true,
    patched: strings(versions.patched),
    unaffected: strings(versions.unaffected),
    os: strings(affected.os),
    file,
  };
  if (typeof a.url === "string") out.url = a.url;
  if (typeof a.informational === "string") out.informational = a.informational;
  return out;
}

export interface AdvisoryDb {
  dir: string;
  advisories: Advisory[];
}

/** Loads every crates/<name>/*.md (and *.toml) advisory under `dir`. */
export async function loadAdvisoryDb(dir: string): Promise<AdvisoryDb> {
  const crates = join(dir, "crates");
  if (!existsSync(crates))
    throw new GgenError(
      "ADVISORY_DB",
      `no advisory database at ${dir} (expected ${crates}/<crate>/RUSTSEC-*.md)`,
    );
  const advisories: Advisory[] = [];
  for (const name of (await readdir(crates)).sort()) {
    const files = await readdir(join(crates, name)).catch(() => [] as string[]);
    for (const f of files.sort()) {
      if (!/\.(md|toml)$/.test(f)) continue;
      const file = join(crates, name, f);
      const adv = parseAdvisory(await readFile(file, "utf8"), file);
      if (adv.package !== name) fail(file, `package '${adv.package}' is filed under crates/${name}`);
      advisories.push(adv);
    }
  }
  return { dir, advisories };
}

/** The advisory database shipped with the project: fixtures/advisories/rustsec (found upwards from here). */
export function defaultAdvisoryDbDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    const candidate = join(dir, "fixtures", "advisories", "rustsec");
    if (existsSync(join(candidate, "crates"))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new GgenError(
    "ADVISORY_DB",
    "the bundled advisory database (fixtures/advisories/rustsec) was not found",
  );
}

/** Whether `version` of the advisory's package is affected. */
export function isAffected(adv: Advisory, version: string): boolean {
  return ![...adv.patched, ...adv.unaffected].some((req) => satisfiesCargoReq(version, req));
}

export interface AuditFinding {
  id: string;
  package: string;
  version: string;
  title: string;
  date: string;
  url?: string;
  aliases: string[];
  /** Set for warnings: "unmaintained", "unsound", "notice". */
  kind?: string;
  /** "upgrade to >= 0.8.0", or "no patched version". */
  solution: string;
}

export interface AuditResult {
  /** No vulnerability found (warnings do not count). */
  audit_passed: boolean;
  vulnerabilities: AuditFinding[];
  warnings: AuditFinding[];
  /** crates.io packages checked. */
  packages: number;
  /** Advisories in the database (withdrawn ones excluded). */
  advisories: number;
}

/** Checks a Cargo.lock's crates.io packages against the database. `ignore` lists advisory ids to skip. Pure. */
export function auditCargoLock(
  lockText: string,
  db: AdvisoryDb,
  opts: { ignore?: readonly string[] } = {},
): AuditResult {
  const ignore = new Set(opts.ignore ?? []);
  const active = db.advisories.filter((a) => !a.withdrawn && !ignore.has(a.id));
  const byPackage = new Map<string, Advisory[]>();
  for (const a of active) byPackage.set(a.package, [...(byPackage.get(a.package) ?? []), a]);
  const packages = parseCargoLock(lockText).filter(fromCratesIo);
  const vulnerabilities: AuditFinding[] = [];
  const warnings: AuditFinding[] = [];
  for (const p of packages) {
    for (const adv of byPackage.get(p.name) ?? []) {
      if (!isAffected(adv, p.version)) continue;
      const finding: AuditFinding = {
        id: adv.id,
        package: p.name,
        version: p.version,
        title: adv.title,
        date: adv.date,
        aliases: adv.aliases,
        solution: adv.patched.length > 0 ? `upgrade to ${adv.patched.join(" or ")}` : "no patched version",
      };
      if (adv.url) finding.url = adv.url;
      if (adv.informational) {
        finding.kind = adv.informational;
        warnings.push(finding);
      } else vulnerabilities.push(finding);
    }
  }
  const order = (a: AuditFinding, b: AuditFinding) =>
    a.package.localeCompare(b.package) || a.id.localeCompare(b.id);
  return {
    audit_passed: vulnerabilities.length === 0,
    vulnerabilities: vulnerabilities.sort(order),
    warnings: warnings.sort(order),
    packages: packages.length,
    advisories: active.length,
  };
}
