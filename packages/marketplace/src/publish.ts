// Publishing: a pack directory → a deterministic .tar.gz and its index entry (with a quality score
// computed from the pack itself); a set of pack dirs → a registry directory with index.json.

import { existsSync } from "node:fs";
import { mkdir, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  type IndexPack,
  type IndexVersion,
  PACK_MANIFEST_FILE,
  type PackManifest,
  type QualityScore,
  REGISTRY_INDEX_FORMAT,
  type RegistryIndex,
} from "@ggen/contract";
import { sha256 } from "@ggen/support";
import { collectEntries, writeTarGz } from "./archive.js";
import { semver } from "./deps.js";
import { readPackManifest } from "./packs.js";

export interface PackedPack {
  manifest: PackManifest;
  archive: Buffer;
  sha256: string;
  files: string[];
}

/** Packs a directory (which must hold a valid ggen.toml) into a deterministic .tar.gz. */
export async function packDirectory(dir: string): Promise<PackedPack> {
  const manifest = await readPackManifest(dir);
  const entries = (await collectEntries(dir)).filter(
    (e) => !/(^|\/)(node_modules|target|\.git|\.ggen)(\/|$)/.test(e.path),
  );
  const archive = writeTarGz(entries);
  return { manifest, archive, sha256: sha256(archive), files: entries.map((e) => e.path) };
}

/** Quality from what the pack holds: metadata, documentation, template descriptions, dependency hygiene. */
export function qualityOf(m: PackManifest, files: readonly string[]): QualityScore {
  const p = m.pack;
  const meta = [
    p.description,
    p.license,
    p.homepage,
    p.category,
    p.keywords.length > 0,
    p.tags.length > 0,
    p.ggen,
  ];
  const metadata = Math.round((100 * meta.filter(Boolean).length) / meta.length);
  const hasReadme = files.some((f) => /^readme(\.md)?$/i.test(f));
  const described =
    m.templates.length === 0 ? 0 : m.templates.filter((t) => t.description).length / m.templates.length;
  const documentation = Math.round(hasReadme ? 50 + 50 * described : 50 * described);
  const present = m.templates.filter((t) => files.includes(t.path)).length;
  const templates = m.templates.length === 0 ? 0 : Math.round((100 * present) / m.templates.length);
  const ranges = Object.values(m.dependencies);
  const bounded = ranges.filter(
    (r) => r !== "*" && semver().validRange(r) !== null && !/^>=?[^<]*$/.test(r.trim()),
  );
  const dependencies = ranges.length === 0 ? 100 : Math.round((100 * bounded.length) / ranges.length);
  const parts = { metadata, documentation, templates, dependencies };
  const score = Math.round(0.3 * metadata + 0.3 * documentation + 0.25 * templates + 0.15 * dependencies);
  return { score, parts };
}

export interface BuildRegistryOptions {
  /** Pack source directories; several versions of one id are allowed. */
  packDirs: string[];
  outDir: string;
  name?: string;
  /** Fixed so output is reproducible. */
  published?: string;
  downloads?: Record<string, number>;
  /** Override archive urls (default `archives/<id>-<version>.tar.gz`, relative to the index). */
  urlFor?: (id: string, version: string) => string;
}

/** Writes `<outDir>/archives/*.tar.gz` and `<outDir>/index.json`; returns the index. */
export async function buildRegistry(opts: BuildRegistryOptions): Promise<RegistryIndex> {
  const byId = new Map<string, { packed: PackedPack; version: IndexVersion }[]>();
  await mkdir(join(opts.outDir, "archives"), { recursive: true });
  for (const dir of opts.packDirs) {
    const packed = await packDirectory(dir);
    const { id, version } = packed.manifest.pack;
    const rel = `archives/${id}-${version}.tar.gz`;
    await writeFile(join(opts.outDir, rel), packed.archive);
    const v: IndexVersion = {
      version,
      url: opts.urlFor?.(id, version) ?? rel,
      sha256: packed.sha256,
      size: packed.archive.length,
      published: opts.published ?? "2026-01-01T00:00:00Z",
      ...(Object.keys(packed.manifest.dependencies).length
        ? { dependencies: packed.manifest.dependencies }
        : {}),
      ...(packed.manifest.pack.ggen ? { ggen: packed.manifest.pack.ggen } : {}),
    };
    const list = byId.get(id) ?? [];
    list.push({ packed, version: v });
    byId.set(id, list);
  }
  const packs: IndexPack[] = [];
  for (const id of [...byId.keys()].sort()) {
    const list = byId.get(id)!.sort((a, b) => semver().compare(a.version.version, b.version.version));
    const newest = list[list.length - 1]!.packed;
    const m = newest.manifest;
    packs.push({
      id,
      name: m.pack.name,
      description: m.pack.description,
      tags: m.pack.tags,
      keywords: m.pack.keywords,
      category: m.pack.category ?? "misc",
      license: m.pack.license ?? "UNLICENSED",
      ...(m.pack.homepage ? { homepage: m.pack.homepage } : {}),
      ...(m.pack.author ? { author: m.pack.author } : {}),
      quality: qualityOf(m, newest.files),
      downloads: opts.downloads?.[id] ?? 0,
      templates: m.templates.map((t) => ({
        name: t.name,
        ...(t.description ? { description: t.description } : {}),
      })),
      versions: list.map((x) => x.version),
    });
  }
  const index: RegistryIndex = {
    format: REGISTRY_INDEX_FORMAT,
    ...(opts.name ? { name: opts.name } : {}),
    packs,
  };
  await writeFile(join(opts.outDir, "index.json"), `${JSON.stringify(index, null, 2)}\n`);
  return index;
}

/** Pack source dirs under `root`: each child dir holding a ggen.toml. */
export async function packDirsUnder(root: string): Promise<string[]> {
  if (!existsSync(root)) return [];
  const names = (await readdir(root, { withFileTypes: true }))
    .filter((d) => d.isDirectory())
    .map((d) => d.name);
  return names
    .sort()
    .map((n) => join(root, n))
    .filter((d) => existsSync(join(d, PACK_MANIFEST_FILE)));
}
