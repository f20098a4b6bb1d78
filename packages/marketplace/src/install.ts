// Installing into a project, all or nothing: under the project lock, resolve → fetch, check and extract
// every pack into one fresh staging directory (p-limit) → check each staged pack (manifest, tree hash)
// → swap the staged packs into .ggen/packages/<id> (rolled back if a rename fails) → write ggen.lock,
// which is the commit. A failure or Ctrl-C before the swap removes the staging directory, so nothing
// is half-installed; a kill -9 leaves it for the next command to sweep, and an install cut inside the
// swap is caught by the tree hashes (verify says "modified", the next add reinstalls).

import { lstat, mkdir, readdir, readFile, readlink, rename, rm } from "node:fs/promises";
import { join, resolve } from "node:path";
import { GgenError, type Lockfile, PACK_MANIFEST_FILE, type PackManifest } from "@ggen/contract";
import { sha256, sha256File } from "@ggen/support";
import { archiveContents, extractSafe, treeHash } from "./archive.js";
import { semver } from "./deps.js";
import { ensurePackagesDir, freshDir, INTERNAL_DIR, sweepLeftovers } from "./layout.js";
import { readLock, withProjectLock, writeLock } from "./lockfile.js";
import { packagesDir, readPackManifest } from "./packs.js";
import { undeclaredPrefixes } from "./query-prefixes.js";
import { latestVersion } from "./registry-index.js";
import { type Requirement, type Resolved, resolveRequirements } from "./resolve.js";
import {
  archiveDisplay,
  archiveLocation,
  type Catalog,
  cacheDir,
  fetchArchive,
  interrupted,
  loadCatalog,
  type MarketOptions,
  marketLimits,
  pathExists,
} from "./sources.js";
import { assertPackId } from "./util.js";

export interface InstallOptions extends MarketOptions {
  force?: boolean;
  noDeps?: boolean;
  /** Parallel installs (default 4). */
  concurrency?: number;
  /** Pre-loaded catalog (tests and benchmarks). */
  catalog?: Catalog;
}

export interface InstallChange {
  id: string;
  from?: string;
  to: string;
  action: "installed" | "updated" | "reinstalled" | "unchanged" | "removed";
}

export interface InstallResult {
  changes: InstallChange[];
  lock: Lockfile;
}

/** Splits `id@range` (range defaults to `*`) and checks both. */
export function parseSpec(spec: string): { id: string; range: string } {
  const at = spec.lastIndexOf("@");
  const id = at > 0 ? spec.slice(0, at) : spec;
  const range = at > 0 ? spec.slice(at + 1).trim() : "*";
  assertPackId(id);
  if (range === "")
    throw new GgenError("INVALID_RANGE", `'${spec}': the version range after '@' is empty`, {
      kind: "usage",
      hint: `write '${id}' for the newest version, or '${id}@^1.0'`,
    });
  if (semver().validRange(range) === null)
    throw new GgenError("INVALID_RANGE", `invalid version range '${range}' in '${spec}'`, {
      kind: "usage",
      hint: "use a semver range like ^1.2, ~1.2.3, >=1 <2, or an exact version",
    });
  return { id, range };
}

function project(opts: MarketOptions): string {
  return resolve(opts.projectDir ?? process.cwd());
}

/** Runs a change of the project under its lock, after sweeping what a killed command left. */
function locked<T>(dir: string, opts: MarketOptions, fn: () => Promise<T>): Promise<T> {
  return withProjectLock(
    dir,
    async () => {
      await sweepLeftovers(dir);
      return fn();
    },
    opts.onWarning,
  );
}

/** `ggen market add`: installs packs (and their dependencies) and pins them in ggen.lock. */
export async function addPacks(specs: readonly string[], opts: InstallOptions = {}): Promise<InstallResult> {
  const parsed = specs.map(parseSpec);
  if (parsed.length === 0) throw new GgenError("USAGE", "name at least one pack to add", { kind: "usage" });
  const dir = project(opts);
  await mkdir(dir, { recursive: true });
  const catalog = opts.catalog ?? (await loadCatalog(opts));
  return locked(dir, opts, async () => {
    const lock = await readLock(dir);
    const roots: Requirement[] = [];
    const named = new Set(parsed.map((p) => p.id));
    for (const [id, e] of Object.entries(lock.packs)) {
      if (e.requested !== null && !named.has(id)) roots.push({ id, range: e.requested, by: "ggen.lock" });
    }
    for (const p of parsed) roots.push({ id: p.id, range: p.range, by: "command line" });
    return apply(dir, catalog, lock, roots, opts, named, new Map(parsed.map((p) => [p.id, p.range])));
  });
}

/** `ggen market update`: moves packs to the newest version their range allows (or the newest, --latest). */
export async function updatePacks(
  ids: readonly string[],
  opts: InstallOptions & { latest?: boolean } = {},
): Promise<InstallResult> {
  const dir = project(opts);
  const catalog = opts.catalog ?? (await loadCatalog(opts));
  return locked(dir, opts, async () => {
    const lock = await readLock(dir);
    for (const id of ids) {
      assertPackId(id);
      if (!lock.packs[id]) throw notInstalled(id, Object.keys(lock.packs));
    }
    const targets = new Set(ids.length > 0 ? ids : Object.keys(lock.packs));
    const roots: Requirement[] = [];
    const requested = new Map<string, string>();
    for (const [id, e] of Object.entries(lock.packs)) {
      if (e.requested === null && !ids.includes(id)) continue;
      let range = e.requested ?? "*";
      if (opts.latest && targets.has(id)) {
        const entry = catalog.packs.get(id);
        if (entry) range = `^${latestVersion(entry.pack).version}`;
      }
      if (e.requested !== null || ids.includes(id)) requested.set(id, range);
      roots.push({ id, range, by: targets.has(id) ? "command line" : "ggen.lock" });
    }
    // Prefer locked versions only for packs not being updated.
    const keep = new Map<string, string>();
    for (const [id, e] of Object.entries(lock.packs)) if (!targets.has(id)) keep.set(id, e.version);
    return apply(dir, catalog, lock, roots, { ...opts, force: false }, new Set(), requested, keep);
  });
}

async function apply(
  dir: string,
  catalog: Catalog,
  lock: Lockfile,
  roots: Requirement[],
  opts: InstallOptions,
  forced: Set<string>,
  requested: Map<string, string>,
  preferred?: Map<string, string>,
): Promise<InstallResult> {
  const pref = preferred ?? new Map(Object.entries(lock.packs).map(([id, e]) => [id, e.version]));
  const resolved = resolveRequirements(roots, {
    lookup: (id) => catalog.packs.get(id)?.pack,
    allIds: () => catalog.packs.keys(),
    preferred: pref,
    ...(opts.noDeps ? { noDeps: true } : {}),
    ...(opts.ggenVersion ? { ggenVersion: opts.ggenVersion } : {}),
  });
  const pkgDir = await ensurePackagesDir(dir);
  const work: Resolved[] = [];
  const changes: InstallChange[] = [];
  for (const r of resolved.values()) {
    const old = lock.packs[r.pack.id];
    const same = old && old.version === r.version.version && old.sha256 === r.version.sha256;
    // Present means as the lock pins it, file for file: an install cut short is redone.
    const present = same && (await intact(join(pkgDir, r.pack.id), old.integrity));
    if (same && present && !(opts.force && forced.has(r.pack.id))) {
      changes.push({ id: r.pack.id, from: old.version, to: old.version, action: "unchanged" });
      continue;
    }
    work.push(r);
    changes.push({
      id: r.pack.id,
      ...(old ? { from: old.version } : {}),
      to: r.version.version,
      action: !old ? "installed" : same ? "reinstalled" : "updated",
    });
  }
  const staging = work.length > 0 ? await freshDir(pkgDir, "staging") : undefined;
  try {
    const staged = staging ? await stageAll(staging, catalog, work, opts) : new Map<string, Staged>();
    const next: Lockfile = { lockfileVersion: 1, packs: {} };
    // Keep lock entries of packs the resolution no longer reaches only when --no-deps left them out.
    for (const r of resolved.values()) {
      const id = r.pack.id;
      const s = staged.get(id);
      const old = lock.packs[id];
      const entry = catalog.packs.get(id)!;
      next.packs[id] = {
        version: r.version.version,
        sha256: r.version.sha256,
        integrity: s?.integrity ?? old!.integrity,
        source: entry.registry.source.spec,
        archive: archiveDisplay(archiveLocation(entry, r.version)),
        requested: pinRange(requested.get(id), r.version.version) ?? old?.requested ?? null,
        dependencies: r.dependencies,
      };
    }
    const orphans = Object.keys(lock.packs).filter((id) => !next.packs[id]);
    // The last moment to stop with nothing changed.
    if (opts.signal?.aborted) throw interrupted();
    const trash = await freshDir(pkgDir, "trash");
    await swapIn(pkgDir, staged, trash);
    await writeLock(dir, next);
    for (const id of orphans) {
      const from = join(pkgDir, id);
      if (await pathExists(from)) await rename(from, join(trash, id));
      changes.push({ id, from: lock.packs[id]!.version, to: "", action: "removed" });
    }
    await rm(trash, { recursive: true, force: true });
    changes.sort((a, b) => a.id.localeCompare(b.id));
    return { changes, lock: next };
  } finally {
    if (staging) await rm(staging, { recursive: true, force: true });
  }
}

/** Does the installed tree at `packDir` hash to what the lock recorded? */
async function intact(packDir: string, integrity: string): Promise<boolean> {
  if (!(await pathExists(join(packDir, PACK_MANIFEST_FILE)))) return false;
  return (await treeHash(packDir)) === integrity;
}

/**
 * Moves each staged pack to `.ggen/packages/<id>` (an installed one goes to `trash` first). When a
 * rename fails half way, the packs already moved are put back, so the tree matches the old lock.
 */
async function swapIn(pkgDir: string, staged: Map<string, Staged>, trash: string): Promise<void> {
  const done: { id: string; replaced: boolean; from: string }[] = [];
  try {
    for (const [id, s] of staged) {
      const final = join(pkgDir, id);
      const replaced = await pathExists(final);
      if (replaced) await rename(final, join(trash, id));
      try {
        await rename(s.dir, final);
      } catch (e) {
        if (replaced) await rename(join(trash, id), final);
        throw e;
      }
      done.push({ id, replaced, from: s.dir });
    }
  } catch (e) {
    for (const d of done.reverse()) {
      await rename(join(pkgDir, d.id), d.from).catch(() => undefined);
      if (d.replaced) await rename(join(trash, d.id), join(pkgDir, d.id)).catch(() => undefined);
    }
    throw e;
  }
}

interface Staged {
  dir: string;
  integrity: string;
  manifest: PackManifest;
}

async function stageAll(
  staging: string,
  catalog: Catalog,
  work: Resolved[],
  opts: InstallOptions,
): Promise<Map<string, Staged>> {
  const staged = new Map<string, Staged>();
  const { default: pLimit } = await import("p-limit");
  const limit = pLimit(opts.concurrency ?? 4);
  const limits = await marketLimits(opts);
  const results = await Promise.allSettled(
    work.map((r) =>
      limit(async () => {
        if (opts.signal?.aborted) throw interrupted();
        const entry = catalog.packs.get(r.pack.id)!;
        const loc = archiveLocation(entry, r.version);
        const archive = await fetchArchive(r.pack.id, r.version, loc, opts);
        const dir = join(staging, r.pack.id);
        await mkdir(dir, { mode: 0o755 });
        await extractSafe(archive, dir, { maxEntries: limits.maxEntries, maxBytes: limits.maxUnpackedBytes });
        const manifest = await readPackManifest(dir);
        if (manifest.pack.id !== r.pack.id || manifest.pack.version !== r.version.version)
          throw new GgenError(
            "ARCHIVE_MISMATCH",
            `${r.pack.id}@${r.version.version}: the archive holds ${manifest.pack.id}@${manifest.pack.version}`,
            { location: { file: archiveDisplay(loc) } },
          );
        staged.set(r.pack.id, { dir, integrity: await treeHash(dir), manifest });
      }),
    ),
  );
  const failed = results.find((x): x is PromiseRejectedResult => x.status === "rejected");
  if (failed) throw opts.signal?.aborted ? interrupted() : failed.reason;
  return staged;
}

/** A bare `add id` is recorded as ^<resolved version>, as npm does, so `update` stays compatible. */
function pinRange(range: string | undefined, version: string): string | undefined {
  if (range === undefined) return undefined;
  return range === "*" || range === "" ? `^${version}` : range;
}

function notInstalled(id: string, installed: string[]): GgenError {
  const hint = installed.length ? `installed: ${installed.join(", ")}` : "nothing is installed";
  return new GgenError("PACK_NOT_INSTALLED", `pack '${id}' is not installed`, { kind: "usage", hint });
}

/** `ggen market remove`: removes a pack (and dependencies nothing else needs) from the project. */
export async function removePacks(
  ids: readonly string[],
  opts: MarketOptions & { force?: boolean } = {},
): Promise<{ removed: string[]; lock: Lockfile }> {
  const dir = project(opts);
  return locked(dir, opts, async () => {
    const lock = await readLock(dir);
    for (const id of ids) {
      assertPackId(id);
      if (!lock.packs[id]) throw notInstalled(id, Object.keys(lock.packs));
    }
    const gone = new Set(ids);
    if (!opts.force) {
      for (const [other, e] of Object.entries(lock.packs)) {
        if (gone.has(other)) continue;
        for (const id of ids)
          if (e.dependencies[id])
            throw new GgenError("PACK_REQUIRED", `cannot remove '${id}': '${other}' depends on it`, {
              kind: "usage",
              hint: `remove '${other}' too, or use --force`,
            });
      }
    }
    // Dependencies only reachable from removed packs go too.
    const keep = new Set<string>();
    const visit = (id: string) => {
      if (keep.has(id) || gone.has(id) || !lock.packs[id]) return;
      keep.add(id);
      for (const d of Object.keys(lock.packs[id]!.dependencies)) visit(d);
    };
    for (const [id, e] of Object.entries(lock.packs)) if (e.requested !== null || opts.force) visit(id);
    const removed = Object.keys(lock.packs).filter((id) => !keep.has(id));
    const next: Lockfile = { lockfileVersion: 1, packs: {} };
    for (const id of keep) next.packs[id] = lock.packs[id]!;
    const pkgDir = await ensurePackagesDir(dir);
    // A fresh trash directory: a `.trash` planted as a symlink elsewhere is never written into.
    const trash = await freshDir(pkgDir, "trash");
    try {
      for (const id of removed) {
        const from = join(pkgDir, id);
        if (await pathExists(from)) await rename(from, join(trash, id));
      }
      await writeLock(dir, next);
    } finally {
      await rm(trash, { recursive: true, force: true });
    }
    return { removed: removed.sort(), lock: next };
  });
}

export interface VerifyEntry {
  id: string;
  version: string;
  /**
   * ok: the tree is what the lock pins, file for file, and its queries declare their prefixes;
   * modified / missing: it is not, or is gone; unlocked: a pack directory ggen.lock does not pin;
   * undeclared-prefix: a SPARQL query uses a prefix it does not declare.
   */
  status: "ok" | "modified" | "missing" | "unlocked" | "undeclared-prefix";
  expected: string;
  actual?: string;
  /** What is wrong, one short phrase each (files changed, added or removed; queries and prefixes). */
  problems: string[];
}

const SHOWN = 8;

/** The installed tree's files, links and directories with digests, as archiveContents lists an archive. */
async function treeContents(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (rel: string) => {
    for (const d of await readdir(rel ? join(dir, rel) : dir, { withFileTypes: true })) {
      const r = rel ? `${rel}/${d.name}` : d.name;
      const abs = join(dir, r);
      if (d.isDirectory()) {
        out.set(r, "dir");
        await walk(r);
      } else if (d.isSymbolicLink()) out.set(r, `symlink ${await readlink(abs)}`);
      else if (d.isFile()) out.set(r, `file ${sha256(await readFile(abs))}`);
      else out.set(r, "special");
    }
  };
  await walk("");
  return out;
}

/** Names what differs between an installed pack and its archive (from the archive cache), when cached. */
async function differences(packDir: string, sha: string, opts: MarketOptions): Promise<string[]> {
  const archive = join(cacheDir(opts), "archives", `${sha}.tar.gz`);
  let listed: Awaited<ReturnType<typeof archiveContents>>;
  try {
    if ((await sha256File(archive)) !== sha) return [];
    const limits = await marketLimits(opts);
    listed = await archiveContents(archive, {
      maxEntries: limits.maxEntries,
      maxBytes: limits.maxUnpackedBytes,
    });
  } catch {
    return [];
  }
  const want = new Map<string, string>();
  for (const [rel, e] of listed) {
    want.set(
      rel,
      e.kind === "file" ? `file ${e.digest}` : e.kind === "symlink" ? `symlink ${e.digest}` : "dir",
    );
    // Directories an archive implies by its paths.
    for (let i = rel.indexOf("/"); i > 0; i = rel.indexOf("/", i + 1)) want.set(rel.slice(0, i), "dir");
  }
  const have = await treeContents(packDir);
  const out: string[] = [];
  for (const [rel, v] of have) {
    const w = want.get(rel);
    if (w === undefined) out.push(`added ${rel}`);
    else if (w !== v) out.push(`changed ${rel}`);
  }
  for (const rel of want.keys()) if (!have.has(rel)) out.push(`removed ${rel}`);
  return out.sort();
}

/** The SPARQL files of a pack (`*.rq`, `*.sparql`) whose queries use prefixes they do not declare. */
async function prefixProblems(packDir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (rel: string) => {
    const entries = await readdir(rel ? join(packDir, rel) : packDir, { withFileTypes: true });
    for (const d of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      const r = rel ? `${rel}/${d.name}` : d.name;
      if (d.isDirectory()) await walk(r);
      else if (d.isFile() && /\.(rq|sparql)$/i.test(d.name)) {
        for (const u of undeclaredPrefixes(await readFile(join(packDir, r), "utf8")))
          out.push(`${r}:${u.line} uses '${u.prefix}:' without a PREFIX`);
      }
    }
  };
  await walk("");
  return out;
}

const clip = (items: string[]) =>
  items.length > SHOWN ? [...items.slice(0, SHOWN), `and ${items.length - SHOWN} more`] : items;

/**
 * `ggen market verify`: every installed pack against ggen.lock — the tree hash recorded at install
 * covers each file's path, content and exec bit, so any changed, added or removed file fails it (and
 * is named when the archive is in the cache); pack directories the lock does not pin fail; and each
 * pack's SPARQL queries must declare every prefix they use.
 */
export async function verifyPacks(opts: MarketOptions = {}): Promise<VerifyEntry[]> {
  const dir = project(opts);
  const lock = await readLock(dir);
  const pkgDir = packagesDir(dir);
  const out: VerifyEntry[] = [];
  for (const [id, e] of Object.entries(lock.packs).sort(([a], [b]) => a.localeCompare(b))) {
    const packDir = join(pkgDir, id);
    if (!(await isRealDir(packDir))) {
      out.push({ id, version: e.version, status: "missing", expected: e.integrity, problems: [] });
      continue;
    }
    const actual = await treeHash(packDir);
    if (actual !== e.integrity) {
      const problems = clip(await differences(packDir, e.sha256, opts));
      out.push({ id, version: e.version, status: "modified", expected: e.integrity, actual, problems });
      continue;
    }
    const prefixes = await prefixProblems(packDir);
    out.push({
      id,
      version: e.version,
      status: prefixes.length > 0 ? "undeclared-prefix" : "ok",
      expected: e.integrity,
      actual,
      problems: clip(prefixes),
    });
  }
  for (const name of (await readdir(pkgDir).catch(() => [] as string[])).sort()) {
    if (INTERNAL_DIR.test(name) || lock.packs[name]) continue;
    out.push({ id: name, version: "", status: "unlocked", expected: "", problems: ["not in ggen.lock"] });
  }
  return out;
}

async function isRealDir(p: string): Promise<boolean> {
  try {
    return (await lstat(p)).isDirectory();
  } catch {
    return false;
  }
}
