// loadGraph(): read sources (files, strings, loopback URLs), parse them into one oxigraph Store, cache.
import { mkdir, open, readFile, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { formatSize, GgenError, isGgenError, sha256, writeFileAtomic } from "@ggen/support";
import { canonicalizeBlankNodes } from "./canonical.js";
import { loadOxigraph, n3lib, type Ox, type OxStore } from "./engine.js";
import { errorMessage, isTrap, syntaxError } from "./errors.js";
import {
  formatFromContentType,
  formatFromPath,
  knownExtensions,
  mediaTypes,
  type RdfFormat,
  rdfFormats,
} from "./formats.js";
import {
  cachedEntry,
  cacheEntry,
  countLoad,
  digestOf,
  entrySize,
  OxGraph,
  type StoreEntry,
} from "./graph.js";
import { formatDuration, type RdfLimits } from "./limits.js";
import { declarations } from "./prefixes.js";
import { checkRdfXml } from "./xml.js";

/**
 * Where RDF comes from. `graph` (an IRI) loads a triple format's content into that named graph
 * instead of the default graph.
 */
export type GraphSource =
  | { path: string; format?: RdfFormat; graph?: string }
  | { text: string; format: RdfFormat; baseIri?: string; name?: string; graph?: string }
  | { url: string; format?: RdfFormat; graph?: string };

export interface LoadOptions {
  /** Directory of the on-disk cache (N-Quads per content hash); none by default. */
  cacheDir?: string;
  /** false: parse again, bypassing the process-wide and on-disk caches. Default true. */
  cache?: boolean;
  /** Size and time limits for this load (default: the process's, see rdfLimits()). */
  limits?: Partial<SourceLimits>;
}

/** The limits a load observes. */
export type SourceLimits = Pick<
  RdfLimits,
  "maxSourceBytes" | "fetchConnectMs" | "fetchIdleMs" | "fetchTotalMs"
>;

interface ReadSource {
  name: string;
  text: string;
  format: RdfFormat;
  base: string | undefined;
  graph?: string | undefined;
}

function checkFormat(format: string | undefined, name: string): RdfFormat | undefined {
  if (format === undefined) return undefined;
  if ((rdfFormats as readonly string[]).includes(format)) return format as RdfFormat;
  throw new GgenError("RDF_FORMAT", `unknown RDF format '${format}'`, {
    kind: "usage",
    location: { file: name },
    hint: `one of ${rdfFormats.join(", ")}`,
  });
}

function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  return h === "localhost" || h === "::1" || /^127\.\d+\.\d+\.\d+$/.test(h) || h.endsWith(".localhost");
}

async function readSource(source: GraphSource, limits: SourceLimits): Promise<ReadSource> {
  const read = await readSourceText(source, limits);
  if (source.graph !== undefined) read.graph = source.graph;
  return read;
}

function tooLarge(name: string, bytes: number | undefined, max: number): GgenError {
  const size = bytes === undefined ? "more than" : `${formatSize(bytes)}, more than`;
  return new GgenError("RDF_TOO_LARGE", `${size} the ${formatSize(max)} limit for a graph source`, {
    location: { file: name },
    hint: "raise it with GGEN_MAX_GRAPH_SIZE (e.g. 2G)",
  });
}

/** A file's text, refusing what is not a regular file (a FIFO, /dev/zero) and what is past the limit. */
async function readFileBounded(abs: string, name: string, max: number): Promise<string> {
  const ioError = (e: unknown) => {
    const code = (e as NodeJS.ErrnoException).code;
    return new GgenError(
      "RDF_READ",
      code === "ENOENT"
        ? "no such file"
        : code === "EISDIR"
          ? "is a directory"
          : `cannot read: ${errorMessage(e)}`,
      {
        kind: code === "ENOENT" || code === "EISDIR" ? "usage" : "failure",
        location: { file: name },
        cause: e,
      },
    );
  };
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(abs);
  } catch (e) {
    throw ioError(e);
  }
  if (info.isDirectory()) throw ioError(Object.assign(new Error("directory"), { code: "EISDIR" }));
  if (!info.isFile())
    throw new GgenError("RDF_READ", "not a regular file", { kind: "usage", location: { file: name } });
  if (info.size > max) throw tooLarge(name, info.size, max);
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(abs, "r");
  } catch (e) {
    throw ioError(e);
  }
  try {
    // Read one byte past the limit: a file that grew since stat() is caught here, not read whole.
    const buf = Buffer.allocUnsafe(Math.min(max, info.size) + 1);
    let n = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buf, n, buf.length - n, n);
      if (bytesRead === 0) break;
      n += bytesRead;
      if (n === buf.length) {
        if (n > max) throw tooLarge(name, undefined, max);
        break;
      }
    }
    return buf.toString("utf8", 0, n);
  } catch (e) {
    throw isGgenError(e) ? e : ioError(e);
  } finally {
    await handle.close();
  }
}

/** A loopback URL's body, within the connect, idle and total time limits and the size limit. */
async function fetchBounded(
  url: URL,
  name: string,
  limits: SourceLimits,
): Promise<{ res: Response; text: string }> {
  const abort = new AbortController();
  let why = "";
  const stop = (reason: string) => {
    why = reason;
    abort.abort();
  };
  const total = setTimeout(
    () => stop(`took longer than ${formatDuration(limits.fetchTotalMs)} in all`),
    limits.fetchTotalMs,
  );
  let idle = setTimeout(
    () => stop(`sent no response within ${formatDuration(limits.fetchConnectMs)}`),
    limits.fetchConnectMs,
  );
  const failed = (e: unknown) =>
    new GgenError("RDF_URL", `cannot fetch ${name}: ${why || errorMessage(e)}`, {
      cause: e,
      ...(why ? { hint: "raise the limit with GGEN_FETCH_TIMEOUT" } : {}),
    });
  try {
    let res: Response;
    try {
      res = await fetch(url, {
        headers: { accept: Object.values(mediaTypes).join(", ") },
        signal: abort.signal,
      });
    } catch (e) {
      throw failed(e);
    }
    if (!res.ok) {
      await res.body?.cancel().catch(() => undefined);
      throw new GgenError("RDF_URL", `cannot fetch ${name}: HTTP ${res.status}`);
    }
    const declared = Number(res.headers.get("content-length") ?? Number.NaN);
    if (declared > limits.maxSourceBytes) {
      await res.body?.cancel().catch(() => undefined);
      throw tooLarge(name, declared, limits.maxSourceBytes);
    }
    const chunks: Uint8Array[] = [];
    let bytes = 0;
    const reader = res.body?.getReader();
    const restartIdle = () => {
      clearTimeout(idle);
      idle = setTimeout(() => stop(`stalled for ${formatDuration(limits.fetchIdleMs)}`), limits.fetchIdleMs);
    };
    restartIdle();
    while (reader) {
      let chunk: Awaited<ReturnType<typeof reader.read>>;
      try {
        chunk = await reader.read();
      } catch (e) {
        throw failed(e);
      }
      if (chunk.done) break;
      bytes += chunk.value.byteLength;
      if (bytes > limits.maxSourceBytes) {
        await reader.cancel().catch(() => undefined);
        throw tooLarge(name, undefined, limits.maxSourceBytes);
      }
      chunks.push(chunk.value);
      restartIdle();
    }
    return { res, text: Buffer.concat(chunks).toString("utf8") };
  } finally {
    clearTimeout(total);
    clearTimeout(idle);
  }
}

async function readSourceText(source: GraphSource, limits: SourceLimits): Promise<ReadSource> {
  if ("text" in source) {
    const name = source.name ?? "<inline>";
    const format = checkFormat(source.format, name);
    if (!format) throw new GgenError("RDF_FORMAT", "an inline RDF source needs a format", { kind: "usage" });
    if (source.text.length > limits.maxSourceBytes)
      throw tooLarge(name, source.text.length, limits.maxSourceBytes);
    return { name, text: source.text, format, base: source.baseIri };
  }
  if ("path" in source) {
    const name = source.path;
    const format = checkFormat(source.format, name) ?? formatFromPath(name);
    if (!format) {
      throw new GgenError("RDF_FORMAT", `cannot tell the RDF format of '${name}' from its extension`, {
        kind: "usage",
        location: { file: name },
        hint: `use one of ${knownExtensions.join(" ")} or give the format`,
      });
    }
    const abs = resolve(name);
    let text = await readFileBounded(abs, name, limits.maxSourceBytes);
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    return { name, text, format, base: pathToFileURL(abs).href };
  }
  const name = source.url;
  let url: URL;
  try {
    url = new URL(source.url);
  } catch {
    throw new GgenError("RDF_URL", `not a URL: ${source.url}`, { kind: "usage" });
  }
  if ((url.protocol !== "http:" && url.protocol !== "https:") || !isLoopback(url.hostname)) {
    throw new GgenError("RDF_URL", `only loopback http(s) URLs can be loaded: ${source.url}`, {
      kind: "usage",
      hint: "download the file and load it by path",
    });
  }
  const { res, text } = await fetchBounded(url, name, limits);
  const format =
    checkFormat(source.format, name) ??
    formatFromContentType(res.headers.get("content-type")) ??
    formatFromPath(url.pathname);
  if (!format) {
    throw new GgenError(
      "RDF_FORMAT",
      `cannot tell the RDF format of ${name} (content type ${res.headers.get("content-type")})`,
      {
        kind: "usage",
        hint: "give the format",
      },
    );
  }
  return { name, text, format, base: res.url || url.href };
}

/** Parses one source into the store; N3 that oxigraph cannot load (variables, @forAll…) goes through n3. */
export function parseInto(ox: Ox, store: OxStore, src: ReadSource, maxBytes: number): void {
  const opts: {
    format: string;
    no_transaction: boolean;
    base_iri?: string;
    to_graph_name?: import("oxigraph").NamedNode;
  } = {
    format: mediaTypes[src.format],
    no_transaction: true,
  };
  if (src.base !== undefined) opts.base_iri = src.base;
  if (src.graph !== undefined) opts.to_graph_name = ox.namedNode(src.graph);
  if (src.format === "rdfxml") checkRdfXml(src.text, src.name, maxBytes);
  try {
    store.load(src.text, opts);
  } catch (e) {
    if (isTrap(e)) throw e;
    if (src.format === "n3" && loadN3(ox, store, src)) return;
    throw syntaxError("RDF_SYNTAX", e, { name: src.name }, "failure", src.text);
  }
}

let n3Load = 0;

function loadN3(ox: Ox, store: OxStore, src: ReadSource): boolean {
  const N3 = n3lib();
  const opts: { format: string; baseIRI?: string } = { format: "text/n3" };
  if (src.base !== undefined) opts.baseIRI = src.base;
  let quads: import("n3").Quad[];
  try {
    quads = new N3.Parser(opts).parse(src.text);
  } catch {
    return false;
  }
  const tag = `n3l${++n3Load}x`;
  const conv = (t: import("n3").Term): import("oxigraph").Term => {
    switch (t.termType) {
      case "NamedNode":
        return ox.namedNode(t.value);
      case "BlankNode":
        return ox.blankNode(`${tag}${t.value.replace(/[^A-Za-z0-9_]/g, "_")}`);
      case "Variable":
        return ox.blankNode(`${tag}var_${t.value.replace(/[^A-Za-z0-9_]/g, "_")}`);
      case "Literal":
        return ox.literal(t.value, t.language ? t.language : ox.namedNode(t.datatype.value));
      case "DefaultGraph":
        return src.graph !== undefined ? ox.namedNode(src.graph) : ox.defaultGraph();
      default:
        return ox.blankNode(`${tag}q${Math.random().toString(36).slice(2)}`);
    }
  };
  for (const q of quads) {
    store.add(
      ox.quad(
        conv(q.subject) as import("oxigraph").Quad_Subject,
        conv(q.predicate) as import("oxigraph").Quad_Predicate,
        conv(q.object) as import("oxigraph").Quad_Object,
        conv(q.graph) as import("oxigraph").Quad_Graph,
      ),
    );
  }
  return true;
}

interface CacheMeta {
  hash: string;
  prefixes: Record<string, string>;
  base: string | undefined;
  size: number;
  /** Whether the graph has blank nodes (which need relabelling after a load). */
  blank?: boolean;
}

/** False when the text certainly has no blank nodes (saves the relabelling scan). */
export function mayHaveBlankNodes(text: string, format: RdfFormat): boolean {
  if (format === "ntriples" || format === "nquads") return text.includes("_:");
  if (format === "turtle" || format === "trig") return /_:|\[|\(/.test(text);
  return true;
}

async function readDiskCache(ox: Ox, dir: string, hash: string): Promise<StoreEntry | undefined> {
  let meta: CacheMeta;
  let nq: string;
  try {
    meta = JSON.parse(await readFile(join(dir, `${hash}.json`), "utf8")) as CacheMeta;
    nq = await readFile(join(dir, `${hash}.nq`), "utf8");
  } catch {
    return undefined;
  }
  const store = new ox.Store() as OxStore;
  try {
    store.load(nq, { format: mediaTypes.nquads, lenient: true, no_transaction: true });
  } catch {
    store.free();
    return undefined;
  }
  const size = store.size;
  if (size !== meta.size) {
    store.free();
    return undefined;
  }
  if (meta.blank !== false) canonicalizeBlankNodes(ox, store);
  return {
    store,
    refs: 0,
    cached: false,
    hash,
    prefixes: meta.prefixes,
    base: meta.base,
    blank: meta.blank !== false,
  };
}

async function writeDiskCache(dir: string, entry: StoreEntry): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
    const meta: CacheMeta = {
      hash: entry.hash,
      prefixes: entry.prefixes,
      base: entry.base,
      size: entrySize(entry),
    };
    // A cache of derived data, checked on read (size must match): no fsync, its loss costs a parse.
    const cached = { fsync: false };
    await writeFileAtomic(
      join(dir, `${entry.hash}.nq`),
      entry.store.dump({ format: mediaTypes.nquads }),
      cached,
    );
    await writeFileAtomic(join(dir, `${entry.hash}.json`), JSON.stringify(meta), cached);
  } catch {
    // A cache that cannot be written only costs speed next time.
  }
}

/**
 * Hash of what the sources hold: format, base and the sha256 of each text (a string or its UTF-8 bytes).
 * A caller that already has a text's sha256 passes it, and the text is not hashed again (a 10 MB graph:
 * ≈ 30 ms).
 */
export function contentHash(
  sources: readonly {
    format: string;
    base: string | undefined;
    text: string | Uint8Array;
    sha256?: string;
  }[],
): string {
  const parts: string[] = ["ggen-rdf/2"];
  for (const s of sources) parts.push(s.format, s.base ?? "", s.sha256 ?? sha256(s.text));
  return digestOf(...parts);
}

/** Reads and parses `sources` into a store (in the host, see host.ts), through the caches. */
export async function loadStore(
  sources: GraphSource[],
  options: Omit<LoadOptions, "limits">,
  limits: SourceLimits,
): Promise<OxGraph> {
  const ox = await loadOxigraph();
  const read = await Promise.all(sources.map((s) => readSource(s, limits)));
  const hash = contentHash(read);
  const useCache = options.cache !== false;
  if (useCache) {
    const hit = cachedEntry(hash);
    if (hit) {
      countLoad("parseHits");
      return new OxGraph(hit);
    }
  }
  let entry: StoreEntry | undefined;
  if (useCache && options.cacheDir !== undefined) entry = await readDiskCache(ox, options.cacheDir, hash);
  if (entry) countLoad("diskHits");
  else {
    countLoad("parses");
    const store = new ox.Store() as OxStore;
    const prefixes: Record<string, string> = {};
    let base: string | undefined;
    let blank = false;
    try {
      for (const src of read) {
        parseInto(ox, store, src, limits.maxSourceBytes);
        const d = declarations(src.text, src.format, src.base);
        for (const [k, v] of Object.entries(d.prefixes)) if (!(k in prefixes)) prefixes[k] = v;
        base ??= d.base;
      }
      blank =
        read.some((src) => mayHaveBlankNodes(src.text, src.format)) && canonicalizeBlankNodes(ox, store) > 0;
    } catch (e) {
      // A trapped engine is never called again, not even to free the store (see EngineFailure).
      if (!isTrap(e)) store.free();
      throw e;
    }
    if (base === undefined && read.length === 1) base = read[0]?.base;
    entry = { store, refs: 0, cached: false, hash, prefixes, base, blank };
    if (useCache && options.cacheDir !== undefined) await writeDiskCache(options.cacheDir, entry);
  }
  if (useCache) cacheEntry(entry);
  return new OxGraph(entry);
}
