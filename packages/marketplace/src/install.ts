// Installing into a project: resolve → fetch + verify + extract every pack into staging in parallel
// (p-limit) → swap staging dirs into .ggen/packages/<id> → write ggen.lock, all under the project
// lock. Any failure before the swap removes every staging dir, so nothing is half-installed.

import { mkdir, rename, rm } from "node:fs/promises";
import { join, resolve } from "node:path";
import { GgenError, type Lockfile, PACK_MANIFEST_FILE, type PackManifest } from "@ggen/contract";
import { extractSafe, treeHash } from "./archive.js";
import { semver } from "./deps.js";
import { readLock, withProjectLock, writeLock } from "./lockfile.js";
import { packagesDir, readPackManifest } from "./packs.js";
import { latestVersion } from "./registry-index.js";
import { type Requirement, type Resolved, resolveRequirements } from "./resolve.js";
import {
  archiveDisplay,
  archiveLocation,
  type Catalog,
  fetchArchive,
  loadCatalog,
  type MarketOptions,
  pathExists,
} from "./sources.js";
import { assertPackId, randomSuffix } from "./util.js";

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
  const range = at > 0 ? spec.slice(at + 1) || "*" : "*";
  assertPackId(id);
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

/** `ggen market add`: installs packs (and their dependencies) and pins them in ggen.lock. */
export async function addPacks(specs: readonly string[], opts: InstallOptions = {}): Promise<InstallResult> {
  const parsed = specs.map(parseSpec);
  if (parsed.length === 0) throw new GgenError("USAGE", "name at least one pack to add", { kind: "usage" });
  const dir = project(opts);
  await mkdir(dir, { recursive: true });
  const catalog = opts.catalog ?? (await loadCatalog(opts));
  return withProjectLock(dir, async () => {
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
  return withProjectLock(dir, async () => {
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
  const pkgDir = packagesDir(dir);
  const work: Resolved[] = [];
  const changes: InstallChange[] = [];
  for (const r of resolved.values()) {
    const old = lock.packs[r.pack.id];
    const same = old && old.version === r.version.version && old.sha256 === r.version.sha256;
    const present = await pathExists(join(pkgDir, r.pack.id, PACK_MANIFEST_FILE));
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
  const staged = await stageAll(pkgDir, catalog, work, opts);
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
  // Swap staged packs in, then write the lock; drop dirs of packs no longer needed.
  const trash = join(pkgDir, ".trash");
  try {
    for (const [id, s] of staged) {
      const final = join(pkgDir, id);
      if (await pathExists(final)) {
        await mkdir(trash, { recursive: true });
        await rename(final, join(trash, `${id}-${randomSuffix()}`));
      }
      await rename(s.dir, final);
    }
  } finally {
    for (const s of staged.values()) await rm(s.dir, { recursive: true, force: true });
  }
  await writeLock(dir, next);
  for (const id of orphans) {
    await rm(join(pkgDir, id), { recursive: true, force: true });
    changes.push({ id, from: lock.packs[id]!.version, to: "", action: "removed" });
  }
  await rm(trash, { recursive: true, force: true });
  await rm(join(pkgDir, ".staging"), { recursive: true, force: true }).catch(() => {});
  changes.sort((a, b) => a.id.localeCompare(b.id));
  return { changes, lock: next };
}

interface Staged {
  dir: string;
  integrity: string;
  manifest: PackManifest;
}

async function stageAll(
  pkgDir: string,
  catalog: Catalog,
  work: Resolved[],
  opts: InstallOptions,
): Promise<Map<string, Staged>> {
  const staged = new Map<string, Staged>();
  const dirs: string[] = [];
  if (work.length === 0) return staged;
  const { default: pLimit } = await import("p-limit");
  const limit = pLimit(opts.concurrency ?? 4);
  const stagingRoot = join(pkgDir, ".staging");
  await mkdir(stagingRoot, { recursive: true });
  const results = await Promise.allSettled(
    work.map((r) =>
      limit(async () => {
        const entry = catalog.packs.get(r.pack.id)!;
        const loc = archiveLocation(entry, r.version);
        const archive = await fetchArchive(r.pack.id, r.version, loc, opts);
        const dir = join(stagingRoot, `${r.pack.id}-${randomSuffix()}`);
        dirs.push(dir);
        await mkdir(dir, { recursive: true });
        await extractSafe(archive, dir);
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
  if (failed) {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
    await rm(stagingRoot, { recursive: true, force: true }).catch(() => {});
    throw failed.reason;
  }
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
  return withProjectLock(dir, async () => {
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
    const trash = join(packagesDir(dir), ".trash");
    await mkdir(trash, { recursive: true });
    const moved: string[] = [];
    for (const id of removed) {
      const from = join(packagesDir(dir), id);
      if (await pathExists(from)) {
        const to = join(trash, `${id}-${randomSuffix()}`);
        await rename(from, to);
        moved.push(to);
      }
    }
    await writeLock(dir, next);
    await rm(trash, { recursive: true, force: true });
    return { removed: removed.sort(), lock: next };
  });
}

export interface VerifyEntry {
  id: string;
  version: string;
  status: "ok" | "modified" | "missing";
  expected: string;
  actual?: string;
}

/** `ggen market verify`: re-hashes every installed pack against ggen.lock. */
export async function verifyPacks(opts: MarketOptions = {}): Promise<VerifyEntry[]> {
  const dir = project(opts);
  const lock = await readLock(dir);
  const out: VerifyEntry[] = [];
  for (const [id, e] of Object.entries(lock.packs).sort(([a], [b]) => a.localeCompare(b))) {
    const packDir = join(packagesDir(dir), id);
    if (!(await pathExists(packDir))) {
      out.push({ id, version: e.version, status: "missing", expected: e.integrity });
      continue;
    }
    const actual = await treeHash(packDir);
    out.push({
      id,
      version: e.version,
      status: actual === e.integrity ? "ok" : "modified",
      expected: e.integrity,
      actual,
    });
  }
  return out;
}
