// Regenerating after a graph change without loading the whole graph again. For a graph made of N-Triples
// and Turtle files without blank nodes (Turtle is read as N-Triples lines by n3; blank node labels are not
// stable across edits), the last generation's text and query results are kept in the base store; the
// next run diffs the triples line by line, and answers each SELECT:
// - with the last run's rows when no added or removed triple matches any of the query's triple patterns
//   (a query's solutions only ever use triples its patterns match, so they cannot have changed);
// - otherwise on the subgraph of the triples its patterns can match (its result there is its result on
//   the whole graph);
// - and on the whole graph, loaded once, whenever that cannot be shown: GRAPH, SERVICE, FROM, zero-length
//   paths (`*`, `?`: they range over every node), negated property sets, a parse it cannot follow, or a
//   subgraph that is most of the graph. Anything but SELECT goes to the whole graph too.
import { isUtf8 } from "node:buffer";
import { readFileSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { join, relative, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { gunzipSync, gzipSync } from "node:zlib";
import type { Graph, GraphSource, QueryOptions, QueryResult, RdfFormat, Row } from "@ggen/rdf";
import { sha256, writeFileAtomicSync } from "@ggen/support";
import type { Rdf } from "./lazy.js";
import type { Lock } from "./lock.js";
import type { BaseStore } from "./store.js";

/** A triple pattern: each position an N-Triples IRI (`<…>`) or undefined (anything). */
interface Pattern {
  s?: string;
  p?: string;
  o?: string;
}

import type { Quad as N3Quad } from "n3";
import type * as SparqlJs from "sparqljs";

type SparqlParser = { parse(q: string): unknown };
let parser: SparqlParser | undefined;
function sparqlParser(): SparqlParser {
  if (!parser) {
    const { Parser } = createRequire(import.meta.url)("sparqljs") as {
      Parser: typeof SparqlJs.Parser;
    };
    parser = new Parser();
  }
  return parser;
}

const iriOf = (t: unknown): string | undefined => {
  const term = t as { termType?: string; value?: string } | undefined;
  return term?.termType === "NamedNode" ? `<${term.value}>` : undefined;
};

/** Predicates a property path walks, or undefined when it can match anything (`!`, `*`, `?`). */
function pathPredicates(path: unknown, out: string[]): boolean {
  const p = path as { type?: string; pathType?: string; items?: unknown[]; termType?: string };
  if (p.termType === "NamedNode") {
    out.push(iriOf(p)!);
    return true;
  }
  if (p.type !== "path" || !Array.isArray(p.items)) return false;
  if (p.pathType === "!" || p.pathType === "*" || p.pathType === "?") return false;
  return p.items.every((i) => pathPredicates(i, out));
}

/**
 * The triple patterns of a SELECT or ASK (every BGP, OPTIONAL, UNION, MINUS, EXISTS and subquery),
 * or undefined when its result may depend on triples no pattern names.
 */
export function triplePatterns(query: string): Pattern[] | undefined {
  let ast: unknown;
  try {
    ast = sparqlParser().parse(query);
  } catch {
    return undefined;
  }
  const a = ast as { type?: string; queryType?: string; from?: { default?: unknown[]; named?: unknown[] } };
  if (a.type !== "query" || (a.queryType !== "SELECT" && a.queryType !== "ASK")) return undefined;
  const patterns: Pattern[] = [];
  let ok = true;
  const walk = (node: unknown): void => {
    if (!ok || node === null || typeof node !== "object") return;
    if (Array.isArray(node)) {
      for (const n of node) walk(n);
      return;
    }
    const n = node as Record<string, unknown>;
    if (n.type === "graph" || n.type === "service") ok = false;
    const from = n.from as { default?: unknown[]; named?: unknown[] } | undefined;
    if (from && ((from.default?.length ?? 0) > 0 || (from.named?.length ?? 0) > 0)) ok = false;
    if (Array.isArray(n.triples)) {
      for (const t of n.triples as { subject: unknown; predicate: unknown; object: unknown }[]) {
        const s = iriOf(t.subject);
        const o = iriOf(t.object);
        const pred = t.predicate as { type?: string; termType?: string };
        if ((t.subject as { termType?: string }).termType === "Quad") ok = false;
        if (pred.type === "path") {
          const preds: string[] = [];
          if (!pathPredicates(pred, preds)) ok = false;
          // A path's steps go through any nodes: only its predicates are known.
          for (const p of preds) patterns.push({ p });
        } else {
          const pat: Pattern = {};
          if (s) pat.s = s;
          const p = iriOf(pred);
          if (p) pat.p = p;
          if (o) pat.o = o;
          patterns.push(pat);
        }
      }
    }
    for (const [k, v] of Object.entries(n)) if (k !== "triples" && k !== "template") walk(v);
  };
  walk(ast);
  return ok ? patterns : undefined;
}

/** One N-Triples line as its three terms; `wild` when it cannot be read simply (it then matches anything). */
interface Line {
  s: string;
  p: string;
  o: string;
  wild: boolean;
}

const LINE = /^\s*(<[^>\s]*>)\s+(<[^>\s]*>)\s+(\S.*?)\s*\.\s*(?:#.*)?$/;

function readLine(text: string): Line | undefined {
  const t = text.trim();
  if (t === "" || t.startsWith("#")) return undefined;
  const m = LINE.exec(text);
  if (!m || text.includes("\\")) return { s: "", p: "", o: "", wild: true };
  return { s: m[1]!, p: m[2]!, o: m[3]!, wild: false };
}

const matches = (l: Line, pats: readonly Pattern[]): boolean =>
  l.wild ||
  pats.some(
    (x) =>
      (x.s === undefined || x.s === l.s) &&
      (x.p === undefined || x.p === l.p) &&
      (x.o === undefined || x.o === l.o),
  );

/**
 * A graph file a snapshot stands for: its text as UTF-8 bytes, and its triples as N-Triples lines (UTF-8
 * too). Bytes, not strings: a large graph is compared, searched and hashed natively, and decoded only where
 * a line is read.
 */
export interface SnapshotSource {
  abs: string;
  format: "ntriples" | "turtle";
  /** The file's text (what the base store keeps, by its digest). */
  bytes: Buffer;
  digest: string;
  /**
   * Its triples, one N-Triples line each, or why no diff can read them (blank nodes); made on first use: a
   * text answered by rows kept for exactly its digest is never parsed.
   */
  readonly lines: Buffer | { why: string };
}

/** The lines of a source that has them (a caller that diffs or searches checked that first). */
function linesOf(r: SnapshotSource): Buffer {
  const l = r.lines;
  if (!Buffer.isBuffer(l)) throw new Error(`internal: ${r.abs} has no snapshot lines (${l.why})`);
  return l;
}

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);
/** The text without its byte order mark (as @ggen/rdf reads it). */
const withoutBom = (b: Buffer): Buffer => (b.subarray(0, 3).equals(BOM) ? b.subarray(3) : b);

/** The formats snapshots read; the others are loaded whole (and a run says so when they changed). */
const SNAPSHOT_FORMATS: ReadonlySet<string> = new Set(["ntriples", "turtle"]);

/**
 * The triples of a file's text as N-Triples lines, or why a snapshot cannot stand for it. Blank nodes have
 * no label that survives an edit, so a graph with any is loaded whole.
 */
export function snapshotLines(
  bytes: Buffer,
  format: "ntriples" | "turtle",
  abs: string,
): Buffer | { why: string } {
  const body = withoutBom(bytes);
  if (format === "ntriples") return body.includes("_:") ? { why: "it has blank nodes" } : body;
  const { Parser, Writer } = n3();
  let quads: N3Quad[];
  try {
    quads = new Parser({ format: "Turtle", baseIRI: pathToFileURL(abs).href }).parse(body.toString("utf8"));
  } catch {
    return { why: "it does not parse as Turtle here" }; // the whole load reports the error itself
  }
  for (const q of quads)
    if (
      q.subject.termType !== "NamedNode" ||
      (q.object.termType !== "NamedNode" && q.object.termType !== "Literal")
    )
      return { why: "it has blank nodes" };
  return Buffer.from(new Writer({ format: "N-Triples" }).quadsToString(quads));
}

let n3Lib: typeof import("n3") | undefined;
const n3 = () => {
  n3Lib ??= createRequire(import.meta.url)("n3") as typeof import("n3");
  return n3Lib;
};

/** What the run already read of its graph files: their digests, and their bytes once (see Run). */
export interface ReadGraphFiles {
  readonly graphInputs: ReadonlyMap<string, string>;
  takeGraphBytes(abs: string): Buffer | undefined;
}

/** The sources a snapshot can stand for, read; or why not (undefined: not files, or a file it cannot read). */
export function readSnapshotSources(
  rdf: Rdf,
  sources: readonly GraphSource[],
  files?: ReadGraphFiles,
): SnapshotSource[] | { path: string; why: string } | undefined {
  const out: SnapshotSource[] = [];
  for (const s of sources) {
    if (!("path" in s) || s.graph !== undefined) return undefined;
    const format = s.format ?? rdf.formatFromPath(s.path);
    if (format === undefined) return undefined; // the ordinary load reports it
    if (!SNAPSHOT_FORMATS.has(format)) return { path: s.path, why: `${format} graphs are not snapshotted` };
    const abs = resolve(s.path);
    let bytes: Buffer;
    try {
      bytes = files?.takeGraphBytes(abs) ?? readFileSync(abs);
    } catch {
      return undefined; // the ordinary load reports it
    }
    // Bytes that are not UTF-8 are read as their decoded text (as before), which is what gets kept.
    const exact = isUtf8(bytes);
    if (!exact) bytes = Buffer.from(bytes.toString("utf8"));
    const f = format as SnapshotSource["format"];
    const text = bytes;
    let lines: Buffer | { why: string } | undefined;
    // The sha256 of the file's bytes this run already took (the lock's graph input), when they are the text's.
    const known = exact ? files?.graphInputs.get(abs) : undefined;
    out.push({
      abs,
      format: f,
      bytes,
      digest: known ?? sha256(bytes),
      get lines() {
        lines ??= snapshotLines(text, f, abs);
        return lines;
      },
    });
  }
  return out.length ? out : undefined;
}

/** Where a source set's query results are kept: by the digests of its texts. */
const setKey = (digests: readonly string[]) => sha256(`ggen-snapshot/2\0${digests.join("\0")}`);

/**
 * What a results file holds: the graph's triple count, each query's rows, and the triple patterns of the
 * queries whose patterns were read (null: its result may depend on any triple), so the next run need not
 * parse them again.
 */
interface StoredResults {
  triples: number;
  rows: Record<string, Row[]>;
  patterns?: Record<string, Pattern[] | null>;
}

/** Patterns of queries read by this process, or kept with the results they came with (pure in the query). */
const knownPatterns = new Map<string, Pattern[] | null>();

/** triplePatterns, once per query text. */
function patternsOf(query: string): Pattern[] | undefined {
  let p = knownPatterns.get(query);
  if (p === undefined) {
    p = triplePatterns(query) ?? null;
    knownPatterns.set(query, p);
  }
  return p ?? undefined;
}

const isPatterns = (v: unknown): v is Pattern[] | null =>
  v === null ||
  (Array.isArray(v) &&
    v.every(
      (x) =>
        typeof x === "object" &&
        x !== null &&
        Object.entries(x).every(([k, t]) => (k === "s" || k === "p" || k === "o") && typeof t === "string"),
    ));

/** A results file's JSON text; undefined when it cannot be read. */
function readResults(path: string): string | undefined {
  try {
    return gunzipSync(readFileSync(path)).toString("utf8");
  } catch {
    return undefined;
  }
}

/** A results file's JSON as stored results (the patterns it kept learnt); undefined when it is not that. */
function parseResults(text: string): StoredResults | undefined {
  let stored: Partial<StoredResults>;
  try {
    stored = JSON.parse(text) as Partial<StoredResults>;
  } catch {
    return undefined;
  }
  learnPatterns(stored);
  return typeof stored.triples === "number" && stored.rows !== null && typeof stored.rows === "object"
    ? (stored as StoredResults)
    : undefined;
}

/** The patterns a results file kept, for queries this process has not read. */
function learnPatterns(stored: Partial<StoredResults>): void {
  if (stored.patterns === null || typeof stored.patterns !== "object") return;
  for (const [q, p] of Object.entries(stored.patterns))
    if (!knownPatterns.has(q) && isPatterns(p)) knownPatterns.set(q, p);
}

const isTripleLine = (l: string) => {
  const t = l.trim();
  return t !== "" && !t.startsWith("#");
};

/** The length of the longest common head of `a` and `b`: halving, each step one native comparison. */
function commonHead(a: Buffer, b: Buffer): number {
  let lo = 0;
  let hi = Math.min(a.length, b.length);
  // a[0, lo) equals b[0, lo); the answer is in [lo, hi].
  while (lo < hi) {
    const m = (lo + hi + 1) >>> 1;
    if (a.compare(b, lo, m, lo, m) === 0) lo = m;
    else hi = m - 1;
  }
  return lo;
}

/** The length of the longest common tail of `a` and `b` no longer than `max`. */
function commonTail(a: Buffer, b: Buffer, max: number): number {
  let lo = 0;
  let hi = max;
  while (lo < hi) {
    const m = (lo + hi + 1) >>> 1;
    if (a.compare(b, b.length - m, b.length - lo, a.length - m, a.length - lo) === 0) lo = m;
    else hi = m - 1;
  }
  return lo;
}

const NL = 0x0a;

/** `line` is one of the lines of `text` (a whole line, anywhere). */
function hasLine(text: Buffer, line: string): boolean {
  const l = Buffer.from(line);
  const n = l.length;
  if (text.length >= n && text.compare(l, 0, n, 0, n) === 0 && (text.length === n || text[n] === NL))
    return true;
  if (text.length > n && text[text.length - n - 1] === NL && text.compare(l, 0, n, text.length - n) === 0)
    return true;
  return text.includes(`\n${line}\n`);
}

/**
 * The lines of `b` that `a` lacks (added) and of `a` that `b` lacks (removed), each once, of two UTF-8 texts.
 * The texts' common head and tail are found by halving (each step a native comparison), so a small edit of
 * a large graph costs a few scans instead of decoding both texts and splitting them into sets of every line.
 */
export function lineChanges(
  textA: Buffer | string,
  textB: Buffer | string,
): { added: string[]; removed: string[] } {
  const a = typeof textA === "string" ? Buffer.from(textA) : textA;
  const b = typeof textB === "string" ? Buffer.from(textB) : textB;
  const n = Math.min(a.length, b.length);
  let head = commonHead(a, b);
  if (head === a.length && head === b.length) return { added: [], removed: [] };
  // Back to a line's start (a newline byte is never inside a multi-byte character).
  head = head === 0 ? 0 : a.lastIndexOf(NL, head - 1) + 1;
  const tail = commonTail(a, b, n - head);
  // Whole lines on both sides: the window ends at the end of the line the common tail starts in.
  const endOf = (t: Buffer, at: number) => {
    const i = t.indexOf(NL, at);
    return i < 0 ? t.length : i;
  };
  const aWin = new Set(a.toString("utf8", head, endOf(a, a.length - tail)).split("\n"));
  const bWin = new Set(b.toString("utf8", head, endOf(b, b.length - tail)).split("\n"));
  const added = [...bWin].filter((l) => !aWin.has(l) && isTripleLine(l));
  const removed = [...aWin].filter((l) => !bWin.has(l) && isTripleLine(l));
  // A line of the window may also be in the other text's head or tail (it is there twice): not a change.
  // Looked up in the whole text for a few lines; past that, both texts are compared line by line.
  if (added.length + removed.length <= 16) {
    return {
      added: added.filter((l) => !hasLine(a, l)),
      removed: removed.filter((l) => !hasLine(b, l)),
    };
  }
  const all = (t: Buffer) => new Set(t.toString("utf8").split("\n"));
  const aAll = all(a);
  const bAll = all(b);
  return { added: added.filter((l) => !aAll.has(l)), removed: removed.filter((l) => !bAll.has(l)) };
}

export interface SnapshotStats {
  /** Queries answered with the last run's rows, on a subgraph, and whole graphs loaded. */
  reusedQueries: number;
  subgraphQueries: number;
  fullLoads: number;
}

/** The snapshots of a run: the graphs it answered, their texts and the rows to keep for the next run. */
export class GraphSnapshots {
  readonly stats: SnapshotStats = { reusedQueries: 0, subgraphQueries: 0, fullLoads: 0 };
  /** Texts to keep as bases (by digest), and results to write (by set key). */
  readonly texts = new Map<string, Buffer>();
  readonly results = new Map<string, Record<string, Row[]>>();
  /** The graph of each result set (its triple count is kept with the rows). */
  private readonly graphOf = new Map<string, SnapshotGraph>();
  /** Results files of the last generation's graphs, replaced by this run's. */
  readonly supersededResults = new Set<string>();
  private readonly graphs: SnapshotGraph[] = [];
  /** Graphs already said to be loaded whole. */
  private readonly explained = new Set<string>();
  /** Each result set as JSON, made once rendering is over (for the lock's digest and the file alike). */
  private readonly json = new Map<string, string>();

  /** Result sets read from the cache dir, as read (one the run added to is kept there again). */
  private readonly fromCache = new Map<string, string>();
  /**
   * Result sets to keep in the cache dir: those of texts this project's own store had no rows for (a first
   * generation, or a text it never had). A regeneration's sets stay in the project: a text edited there is
   * rarely generated anywhere else, and writing each one twice would slow every regeneration.
   */
  private readonly cacheable = new Set<string>();
  /** Each result set compressed once (the project's file and the cache dir's hold the same bytes). */
  private readonly compressed = new Map<string, Buffer>();

  /**
   * `cacheDir`: where result sets are also kept across projects, by the digests of the graph texts they
   * answer (any text, blank nodes too: unchanged, it needs no diff), so a new project generated from the
   * same graph and queries loads no graph at all.
   */
  constructor(
    private readonly store: BaseStore,
    private readonly lock: Lock | undefined,
    private readonly cwd: string,
    private readonly warn: (m: string) => void,
    private readonly cacheDir?: string,
  ) {}

  private cachePath(key: string): string {
    return join(this.cacheDir!, "results", `${key}.json.gz`);
  }

  /** The rows kept in the cache dir for exactly these texts; undefined when there are none (or unreadable). */
  private cachedResults(
    key: string,
  ): { rows: Record<string, Row[]>; changed: Line[]; triples: number } | undefined {
    if (this.cacheDir === undefined) return undefined;
    // None yet, or torn: the graph is queried and the set kept again.
    const text = readResults(this.cachePath(key));
    const stored = text === undefined ? undefined : parseResults(text);
    if (!stored) return undefined;
    this.fromCache.set(key, text!);
    return { rows: stored.rows, changed: [], triples: stored.triples };
  }

  /**
   * Keeps this run's cacheable result sets in the cache dir (those it read there and did not add to are
   * already there). Not a set with a blank node: its label is the load's own. Best effort: a cache.
   */
  keepInCache(): void {
    if (this.cacheDir === undefined) return;
    for (const key of this.cacheable) {
      const rows = this.results.get(key) ?? {};
      if (this.fromCache.get(key) === this.resultsJson(key)) continue;
      if (Object.values(rows).some((rs) => rs.some((r) => Object.values(r).some((t) => t.type === "blank"))))
        continue;
      try {
        writeFileAtomicSync(this.cachePath(key), this.compressResults(key), { fsync: false });
      } catch {
        // an unwritable cache dir costs the next run a graph load, nothing else
      }
    }
  }

  resultsPath(key: string): string {
    return join(this.store.dir, "results", `${key}.json.gz`);
  }

  /** A result set as the JSON kept in its file (and digested in the lock). */
  resultsJson(key: string): string {
    let text = this.json.get(key);
    if (text === undefined) {
      const rows = this.results.get(key) ?? {};
      const patterns: Record<string, Pattern[] | null> = {};
      for (const q of Object.keys(rows)) {
        const p = knownPatterns.get(q);
        if (p !== undefined) patterns[q] = p;
      }
      const stored: StoredResults = { triples: this.graphOf.get(key)?.size ?? 0, rows, patterns };
      text = JSON.stringify(stored);
      this.json.set(key, text);
    }
    return text;
  }

  /** What the lock records of the results this run keeps: each file's key and its JSON's digest. */
  resultDigests(): { key: string; sha256: string }[] {
    return [...this.results.keys()].sort().map((key) => ({ key, sha256: sha256(this.resultsJson(key)) }));
  }

  compressResults(key: string): Buffer {
    let bytes = this.compressed.get(key);
    if (bytes === undefined) {
      bytes = gzipSync(this.resultsJson(key), { level: 1 });
      this.compressed.set(key, bytes);
    }
    return bytes;
  }

  /**
   * The last generation's rows for a result set, used only when they are what its lock says: a result file
   * that is missing or was changed since gives a one-line notice, and the graph is queried whole.
   */
  private previousResults(key: string, shown: string): StoredResults | undefined {
    const expected = this.lock?.manifest.inputs.results?.find((r) => r.key === key)?.sha256;
    // A lock without the digest (before revision 1.1, or written by `ggen apply`): nothing to check against.
    if (expected === undefined) return undefined;
    const text = readResults(this.resultsPath(key));
    if (text === undefined) {
      this.warn(
        `${shown}: the stored query results of the last generation are missing; querying the whole graph`,
      );
      return undefined;
    }
    if (sha256(text) !== expected) {
      this.warn(
        `${shown}: the stored query results do not match the lock (changed since the last generation); querying the whole graph`,
      );
      return undefined;
    }
    return parseResults(text);
  }

  /**
   * Starts the graph host at once when a graph file the last generation read has changed since (written
   * since it started, or its digest differs): its changed
   * queries are then answered on a subgraph (or the whole graph) in the host, and the host's start overlaps
   * reading and diffing the graph instead of following it. Nothing changed: no host is started. Only a head
   * start: a file that cannot be read here is left to the run to report.
   */
  async prepareHost(rdf: () => Promise<Rdf>, digestOf: (abs: string) => Promise<string>): Promise<void> {
    const start = async () => (await rdf()).prepareGraphHost();
    try {
      const graphs = (this.lock?.manifest.inputs.graphs ?? []).flatMap((g) => {
        const abs = resolve(this.cwd, g.path);
        const st = statSync(abs, { throwIfNoEntry: false });
        return st?.isFile() ? [{ abs, sha256: g.sha256, mtimeMs: st.mtimeMs }] : [];
      });
      // Written since the last generation started: most likely changed, so no need to digest it first.
      const since = Date.parse(this.lock?.manifest.startedAt ?? "");
      if (graphs.some((g) => g.mtimeMs >= since)) return await start();
      for (const g of graphs) if ((await digestOf(g.abs)) !== g.sha256) return await start();
    } catch {
      // The run reads the same files and says what is wrong with them.
    }
  }

  /**
   * Graphs that were ever asked what only the whole graph can answer (a template that failed renders again
   * once they are loaded). Never cleared: templates render concurrently, and one that failed on a graph
   * another has since loaded must still render again.
   */
  wanting(): SnapshotGraph[] {
    return this.graphs.filter((g) => g.wantsWhole);
  }

  /** Graphs that were asked a query whose answer is still being computed on a subgraph (never cleared either). */
  waiting(): SnapshotGraph[] {
    return this.graphs.filter((g) => g.wantsPending);
  }

  /** Every subgraph answer computed (or given up: one nobody asked for fails no run). */
  async settled(): Promise<void> {
    await Promise.all(this.graphs.map((g) => g.answered().catch(() => undefined)));
  }

  /**
   * A graph over `sources` answering from the last generation's snapshot where it can; undefined when the
   * sources are not N-Triples or Turtle files without blank nodes (then they are loaded as usual, and a
   * regeneration after they changed says why it loads them whole).
   */
  async graph(
    rdf: Rdf,
    sources: GraphSource[],
    load: () => Promise<Graph>,
    files?: ReadGraphFiles,
  ): Promise<Graph | undefined> {
    const read = readSnapshotSources(rdf, sources, files);
    if (read === undefined) return undefined;
    if (!Array.isArray(read)) {
      this.explainWholeLoad(read.path, read.why);
      return undefined;
    }
    const key = setKey(read.map((r) => r.digest));
    const own = this.previous(read);
    // Not when the lock names rows for these very texts that could not be used: the run said it queries
    // the graph whole, and it does.
    const named = this.lock?.manifest.inputs.results?.some((r) => r.key === key) ?? false;
    const previous = own ?? (named ? undefined : this.cachedResults(key));
    if (own === undefined && this.cacheDir !== undefined) this.cacheable.add(key);
    if (!previous) {
      for (const r of read) {
        const lines = r.lines;
        if (Buffer.isBuffer(lines)) continue;
        this.explainWholeLoad(r.abs, lines.why);
        // Loaded whole as before; through a snapshot graph only to keep its rows in the cache dir.
        if (this.cacheDir === undefined) return undefined;
        break;
      }
    }
    // Texts kept for the next run's diff (one with blank nodes too: whether it has any is known only once it
    // is parsed, which a text answered from kept rows never is, and what a run writes must not depend on that).
    for (const r of read) this.texts.set(r.digest, r.bytes);
    const rows: Record<string, Row[]> = {};
    this.results.set(key, rows);
    // As @ggen/rdf reads the sources (without a byte order mark), so the hash, prefixes and base are the
    // whole graph's.
    const prefixes: Record<string, string> = {};
    let base: string | undefined;
    const texts = read.map((r) => {
      const text = withoutBom(r.bytes);
      const fileBase = pathToFileURL(r.abs).href;
      // N-Triples declares nothing: only Turtle is decoded for its prefixes and base.
      if (r.format === "turtle") {
        const d = rdf.declarations(text.toString("utf8"), r.format, fileBase);
        for (const [k, v] of Object.entries(d.prefixes)) if (!(k in prefixes)) prefixes[k] = v;
        base ??= d.base;
      }
      // The text's sha256 is the source's digest unless a byte order mark was cut off.
      return {
        format: r.format as RdfFormat,
        base: fileBase,
        text,
        ...(text === r.bytes ? { sha256: r.digest } : {}),
      };
    });
    if (base === undefined && read.length === 1) base = texts[0]!.base;
    const hash = rdf.contentHash(texts);
    const g = new SnapshotGraph(rdf, hash, read, rows, load, this.stats, prefixes, base);
    this.graphs.push(g);
    this.graphOf.set(key, g);
    if (previous) {
      g.triplesCount = previous.triples;
      g.answerFrom(previous.rows, previous.changed);
    } else await g.loadWhole();
    return g;
  }

  /**
   * A graph no snapshot can stand for is loaded whole: said once, when it changed since the last generation
   * (then a snapshot would have spared loading it).
   */
  private explainWholeLoad(path: string, why: string): void {
    const abs = resolve(path);
    const before = this.lock?.manifest.inputs.graphs.find((g) => resolve(this.cwd, g.path) === abs);
    if (!before || this.explained.has(abs)) return;
    let now: string | undefined;
    try {
      now = sha256(readFileSync(abs, "utf8"));
    } catch {
      return;
    }
    if (now === before.sha256) return;
    this.explained.add(abs);
    this.warn(
      `${relative(this.cwd, abs) || abs}: changed; queried whole, not from the last generation's snapshot (${why}; snapshots read N-Triples and Turtle without blank nodes)`,
    );
  }

  /** The last generation's rows for these files and the lines that changed since, when both are known. */
  private previous(
    read: readonly SnapshotSource[],
  ): { rows: Record<string, Row[]>; changed: Line[]; triples: number } | undefined {
    const byPath = new Map(
      (this.lock?.manifest.inputs.graphs ?? []).map((g) => [resolve(this.cwd, g.path), g.sha256] as const),
    );
    const digests = read.map((r) => byPath.get(r.abs));
    if (!digests.every((d): d is string => d !== undefined)) return undefined;
    const key = setKey(digests);
    if (key !== setKey(read.map((r) => r.digest))) this.supersededResults.add(key);
    const shown = read.map((r) => relative(this.cwd, r.abs) || r.abs).join(", ");
    const stored = this.previousResults(key, shown);
    if (!stored) return undefined;
    // The same texts as last time: nothing changed, no need to read the stored ones.
    if (digests.every((d, i) => d === read[i]!.digest))
      return { rows: stored.rows, changed: [], triples: stored.triples };
    // A text no diff can read (blank nodes) changed: its rows say nothing of the new one.
    if (read.some((r) => !Buffer.isBuffer(r.lines))) return undefined;
    const before: Buffer[] = [];
    for (const [i, d] of digests.entries()) {
      const t = this.store.graphBytes(d);
      if (t === undefined) {
        this.warn(
          `${shown}: the stored text of the last generation's graph is missing; querying the whole graph`,
        );
        return undefined;
      }
      // The last text was read by this same rule (or it would have no stored results).
      const lines = snapshotLines(t, read[i]!.format, read[i]!.abs);
      if (!Buffer.isBuffer(lines)) return undefined;
      before.push(lines);
    }
    const { added, removed } = lineChanges(joinLines(before), joinLines(read.map(linesOf)));
    const changed: Line[] = [];
    for (const l of [...added, ...removed]) pushLine(changed, l);
    // Distinct triple lines, kept up to date by the change (not counted again over the whole text).
    return { rows: stored.rows, changed, triples: stored.triples + added.length - removed.length };
  }
}

/** SPARQL whose answer is not a function of the graph: never answered from kept rows. */
const VOLATILE = /\b(?:RAND|NOW|UUID|STRUUID|BNODE)\s*\(|\bSERVICE\b/i;

/** Texts one after another, a newline between each two (no copy for one). */
const joinLines = (texts: readonly Buffer[]): Buffer =>
  texts.length === 1
    ? texts[0]!
    : Buffer.concat(texts.flatMap((t, i) => (i === 0 ? [t] : [Buffer.from("\n"), t])));

function pushLine(out: Line[], text: string): void {
  const l = readLine(text);
  if (l) out.push(l);
}

/**
 * The constant terms a line must contain to match any of `pats`; undefined when one has none. The first
 * term of each is the one searched for: a subject or an object before a predicate, which most lines share
 * (`?c a owl:Class` is searched by `owl:Class`, not by `rdf:type`).
 */
function needles(pats: readonly Pattern[]): string[][] | undefined {
  const out: string[][] = [];
  for (const p of pats) {
    const c = [p.s, p.o, p.p].filter((x): x is string => x !== undefined);
    if (c.length === 0) return undefined;
    out.push(c);
  }
  return out;
}

/**
 * The Graph templates see. Before rendering, the last run's queries are answered (their rows kept, or
 * recomputed on a subgraph); a query it has no answer for (new, or not a SELECT) marks it `wantsWhole`
 * and throws, and the engine loads the whole graph and renders that template again. Subgraph answers come
 * from the graph host while templates render: a query whose answer is not there yet marks it
 * `wantsPending` and throws, and the engine renders that template again once the answers are in.
 */
export class SnapshotGraph implements Graph {
  wantsWhole = false;
  wantsPending = false;
  /** The queries being answered on a subgraph, and when they will be. */
  private readonly pendingQueries = new Set<string>();
  private pending: Promise<void> | undefined;
  private whole: Graph | undefined;
  private loading: Promise<void> | undefined;
  private readonly answers = new Map<string, Row[]>();
  /** Distinct triple lines, when known without counting (the last run's count and the change). */
  triplesCount: number | undefined;

  constructor(
    private readonly rdf: Rdf,
    readonly hash: string,
    private readonly read: readonly SnapshotSource[],
    private readonly keep: Record<string, Row[]>,
    private readonly load: () => Promise<Graph>,
    private readonly stats: SnapshotStats,
    readonly prefixes: Record<string, string>,
    readonly base: string | undefined,
  ) {}

  /** Distinct triple lines (oxigraph's count when the whole graph is loaded). */
  private get triples(): number {
    if (this.triplesCount === undefined) {
      const lines = new Set<string>();
      for (const r of this.read)
        for (const l of linesOf(r).toString("utf8").split("\n")) if (isTripleLine(l)) lines.add(l);
      this.triplesCount = lines.size;
    }
    return this.triplesCount;
  }

  get size(): number {
    return this.whole?.size ?? this.triples;
  }

  /** Loads the whole graph once, however many templates ask at the same time. */
  loadWhole(): Promise<void> {
    this.loading ??= this.load().then((g) => {
      this.whole = g;
      this.stats.fullLoads++;
    });
    return this.loading;
  }

  /** Resolves when the subgraph answers are in; rejects with what stopped them. */
  answered(): Promise<void> {
    return this.pending ?? Promise.resolve();
  }

  /**
   * Answers the last run's queries: kept rows where no changed line matches, else on a subgraph (started
   * here, answered later: see `answered`).
   */
  answerFrom(previous: Record<string, Row[]>, changed: readonly Line[]): void {
    const affected: { query: string; pats: Pattern[]; needles: string[][] }[] = [];
    for (const [query, rows] of Object.entries(previous)) {
      // An answer that is not the graph's alone (a random number, the time, a fresh IRI or blank node, a
      // remote service) is asked again.
      if (VOLATILE.test(query)) continue;
      // Nothing changed: its rows stand, whatever the query reads (its patterns need not be known).
      if (changed.length === 0) {
        this.answers.set(query, rows);
        this.stats.reusedQueries++;
        continue;
      }
      const pats = patternsOf(query);
      if (!pats) continue; // answered by the whole graph, if it is asked again
      if (!changed.some((l) => matches(l, pats))) {
        this.answers.set(query, rows);
        this.stats.reusedQueries++;
        continue;
      }
      const n = needles(pats);
      if (n) affected.push({ query, pats, needles: n });
    }
    if (affected.length === 0) return;
    // A line with escapes may spell a needle another way, and is not read simply: the whole graph answers.
    if (this.read.some((r) => linesOf(r).includes("\\"))) return;
    // One subgraph for every affected query: the triples any of their patterns can match. A query's result
    // on a subgraph holding every triple its own patterns can match is its result on the whole graph (the
    // other triples there match none of its patterns), so one load answers them all.
    const lines = new Set<string>();
    for (const a of affected)
      for (const source of this.read)
        for (const n of a.needles) {
          const text = linesOf(source);
          // Every occurrence of the group's first term, as its whole line; the line then has to hold the rest.
          const first = Buffer.from(n[0]!);
          for (let at = text.indexOf(first); at >= 0; at = text.indexOf(first, at + 1)) {
            const start = at === 0 ? 0 : text.lastIndexOf(NL, at - 1) + 1;
            const end = text.indexOf(NL, at);
            const line = text.toString("utf8", start, end < 0 ? text.length : end);
            if (lines.has(line) || !n.every((c) => line.includes(c))) continue;
            const l = readLine(line);
            if (!l) continue;
            // A line it cannot read simply: the whole graph answers instead.
            if (l.wild) return;
            if (matches(l, a.pats)) lines.add(line);
          }
        }
    // Subgraphs that are most of the graph are no saving.
    if (lines.size > this.triples / 2) return;
    for (const a of affected) this.pendingQueries.add(a.query);
    this.pending = (async () => {
      const sub = await this.rdf.loadGraph(
        [{ text: `${[...lines].join("\n")}\n`, format: "ntriples", name: "subgraph" }],
        { cache: false },
      );
      try {
        for (const a of affected) {
          this.answers.set(a.query, sub.select(a.query));
          this.stats.subgraphQueries++;
        }
      } finally {
        sub.free();
        this.pendingQueries.clear();
      }
    })();
    // Awaited by whoever asks one of these queries; unasked, its failure stops nothing.
    this.pending.catch(() => undefined);
  }

  private wholeNow(): Graph {
    if (this.whole) return this.whole;
    this.wantsWhole = true;
    throw new Error("this query needs the whole graph (loading it, then rendering again)");
  }

  select(query: string, options?: QueryOptions): Row[] {
    if (!this.whole && this.pendingQueries.has(query)) {
      this.wantsPending = true;
      throw new Error("this query is being answered on a subgraph (rendering again once it is)");
    }
    const rows = this.whole
      ? this.whole.select(query, options)
      : (this.answers.get(query) ?? this.wholeNow().select(query, options));
    this.keep[query] = rows;
    return rows;
  }

  ask(query: string, options?: QueryOptions): boolean {
    return this.wholeNow().ask(query, options);
  }

  construct(query: string, options?: QueryOptions): Graph {
    return this.wholeNow().construct(query, options);
  }

  query(query: string, options?: QueryOptions): QueryResult {
    return this.wholeNow().query(query, options);
  }

  update(update: string, options?: QueryOptions): void {
    this.wholeNow().update(update, options);
  }

  dump(format: RdfFormat): string {
    return this.wholeNow().dump(format);
  }

  free(): void {
    this.whole?.free();
  }
}
