// The state of one generation: the options resolved against the project, the vars of the vars files,
// the clock, and what the run memoizes and measures (loaded templates, graphs, query results, timings).

import { readFileSync, statSync } from "node:fs";
import { isAbsolute, relative, resolve } from "node:path";
import type { Reference } from "@ggen/contract";
import type { Graph, GraphSource, Row } from "@ggen/rdf";
import { sha256, sha256File } from "@ggen/support";
import { clockMs } from "./clock.js";
import type { Regeneration } from "./delta.js";
import { at, fail } from "./errors.js";
import { type Rdf, rdf } from "./lazy.js";
import { type LoadedTemplate, loadTemplate, type TemplateUnit } from "./resolve.js";
import type { GenerateOptions, Hook } from "./types.js";
import { loadVarsFile } from "./vars.js";

/** Where a query comes from, for its errors. */
export interface QuerySite {
  file: string;
  line: number | undefined;
  what: string;
  /** The query as written (before prefixes were added), to map error lines back. */
  original?: string;
}

/** Graph files up to this size are read whole once (the snapshot needs their text); larger ones streamed. */
const GRAPH_KEPT_BYTES = 256 * 1024 * 1024;

export class Run {
  readonly cwd: string;
  readonly outRoot: string;
  readonly warnings: string[] = [];
  readonly timings = { parseMs: 0, rdfLoadMs: 0, sparqlMs: 0, renderMs: 0, writeMs: 0, totalMs: 0 };
  readonly graphs = new Map<string, Promise<Graph>>();
  readonly graphInputs = new Map<string, string>();
  /** Graph files read whole to digest them, kept until the snapshot takes them (each is read once). */
  private readonly graphFiles = new Map<string, { bytes: Buffer | undefined; digest: Promise<string> }>();
  readonly queryCache = new Map<string, Row[]>();
  readonly templates = new Map<string, LoadedTemplate>();
  readonly hooks: Hook[] = [];
  readonly seeds = new Set<string>();
  readonly resolvedVars: Record<string, unknown> = {};
  queries = 0;
  rdf: Rdf | undefined;
  readonly now: Date | undefined;
  readonly baseVars: Record<string, unknown>;
  readonly varFiles: Reference[] = [];
  /** The lock, the base store and the delta decisions (set by the engine). */
  regen: Regeneration | undefined;
  /**
   * Settles once every template of the run is loaded (the engine renders some while later ones still
   * compile): a template that reads no graph loads it only then, so a run that fails on a later template
   * starts no graph. Rejects with that failure.
   */
  templatesLoaded: Promise<void> = Promise.resolve();

  constructor(readonly opts: GenerateOptions) {
    this.cwd = resolve(opts.cwd ?? process.cwd());
    this.outRoot = resolve(this.cwd, opts.outputDir ?? ".");
    const fileVars: Record<string, unknown> = {};
    for (const f of opts.varsFiles ?? []) {
      const abs = resolve(this.cwd, f);
      Object.assign(fileVars, loadVarsFile(abs, f));
      this.varFiles.push({ path: f, sha256: sha256(readFileSync(abs)) });
    }
    this.baseVars = { ...fileVars, ...(opts.vars ?? {}) };
    if (opts.now !== undefined) {
      const d = new Date(opts.now);
      if (Number.isNaN(d.getTime()))
        fail("NOW_INVALID", `--now '${opts.now}' is not a date`, undefined, { kind: "usage" });
      this.now = d;
    } else if (process.env.SOURCE_DATE_EPOCH && /^\d+$/.test(process.env.SOURCE_DATE_EPOCH)) {
      this.now = new Date(Number(process.env.SOURCE_DATE_EPOCH) * 1000);
    }
  }

  warn(msg: string): void {
    this.warnings.push(msg);
    this.opts.onWarn?.(msg);
  }

  /**
   * sha256 of a graph file, read once per run: its bytes are kept for the snapshot, which needs its text
   * (see snapshot.ts). One larger than GRAPH_KEPT_BYTES is digested and not kept (the snapshot reads it).
   */
  graphFileDigest(abs: string): Promise<string> {
    let f = this.graphFiles.get(abs);
    if (!f) {
      const st = statSync(abs);
      // Never read a device or a FIFO (graphs.ts refuses what is not a regular file).
      if (!st.isFile()) return Promise.reject(new Error(`'${abs}' is not a regular file`));
      if (st.size > GRAPH_KEPT_BYTES) f = { bytes: undefined, digest: sha256File(abs) };
      else {
        const bytes = readFileSync(abs);
        f = { bytes, digest: Promise.resolve(sha256(bytes)) };
      }
      this.graphFiles.set(abs, f);
    }
    return f.digest;
  }

  /** The bytes graphFileDigest read, given once (undefined: not read, already taken, or too large). */
  takeGraphBytes(abs: string): Buffer | undefined {
    const f = this.graphFiles.get(abs);
    const bytes = f?.bytes;
    if (f) f.bytes = undefined;
    return bytes;
  }

  /** `p` relative to the project when it is inside it. */
  rel(p: string): string {
    const r = relative(this.cwd, p);
    return r && !r.startsWith("..") && !isAbsolute(r) ? r : p;
  }

  /** A template, read and compiled once per run. */
  template(unit: TemplateUnit): LoadedTemplate {
    let t = this.templates.get(unit.file);
    if (!t) {
      const t0 = clockMs();
      t = loadTemplate(unit.file, unit.display, this.opts.cacheDir);
      this.timings.parseMs += clockMs() - t0;
      this.templates.set(unit.file, t);
    }
    return t;
  }

  /** The graph of these sources, loaded once per run (@ggen/rdf is imported on the first one). */
  async graph(sources: GraphSource[]): Promise<Graph> {
    const key = JSON.stringify(sources);
    let g = this.graphs.get(key);
    if (!g) {
      g = (async () => {
        this.rdf ??= await rdf();
        const r = this.rdf;
        const t0 = clockMs();
        const load = () => r.loadGraph(sources);
        // From the last generation's snapshot when there is one (see snapshot.ts).
        const graph = (await this.regen?.snapshots?.graph(r, sources, load, this)) ?? (await load());
        this.timings.rdfLoadMs += clockMs() - t0;
        return graph;
      })();
      this.graphs.set(key, g);
    }
    return g;
  }

  /** A SELECT, memoized per (graph, query); a syntax error points into the template or query file. */
  select(graph: Graph, query: string, where: QuerySite): Row[] {
    const key = `${graph.hash}\0${query}`;
    const hit = this.queryCache.get(key);
    if (hit) return hit;
    const t0 = clockMs();
    let rows: Row[];
    try {
      rows = graph.select(
        query,
        this.opts.queryTimeoutMs === undefined ? {} : { timeoutMs: this.opts.queryTimeoutMs },
      );
    } catch (e) {
      const err = e as { code?: string; message?: string; location?: { line?: number; column?: number } };
      // Past its time limit, or the engine failed: a failure of this query, at its place (exit 1).
      if (err.code === "SPARQL_TIMEOUT" || err.code === "RDF_ENGINE") {
        fail(err.code, `${where.what}: ${String(err.message)}`, at(where.file, where.line), {
          ...(err.code === "SPARQL_TIMEOUT"
            ? { hint: "raise the limit with --query-timeout or GGEN_QUERY_TIMEOUT" }
            : {}),
          cause: e,
        });
      }
      const added = query.split("\n").length - (where.original ?? query).split("\n").length;
      const qline = err.location?.line === undefined ? undefined : Math.max(1, err.location.line - added);
      const line = where.line !== undefined && qline !== undefined ? where.line + qline - 1 : where.line;
      const msg = String(err.message ?? e).split("\n")[0]!;
      fail(
        "SPARQL_SYNTAX",
        `${where.what}: ${msg}`,
        at(where.file, line, qline !== undefined ? err.location?.column : undefined),
        {
          kind: "usage",
          cause: e,
        },
      );
    }
    this.timings.sparqlMs += clockMs() - t0;
    this.queries++;
    this.queryCache.set(key, rows);
    return rows;
  }
}
