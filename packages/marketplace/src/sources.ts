// Where packs come from: registry sources (dir, file, file://, http(s)://) chosen by --registry,
// GGEN_REGISTRY, .ggen/config.toml or the bundled fixtures/registry; the index cache under
// $GGEN_HOME/marketplace/cache with a TTL and ETag/If-Modified-Since; content-addressed archives.
import { existsSync, statSync } from "node:fs";
import { mkdir, readFile, rm, stat } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { GgenError } from "@ggen/contract";
import { type IndexPack, type IndexVersion, parseIndex, type RegistryIndex } from "./registry-index.js";
import { sha256, writeFileAtomic } from "./util.js";

export interface RegistrySource {
  /** As the user wrote it (or the bundled default's path). */
  spec: string;
  kind: "local" | "http";
  /** Absolute path of index.json (local) or its URL (http). */
  location: string;
  /** Higher wins when two registries list the same id. */
  priority: number;
}

export interface MarketOptions {
  /** Project root (where .ggen/ and ggen.lock live). Default: process.cwd(). */
  projectDir?: string;
  /** --registry values, highest priority first. */
  registries?: string[];
  env?: NodeJS.ProcessEnv;
  /** Default: $GGEN_HOME or ~/.ggen. */
  ggenHome?: string;
  offline?: boolean;
  /** Index cache TTL in seconds (default 3600, or $GGEN_MARKET_TTL). */
  ttlSeconds?: number;
  /** The running ggen's version, checked against each version's `ggen` range. */
  ggenVersion?: string;
  onWarning?: (message: string) => void;
  /** HTTP timeout per request in ms (default 10000). */
  timeoutMs?: number;
}

export function ggenHome(opts: MarketOptions): string {
  const env = opts.env ?? process.env;
  return resolve(opts.ggenHome ?? env.GGEN_HOME ?? join(homedir(), ".ggen"));
}

export function cacheDir(opts: MarketOptions): string {
  return join(ggenHome(opts), "marketplace", "cache");
}

/** The bundled fixture registry, found relative to this module (walks up to the repo's fixtures/). */
export function defaultRegistryDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    const candidate = join(dir, "fixtures", "registry");
    if (existsSync(join(candidate, "index.json"))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new GgenError("REGISTRY_NOT_FOUND", "the bundled registry (fixtures/registry) was not found", {
    hint: "pass --registry <dir|url> or set GGEN_REGISTRY",
  });
}

/** Turns one registry spec into a source. Relative paths resolve against `base`. */
export function parseRegistrySpec(spec: string, priority: number, base: string): RegistrySource {
  const s = spec.trim();
  if (/^https?:\/\//i.test(s)) {
    const url = new URL(s);
    const location = url.pathname.endsWith(".json")
      ? url.href
      : new URL("index.json", url.href.endsWith("/") ? url.href : `${url.href}/`).href;
    return { spec: s, kind: "http", location, priority };
  }
  let path: string;
  if (/^file:/i.test(s)) {
    try {
      path = fileURLToPath(s);
    } catch {
      throw new GgenError("REGISTRY_INVALID", `registry '${s}' is not a valid file: URL`, { kind: "usage" });
    }
  } else if (/^[a-z][a-z0-9+.-]*:\/\//i.test(s)) {
    throw new GgenError(
      "REGISTRY_INVALID",
      `registry '${s}': unsupported scheme (use a path, file://, http:// or https://)`,
      {
        kind: "usage",
      },
    );
  } else path = isAbsolute(s) ? s : resolve(base, s);
  let location = path;
  try {
    if (statSync(path).isDirectory()) location = join(path, "index.json");
  } catch {
    // Reported when the index is read.
  }
  return { spec: s, kind: "local", location, priority };
}

async function configRegistries(projectDir: string): Promise<{ spec: string; priority?: number }[]> {
  const file = join(projectDir, ".ggen", "config.toml");
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch {
    return [];
  }
  const { parse } = await import("smol-toml");
  let doc: Record<string, unknown>;
  try {
    doc = parse(text) as Record<string, unknown>;
  } catch (e) {
    const te = e as { line?: number; column?: number; message?: string };
    throw new GgenError("CONFIG_INVALID", `not valid TOML: ${String(te.message).split("\n")[0]}`, {
      kind: "usage",
      location: { file, ...(te.line ? { line: te.line } : {}), ...(te.column ? { column: te.column } : {}) },
    });
  }
  const m = doc.marketplace as Record<string, unknown> | undefined;
  if (!m) return [];
  const out: { spec: string; priority?: number }[] = [];
  if (typeof m.registry_url === "string") out.push({ spec: m.registry_url });
  if (Array.isArray(m.registries)) {
    for (const r of m.registries as unknown[]) {
      if (typeof r === "string") out.push({ spec: r });
      else if (r && typeof r === "object" && typeof (r as { url?: unknown }).url === "string") {
        const p = (r as { priority?: unknown }).priority;
        out.push({ spec: (r as { url: string }).url, ...(typeof p === "number" ? { priority: p } : {}) });
      } else
        throw new GgenError("CONFIG_INVALID", "[marketplace] registries entries need a url", {
          kind: "usage",
          location: { file },
        });
    }
  }
  return out;
}

/** The registries in effect, highest priority first: --registry, else GGEN_REGISTRY, else config, else bundled. */
export async function resolveRegistries(opts: MarketOptions): Promise<RegistrySource[]> {
  const env = opts.env ?? process.env;
  const projectDir = resolve(opts.projectDir ?? process.cwd());
  const ranked = (specs: { spec: string; priority?: number }[], base: string) =>
    specs
      .map((s, i) => parseRegistrySpec(s.spec, s.priority ?? specs.length - i, base))
      .sort((a, b) => b.priority - a.priority);
  const split = (v: string) =>
    v
      .split(/[,\n]/)
      .map((s) => s.trim())
      .filter(Boolean)
      .map((spec) => ({ spec }));
  if (opts.registries && opts.registries.length > 0)
    return ranked(opts.registries.flatMap(split), process.cwd());
  if (env.GGEN_REGISTRY?.trim()) return ranked(split(env.GGEN_REGISTRY), process.cwd());
  const fromConfig = await configRegistries(projectDir);
  if (fromConfig.length > 0) return ranked(fromConfig, join(projectDir, ".ggen"));
  return [parseRegistrySpec(defaultRegistryDir(), 0, process.cwd())];
}

export interface LoadedRegistry {
  source: RegistrySource;
  index: RegistryIndex;
  /** Base for relative archive urls: a directory path (local) or URL (http). */
  base: string;
  /** True when a stale cached copy was used because the registry could not be reached. */
  stale: boolean;
}

interface CacheMeta {
  url: string;
  fetchedAt: number;
  etag?: string;
  lastModified?: string;
}

function ttlMs(opts: MarketOptions): number {
  const env = opts.env ?? process.env;
  const fromEnv = env.GGEN_MARKET_TTL !== undefined ? Number(env.GGEN_MARKET_TTL) : Number.NaN;
  const s = opts.ttlSeconds ?? (Number.isFinite(fromEnv) ? fromEnv : 3600);
  return s * 1000;
}

function describeFetchError(e: unknown): string {
  const cause = (e as { cause?: { code?: string; message?: string; errors?: { code?: string }[] } }).cause;
  if (cause?.code) return cause.code;
  if (cause?.errors?.[0]?.code) return cause.errors[0].code;
  if (cause?.message) return cause.message;
  if ((e as Error).name === "TimeoutError") return "timed out";
  return (e as Error).message ?? String(e);
}

export async function loadRegistry(source: RegistrySource, opts: MarketOptions): Promise<LoadedRegistry> {
  if (source.kind === "local") {
    let text: string;
    try {
      text = await readFile(source.location, "utf8");
    } catch (e) {
      throw new GgenError(
        "REGISTRY_UNREACHABLE",
        `registry '${source.spec}' is unreachable: cannot read ${source.location} (${(e as NodeJS.ErrnoException).code ?? e})`,
      );
    }
    return { source, index: parseIndex(text, source.location), base: dirname(source.location), stale: false };
  }
  const dir = join(cacheDir(opts), "index", sha256(source.location).slice(0, 24));
  const indexFile = join(dir, "index.json");
  const metaFile = join(dir, "meta.json");
  let meta: CacheMeta | undefined;
  try {
    meta = JSON.parse(await readFile(metaFile, "utf8")) as CacheMeta;
    if (!existsSync(indexFile)) meta = undefined;
  } catch {
    meta = undefined;
  }
  const base = new URL(".", source.location).href;
  const fromCache = async (stale: boolean): Promise<LoadedRegistry> => ({
    source,
    index: parseIndex(await readFile(indexFile, "utf8"), indexFile),
    base,
    stale,
  });
  if (opts.offline) {
    if (!meta)
      throw new GgenError("OFFLINE_NO_CACHE", `--offline: no cached index for registry '${source.spec}'`, {
        hint: "run once without --offline to fill the cache",
      });
    return fromCache(false);
  }
  if (meta && Date.now() - meta.fetchedAt < ttlMs(opts)) return fromCache(false);
  const headers: Record<string, string> = { accept: "application/json" };
  if (meta?.etag) headers["if-none-match"] = meta.etag;
  if (meta?.lastModified) headers["if-modified-since"] = meta.lastModified;
  let res: Response;
  try {
    res = await fetch(source.location, { headers, signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000) });
  } catch (e) {
    return staleOr(`unreachable (${describeFetchError(e)})`);
  }
  if (res.status === 304 && meta) {
    await writeFileAtomic(metaFile, JSON.stringify({ ...meta, fetchedAt: Date.now() }));
    return fromCache(false);
  }
  if (!res.ok) return staleOr(`unreachable (HTTP ${res.status})`);
  const text = await res.text();
  const index = parseIndex(text, source.location);
  await mkdir(dir, { recursive: true });
  await writeFileAtomic(indexFile, text);
  const etag = res.headers.get("etag");
  const lastModified = res.headers.get("last-modified");
  const next: CacheMeta = {
    url: source.location,
    fetchedAt: Date.now(),
    ...(etag ? { etag } : {}),
    ...(lastModified ? { lastModified } : {}),
  };
  await writeFileAtomic(metaFile, JSON.stringify(next));
  return { source, index, base, stale: false };

  async function staleOr(why: string): Promise<LoadedRegistry> {
    if (meta) {
      opts.onWarning?.(
        `registry '${source.spec}' is ${why}; using the cached index from ${new Date(meta.fetchedAt).toISOString()}`,
      );
      return fromCache(true);
    }
    throw new GgenError("REGISTRY_UNREACHABLE", `registry '${source.spec}' is ${why}`, {
      hint: "check the URL, or use --registry / GGEN_REGISTRY",
    });
  }
}

export interface CatalogEntry {
  pack: IndexPack;
  registry: LoadedRegistry;
}

/** All packs of all registries; for an id listed by several, the highest-priority registry wins. */
export interface Catalog {
  registries: LoadedRegistry[];
  packs: Map<string, CatalogEntry>;
  list: IndexPack[];
}

export async function loadCatalog(opts: MarketOptions): Promise<Catalog> {
  const sources = await resolveRegistries(opts);
  const registries = await Promise.all(sources.map((s) => loadRegistry(s, opts)));
  const packs = new Map<string, CatalogEntry>();
  for (const registry of registries) {
    for (const pack of registry.index.packs) if (!packs.has(pack.id)) packs.set(pack.id, { pack, registry });
  }
  const list = registries.length === 1 ? registries[0]!.index.packs : [...packs.values()].map((e) => e.pack);
  return { registries, packs, list };
}

/** Where a version's archive lives, absolute: a path or an http(s) URL. */
export function archiveLocation(entry: CatalogEntry, v: IndexVersion): string {
  const url = v.url;
  if (/^https?:\/\//i.test(url)) return url;
  if (/^file:/i.test(url)) return fileURLToPath(url);
  const base = entry.registry.base;
  if (/^https?:\/\//i.test(base)) return new URL(url, base).href;
  return resolve(base, url);
}

export function archiveDisplay(location: string): string {
  return /^https?:/i.test(location) ? location : pathToFileURL(location).href;
}

/**
 * The archive for `id@version`, in the content-addressed cache (archives/<sha256>.tar.gz), fetched
 * if missing; its size and sha256 are checked against the index before it is cached or used.
 */
export async function fetchArchive(
  id: string,
  v: IndexVersion,
  location: string,
  opts: MarketOptions,
): Promise<string> {
  const file = join(cacheDir(opts), "archives", `${v.sha256}.tar.gz`);
  try {
    const cached = await readFile(file);
    if (sha256(cached) === v.sha256) return file;
    await rm(file, { force: true });
  } catch {
    // Not cached yet.
  }
  let data: Uint8Array;
  if (/^https?:/i.test(location)) {
    if (opts.offline)
      throw new GgenError("OFFLINE_NO_CACHE", `--offline: ${id}@${v.version} is not in the archive cache`);
    let res: Response;
    try {
      res = await fetch(location, { signal: AbortSignal.timeout(opts.timeoutMs ?? 30_000) });
    } catch (e) {
      throw new GgenError(
        "ARCHIVE_UNREACHABLE",
        `${id}@${v.version}: cannot download ${location} (${describeFetchError(e)})`,
      );
    }
    if (!res.ok)
      throw new GgenError(
        "ARCHIVE_UNREACHABLE",
        `${id}@${v.version}: cannot download ${location} (HTTP ${res.status})`,
      );
    data = new Uint8Array(await res.arrayBuffer());
  } else {
    try {
      data = await readFile(location);
    } catch (e) {
      throw new GgenError(
        "ARCHIVE_UNREACHABLE",
        `${id}@${v.version}: cannot read archive ${location} (${(e as NodeJS.ErrnoException).code ?? e})`,
      );
    }
  }
  const actual = sha256(data);
  if (actual !== v.sha256)
    throw new GgenError(
      "CHECKSUM_MISMATCH",
      `${id}@${v.version}: checksum mismatch: the index says sha256 ${v.sha256.slice(0, 16)}…, the archive is ${actual.slice(0, 16)}…`,
      {
        location: { file: archiveDisplay(location) },
        hint: "nothing was installed; the registry or archive was tampered with or is out of date",
      },
    );
  if (data.byteLength !== v.size)
    throw new GgenError(
      "SIZE_MISMATCH",
      `${id}@${v.version}: archive is ${data.byteLength} bytes, the index says ${v.size}`,
    );
  await writeFileAtomic(file, data);
  return file;
}

export async function pathExists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}
