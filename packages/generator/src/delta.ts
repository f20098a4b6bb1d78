// Delta-driven regeneration: each output's inputs as digests (its provenance in the lock), and the
// decision not to render an output whose inputs are those the lock recorded for it — its content is then
// the base the lock names. Inputs: the template (and its `from:` file), the vars, the for_each row, the
// results of its named queries, and the graph when its body runs SPARQL itself.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { basename, dirname, resolve } from "node:path";
import type { Provenance } from "@ggen/contract";
import type { Graph } from "@ggen/rdf";
import { isoTime, sha256 } from "@ggen/support";
import pkg from "../package.json" with { type: "json" };
import { TermValue } from "./helpers.js";
import { type Lock, lockPath } from "./lock.js";
import { redact } from "./manifest.js";
import type { LoadedTemplate, TemplateUnit } from "./resolve.js";
import type { Run } from "./run.js";
import type { GraphSnapshots } from "./snapshot.js";
import type { BaseStore } from "./store.js";

/**
 * JSON with keys sorted, so equal values digest equally whatever their key order (what JSON.stringify
 * gives, keys in code-unit order). Written out rather than through a replacer, which copies every object:
 * a template's query results are digested whole, on every run.
 */
export function stableJson(v: unknown): string {
  return canonical(v) ?? "null";
}

function canonical(v: unknown): string | undefined {
  if (v === null) return "null";
  switch (typeof v) {
    case "string":
      return JSON.stringify(v);
    case "number":
    case "boolean":
    case "bigint": // JSON.stringify refuses it, as this does
      return JSON.stringify(v);
    case "undefined":
    case "function":
    case "symbol":
      return undefined;
  }
  const withJson = v as { toJSON?: () => unknown };
  if (typeof withJson.toJSON === "function") return canonical(withJson.toJSON());
  if (Array.isArray(v)) return `[${v.map((x) => canonical(x) ?? "null").join(",")}]`;
  const o = v as Record<string, unknown>;
  const parts: string[] = [];
  for (const k of Object.keys(o).sort()) {
    const s = canonical(o[k]);
    if (s !== undefined) parts.push(`${JSON.stringify(k)}:${s}`);
  }
  return `{${parts.join(",")}}`;
}

/** A for_each query's row: every value a term (a list var's item is the user's value instead). */
const isTemplateRow = (v: object): boolean => Object.values(v).every((t) => t instanceof TermValue);

/** A body that calls the sparql helper (`(sparql …)`, `{{sparql …}}`, `{{#sparql …}}`). */
const INLINE_SPARQL = /(?:\(|\{\{[~#]*)\s*sparql\s/;

/** The regeneration state of one run: the lock read, the base store, what was rendered or reused. */
export class Regeneration {
  rendered = 0;
  reused = 0;
  private readonly digests = new WeakMap<object, string>();
  private readonly fileDigests = new Map<string, string>();
  private readonly varDigests = new WeakMap<object, { all: string; redacted: string }>();
  private readonly listings = new Map<string, Map<string, boolean>>();
  private readonly inline = new WeakMap<LoadedTemplate, Map<string, boolean>>();
  /** A graph's hash changes with an update: the digest is kept with the hash it is of. */
  private readonly graphDigests = new WeakMap<Graph, { hash: string; digest: string }>();

  constructor(
    readonly lock: Lock | undefined,
    readonly store: BaseStore,
    /** Render everything (no lock to compare with, or asked to). */
    readonly full: boolean,
    /** Graphs answered from the last generation's snapshot (none without a lock to write). */
    readonly snapshots: GraphSnapshots | undefined,
  ) {}

  /**
   * Digest of a template's query results, once per object (shared by its rows). Plain JSON: rows come from
   * the engine (or its stored answers) in one shape, terms with their fields in a fixed order; a key order
   * that did differ would only render an output again, never reuse one wrongly (equal JSON, equal values).
   */
  private digestOnce(v: object): string {
    let d = this.digests.get(v);
    if (d === undefined) {
      d = sha256(JSON.stringify(v));
      this.digests.set(v, d);
    }
    return d;
  }

  /** Whether a template's body (or its `from:` file) runs SPARQL itself, once per template and file. */
  private inlineSparql(tpl: LoadedTemplate, from: string | undefined): boolean {
    let byFrom = this.inline.get(tpl);
    if (!byFrom) {
      byFrom = new Map();
      this.inline.set(tpl, byFrom);
    }
    let v = byFrom.get(from ?? "");
    if (v === undefined) {
      v =
        INLINE_SPARQL.test(tpl.split.body) ||
        (from !== undefined && existsSync(from) && INLINE_SPARQL.test(readFileSync(from, "utf8")));
      byFrom.set(from ?? "", v);
    }
    return v;
  }

  /** sha256 of a graph's hash, once per graph. */
  private graphDigest(g: Graph): string {
    let d = this.graphDigests.get(g);
    if (d === undefined || d.hash !== g.hash) {
      d = { hash: g.hash, digest: sha256(g.hash) };
      this.graphDigests.set(g, d);
    }
    return d.digest;
  }

  /** The digests of a template's vars, as they are and redacted, once per object (shared by its rows). */
  private varsDigests(vars: Record<string, unknown>): { all: string; redacted: string } {
    let d = this.varDigests.get(vars);
    if (d === undefined) {
      d = { all: sha256(stableJson(vars)), redacted: sha256(stableJson(redact(vars))) };
      this.varDigests.set(vars, d);
    }
    return d;
  }

  /**
   * Whether a file is there, from one listing of its directory (outputs are many files in few directories):
   * a regular file listed is there; anything else listed (a symlink, say) is asked about on its own.
   */
  private present(abs: string): boolean {
    const dir = dirname(abs);
    let listing = this.listings.get(dir);
    if (listing === undefined) {
      listing = new Map();
      try {
        for (const e of readdirSync(dir, { withFileTypes: true })) listing.set(e.name, e.isFile());
      } catch {
        // Not a directory (yet): nothing is listed, and each file is asked about on its own.
      }
      this.listings.set(dir, listing);
    }
    return listing.get(basename(abs)) === true || existsSync(abs);
  }

  private fileDigest(abs: string): string {
    let d = this.fileDigests.get(abs);
    if (d === undefined) {
      d = existsSync(abs) ? sha256(readFileSync(abs)) : "";
      this.fileDigests.set(abs, d);
    }
    return d;
  }

  /** Whether an output may be reused (a lock, and no --full): its provenance is compared as it renders. */
  get mayReuse(): boolean {
    return !this.full && this.lock !== undefined;
  }

  /** The provenance of one output about to be rendered. */
  inputsOf(
    run: Run,
    o: {
      unit: TemplateUnit;
      tpl: LoadedTemplate;
      vars: Record<string, unknown>;
      row: unknown;
      sparql: object;
      graph: Graph | undefined;
      to: string;
      from?: string;
    },
  ): Provenance {
    const fromDigest = o.from === undefined ? "" : this.fileDigest(o.from);
    const template = fromDigest ? sha256(`${o.tpl.sha256}\0${fromDigest}`) : o.tpl.sha256;
    const inline = this.inlineSparql(o.tpl, o.from);
    // The row as JSON, like the query results (a list var's item, from the user's vars, is sorted).
    const row =
      o.row !== null && typeof o.row === "object" && !isTemplateRow(o.row)
        ? stableJson(o.row)
        : JSON.stringify(o.row ?? null);
    const query = sha256(`${row}\0${this.digestOnce(o.sparql)}`);
    const graph = o.graph ? this.graphDigest(o.graph) : undefined;
    const digests = this.varsDigests(o.vars);
    const vars = digests.redacted;
    // Secret vars count here too (a changed password renders again), as a digest only. Keys in sorted
    // order, every value a string or null: the stable JSON of these inputs without sorting per output.
    const inputs = sha256(
      JSON.stringify({
        graph: inline ? (graph ?? null) : null,
        now: run.now ? isoTime(run.now) : null,
        pack: o.unit.pack ? `${o.unit.pack.id}@${o.unit.pack.version}` : null,
        query,
        seed: run.opts.seed ?? null,
        template,
        to: o.to,
        tool: pkg.version,
        vars: digests.all,
      }),
    );
    const p: Provenance = { template, vars, inputs };
    if (o.unit.pack) p.pack = `${o.unit.pack.id}@${o.unit.pack.version}`;
    if (graph) p.graph = graph;
    p.query = query;
    if (inline) p.inline = true;
    return p;
  }

  /** `p` of an output rendered before its graph was loaded (it reads none), naming the graph as inputsOf does. */
  withGraph(p: Provenance, g: Graph): Provenance {
    const { template, vars, inputs, pack, query, inline } = p;
    return {
      template,
      vars,
      inputs,
      ...(pack !== undefined ? { pack } : {}),
      graph: this.graphDigest(g),
      ...(query !== undefined ? { query } : {}),
      ...(inline ? { inline } : {}),
    };
  }

  /**
   * The digest of what the lock says this output generated, when its inputs are those recorded and that
   * content can be had (on disk, or in the base store): it need not be rendered again.
   */
  reusable(run: Run, to: string, p: Provenance): string | undefined {
    if (!this.mayReuse || !this.lock) return undefined;
    const abs = resolve(run.outRoot, to);
    const e = this.lock.files.get(lockPath(run.outRoot, abs));
    if (!e?.generated || e.provenance?.inputs !== p.inputs) return undefined;
    if (!this.present(abs) && !this.store.has(e.generated)) return undefined;
    return e.generated;
  }
}
