// Where packs come from: registry sources (dir, file, file://, http(s)://) chosen by --registry,
// GGEN_REGISTRY, .ggen/config.toml or the bundled fixtures/registry; the index cache under
// $GGEN_HOME/marketplace/cache with a TTL and ETag/If-Modified-Since; content-addressed archives.
import { existsSync, statSync } from "node:fs";
import { mkdir, open, readFile, rm, stat } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { GgenError, type IndexPack, type IndexVersion, type RegistryIndex } from "@ggen/contract";
import { formatSize, sha256, writeFileAtomic } from "@ggen/support";
import { FetchProblem, type HttpResponse, httpGet } from "./http.js";
import {
  describeLimit,
  type MarketConfig,
  type MarketLimits,
  readMarketConfig,
  resolveLimits,
} from "./limits.js";
import { latestVersion, parseIndex } from "./registry-index.js";
import { prepareSearch, type SearchablePack, type SearchHit, type SearchOptions, search } from "./search.js";
import { fileIdentity, readSnapshot, saveSnapshot, snapshotKey } from "./search-snapshot.js";

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
  /** Size and time limits; unset ones come from the environment, `[marketplace]`, the defaults. */
  limits?: Partial<MarketLimits>;
  /** Ends downloads early (Ctrl-C): nothing is installed. */
  signal?: AbortSignal;
}

const configs = new WeakMap<MarketOptions, Promise<MarketConfig | undefined>>();

/** `[marketplace]` of the project's .ggen/config.toml, read once per options object. */
function marketConfig(opts: MarketOptions): Promise<MarketConfig | undefined> {
  let p = configs.get(opts);
  if (!p) {
    p = readMarketConfig(resolve(opts.projectDir ?? process.cwd()));
    configs.set(opts, p);
  }
  return p;
}

/** The limits for these options: explicit, then the environment, then `[marketplace]`, then the defaults. */
export async function marketLimits(opts: MarketOptions): Promise<MarketLimits> {
  return resolveLimits(opts.limits, opts.env ?? process.env, await marketConfig(opts));
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

async function configRegistries(opts: MarketOptions): Promise<{ spec: string; priority?: number }[]> {
  const config = await marketConfig(opts);
  if (!config) return [];
  const m = config.section;
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
          location: { file: config.file },
        });
    }
  }
  return out;
}

/** The registries in effect, highest priority first: --registry, else GGEN_REGISTRY, else config, else bundled. */
const ranked = (specs: { spec: string; priority?: number }[], base: string) =>
  specs
    .map((s, i) => parseRegistrySpec(s.spec, s.priority ?? specs.length - i, base))
    .sort((a, b) => b.priority - a.priority);

/** The registries --registry or GGEN_REGISTRY name, highest priority first; undefined when neither does. */
function explicitRegistries(opts: MarketOptions): RegistrySource[] | undefined {
  const env = opts.env ?? process.env;
  const split = (v: string) =>
    v
      .split(/[,\n]/)
      .map((s) => s.trim())
      .filter(Boolean)
      .map((spec) => ({ spec }));
  if (opts.registries && opts.registries.length > 0)
    return ranked(opts.registries.flatMap(split), process.cwd());
  if (env.GGEN_REGISTRY?.trim()) return ranked(split(env.GGEN_REGISTRY), process.cwd());
  return undefined;
}

export async function resolveRegistries(opts: MarketOptions): Promise<RegistrySource[]> {
  const explicit = explicitRegistries(opts);
  if (explicit) return explicit;
  const projectDir = resolve(opts.projectDir ?? process.cwd());
  const fromConfig = await configRegistries(opts);
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

/** The index cache's TTL: opts.ttlSeconds, then $GGEN_MARKET_TTL, then `cache_ttl_seconds`, then an hour. */
async function ttlMs(opts: MarketOptions): Promise<number> {
  const env = opts.env ?? process.env;
  const fromEnv = env.GGEN_MARKET_TTL !== undefined ? Number(env.GGEN_MARKET_TTL) : Number.NaN;
  const fromConfig = (await marketConfig(opts))?.section.cache_ttl_seconds as number | undefined;
  const s = opts.ttlSeconds ?? (Number.isFinite(fromEnv) ? fromEnv : (fromConfig ?? 3600));
  return s * 1000;
}

/** The error of a download ended by Ctrl-C (or another abort of the options' signal). */
export function interrupted(): GgenError {
  return new GgenError("INTERRUPTED", "interrupted; nothing was installed");
}

/** A registry's index as a local file — the source itself, or its copy in the index cache, brought
 * up to date — not yet read. The search snapshot is keyed by the file's identity, so a search can
 * skip reading, parsing and validating an index it has already seen. */
interface RegistryFile {
  source: RegistrySource;
  file: string;
  base: string;
  stale: boolean;
  /** Set when the index was already parsed and validated on the way (a fresh http fetch). */
  index?: RegistryIndex;
}

export async function loadRegistry(source: RegistrySource, opts: MarketOptions): Promise<LoadedRegistry> {
  const f = await registryFile(source, opts);
  return { source, index: await readRegistryIndex(f, opts), base: f.base, stale: f.stale };
}

async function readRegistryIndex(f: RegistryFile, opts: MarketOptions): Promise<RegistryIndex> {
  if (f.index) return f.index;
  const limits = await marketLimits(opts);
  let data: Buffer;
  try {
    data = await readRegularFile(f.file, limits.maxIndexBytes);
  } catch (e) {
    if (e instanceof FetchProblem)
      throw new GgenError("REGISTRY_TOO_LARGE", `registry '${f.source.spec}': index ${e.message}`, {
        location: { file: f.file },
      });
    throw unreachable(f.source, e);
  }
  return parseIndex(data.toString("utf8"), f.file);
}

/** A local file's bytes, refused when it is not a regular file (a FIFO, /dev/zero) or is past `max`. */
async function readRegularFile(
  file: string,
  max: number,
  limit: "maxIndexBytes" | "maxArchiveBytes" = "maxIndexBytes",
): Promise<Buffer> {
  const handle = await open(file, "r");
  try {
    const st = await handle.stat();
    if (!st.isFile())
      throw Object.assign(new Error("not a regular file"), { code: st.isDirectory() ? "EISDIR" : "ENOTREG" });
    if (st.size > max) throw new FetchProblem(`is larger than ${describeLimit(limit, max)}`, "too-large");
    // Read at most max + 1 bytes: a file growing under us is still bounded.
    const buf = Buffer.alloc(Math.min(st.size, max) + 1);
    let at = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buf, at, buf.length - at, at);
      if (bytesRead === 0) break;
      at += bytesRead;
      if (at === buf.length) break;
    }
    if (at > max) throw new FetchProblem(`is larger than ${describeLimit(limit, max)}`, "too-large");
    return buf.subarray(0, at);
  } finally {
    await handle.close();
  }
}

function unreachable(source: RegistrySource, e: unknown): GgenError {
  return new GgenError(
    "REGISTRY_UNREACHABLE",
    `registry '${source.spec}' is unreachable: cannot read ${source.location} (${(e as NodeJS.ErrnoException).code ?? e})`,
  );
}

async function registryFile(source: RegistrySource, opts: MarketOptions): Promise<RegistryFile> {
  if (source.kind === "local") {
    try {
      const st = await stat(source.location);
      if (!st.isFile())
        throw Object.assign(new Error(), { code: st.isDirectory() ? "EISDIR" : "not a regular file" });
    } catch (e) {
      throw unreachable(source, e);
    }
    return { source, file: source.location, base: dirname(source.location), stale: false };
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
  const fromCache = async (stale: boolean): Promise<RegistryFile> => ({
    source,
    file: indexFile,
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
  if (meta && Date.now() - meta.fetchedAt < (await ttlMs(opts))) return fromCache(false);
  const headers: Record<string, string> = { accept: "application/json" };
  if (meta?.etag) headers["if-none-match"] = meta.etag;
  if (meta?.lastModified) headers["if-modified-since"] = meta.lastModified;
  const limits = await marketLimits(opts);
  let res: HttpResponse;
  try {
    res = await httpGet(source.location, {
      headers,
      limits,
      maxBytes: limits.maxIndexBytes,
      maxBytesLimit: "maxIndexBytes",
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
  } catch (e) {
    if (!(e instanceof FetchProblem)) throw e;
    if (e.kind === "interrupted") throw interrupted();
    return staleOr(
      e.kind === "too-large" ? `refused: its index is ${e.message}` : `unreachable (${e.message})`,
    );
  }
  if (res.status === 304 && meta) {
    await writeFileAtomic(metaFile, JSON.stringify({ ...meta, fetchedAt: Date.now() }));
    return fromCache(false);
  }
  if (res.status < 200 || res.status >= 300) return staleOr(`unreachable (HTTP ${res.status})`);
  const text = res.body.toString("utf8");
  const index = parseIndex(text, source.location);
  await mkdir(dir, { recursive: true });
  await writeFileAtomic(indexFile, text);
  const header = (name: string) => {
    const v = res.headers[name];
    return typeof v === "string" ? v : undefined;
  };
  const etag = header("etag");
  const lastModified = header("last-modified");
  const next: CacheMeta = {
    url: source.location,
    fetchedAt: Date.now(),
    ...(etag ? { etag } : {}),
    ...(lastModified ? { lastModified } : {}),
  };
  await writeFileAtomic(metaFile, JSON.stringify(next));
  return { source, file: indexFile, index, base, stale: false };

  async function staleOr(why: string): Promise<RegistryFile> {
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

/** What a search snapshot keeps of a pack: enough to rank, filter and print a result row. */
export interface PackSummary extends SearchablePack {
  /** The newest non-yanked version. */
  version: string;
}

/**
 * Searches the catalog of the configured registries. The first search over a given set of index
 * files parses and validates them and saves the prepared search index as a snapshot in the cache;
 * later searches over the same files load only the snapshot, skipping the parse, validation and
 * tokenizing of every pack that dominate a large index.
 *
 * A snapshot is two files named by a hash of the index files' identities: `<key>.columns` holds what
 * ranking reads as a column file (ids, names, tags, categories, scores, the postings: raw arrays,
 * no JSON to parse), and `<key>.details.ndjson` one line per pack with what only a result shows
 * (description, keywords, version), read for the hits alone.
 */
export async function searchCatalog(
  query: string,
  searchOpts: SearchOptions,
  opts: MarketOptions,
): Promise<SearchHit<PackSummary>[]> {
  const sources = await resolveRegistries(opts);
  const files = await Promise.all(sources.map((s) => registryFile(s, opts)));
  const identities = files.map((f) => fileIdentity(f.source, f.file));
  const dir = join(cacheDir(opts), "search");
  const key = snapshotKey(identities);
  const fromSnapshot = readSnapshot(dir, key, query, searchOpts);
  if (fromSnapshot) return fromSnapshot;

  const seen = new Set<string>();
  const summaries: PackSummary[] = [];
  for (const f of files) {
    const index = await readRegistryIndex(f, opts);
    for (const p of index.packs) {
      if (seen.has(p.id)) continue;
      seen.add(p.id);
      summaries.push({
        id: p.id,
        name: p.name,
        description: p.description,
        tags: p.tags,
        keywords: p.keywords,
        category: p.category,
        downloads: p.downloads,
        quality: { score: p.quality.score },
        version: latestVersion(p).version,
      });
    }
  }
  const ix = prepareSearch(summaries);
  await saveSnapshot(dir, key, summaries, ix);
  return search(ix, query, searchOpts);
}

/**
 * The hits `searchCatalog` gives, when they can come from a saved snapshot alone: local registries
 * named by the options or GGEN_REGISTRY, or the bundled one where no .ggen/config.toml may name others.
 * Undefined otherwise (an http registry, a config file, no snapshot yet, anything refused): then
 * `searchCatalog` is what answers — and says what is wrong. Reads no index, writes nothing; what it
 * reaches loads fast (a search-only program is built from it, see apps/ggen).
 */
export function searchSaved(
  query: string,
  searchOpts: SearchOptions,
  opts: MarketOptions,
): SearchHit<PackSummary>[] | undefined {
  try {
    const projectDir = resolve(opts.projectDir ?? process.cwd());
    const sources =
      explicitRegistries(opts) ??
      (existsSync(join(projectDir, ".ggen", "config.toml"))
        ? undefined
        : [parseRegistrySpec(defaultRegistryDir(), 0, process.cwd())]);
    if (!sources?.every((s) => s.kind === "local")) return undefined;
    const identities = sources.map((s) => fileIdentity(s, s.location));
    return readSnapshot(join(cacheDir(opts), "search"), snapshotKey(identities), query, searchOpts);
  } catch {
    return undefined;
  }
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
    const cached = await readRegularFile(file, v.size, "maxArchiveBytes");
    if (sha256(cached) === v.sha256) return file;
    await rm(file, { force: true });
  } catch {
    // Not cached yet (or not what the index pins: fetched again).
  }
  const limits = await marketLimits(opts);
  if (v.size > limits.maxArchiveBytes)
    throw new GgenError(
      "ARCHIVE_TOO_LARGE",
      `${id}@${v.version}: the index says the archive is ${formatSize(v.size)}, larger than ${describeLimit("maxArchiveBytes", limits.maxArchiveBytes)}`,
    );
  // The index says how big the archive is: nothing past that (or the limit) is read.
  const cap = Math.min(v.size, limits.maxArchiveBytes);
  let data: Uint8Array;
  if (/^https?:/i.test(location)) {
    if (opts.offline)
      throw new GgenError("OFFLINE_NO_CACHE", `--offline: ${id}@${v.version} is not in the archive cache`);
    let res: HttpResponse;
    try {
      res = await httpGet(location, {
        limits,
        maxBytes: cap,
        maxBytesLimit: "maxArchiveBytes",
        ...(opts.signal ? { signal: opts.signal } : {}),
      });
    } catch (e) {
      if (!(e instanceof FetchProblem)) throw e;
      if (e.kind === "interrupted") throw interrupted();
      if (e.kind === "too-large")
        throw cap < v.size
          ? new GgenError("ARCHIVE_TOO_LARGE", `${id}@${v.version}: archive ${location} is ${e.message}`)
          : biggerThanIndexed(id, v, location);
      throw new GgenError(
        "ARCHIVE_UNREACHABLE",
        `${id}@${v.version}: cannot download ${location} (${e.message})`,
      );
    }
    if (res.status < 200 || res.status >= 300)
      throw new GgenError(
        "ARCHIVE_UNREACHABLE",
        `${id}@${v.version}: cannot download ${location} (HTTP ${res.status})`,
      );
    data = res.body;
  } else {
    try {
      data = await readRegularFile(location, cap, "maxArchiveBytes");
    } catch (e) {
      if (e instanceof FetchProblem) throw biggerThanIndexed(id, v, location);
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
        hint: TAMPERED,
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

const TAMPERED = "nothing was installed; the registry or archive was tampered with or is out of date";

/** An archive with more bytes than its index entry: not the archive that was published. */
function biggerThanIndexed(id: string, v: IndexVersion, location: string): GgenError {
  return new GgenError(
    "CHECKSUM_MISMATCH",
    `${id}@${v.version}: checksum mismatch: the archive is larger than the ${formatSize(v.size)} the index says`,
    { location: { file: archiveDisplay(location) }, hint: TAMPERED },
  );
}

export async function pathExists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}
