// A template's graph and queries: its sources (the pack's graphs or --graph, `rdf:` files, `rdf_inline:`
// snippets) loaded as one graph, the PREFIX header its queries get, and queries read from `@files`.
import { existsSync, readFileSync } from "node:fs";
import { dirname, relative, resolve } from "node:path";
import type { Graph, GraphSource } from "@ggen/rdf";
import { isInside, sha256 } from "@ggen/support";
import { at, fail } from "./errors.js";
import type { ParsedYaml } from "./frontmatter.js";
import type { LoadedTemplate, TemplateUnit } from "./resolve.js";
import type { Run } from "./run.js";

export type Front = Record<string, unknown>;

export const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

export const asList = (v: unknown): string[] =>
  v === undefined || v === null ? [] : Array.isArray(v) ? v.map((x) => String(x)) : [String(v)];

/** Every source of the template's graph, recording each input's sha256 for the manifest. */
function graphSources(
  run: Run,
  unit: TemplateUnit,
  tpl: LoadedTemplate,
  front: Front,
  yaml: ParsedYaml | undefined,
): GraphSource[] {
  const sources: GraphSource[] = [];
  const addFile = (abs: string, shown: string, line: number | undefined) => {
    if (!existsSync(abs))
      fail("GRAPH_NOT_FOUND", `graph file '${shown}' not found`, at(tpl.display, line), { kind: "usage" });
    // @ggen/rdf tells the format from the extension.
    sources.push({ path: resolve(process.cwd()) === run.cwd ? run.rel(abs) : abs });
    if (!run.graphInputs.has(abs)) run.graphInputs.set(abs, sha256(readFileSync(abs)));
  };
  const packGraphs =
    run.opts.graphs !== undefined
      ? run.opts.graphs.map((g) => resolve(run.cwd, g))
      : (unit.pack?.graphs ?? []);
  for (const g of packGraphs) addFile(g, run.rel(g), undefined);
  for (const r of asList(front.rdf)) {
    let abs = resolve(dirname(tpl.file), r);
    if (!existsSync(abs) && unit.pack) abs = resolve(unit.pack.dir, r);
    if (unit.pack && !isInside(unit.pack.dir, abs)) {
      fail("GRAPH_PATH", `graph '${r}' is outside the pack`, at(tpl.display, yaml?.lineOf("rdf")), {
        kind: "usage",
      });
    }
    addFile(abs, r, yaml?.lineOf("rdf"));
  }
  const inline = asList(front.rdf_inline);
  if (inline.length > 0) {
    const prefixes = isObj(front.prefixes) ? front.prefixes : {};
    let head = "";
    if (front.base !== undefined) head += `@base <${String(front.base)}> .\n`;
    for (const [p, iri] of Object.entries(prefixes)) head += `@prefix ${p}: <${String(iri)}> .\n`;
    inline.forEach((text, i) => {
      const name = `${tpl.display}#rdf_inline[${i}]`;
      const src: GraphSource = { text: head + text, format: "turtle", name };
      if (front.base !== undefined) (src as { baseIri?: string }).baseIri = String(front.base);
      sources.push(src);
      run.graphInputs.set(name, sha256(head + text));
    });
  }
  return sources;
}

/** The template's graph, or undefined when it names none (then @ggen/rdf is never loaded). */
export async function loadGraph(
  run: Run,
  unit: TemplateUnit,
  tpl: LoadedTemplate,
  front: Front,
  yaml: ParsedYaml | undefined,
): Promise<Graph | undefined> {
  const sources = graphSources(run, unit, tpl, front, yaml);
  return sources.length > 0 ? run.graph(sources) : undefined;
}

/** PREFIX lines for the template's queries: the graph's prefixes, then the template's own. */
export function prefixHeader(front: Front, graph: Graph | undefined): string {
  const prefixes: Record<string, unknown> = {
    ...(graph?.prefixes ?? {}),
    ...(isObj(front.prefixes) ? front.prefixes : {}),
  };
  let head = "";
  for (const [p, iri] of Object.entries(prefixes)) head += `PREFIX ${p}: <${String(iri)}>\n`;
  return head;
}

/** A query given as `@path` is read from a file next to the template (or in its pack). */
export function queryText(
  q: unknown,
  unit: TemplateUnit,
  tpl: LoadedTemplate,
  line: number | undefined,
): { text: string; file: string; line: number | undefined } {
  const s = String(q);
  const m = /^@(\S+)$/.exec(s.trim());
  if (!m) return { text: s, file: tpl.display, line };
  let abs = resolve(dirname(tpl.file), m[1]!);
  if (!existsSync(abs) && unit.pack) abs = resolve(unit.pack.dir, m[1]!);
  if (unit.pack && !isInside(unit.pack.dir, abs)) {
    fail("SPARQL_FILE", `query file '${m[1]}' is outside the pack`, at(tpl.display, line), { kind: "usage" });
  }
  if (!existsSync(abs))
    fail("SPARQL_FILE", `query file '${m[1]}' not found`, at(tpl.display, line), { kind: "usage" });
  return { text: readFileSync(abs, "utf8"), file: relative(process.cwd(), abs) || abs, line: 1 };
}
