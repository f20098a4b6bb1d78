// The Graph API as callers see it. Stores live in the graph host (host.ts, a worker thread): a query is
// posted there and waited for with Atomics.wait, so the API stays synchronous; a query that runs past its
// time limit ends the host (the only sound way to stop oxigraph's synchronous WebAssembly) and every graph
// it held is dropped. SELECT/ASK results are memoized here, so a repeated query never leaves this thread.
import { existsSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import { MessageChannel, type MessagePort, receiveMessageOnPort, Worker } from "node:worker_threads";
import { GgenError } from "@ggen/support";
import type { RdfFormat } from "./formats.js";
import { queryForm } from "./lexer.js";
import { formatDuration, rdfLimits } from "./limits.js";
import type { GraphSource, LoadOptions, SourceLimits } from "./load.js";
import { type JsonResults, type Row, rowsFromJson } from "./terms.js";
import {
  CALL_DONE,
  CALL_QUEUED,
  type CallAnswer,
  type CallRequest,
  type GraphMeta,
  type LoadRequest,
  type WireError,
} from "./wire.js";

/** Where a query comes from, for error locations, and the base IRI to resolve it against. */
export interface QueryOptions {
  /** Label for errors, e.g. "templates/model.tmpl". */
  name?: string;
  /** Line (1-based) of the query's first character inside `name`. */
  line?: number;
  /** Column (1-based) of the query's first character inside `name`. */
  column?: number;
  baseIri?: string;
  /** false: run the query even when its result is memoized (and do not memoize it). Default true. */
  memo?: boolean;
  /**
   * SERVICE endpoints answered locally: endpoint IRI → the graph that plays its default graph.
   * For hermetic runs of federated queries; a SERVICE to an endpoint not listed is an error
   * (SILENT: one empty solution). Such queries are not memoized.
   */
  services?: Record<string, Graph>;
  /** Stop the query after this long (SPARQL_TIMEOUT); default rdfLimits().queryTimeoutMs. */
  timeoutMs?: number;
}

export type QueryResult =
  | { type: "select"; vars: string[]; rows: Row[] }
  | { type: "ask"; value: boolean }
  | { type: "graph"; graph: Graph };

export interface Graph {
  /** sha256 over the sources' content (+format and base), stable; changes with update(). */
  readonly hash: string;
  /** Number of quads. */
  readonly size: number;
  readonly prefixes: Record<string, string>;
  readonly base: string | undefined;
  select(query: string, options?: QueryOptions): Row[];
  ask(query: string, options?: QueryOptions): boolean;
  construct(query: string, options?: QueryOptions): Graph;
  query(query: string, options?: QueryOptions): QueryResult;
  update(update: string, options?: QueryOptions): void;
  dump(format: RdfFormat): string;
  free(): void;
}

/** What the caches hold and how often they answered. */
export interface CacheStats {
  /** Parsed stores kept in the process cache, and their quads. */
  stores: number;
  quads: number;
  /** loadGraph calls answered from the process cache / from the disk cache / by parsing. */
  parseHits: number;
  diskHits: number;
  parses: number;
  /** SELECT/ASK results memoized, queries answered from the memo, queries run. */
  memoEntries: number;
  memoHits: number;
  queries: number;
}

// ---- the host ------------------------------------------------------------------------------------

interface Pending {
  resolve: (meta: GraphMeta) => void;
  reject: (e: Error) => void;
}

interface Host {
  worker: Worker;
  /** Where answers to waited-for calls arrive (read with receiveMessageOnPort, never listened to). */
  port: MessagePort;
  /** The call's state (CALL_QUEUED → CALL_STARTED → CALL_DONE), and when the host started it (Date.now()). */
  state: Int32Array;
  startedAt: Float64Array;
  pending: Map<number, Pending>;
}

/** How long a call may wait for the host to take it, or to finish anything but a query. */
const HOST_BUSY_MS = 10 * 60_000;

let host: Host | undefined;
let nextLoad = 1;

/** The host's script: dist/host.js beside this bundle; from source (tests), the one the test setup built. */
function hostScript(): URL {
  const here = new URL("./host.js", import.meta.url);
  if (import.meta.url.endsWith(".ts")) {
    const built = process.env.GGEN_RDF_HOST;
    return built ? pathToFileURL(built) : new URL("../dist/host.js", import.meta.url);
  }
  return existsSync(fileURLToPath(here)) ? here : new URL("../dist/host.js", import.meta.url);
}

function fromWire(w: WireError): GgenError {
  return new GgenError(w.code, w.message, {
    kind: w.kind ?? "failure",
    ...(w.location ? { location: w.location } : {}),
    ...(w.hint ? { hint: w.hint } : {}),
  });
}

/** Ends a host that timed out, trapped or died: its graphs are gone, its pending loads fail. */
function retire(h: Host, why: string): void {
  if (host === h) host = undefined;
  for (const p of h.pending.values()) p.reject(new GgenError("RDF_ENGINE", `the RDF engine stopped: ${why}`));
  h.pending.clear();
  void h.worker.terminate();
}

function startHost(): Host {
  const { port1, port2 } = new MessageChannel();
  const shared = new SharedArrayBuffer(16);
  const worker = new Worker(hostScript(), { workerData: { port: port2, shared }, transferList: [port2] });
  const h: Host = {
    worker,
    port: port1,
    state: new Int32Array(shared, 0, 1),
    startedAt: new Float64Array(shared, 8, 1),
    pending: new Map(),
  };
  // An idle host never keeps the process alive; a pending load does (ref() in loadGraph). unref()
  // before the thread is online does not hold (Node 20): a host only prepared, never loaded, kept its
  // process open. So again once it is online.
  worker.unref();
  worker.once("online", () => {
    if (h.pending.size === 0) worker.unref();
  });
  worker.on("message", (m: { id: number; ok?: GraphMeta; error?: WireError }) => {
    const p = h.pending.get(m.id);
    if (!p) return;
    h.pending.delete(m.id);
    if (h.pending.size === 0) worker.unref();
    if (m.error) {
      if (m.error.trapped) retire(h, m.error.message);
      p.reject(fromWire(m.error));
    } else p.resolve(m.ok!);
  });
  worker.on("error", (e) => retire(h, e.message));
  worker.on("exit", () => retire(h, "its thread ended"));
  return h;
}

function currentHost(): Host {
  host ??= startHost();
  return host;
}

/** Where a call's time limit comes from, for the message when it runs out. */
interface Budget {
  ms: number;
  name: string | undefined;
  line: number | undefined;
}

/**
 * Posts a call and waits for its answer; past `budget` (counted from when the host took the call, which
 * may be later: it may be parsing a load) the host is ended and SPARQL_TIMEOUT thrown. The host wakes
 * this thread once, when the answer is posted.
 */
function callHost(h: Host, request: CallRequest, budget?: Budget): unknown {
  Atomics.store(h.state, 0, CALL_QUEUED);
  h.port.postMessage(request);
  const posted = Date.now();
  const limit = budget?.ms ?? HOST_BUSY_MS;
  for (;;) {
    const state = Atomics.load(h.state, 0);
    if (state === CALL_DONE) break;
    let wait: number;
    if (state === CALL_QUEUED) {
      wait = HOST_BUSY_MS - (Date.now() - posted);
      if (wait <= 0) {
        retire(h, "no answer");
        throw new GgenError(
          "RDF_ENGINE",
          `the RDF engine did not answer within ${formatDuration(HOST_BUSY_MS)}`,
        );
      }
      wait = Math.min(wait, limit);
    } else {
      wait = limit - (Date.now() - (h.startedAt[0] ?? 0));
      if (wait <= 0) throw timedOut(h, budget);
    }
    Atomics.wait(h.state, 0, state, wait);
  }
  const answer = receiveMessageOnPort(h.port)?.message as CallAnswer | undefined;
  if (!answer) {
    retire(h, "no answer");
    throw new GgenError("RDF_ENGINE", "the RDF engine gave no answer");
  }
  if ("error" in answer) {
    if (answer.error.trapped) retire(h, answer.error.message);
    throw fromWire(answer.error);
  }
  return answer.ok;
}

function timedOut(h: Host, budget: Budget | undefined): GgenError {
  retire(h, "a query ran past its time limit");
  if (!budget) return new GgenError("RDF_ENGINE", "the RDF engine did not finish");
  return new GgenError("SPARQL_TIMEOUT", `query ran past its ${formatDuration(budget.ms)} limit`, {
    location: {
      file: budget.name ?? "<query>",
      ...(budget.line !== undefined && budget.line >= 1 ? { line: budget.line } : {}),
    },
    hint: "raise the limit with --query-timeout or GGEN_QUERY_TIMEOUT",
  });
}

// ---- memoized results ----------------------------------------------------------------------------

type Tabular = { vars: string[]; rows: Row[] } | boolean;

const MAX_MEMO = 512;
const memo = new Map<string, Tabular>();
const counters = { memoHits: 0, queries: 0 };

function remember(key: string, value: Tabular): void {
  memo.set(key, value);
  if (memo.size > MAX_MEMO) {
    const first = memo.keys().next();
    if (!first.done) memo.delete(first.value);
  }
}

function tabular(value: Tabular): QueryResult {
  if (typeof value === "boolean") return { type: "ask", value };
  return { type: "select", vars: value.vars, rows: value.rows.slice() };
}

function wrongForm(expected: string, got: QueryResult["type"], options: QueryOptions | undefined): GgenError {
  const name = got === "graph" ? "CONSTRUCT/DESCRIBE" : got.toUpperCase();
  return new GgenError("SPARQL_FORM", `expected a ${expected} query, got ${name}`, {
    kind: "usage",
    location: { file: options?.name ?? "<query>" },
    hint: "use query() for any form",
  });
}

// ---- the Graph -----------------------------------------------------------------------------------

class HostedGraph implements Graph {
  readonly #host: Host;
  readonly #handle: number;
  readonly #prefixes: Record<string, string>;
  readonly #base: string | undefined;
  #hash: string;
  #size: number | undefined;
  #freed = false;

  constructor(h: Host, meta: GraphMeta) {
    this.#host = h;
    this.#handle = meta.handle;
    this.#hash = meta.hash;
    this.#prefixes = meta.prefixes;
    this.#base = meta.base;
  }

  get hash(): string {
    return this.#hash;
  }

  get prefixes(): Record<string, string> {
    return this.#prefixes;
  }

  get base(): string | undefined {
    return this.#base;
  }

  get size(): number {
    this.#size ??= callHost(this.#live(), { op: "size", handle: this.#handle }) as number;
    return this.#size;
  }

  /** The handle, for a query on another graph of the same host (SERVICE). */
  handleOn(h: Host): number {
    if (this.#live() !== h)
      throw new GgenError("GRAPH_FREED", "a SERVICE graph was dropped when the RDF engine restarted");
    return this.#handle;
  }

  #live(): Host {
    if (this.#freed) throw new GgenError("GRAPH_FREED", "this graph was freed; load it again");
    if (this.#host !== host) {
      throw new GgenError(
        "GRAPH_FREED",
        "this graph was dropped when the RDF engine restarted (after a query ran past its limit); load it again",
      );
    }
    return this.#host;
  }

  #budget(options: QueryOptions | undefined): Budget {
    return {
      ms: options?.timeoutMs ?? rdfLimits().queryTimeoutMs,
      name: options?.name,
      line: options?.line,
    };
  }

  select(query: string, options?: QueryOptions): Row[] {
    const r = this.query(query, options);
    if (r.type !== "select") throw wrongForm("SELECT", r.type, options);
    return r.rows;
  }

  ask(query: string, options?: QueryOptions): boolean {
    const r = this.query(query, options);
    if (r.type !== "ask") throw wrongForm("ASK", r.type, options);
    return r.value;
  }

  construct(query: string, options?: QueryOptions): Graph {
    const r = this.query(query, options);
    if (r.type !== "graph") throw wrongForm("CONSTRUCT or DESCRIBE", r.type, options);
    return r.graph;
  }

  query(query: string, options?: QueryOptions): QueryResult {
    const h = this.#live();
    const federated = options?.services !== undefined && /\bSERVICE\b/i.test(query);
    const form = queryForm(query);
    const memoable = !federated && options?.memo !== false && (form === "select" || form === "ask");
    const key = `${this.#hash}\u0000${options?.baseIri ?? ""}\u0000${query}`;
    const hit = memoable ? memo.get(key) : undefined;
    if (hit !== undefined) {
      counters.memoHits++;
      return tabular(hit);
    }
    counters.queries++;
    const request: CallRequest = { op: "query", handle: this.#handle, query, options: runOptions(options) };
    if (federated) {
      request.services = {};
      for (const [endpoint, g] of Object.entries(options?.services ?? {})) {
        if (!(g instanceof HostedGraph))
          throw new GgenError("SPARQL_SERVICE", `the graph for SERVICE <${endpoint}> is not a loaded graph`);
        request.services[endpoint] = g.handleOn(h);
      }
    }
    const r = callHost(h, request, this.#budget(options)) as
      | { type: "tabular"; json: string }
      | { type: "graph"; meta: GraphMeta };
    if (r.type === "graph") return { type: "graph", graph: new HostedGraph(h, r.meta) };
    const json = JSON.parse(r.json) as JsonResults;
    const value: Tabular = typeof json.boolean === "boolean" ? json.boolean : rowsFromJson(json);
    if (memoable) remember(key, value);
    return tabular(value);
  }

  update(update: string, options?: QueryOptions): void {
    const h = this.#live();
    const request: CallRequest = { op: "update", handle: this.#handle, update, options: runOptions(options) };
    this.#hash = callHost(h, request, this.#budget(options)) as string;
    this.#size = undefined;
  }

  dump(format: RdfFormat): string {
    return callHost(this.#live(), { op: "dump", handle: this.#handle, format }) as string;
  }

  free(): void {
    if (this.#freed) return;
    this.#freed = true;
    if (this.#host === host)
      this.#host.worker.postMessage({ op: "free", handle: this.#handle } as LoadRequest);
  }
}

function runOptions(options: QueryOptions | undefined): Extract<CallRequest, { op: "query" }>["options"] {
  const o: Extract<CallRequest, { op: "query" }>["options"] = {};
  if (options?.name !== undefined) o.name = options.name;
  if (options?.line !== undefined) o.line = options.line;
  if (options?.column !== undefined) o.column = options.column;
  if (options?.baseIri !== undefined) o.baseIri = options.baseIri;
  return o;
}

/**
 * Starts the graph host now, and has it load oxigraph and compile its common paths, without keeping the
 * process alive: a caller that will load a graph soon but has other work first gets the host's start
 * (≈ 0.2–0.5 s) done beside that work instead of after it. Costs a thread's start when nothing is loaded.
 */
export function prepareGraphHost(): void {
  const fresh = host === undefined;
  const h = currentHost();
  if (fresh) h.worker.postMessage({ op: "warm" } satisfies LoadRequest);
}

/** Reads and parses `sources` into one graph (in the graph host), through its caches. */
export async function loadGraph(sources: GraphSource[], options: LoadOptions = {}): Promise<Graph> {
  const { limits: given, ...rest } = options;
  const l = rdfLimits();
  const limits: SourceLimits = {
    maxSourceBytes: given?.maxSourceBytes ?? l.maxSourceBytes,
    fetchConnectMs: given?.fetchConnectMs ?? l.fetchConnectMs,
    fetchIdleMs: given?.fetchIdleMs ?? l.fetchIdleMs,
    fetchTotalMs: given?.fetchTotalMs ?? l.fetchTotalMs,
  };
  const h = currentHost();
  const id = nextLoad++;
  const meta = await new Promise<GraphMeta>((resolve, reject) => {
    h.pending.set(id, { resolve, reject });
    h.worker.ref();
    h.worker.postMessage({ op: "load", id, sources, options: rest, limits } satisfies LoadRequest);
  });
  return new HostedGraph(h, meta);
}

export function cacheStats(): CacheStats {
  const stores = host
    ? (callHost(host, { op: "stats" }) as Omit<CacheStats, "memoEntries" | "memoHits" | "queries">)
    : { stores: 0, quads: 0, parseHits: 0, diskHits: 0, parses: 0 };
  return { ...stores, memoEntries: memo.size, ...counters };
}

/** Frees every cached store no Graph holds and forgets memoized results. */
export function clearGraphCache(): void {
  memo.clear();
  if (host) callHost(host, { op: "clear" });
}
