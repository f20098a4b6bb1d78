// A template's graph and queries: its sources (the pack's graphs or --graph, `rdf:` files, `rdf_inline:`
// snippets) loaded as one graph, the PREFIX header its queries get, and queries read from `@files`.
import { existsSync, statSync } from "node:fs";
import { dirname, relative, resolve } from "node:path";
import type { Graph, GraphSource } from "@ggen/rdf";
import { isInside, sha256 } from "@ggen/support";
import { at, fail } from "./errors.js";
import type { ParsedYaml } from "./frontmatter.js";
import { containRead, type ReadRoot, readInput } from "./input.js";
import type { LoadedTemplate, TemplateUnit } from "./resolve.js";
import type { Run } from "./run.js";

export type Front = Record<string, unknown>;

export const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

export const asList = (v: unknown): string[] =>
  v === undefined || v === null ? [] : Array.isArray(v) ? v.map((x) => String(x)) : [String(v)];

/**
 * Where a template may read (its `from:`, `rdf:` and query files): its pack; else the project when the
 * template is inside it; else the template's own folder. Reads are checked after following symlinks.
 */
export function readRoot(run: Run, unit: TemplateUnit): ReadRoot {
  if (unit.pack) return { dir: unit.pack.dir, name: "the pack" };
  if (isInside(run.cwd, unit.file)) return { dir: run.cwd, name: "the project" };
  return { dir: dirname(unit.file), name: "the template's folder" };
}

/** Every source of the template's graph, recording each input's sha256 for the manifest. */
async function graphSources(
  run: Run,
  unit: TemplateUnit,
  tpl: LoadedTemplate,
  front: Front,
  yaml: ParsedYaml | undefined,
): Promise<GraphSource[]> {
  const sources: GraphSource[] = [];
  const addFile = async (abs: string, shown: string, line: number | undefined) => {
    const where = at(tpl.display, line);
    if (!existsSync(abs))
      fail("GRAPH_NOT_FOUND", `graph file '${shown}' not found`, where, { kind: "usage" });
    // @ggen/rdf tells the format from the extension.
    sources.push({ path: resolve(process.cwd()) === run.cwd ? run.rel(abs) : abs });
    if (!run.graphInputs.has(abs)) {
      if (!statSync(abs).isFile())
        fail("GRAPH_READ", `graph file '${shown}' is not a regular file`, where, { kind: "usage" });
      run.graphInputs.set(abs, await run.graphFileDigest(abs));
    }
  };
  // --graph files are the user's own; the pack's graphs and `rdf:` files are read inside the template's root.
  const root = readRoot(run, unit);
  if (run.opts.graphs !== undefined) {
    for (const g of run.opts.graphs.map((x) => resolve(run.cwd, x))) await addFile(g, run.rel(g), undefined);
  } else {
    for (const g of unit.pack?.graphs ?? []) {
      containRead(root, g, `graph '${run.rel(g)}'`, unit.pack?.manifestFile ?? tpl.display);
      await addFile(g, run.rel(g), undefined);
    }
  }
  for (const r of asList(front.rdf)) {
    let abs = resolve(dirname(tpl.file), r);
    if (!existsSync(abs) && unit.pack) abs = resolve(unit.pack.dir, r);
    containRead(root, abs, `graph '${r}'`, tpl.display, yaml?.lineOf("rdf"));
    await addFile(abs, r, yaml?.lineOf("rdf"));
  }
  const inline = asList(front.rdf_inline);
  if (inline.length > 0) {
    const prefixes = prefixMap(front, tpl.display, yaml);
    let head = "";
    if (front.base !== undefined && !/^[^\s<>"{}|^`\\]*$/.test(String(front.base)))
      fail(
        "TEMPLATE_FRONTMATTER",
        `'base' ${JSON.stringify(String(front.base))} is not an IRI`,
        at(tpl.display, yaml?.lineOf("base")),
        {
          kind: "usage",
        },
      );
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
  const sources = await graphSources(run, unit, tpl, front, yaml);
  return sources.length > 0 ? run.graph(sources) : undefined;
}

/** `prefixes:` as rendered: names and IRIs checked, so a value can never add a line to a query. */
export function prefixMap(front: Front, file: string, yaml: ParsedYaml | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (front.prefixes === undefined || front.prefixes === null) return out;
  if (!isObj(front.prefixes))
    fail(
      "TEMPLATE_FRONTMATTER",
      "'prefixes' must be a map of prefix → IRI",
      at(file, yaml?.lineOf("prefixes")),
      {
        kind: "usage",
      },
    );
  for (const [p, iri] of Object.entries(front.prefixes)) {
    const v = String(iri ?? "");
    if (!/^(?:[A-Za-z][\w.-]*)?$/.test(p) || !/^[^\s<>"{}|^`\\]*$/.test(v))
      fail(
        "TEMPLATE_FRONTMATTER",
        `prefix '${p}': ${JSON.stringify(v)} is not an IRI`,
        at(file, yaml?.lineOf(`prefixes.${p}`) ?? yaml?.lineOf("prefixes")),
        {
          kind: "usage",
        },
      );
    out[p] = v;
  }
  return out;
}

/** PREFIX lines for the template's queries: the graph's prefixes, then the template's own. */
export function prefixHeader(
  front: Front,
  graph: Graph | undefined,
  file: string,
  yaml: ParsedYaml | undefined,
): string {
  const prefixes: Record<string, string> = { ...(graph?.prefixes ?? {}), ...prefixMap(front, file, yaml) };
  let head = "";
  for (const [p, iri] of Object.entries(prefixes)) head += `PREFIX ${p}: <${iri}>\n`;
  return head;
}

/** A query given as `@path` is read from a file next to the template (or in its pack). */
export function queryText(
  q: unknown,
  root: ReadRoot,
  unit: TemplateUnit,
  tpl: LoadedTemplate,
  line: number | undefined,
): { text: string; file: string; line: number | undefined } {
  const s = String(q);
  const m = /^@(\S+)$/.exec(s.trim());
  if (!m) return { text: s, file: tpl.display, line };
  let abs = resolve(dirname(tpl.file), m[1]!);
  if (!existsSync(abs) && unit.pack) abs = resolve(unit.pack.dir, m[1]!);
  containRead(root, abs, `query file '${m[1]}'`, tpl.display, line);
  const text = readInput(abs, at(tpl.display, line), `query file '${m[1]}'`);
  return { text, file: relative(process.cwd(), abs) || abs, line: 1 };
}
