// The host's side of a graph (see host.ts): an oxigraph Store behind a content hash, shared by every handle
// with the same content, and the process-wide cache of parsed stores. SELECT/ASK results are memoized by
// the client, which never waits on the host for a repeated query.
import { createHash } from "node:crypto";
import { GgenError } from "@ggen/support";
import { n3lib, type OxStore, oxigraph } from "./engine.js";
import { errorMessage, isTrap, type Origin, syntaxError } from "./errors.js";
import { datasetFormats, mediaTypes, type RdfFormat } from "./formats.js";
import { queryForm } from "./lexer.js";
import { blankNodeScopeError, rewriteServices, type ServiceRewrite, serviceGraphName } from "./services.js";

/** How the host runs one query: where it comes from (errors), its base IRI, the graphs SERVICE calls reach. */
export interface RunOptions {
  name?: string;
  line?: number;
  column?: number;
  baseIri?: string;
  services?: Record<string, OxGraph>;
}

/** A query's answer as it crosses to the client: SELECT/ASK as oxigraph's W3C JSON text, graphs as stores. */
export type RawResult = { type: "tabular"; json: string } | { type: "graph"; graph: OxGraph };

/** A store shared by every Graph handle with the same content (copy on write for update()). */
export interface StoreEntry {
  store: OxStore;
  refs: number;
  cached: boolean;
  hash: string;
  prefixes: Record<string, string>;
  base: string | undefined;
  /** Whether the store may hold blank nodes (false only when known to have none). */
  blank?: boolean;
  /** Quads in the store, counted once (oxigraph's size walks the whole store). */
  size?: number | undefined;
}

/** The entry's quad count, counted on first use and kept until the store changes. */
export function entrySize(e: StoreEntry): number {
  e.size ??= e.store.size;
  return e.size;
}

// ---- process-wide caches -------------------------------------------------------------------------

const MAX_CACHED_QUADS = 3_000_000;
const storeCache = new Map<string, StoreEntry>();
const counters = { parseHits: 0, parses: 0, diskHits: 0 };

/** What the host's cache of parsed stores holds and how often it answered. */
export interface StoreStats {
  stores: number;
  quads: number;
  parseHits: number;
  diskHits: number;
  parses: number;
}

export function storeStats(): StoreStats {
  let quads = 0;
  for (const e of storeCache.values()) quads += entrySize(e);
  return { stores: storeCache.size, quads, ...counters };
}

export function countLoad(kind: "parseHits" | "parses" | "diskHits"): void {
  counters[kind]++;
}

export function cachedEntry(hash: string): StoreEntry | undefined {
  const e = storeCache.get(hash);
  if (e) {
    storeCache.delete(hash);
    storeCache.set(hash, e);
  }
  return e;
}

export function cacheEntry(entry: StoreEntry): void {
  entry.cached = true;
  storeCache.set(entry.hash, entry);
  let total = 0;
  for (const e of storeCache.values()) total += entrySize(e);
  for (const [hash, e] of storeCache) {
    if (total <= MAX_CACHED_QUADS) break;
    if (e.refs > 0 || e === entry) continue;
    total -= entrySize(e);
    storeCache.delete(hash);
    e.cached = false;
    e.store.free();
  }
}

/** Frees every cached store no handle holds. */
export function clearStores(): void {
  for (const [hash, e] of storeCache) {
    storeCache.delete(hash);
    e.cached = false;
    if (e.refs === 0) e.store.free();
  }
}

// ---- the Graph ------------------------------------------------------------------------------------

/**
 * sha256 over parts, each followed by a NUL (so ("ab", "c") and ("a", "bc") differ), fed to the hash
 * one by one: a graph's sources are hashed without first copying them into one string.
 */
function digestOf(...parts: (string | Uint8Array)[]): string {
  const h = createHash("sha256");
  for (const p of parts) h.update(p).update("\u0000");
  return h.digest("hex");
}

function origin(options: RunOptions | undefined): Origin {
  const o: Origin = { name: options?.name ?? "<query>" };
  if (options?.line !== undefined) o.line = options.line;
  if (options?.column !== undefined) o.column = options.column;
  return o;
}

function isSyntaxError(message: string): boolean {
  return /^error at \d+:\d+/.test(message) || /Parser error/.test(message);
}

export class OxGraph {
  #entry: StoreEntry;
  #hash: string;
  #freed = false;

  constructor(entry: StoreEntry) {
    this.#entry = entry;
    this.#hash = entry.hash;
    entry.refs++;
  }

  get hash(): string {
    return this.#hash;
  }

  get size(): number {
    return entrySize(this.#live());
  }

  get prefixes(): Record<string, string> {
    return this.#entry.prefixes;
  }

  get base(): string | undefined {
    return this.#entry.base;
  }

  /** The underlying oxigraph store (valid until free()). */
  get store(): OxStore {
    return this.#live().store;
  }

  #live(): StoreEntry {
    if (this.#freed) throw new GgenError("GRAPH_FREED", "this graph was freed; load it again");
    return this.#entry;
  }

  #run(query: string, options: RunOptions | undefined, resultsFormat?: string): unknown {
    const store = this.#live().store;
    const opts: { base_iri?: string; results_format?: string } = {};
    if (options?.baseIri !== undefined) opts.base_iri = options.baseIri;
    if (resultsFormat !== undefined) opts.results_format = resultsFormat;
    try {
      return store.query(query, opts);
    } catch (e) {
      if (isTrap(e)) throw e;
      const msg = errorMessage(e);
      if (isSyntaxError(msg)) throw syntaxError("SPARQL_SYNTAX", e, origin(options), "usage", query);
      throw new GgenError("SPARQL_EVAL", `SPARQL evaluation failed: ${msg}`, {
        location: { file: options?.name ?? "<query>" },
        cause: e,
      });
    }
  }

  /** Runs any query form; SELECT and ASK answer as W3C JSON text. */
  raw(query: string, options?: RunOptions): RawResult {
    this.#live();
    if (options?.services && /\bSERVICE\b/i.test(query)) return this.#withServices(query, options);
    const form = queryForm(query);
    if (form === "update") {
      throw new GgenError("SPARQL_FORM", "this is a SPARQL UPDATE; use update() (or `ggen graph update`)", {
        kind: "usage",
        location: { file: options?.name ?? "<query>" },
      });
    }
    if (form === "construct" || form === "describe") {
      const quads = this.#run(query, options) as import("oxigraph").Quad[];
      return { type: "graph", graph: this.#derived(quads, query) };
    }
    if (form === "unknown") {
      // Unrecognised start: let the engine decide (or report the syntax error).
      const r = this.#run(query, options);
      if (Array.isArray(r) && r.length > 0 && !(r[0] instanceof Map))
        return { type: "graph", graph: this.#derived(r as import("oxigraph").Quad[], query) };
    }
    const text = this.#run(query, options, "json");
    if (typeof text !== "string")
      throw new GgenError("SPARQL_EVAL", "unexpected result from the SPARQL engine");
    return { type: "tabular", json: text };
  }

  /** Runs `query` over a copy of this dataset plus each called service's graph (see services.ts). */
  #withServices(query: string, options: RunOptions): RawResult {
    const services = options.services ?? {};
    let rewritten: ServiceRewrite;
    try {
      rewritten = rewriteServices(query, new Set(Object.keys(services)), {
        ...(options.baseIri !== undefined ? { baseIri: options.baseIri } : {}),
        ...(options.name !== undefined ? { file: options.name } : {}),
      });
    } catch (e) {
      if (e instanceof GgenError) throw e;
      // sparqljs rejected it: let the engine report the syntax error with its position.
      this.#run(query, options);
      throw e;
    }
    const ox = oxigraph();
    const store = new ox.Store(this.#live().store.match(null, null, null, null)) as OxStore;
    for (const endpoint of rewritten.used) {
      const service = services[endpoint]!;
      const name = ox.namedNode(serviceGraphName(endpoint));
      for (const q of service.store.match(null, null, null, ox.defaultGraph()))
        store.add(ox.quad(q.subject, q.predicate, q.object, name));
    }
    const federated = new OxGraph({
      store,
      refs: 0,
      cached: false,
      hash: digestOf(this.#hash, "services", ...rewritten.used.map((e) => services[e]!.hash)),
      prefixes: this.#entry.prefixes,
      base: this.#entry.base,
    });
    try {
      const { services: _, ...rest } = options;
      return federated.raw(rewritten.query, rest);
    } finally {
      federated.free();
    }
  }

  #derived(quads: import("oxigraph").Quad[], query: string): OxGraph {
    const ox = oxigraph();
    const store = new ox.Store(quads) as OxStore;
    const entry: StoreEntry = {
      store,
      refs: 0,
      cached: false,
      hash: digestOf(this.#hash, "construct", query),
      prefixes: { ...this.#entry.prefixes },
      base: this.#entry.base,
    };
    return new OxGraph(entry);
  }

  update(update: string, options?: RunOptions): void {
    let entry = this.#live();
    const scope = blankNodeScopeError(update);
    if (scope) {
      throw new GgenError("SPARQL_SYNTAX", `SPARQL syntax error: ${scope.message}`, {
        kind: "usage",
        location: { file: options?.name ?? "<update>", line: scope.line + (options?.line ?? 1) - 1 },
      });
    }

    if (entry.refs > 1 || entry.cached) {
      const ox = oxigraph();
      const copy = new ox.Store(entry.store.match(null, null, null, null)) as OxStore;
      entry.refs--;
      entry = { ...entry, store: copy, refs: 1, cached: false };
      entry.size = undefined;
      this.#entry = entry;
    }
    const opts: { base_iri?: string } = {};
    if (options?.baseIri !== undefined) opts.base_iri = options.baseIri;
    try {
      entry.store.update(update, opts);
    } catch (e) {
      if (isTrap(e)) throw e;
      const msg = errorMessage(e);
      if (isSyntaxError(msg)) throw syntaxError("SPARQL_SYNTAX", e, origin(options), "usage", update);
      throw new GgenError("SPARQL_EVAL", `SPARQL update failed: ${msg}`, {
        location: { file: options?.name ?? "<update>" },
        cause: e,
      });
    }
    entry.size = undefined;
    this.#hash = digestOf(this.#hash, "update", update);
    entry.hash = this.#hash;
  }

  dump(format: RdfFormat): string {
    const { store, prefixes } = this.#live();
    const ox = oxigraph();
    const pretty =
      (format === "turtle" || format === "trig" || format === "n3") && Object.keys(prefixes).length > 0;
    if (format === "n3") return writeN3(store.dump({ format: mediaTypes.nquads }), prefixes);
    if (pretty) {
      const N3 = n3lib();
      const nq = datasetFormats.has(format)
        ? store.dump({ format: mediaTypes.nquads })
        : store.dump({ format: mediaTypes.ntriples, from_graph_name: ox.defaultGraph() });
      const quads = new N3.Parser({ format: "N-Quads" }).parse(nq);
      const writerFormat = format === "trig" ? "TriG" : "Turtle";
      const writerOpts: { format: string; prefixes: Record<string, string>; baseIRI?: string } = {
        format: writerFormat,
        prefixes,
      };
      const writer = new N3.Writer(writerOpts);
      writer.addQuads(quads);
      let out = "";
      writer.end((err, result) => {
        if (err) throw err;
        out = result;
      });
      return out;
    }
    if (datasetFormats.has(format)) return store.dump({ format: mediaTypes[format] });
    return store.dump({ format: mediaTypes[format], from_graph_name: ox.defaultGraph() });
  }

  free(): void {
    if (this.#freed) return;
    this.#freed = true;
    const e = this.#entry;
    e.refs--;
    if (e.refs <= 0 && !e.cached) e.store.free();
  }
}

/**
 * N3 with formulas: quads in a graph named by a blank node that the default graph refers to are
 * written inline as `{ … }` (how oxigraph and n3 load formulas); other quads in named graphs, which N3
 * cannot say, are left out.
 */
export function writeN3(nquads: string, prefixes: Record<string, string>): string {
  const N3 = n3lib();
  const quads = new N3.Parser({ format: "N-Quads" }).parse(nquads);
  const byGraph = new Map<string, import("n3").Quad[]>();
  for (const q of quads) {
    const key = q.graph.termType === "DefaultGraph" ? "" : `${q.graph.termType}:${q.graph.value}`;
    const list = byGraph.get(key) ?? [];
    list.push(q);
    byGraph.set(key, list);
  }
  const names = Object.entries(prefixes).sort((a, b) => b[1].length - a[1].length);
  const iri = (v: string) => {
    for (const [p, ns] of names) {
      const local = v.slice(ns.length);
      if (ns && v.startsWith(ns) && /^[A-Za-z_][\w-]*$|^$/.test(local)) return `${p}:${local}`;
    }
    return `<${v}>`;
  };
  const term = (t: import("n3").Term, depth: number): string => {
    if (t.termType === "NamedNode") return iri(t.value);
    if (t.termType === "BlankNode") {
      const formula = byGraph.get(`BlankNode:${t.value}`);
      if (formula && depth < 32) return `{ ${formula.map((q) => triple(q, depth + 1)).join(" ")} }`;
      return `_:${t.value}`;
    }
    if (t.termType === "Literal") {
      const lit = JSON.stringify(t.value);
      if (t.language) return `${lit}@${t.language}`;
      return t.datatype.value === "http://www.w3.org/2001/XMLSchema#string"
        ? lit
        : `${lit}^^${iri(t.datatype.value)}`;
    }
    return `?${t.value}`;
  };
  const triple = (q: import("n3").Quad, depth: number) =>
    `${term(q.subject, depth)} ${term(q.predicate, depth)} ${term(q.object, depth)} .`;
  const head = Object.entries(prefixes).map(([p, ns]) => `@prefix ${p}: <${ns}> .`);
  const body = (byGraph.get("") ?? []).map((q) => triple(q, 0));
  return `${[...head, ...(head.length ? [""] : []), ...body].join("\n")}\n`;
}

export { digestOf };
