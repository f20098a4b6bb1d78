// SERVICE answered by local graphs, so that federated queries run hermetically (in tests, in a
// cleanroom): no request leaves the machine. oxigraph's JS build has no service handler, so the
// query is parsed (sparqljs) and each `SERVICE <endpoint> { … }` bound to a local graph becomes
// `GRAPH <urn:ggen:service:…> { … }` over a store that holds the dataset plus those graphs.
import { createRequire } from "node:module";
import { GgenError, sha256 } from "@ggen/support";
import type * as Sparqljs from "sparqljs";

const require = createRequire(import.meta.url);
let sparqljs: typeof Sparqljs | undefined;

/** The named graph that stands for a SERVICE endpoint's default graph. */
export function serviceGraphName(endpoint: string): string {
  return `urn:ggen:service:${sha256(endpoint).slice(0, 32)}`;
}

export interface ServiceRewrite {
  query: string;
  /** The bound endpoints the query calls. */
  used: string[];
}

/**
 * Rewrites every SERVICE of `query`: a bound endpoint becomes a GRAPH over its stand-in graph; an
 * unbound one is an error, unless SILENT, which the spec answers with one empty solution (as a
 * failed call does). A variable endpoint cannot be resolved before evaluation: an error too.
 */
export function rewriteServices(
  query: string,
  endpoints: ReadonlySet<string>,
  options: { baseIri?: string; file?: string } = {},
): ServiceRewrite {
  sparqljs ??= require("sparqljs") as typeof Sparqljs;
  const parser = new sparqljs.Parser(options.baseIri ? { baseIRI: options.baseIri } : {});
  const ast = parser.parse(query);
  const used = new Set<string>();
  const location = { file: options.file ?? "<query>" };
  const rewrite = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(rewrite);
    if (node === null || typeof node !== "object") return node;
    const obj = node as Record<string, unknown>;
    // rdf-data-factory terms are classes: keep them as they are.
    if (typeof obj.termType === "string") return node;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(obj)) out[k] = rewrite(v);
    if (out.type !== "service") return out;
    const s = out as unknown as Sparqljs.ServicePattern;
    if (s.name.termType === "NamedNode" && endpoints.has(s.name.value)) {
      used.add(s.name.value);
      const name = { termType: "NamedNode", value: serviceGraphName(s.name.value) };
      return { type: "graph", name, patterns: s.patterns };
    }
    if (s.silent) return { type: "group", patterns: [] };
    if (s.name.termType === "Variable")
      throw new GgenError(
        "SPARQL_SERVICE",
        `SERVICE ?${s.name.value}: a variable endpoint cannot be answered by a local graph`,
        { location, hint: "name the endpoint, or add SILENT" },
      );
    throw new GgenError("SPARQL_SERVICE", `SERVICE <${s.name.value}> has no local graph`, {
      location,
      hint: `bound endpoints: ${[...endpoints].map((e) => `<${e}>`).join(", ") || "none"}`,
    });
  };
  const rewritten = rewrite(ast) as Sparqljs.SparqlQuery;
  return { query: new sparqljs.Generator().stringify(rewritten), used: [...used] };
}

/**
 * SPARQL 1.1 (§19.6) scopes a blank node label to one INSERT DATA operation: a label reused across
 * operations of one request is a syntax error. oxigraph 0.5 accepts it; sparqljs enforces the rule,
 * so a request that could break it (two INSERT DATA, a `_:` label) is checked with sparqljs too.
 * Returns the error message and the 1-based line of the reuse, or undefined when the rule holds.
 */
export function blankNodeScopeError(update: string): { message: string; line: number } | undefined {
  const operations = [...update.matchAll(/\bINSERT\s+DATA\b/gi)];
  if (operations.length < 2 || !update.includes("_:")) return undefined;
  sparqljs ??= require("sparqljs") as typeof Sparqljs;
  try {
    new sparqljs.Parser().parse(update);
    return undefined;
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    if (!/reuse blank node/i.test(message)) return undefined; // other errors: the engine reports them
    // Where: the first label seen in an earlier INSERT DATA operation.
    const seen = new Map<string, number>();
    let line = 1;
    outer: for (let k = 0; k < operations.length; k++) {
      const start = operations[k]!.index!;
      const end = k + 1 < operations.length ? operations[k + 1]!.index! : update.length;
      for (const m of update.slice(start, end).matchAll(/_:([\w-]+)/g)) {
        const first = seen.get(m[1]!);
        if (first !== undefined && first !== k) {
          line = update.slice(0, start + m.index!).split("\n").length;
          break outer;
        }
        seen.set(m[1]!, k);
      }
    }
    return { message: "a blank node label is reused across INSERT DATA operations", line };
  }
}
