// `cargo package` and `cargo publish --dry-run`, read from what cargo prints on stderr, and the
// crates.io rules a dry run against a local registry does not check (crates.io's server does:
// description, license, no wildcard or path-only dependencies…). Pure.
//
// What the dry run checks: the manifest parses and the package may be published (`publish` is not
// false), the files to package (the include list, no file over the size limit), the .crate builds
// from the packaged sources alone (the "Verifying" step, skipped with --no-verify), every dependency
// comes from a registry, and the target registry's index answers. It uploads nothing.
import { existsSync } from "node:fs";
import { join } from "node:path";
import semver from "semver";
import { parseCargoManifest, parseToml, type TomlTable } from "./manifest.js";

export interface PackagingResult {
  ok: boolean;
  command: "package" | "publish-dry-run";
  crate?: { name: string; version: string };
  /** "Packaged 7 files, 8.8KiB (3.3KiB compressed)" */
  files?: number;
  size?: string;
  compressedSize?: string;
  /** The packaged sources were built (not --no-verify) and the build passed. */
  verified: boolean;
  /** The dry run got as far as the upload, and stopped there. */
  uploadSkipped: boolean;
  warnings: string[];
  errors: string[];
}

/** Reads cargo's stderr (and exit code) from `cargo package` or `cargo publish --dry-run`. */
export function parsePackagingOutput(stderr: string, exitCode: number | null): PackagingResult {
  const lines = stderr.split("\n");
  const has = (re: RegExp) => lines.some((l) => re.test(l));
  const command = has(/^\s*Uploading |aborting upload due to dry run|^\s*Updating .* index/)
    ? "publish-dry-run"
    : "package";
  const warnings: string[] = [];
  const errors: string[] = [];
  let crate: PackagingResult["crate"];
  let files: number | undefined;
  let size: string | undefined;
  let compressedSize: string | undefined;
  let verifying = false;
  let continues = false;
  for (const line of lines) {
    // Cargo explains some errors on the plain lines after them ("`package.publish` must be set…").
    if (continues && line.trim() !== "" && !/^\s|^(warning|error)\b/.test(line)) {
      errors[errors.length - 1] += ` ${line.trim()}`;
      continue;
    }
    continues = false;
    const pkg = /^\s*Packaging (\S+) v(\S+)/.exec(line);
    if (pkg) crate = { name: pkg[1]!, version: pkg[2]! };
    const done = /^\s*Packaged (\d+) files?, ([\d.]+\s*\w+) \(([\d.]+\s*\w+) compressed\)/.exec(line);
    if (done) {
      files = Number(done[1]);
      size = done[2];
      compressedSize = done[3];
    }
    if (/^\s*Verifying /.test(line)) verifying = true;
    const w = /^warning: (.+)$/.exec(line);
    if (w && !/aborting upload due to dry run/.test(w[1]!)) warnings.push(w[1]!);
    const e = /^error(\[\w+\])?: (.+)$/.exec(line);
    if (e) {
      errors.push(e[1] ? `${e[1].slice(1, -1)}: ${e[2]}` : e[2]!);
      continues = true;
    }
  }
  if (exitCode !== 0 && errors.length === 0) errors.push(`cargo exited ${exitCode ?? "on a signal"}`);
  const uploadSkipped = has(/aborting upload due to dry run/);
  const verified = verifying && exitCode === 0 && errors.length === 0;
  const ok = exitCode === 0 && errors.length === 0 && (command === "package" || uploadSkipped);
  const out: PackagingResult = { ok, command, verified, uploadSkipped, warnings, errors };
  if (crate) out.crate = crate;
  if (files !== undefined) out.files = files;
  if (size !== undefined) out.size = size;
  if (compressedSize !== undefined) out.compressedSize = compressedSize;
  return out;
}

export interface PublishProblems {
  /** crates.io would refuse the crate. */
  errors: string[];
  /** crates.io takes it, but the listing is poorer for it. */
  warnings: string[];
}

const isTable = (v: unknown): v is TomlTable => typeof v === "object" && v !== null && !Array.isArray(v);
const text = (v: unknown) => (typeof v === "string" ? v.trim() : "");

/**
 * What crates.io would refuse in a Cargo.toml (errors) or flag (warnings): seed 001's "Package Valid:
 * Cargo.toml metadata complete and valid". `crateDir` also checks that the readme file exists.
 */
export function publishProblems(manifestText: string, opts: { crateDir?: string } = {}): PublishProblems {
  const doc = parseToml(manifestText, "Cargo.toml", "CARGO_MANIFEST");
  const pkg = isTable(doc.package) ? doc.package : {};
  const errors: string[] = [];
  const warnings: string[] = [];
  const name = text(pkg.name);
  if (!/^[A-Za-z][A-Za-z0-9_-]{0,63}$/.test(name))
    errors.push(
      `package.name '${name}' is not a crates.io name (a letter, then letters, digits, - or _; 64 at most)`,
    );
  const version = text(pkg.version);
  if (semver.valid(version) === null) errors.push(`package.version '${version}' is not a semver version`);
  if (!text(pkg.description)) errors.push("package.description is missing");
  if (!text(pkg.license) && !text(pkg["license-file"]))
    errors.push("package.license (or license-file) is missing");
  if (pkg.publish === false || (Array.isArray(pkg.publish) && pkg.publish.length === 0))
    errors.push("package.publish is false: the crate cannot be published");
  if (!text(pkg.documentation) && !text(pkg.homepage) && !text(pkg.repository))
    warnings.push("none of package.documentation, homepage or repository is set");
  const keywords = Array.isArray(pkg.keywords) ? pkg.keywords.map(String) : [];
  if (keywords.length > 5) errors.push(`package.keywords has ${keywords.length} entries; crates.io takes 5`);
  for (const k of keywords)
    if (!/^[A-Za-z][A-Za-z0-9_+-]{0,19}$/.test(k))
      errors.push(`keyword '${k}' is not valid (a letter, then letters, digits, _, - or +; 20 at most)`);
  const categories = Array.isArray(pkg.categories) ? pkg.categories : [];
  if (categories.length > 5)
    errors.push(`package.categories has ${categories.length} entries; crates.io takes 5`);
  const readme = pkg.readme;
  if (typeof readme === "string" && opts.crateDir && !existsSync(join(opts.crateDir, readme)))
    errors.push(`package.readme '${readme}' does not exist`);
  for (const d of parseCargoManifest(manifestText).dependencies) {
    if (d.kind === "dev" && d.req === "*") continue; // dev-dependencies without a version are stripped on publish
    const spec = `${d.kind === "normal" ? "" : `${d.kind}-`}dependency '${d.name}'`;
    if (!d.cratesIo && d.req === "*")
      errors.push(`${spec} has no version (path and git dependencies need one)`);
    else if (d.req.trim() === "*") errors.push(`${spec} has a wildcard version, which crates.io refuses`);
  }
  return { errors, warnings };
}
