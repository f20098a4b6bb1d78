// The generator: parse → plan → render → write. Everything up to the write stage is computed in memory
// and checked (paths inside the output dir, one writer per file); only then is anything written, each
// file atomically. --dry-run and --check stop before the write stage.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, isAbsolute, join, relative, resolve } from "node:path";
import type { FileAction, GenerationManifest, Reference } from "@ggen/contract";
import pLimit from "p-limit";
import pkg from "../package.json" with { type: "json" };
import { at, fail, suggest } from "./errors.js";
import { type ParsedYaml, parseYaml } from "./frontmatter.js";
import { isInside, sha256, staysInside, writeAtomic, writeAtomicSync } from "./fsutil.js";
import { type Compiled, compile } from "./hbs.js";
import { type RenderState, seededNow, type TemplateRow, toTemplateRows, withPrefixes } from "./helpers.js";
import { type InjectOptions, inject } from "./inject.js";
import { type Pack, trustedPacks } from "./packs.js";
import { type Graph, type GraphSource, loadRdf, type RdfApi, type RdfFormat, type Row } from "./rdf-api.js";
import { type LoadedTemplate, loadTemplate, resolveTemplates, type TemplateUnit } from "./resolve.js";
import { checkVars, loadVarsFile, parseVarDecls, type VarDecl } from "./vars.js";

export interface GenerateOptions {
  /** Template paths, `pack:template` refs, pack ids (every template of the pack) or pack/template directories. */
  templates: string[];
  /** Project directory; relative paths resolve against it (default: process.cwd()). */
  cwd?: string;
  /** Output directory (default: cwd). */
  outputDir?: string;
  /** Vars given on the command line (strings are coerced to the declared types). */
  vars?: Record<string, unknown>;
  /** Vars files (.yaml/.yml/.json/.toml), merged in order; `vars` win over them. */
  varsFiles?: string[];
  /** Graph files used instead of the packs' default graphs. */
  graphs?: string[];
  packsDir?: string;
  /** Overwrite existing files that differ. */
  force?: boolean;
  /** "write" (default), "dry-run" (plan only) or "check" (plan and compare with disk). */
  mode?: "write" | "dry-run" | "check";
  /** Compute unified diffs of changed files. */
  diff?: boolean;
  /** Manifest path (relative to cwd), or false for none; default `<outputDir>/.ggen/manifest.json`. */
  manifest?: string | false;
  /** Run sh_before/sh_after hooks (pack templates also need the pack trusted by the project). */
  allowHooks?: boolean;
  /** Determinism seed for every template (overrides `determinism:`). */
  seed?: string;
  /** The instant `now` returns (ISO string); default SOURCE_DATE_EPOCH, then the seed, then the clock. */
  now?: string;
  maxParallel?: number;
  /** Keep compiled templates here (precompiled Handlebars, by content hash), so later runs skip the
   * Handlebars parser and compiler; `ggen` uses $GGEN_HOME/cache/templates. None by default. */
  cacheDir?: string;
  /** Non-fatal notes (skipped files, hooks not run). */
  onWarn?: (message: string) => void;
  /** Output of hooks. */
  onInfo?: (message: string) => void;
}

export interface FileResult {
  /** Path relative to the output directory, with forward slashes. */
  path: string;
  absPath: string;
  action: FileAction;
  bytes: number;
  sha256: string;
  template: string;
  /** The generated content differs from what is on disk (drift). */
  differs: boolean;
  reason?: string;
  diff?: string;
}

export interface HookResult {
  template: string;
  when: "before" | "after";
  command: string;
  ran: boolean;
  reason?: string;
}

export interface GenerateResult {
  files: FileResult[];
  manifest: GenerationManifest;
  manifestPath: string | undefined;
  /** Some output differs from disk (what --check reports). */
  drift: boolean;
  hooks: HookResult[];
  warnings: string[];
}

const KNOWN_KEYS = [
  "to",
  "from",
  "vars",
  "rdf",
  "rdf_inline",
  "prefixes",
  "base",
  "sparql",
  "for_each",
  "as",
  "inject",
  "before",
  "after",
  "prepend",
  "append",
  "at_line",
  "skip_if",
  "eof_last",
  "unless_exists",
  "force",
  "chmod",
  "sh_before",
  "sh_after",
  "determinism",
  "description",
];

type Front = Record<string, unknown>;

interface Planned {
  unit: TemplateUnit;
  to: string;
  line: number | undefined;
  content: string;
  inject: InjectOptions | undefined;
  force: boolean;
  unlessExists: boolean;
  mode: number | undefined;
}

interface Hook {
  unit: TemplateUnit;
  when: "before" | "after";
  commands: string[];
}

const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

const SECRET = /password|secret|token|key/i;
export function redact(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redact);
  if (isObj(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = SECRET.test(k) ? "***" : redact(v);
    return out;
  }
  return value;
}

function seedOf(v: unknown): string | undefined {
  if (v === undefined || v === null || v === false) return undefined;
  if (v === true) return "ggen";
  if (isObj(v)) return v.seed === undefined ? undefined : String(v.seed);
  return String(v);
}

function parseMode(v: unknown, file: string, line: number | undefined): number | undefined {
  if (v === undefined || v === null) return undefined;
  const s = typeof v === "number" ? String(v) : String(v).replace(/^0o/, "");
  if (!/^[0-7]{3,4}$/.test(s))
    fail("TEMPLATE_CHMOD", `chmod must be an octal mode like 755, got ${JSON.stringify(v)}`, at(file, line), {
      kind: "usage",
    });
  return Number.parseInt(s, 8);
}

const FORMAT_BY_EXT: Record<string, RdfFormat> = {
  ttl: "turtle",
  turtle: "turtle",
  trig: "trig",
  nt: "ntriples",
  nq: "nquads",
  n3: "n3",
  rdf: "rdfxml",
  owl: "rdfxml",
  xml: "rdfxml",
  jsonld: "jsonld",
};

class Run {
  readonly cwd: string;
  readonly outRoot: string;
  readonly warnings: string[] = [];
  readonly timings = { parseMs: 0, rdfLoadMs: 0, sparqlMs: 0, renderMs: 0, writeMs: 0, totalMs: 0 };
  readonly graphs = new Map<string, Promise<Graph>>();
  readonly graphInputs = new Map<string, string>();
  readonly queryCache = new Map<string, Row[]>();
  readonly templates = new Map<string, LoadedTemplate>();
  readonly hooks: Hook[] = [];
  readonly seeds = new Set<string>();
  readonly resolvedVars: Record<string, unknown> = {};
  queries = 0;
  rdf: RdfApi | undefined;
  readonly now: Date | undefined;
  readonly baseVars: Record<string, unknown>;
  readonly varFiles: Reference[] = [];

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

  rel(p: string): string {
    const r = relative(this.cwd, p);
    return r && !r.startsWith("..") && !isAbsolute(r) ? r : p;
  }

  template(unit: TemplateUnit): LoadedTemplate {
    let t = this.templates.get(unit.file);
    if (!t) {
      const t0 = performance.now();
      t = loadTemplate(unit.file, unit.display, this.opts.cacheDir);
      this.timings.parseMs += performance.now() - t0;
      this.templates.set(unit.file, t);
    }
    return t;
  }

  async graph(sources: GraphSource[]): Promise<Graph> {
    const key = JSON.stringify(sources);
    let g = this.graphs.get(key);
    if (!g) {
      g = (async () => {
        this.rdf ??= await loadRdf();
        const t0 = performance.now();
        const graph = await this.rdf.loadGraph(sources);
        this.timings.rdfLoadMs += performance.now() - t0;
        return graph;
      })();
      this.graphs.set(key, g);
    }
    return g;
  }

  select(
    graph: Graph,
    query: string,
    where: { file: string; line: number | undefined; what: string; original?: string },
  ): Row[] {
    const key = `${graph.hash}\0${query}`;
    const hit = this.queryCache.get(key);
    if (hit) return hit;
    const t0 = performance.now();
    let rows: Row[];
    try {
      rows = graph.select(query);
    } catch (e) {
      const err = e as { message?: string; location?: { line?: number; column?: number } };
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
    this.timings.sparqlMs += performance.now() - t0;
    this.queries++;
    this.queryCache.set(key, rows);
    return rows;
  }
}

function renderFront(
  run: Run,
  tpl: LoadedTemplate,
  context: Record<string, unknown>,
  state: RenderState,
): { front: Front; yaml: ParsedYaml | undefined } {
  if (tpl.front === undefined) return { front: {}, yaml: undefined };
  let yaml: ParsedYaml;
  if (tpl.frontCompiled) {
    const t0 = performance.now();
    const text = tpl.frontCompiled(context, state);
    run.timings.renderMs += performance.now() - t0;
    yaml = parseYaml(text, tpl.display, tpl.split.frontLine);
  } else {
    yaml = tpl.frontParsed!;
  }
  const v = yaml.value;
  if (v !== null && v !== undefined && !isObj(v)) {
    fail(
      "TEMPLATE_FRONTMATTER",
      "frontmatter must be a YAML map of keys (to, vars, rdf, sparql, …)",
      at(tpl.display, tpl.split.frontLine, 1),
      {
        kind: "usage",
      },
    );
  }
  const front = (v ?? {}) as Front;
  for (const k of Object.keys(front)) {
    if (!KNOWN_KEYS.includes(k)) {
      const close = suggest(k, KNOWN_KEYS);
      fail("TEMPLATE_FRONTMATTER", `unknown frontmatter key '${k}'`, at(tpl.display, yaml.lineOf(k), 1), {
        kind: "usage",
        hint: close ? `did you mean '${close}'?` : `known keys: ${KNOWN_KEYS.join(", ")}`,
      });
    }
  }
  return { front, yaml };
}

const asList = (v: unknown): string[] =>
  v === undefined || v === null ? [] : Array.isArray(v) ? v.map((x) => String(x)) : [String(v)];

function stateFor(
  run: Run,
  tpl: LoadedTemplate,
  seed: string | undefined,
  graph: Graph | undefined,
  lineOffset: number,
): RenderState {
  return {
    file: tpl.display,
    lineOffset,
    seed,
    now: run.now ?? (seed !== undefined ? seededNow(seed) : runClock),
    graph,
    rdf: run.rdf,
    queryCache: run.queryCache,
    uuidCounter: 0,
    onQuery: (ms) => {
      run.timings.sparqlMs += ms;
      run.queries++;
    },
  };
}
let runClock = new Date();

async function graphSources(
  run: Run,
  unit: TemplateUnit,
  tpl: LoadedTemplate,
  front: Front,
  yaml: ParsedYaml | undefined,
): Promise<GraphSource[]> {
  const sources: GraphSource[] = [];
  const addFile = (abs: string, shown: string, line: number | undefined) => {
    if (!existsSync(abs))
      fail("GRAPH_NOT_FOUND", `graph file '${shown}' not found`, at(tpl.display, line), { kind: "usage" });
    const ext = abs.slice(abs.lastIndexOf(".") + 1).toLowerCase();
    const format = FORMAT_BY_EXT[ext];
    const path = resolve(process.cwd()) === run.cwd ? run.rel(abs) : abs;
    sources.push(format ? { path, format } : { path });
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

function prefixHeader(front: Front, graph: Graph | undefined): string {
  const prefixes: Record<string, unknown> = {
    ...(graph?.prefixes ?? {}),
    ...(isObj(front.prefixes) ? front.prefixes : {}),
  };
  let head = "";
  for (const [p, iri] of Object.entries(prefixes)) head += `PREFIX ${p}: <${String(iri)}>\n`;
  return head;
}

/** A query given as `@path` is read from a file next to the template (or in its pack). */
function queryText(
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

async function processTemplate(run: Run, unit: TemplateUnit): Promise<Planned[]> {
  const tpl = run.template(unit);
  const packVars = unit.pack?.vars ?? {};
  const given = { ...packVars, ...run.baseVars };
  const seed0 = run.opts.seed;
  // Pass A: frontmatter with the given vars only, for the declarations and defaults.
  const stA = stateFor(run, tpl, seed0 ?? "ggen", undefined, tpl.split.frontLine - 1);
  const a = renderFront(run, tpl, given, stA);
  const decls: VarDecl[] = parseVarDecls(a.front.vars, tpl.display, (p) => a.yaml?.lineOf(p));
  const { vars, problems } = checkVars(given, decls);
  const p0 = problems[0];
  if (p0) {
    fail("TEMPLATE_VARS", p0.message, at(tpl.display, p0.line), {
      kind: "usage",
      hint: problems.length > 1 ? `and ${problems.length - 1} more problem(s)` : `pass --vars ${p0.name}=…`,
    });
  }
  for (const [k, v] of Object.entries(vars)) if (!(k in run.resolvedVars)) run.resolvedVars[k] = v;
  // Pass B: with every var resolved.
  const seedB = seed0 ?? seedOf(a.front.determinism);
  const stB = stateFor(run, tpl, seedB, undefined, tpl.split.frontLine - 1);
  const b = tpl.frontCompiled ? renderFront(run, tpl, vars, stB) : a;
  const front = b.front;
  const seed = seed0 ?? seedOf(front.determinism);
  if (seed !== undefined) run.seeds.add(seed);

  // Graph and queries.
  const sources = await graphSources(run, unit, tpl, front, b.yaml);
  const graph = sources.length > 0 ? await run.graph(sources) : undefined;
  const header = prefixHeader(front, graph);
  const queries = (f: Front, y: ParsedYaml | undefined): Record<string, TemplateRow[]> => {
    const out: Record<string, TemplateRow[]> = {};
    if (f.sparql === undefined) return out;
    if (!isObj(f.sparql))
      fail(
        "TEMPLATE_FRONTMATTER",
        "'sparql' must be a map of name → query",
        at(tpl.display, y?.lineOf("sparql")),
        { kind: "usage" },
      );
    for (const [name, qRaw] of Object.entries(f.sparql)) {
      if (!graph)
        fail(
          "TEMPLATE_NO_GRAPH",
          `sparql '${name}' needs a graph (add rdf: or rdf_inline:)`,
          at(tpl.display, y?.lineOf(`sparql.${name}`)),
          { kind: "usage" },
        );
      const q = queryText(qRaw, unit, tpl, y?.valueLineOf(`sparql.${name}`));
      out[name] = toTemplateRows(
        run.select(graph, withPrefixes(q.text, header), {
          file: q.file,
          line: q.line,
          what: `sparql '${name}'`,
          original: q.text,
        }),
      );
    }
    return out;
  };
  const sparql = queries(front, b.yaml);

  // Rows: one file per row of for_each, or one file.
  type Item = { bindings: Record<string, unknown>; row: unknown };
  let items: Item[] = [{ bindings: {}, row: undefined }];
  if (front.for_each !== undefined && front.for_each !== null) {
    const fe = front.for_each;
    const spec = isObj(fe)
      ? fe
      : typeof fe === "string" && /^\s*[A-Za-z_][\w.]*\s*$/.test(fe)
        ? { var: fe.trim() }
        : { query: fe };
    const as = String(spec.as ?? front.as ?? "item");
    const line = b.yaml?.valueLineOf("for_each");
    if (spec.query !== undefined) {
      if (!graph)
        fail(
          "TEMPLATE_NO_GRAPH",
          "for_each query needs a graph (add rdf: or rdf_inline:)",
          at(tpl.display, line),
          { kind: "usage" },
        );
      const q = queryText(spec.query, unit, tpl, line);
      const rows = toTemplateRows(
        run.select(graph, withPrefixes(q.text, header), {
          file: q.file,
          line: q.line,
          what: "for_each",
          original: q.text,
        }),
      );
      items = rows.map((r) => {
        const bindings: Record<string, unknown> = {};
        for (const [k, t] of Object.entries(r)) bindings[k] = t.value;
        return { bindings, row: r };
      });
    } else {
      const name = String(spec.var);
      const list = name.split(".").reduce<unknown>((o, k) => (isObj(o) ? o[k] : undefined), vars);
      if (!Array.isArray(list)) {
        fail(
          "TEMPLATE_FOR_EACH",
          `for_each: var '${name}' must hold a list, got ${list === undefined ? "nothing" : typeof list}`,
          at(tpl.display, line),
          {
            kind: "usage",
            hint: `e.g. --vars ${name}=a,b,c with '${name}: { type: list }'`,
          },
        );
      }
      items = list.map((x) => ({ bindings: isObj(x) ? x : { [as]: x }, row: x }));
    }
  }

  // Hooks, once per template.
  for (const when of ["before", "after"] as const) {
    const cmds = asList(front[`sh_${when}`]);
    if (cmds.length) run.hooks.push({ unit, when, commands: cmds });
  }

  const planned: Planned[] = [];
  const bodies = new Map<string, Compiled>();
  for (const item of items) {
    const context: Record<string, unknown> = { ...vars, ...item.bindings, sparql };
    if (item.row !== undefined) context.row = item.row;
    const st = stateFor(run, tpl, seed, graph, tpl.split.frontLine - 1);
    st.queryPrefix = header;
    let f = front;
    let y = b.yaml;
    if (tpl.frontCompiled && item.row !== undefined) {
      const c = renderFront(run, tpl, context, st);
      f = c.front;
      y = c.yaml;
      if (JSON.stringify(f.sparql) !== JSON.stringify(front.sparql)) context.sparql = queries(f, y);
    }
    if (!("to" in f))
      fail(
        "TEMPLATE_NO_TO",
        "frontmatter has no 'to' (the output path)",
        at(tpl.display, tpl.split.front === undefined ? 1 : tpl.split.frontLine),
        { kind: "usage" },
      );
    const to = f.to === null || f.to === undefined ? "" : String(f.to).trim();
    if (!to) continue; // An empty `to` skips the file (conditional output).
    // Body (possibly from another file).
    let body = tpl.body;
    if (f.from !== undefined && f.from !== null) {
      const fromAbs = resolve(dirname(tpl.file), String(f.from));
      if (unit.pack && !isInside(unit.pack.dir, fromAbs)) {
        fail(
          "TEMPLATE_FROM",
          `'from' file '${String(f.from)}' is outside the pack`,
          at(tpl.display, y?.lineOf("from")),
          {
            kind: "usage",
          },
        );
      }
      let c = bodies.get(fromAbs);
      if (!c) {
        if (!existsSync(fromAbs))
          fail(
            "TEMPLATE_FROM",
            `'from' file '${String(f.from)}' not found`,
            at(tpl.display, y?.lineOf("from")),
            { kind: "usage" },
          );
        const t0 = performance.now();
        c = compile(readFileSync(fromAbs, "utf8"), run.rel(fromAbs), 1, run.opts.cacheDir);
        run.timings.parseMs += performance.now() - t0;
        bodies.set(fromAbs, c);
      }
      body = c;
    }
    const t0 = performance.now();
    const bodyState = {
      ...st,
      lineOffset: f.from ? 0 : tpl.split.bodyLine - 1,
      file: f.from ? run.rel(resolve(dirname(tpl.file), String(f.from))) : tpl.display,
    };
    const content = body(context, bodyState);
    run.timings.renderMs += performance.now() - t0;
    const injectOpts: InjectOptions | undefined =
      f.inject === true ? injectOptions(f, tpl.display, y) : undefined;
    planned.push({
      unit,
      to,
      line: y?.lineOf("to"),
      content,
      inject: injectOpts,
      force: f.force === true,
      unlessExists: f.unless_exists === true,
      mode: parseMode(f.chmod, tpl.display, y?.lineOf("chmod")),
    });
  }
  return planned;
}

function injectOptions(f: Front, file: string, y: ParsedYaml | undefined): InjectOptions {
  const o: InjectOptions = {};
  if (f.before !== undefined) o.before = String(f.before);
  if (f.after !== undefined) o.after = String(f.after);
  if (f.prepend === true) o.prepend = true;
  if (f.append === true) o.append = true;
  if (f.at_line !== undefined) {
    const n = Number(f.at_line);
    if (!Number.isInteger(n) || n < 1)
      fail(
        "TEMPLATE_INJECT",
        "at_line must be a line number (1 = first line)",
        at(file, y?.lineOf("at_line")),
        { kind: "usage" },
      );
    o.at_line = n;
  }
  if (f.skip_if !== undefined) o.skip_if = String(f.skip_if);
  if (typeof f.eof_last === "boolean") o.eof_last = f.eof_last;
  if (o.before === undefined && o.after === undefined && !o.prepend && !o.append && o.at_line === undefined) {
    fail(
      "TEMPLATE_INJECT",
      "inject: true needs one of before, after, prepend, append or at_line",
      at(file, y?.lineOf("inject")),
      { kind: "usage" },
    );
  }
  return o;
}

function readIfFile(abs: string, display: string): string | undefined {
  if (!existsSync(abs)) return undefined;
  if (statSync(abs).isDirectory())
    fail("OUTPUT_IS_DIR", `output '${display}' is a directory`, undefined, { kind: "usage" });
  return readFileSync(abs, "utf8");
}

async function unifiedDiff(path: string, before: string | undefined, after: string): Promise<string> {
  const { createTwoFilesPatch } = await import("diff");
  return createTwoFilesPatch(
    before === undefined ? "/dev/null" : `a/${path}`,
    `b/${path}`,
    before ?? "",
    after,
    undefined,
    undefined,
    { context: 3 },
  );
}

/** Render templates and write (or plan, or check) their outputs. */
export async function generate(opts: GenerateOptions): Promise<GenerateResult> {
  const started = new Date();
  runClock = started;
  const t0 = performance.now();
  const run = new Run(opts);
  const mode = opts.mode ?? "write";
  const units = resolveTemplates(
    opts.templates,
    { cwd: run.cwd, ...(opts.packsDir ? { packsDir: opts.packsDir } : {}) },
    trustedPacks(run.cwd),
  );
  const limit = pLimit(Math.max(1, opts.maxParallel ?? 8));
  const perTemplate = await Promise.all(units.map((u) => limit(() => processTemplate(run, u))));
  const planned = perTemplate.flat();

  // Plan: every path inside the output dir; one writer per file.
  const groups = new Map<string, Planned[]>();
  for (const p of planned) {
    if (isAbsolute(p.to) || /^[A-Za-z]:[\\/]/.test(p.to)) {
      fail(
        "PATH_ESCAPE",
        `output path '${p.to}' must be relative to the output dir`,
        at(p.unit.display, p.line),
        { kind: "usage" },
      );
    }
    const abs = resolve(run.outRoot, p.to);
    if (!staysInside(run.outRoot, abs) || abs === run.outRoot) {
      fail("PATH_ESCAPE", `output path '${p.to}' escapes the output dir`, at(p.unit.display, p.line), {
        kind: "usage",
      });
    }
    const g = groups.get(abs) ?? [];
    const writer = g.find((x) => !x.inject);
    if (writer && !p.inject) {
      fail(
        "OUTPUT_CONFLICT",
        `'${p.to}' is also written by ${writer.unit.display}`,
        at(p.unit.display, p.line),
        {
          kind: "usage",
          hint: "give each template its own 'to', or use inject: true",
        },
      );
    }
    g.push(p);
    groups.set(abs, g);
  }

  // Decide actions against the disk.
  const files: FileResult[] = [];
  const writes: { abs: string; content: string; mode: number | undefined }[] = [];
  const chmods: { abs: string; mode: number }[] = [];
  for (const [abs, group] of groups) {
    const relPath = relative(run.outRoot, abs).split("\\").join("/");
    const onDisk = readIfFile(abs, relPath);
    let current = onDisk;
    let desired = onDisk;
    let mode: number | undefined;
    const results: FileResult[] = [];
    const ordered = [...group.filter((p) => !p.inject), ...group.filter((p) => p.inject)];
    for (const p of ordered) {
      const r = (action: FileAction, differs: boolean, reason?: string): FileResult => {
        const fr: FileResult = {
          path: relPath,
          absPath: abs,
          action,
          bytes: 0,
          sha256: "",
          template: p.unit.display,
          differs,
        };
        if (reason) fr.reason = reason;
        return fr;
      };
      if (p.mode !== undefined) mode = p.mode;
      if (!p.inject) {
        desired = p.content;
        if (onDisk === undefined) {
          current = p.content;
          results.push(r("created", true));
        } else if (onDisk === p.content) {
          results.push(r("unchanged", false));
        } else if (p.unlessExists) {
          desired = onDisk;
          results.push(r("skipped", false, "exists (unless_exists)"));
        } else if (p.force || opts.force) {
          current = p.content;
          results.push(r("overwritten", true));
        } else {
          results.push(r("skipped", true, "exists and differs (use --force)"));
          run.warn(`${relPath}: exists and differs; skipped (use --force to overwrite)`);
        }
        continue;
      }
      const io = p.inject!;
      if (desired === undefined) {
        results.push(r("skipped", false, "inject target does not exist"));
        run.warn(`${relPath}: inject target does not exist; skipped (${p.unit.display})`);
        continue;
      }
      const wanted = inject(desired, p.content, io);
      if (!wanted.ok) {
        const benign = wanted.reason === "skip_if matched";
        results.push(r(benign ? "unchanged" : "skipped", false, wanted.reason));
        if (!benign) run.warn(`${relPath}: ${wanted.reason}; injection skipped (${p.unit.display})`);
        continue;
      }
      desired = wanted.content;
      if (current !== undefined) {
        const applied = inject(current, p.content, io);
        if (applied.ok) current = applied.content;
      }
      results.push(r("injected", true));
    }
    const finalContent = current ?? "";
    for (const fr of results) {
      fr.bytes = Buffer.byteLength(finalContent);
      fr.sha256 = sha256(finalContent);
      if (opts.diff && fr.differs) fr.diff = await unifiedDiff(relPath, onDisk, desired ?? "");
      files.push(fr);
    }
    if (current !== undefined && current !== onDisk) writes.push({ abs, content: current, mode });
    else if (mode !== undefined && onDisk !== undefined) chmods.push({ abs, mode });
  }
  const drift = files.some((f) => f.differs);

  // Write.
  const hookResults: HookResult[] = [];
  if (mode === "write") {
    const runHooks = (when: "before" | "after") => {
      for (const h of run.hooks.filter((x) => x.when === when)) {
        for (const command of h.commands) {
          const res: HookResult = { template: h.unit.display, when, command, ran: false };
          if (!opts.allowHooks) res.reason = "hooks need --allow-hooks";
          else if (h.unit.pack && !h.unit.pack.trusted)
            res.reason = `pack '${h.unit.pack.id}' is not trusted by this project`;
          if (res.reason) {
            run.warn(`${h.unit.display}: sh_${when} not run: ${res.reason}`);
          } else {
            try {
              const out = execFileSync("sh", ["-c", command], {
                cwd: run.outRoot,
                encoding: "utf8",
                stdio: ["ignore", "pipe", "pipe"],
                env: { ...process.env, GGEN_OUTPUT_DIR: run.outRoot, GGEN_TEMPLATE: h.unit.file },
              });
              if (out.trim()) opts.onInfo?.(out.trimEnd());
              res.ran = true;
            } catch (e) {
              const err = e as { status?: number; stderr?: string };
              fail(
                "HOOK_FAILED",
                `sh_${when} '${command}' exited ${err.status ?? "?"}: ${
                  String(err.stderr ?? "")
                    .trim()
                    .split("\n")[0] ?? ""
                }`,
                at(h.unit.display),
                {},
              );
            }
          }
          hookResults.push(res);
        }
      }
    };
    const { mkdir } = await import("node:fs/promises");
    await mkdir(run.outRoot, { recursive: true });
    runHooks("before");
    const w0 = performance.now();
    for (const w of writes) writeAtomicSync(w.abs, w.content, w.mode);
    const { chmod } = await import("node:fs/promises");
    for (const c of chmods) await chmod(c.abs, c.mode);
    run.timings.writeMs += performance.now() - w0;
    runHooks("after");
  }

  // Manifest.
  const graphsUsed = await Promise.all([...run.graphs.values()]);
  const triples = graphsUsed.reduce((n, g) => n + g.size, 0);
  const packs = new Map<string, Pack>();
  for (const u of units) if (u.pack) packs.set(u.pack.id, u.pack);
  const templateInputs = new Map<string, string>();
  for (const u of units) templateInputs.set(u.display, run.template(u).sha256);
  run.timings.totalMs = performance.now() - t0;
  const round = (n: number) => Math.round(n * 100) / 100;
  const manifest: GenerationManifest = {
    kind: "generation-manifest/v1",
    tool: { name: "ggen", version: pkg.version },
    startedAt: started.toISOString(),
    finishedAt: new Date().toISOString(),
    outputRoot: run.rel(run.outRoot) || ".",
    inputs: {
      templates: [...templateInputs].map(([path, sha]) => ({ path, sha256: sha })),
      graphs: [...run.graphInputs].map(([path, sha]) => ({
        path: isAbsolute(path) ? run.rel(path) : path,
        sha256: sha,
      })),
      varFiles: run.varFiles,
      ...(packs.size
        ? {
            packs: [...packs.values()].map((p) => ({
              id: p.id,
              version: /^\d+\.\d+\.\d+/.test(p.version) ? p.version : "0.0.0",
              sha256: packDigest(p),
            })),
          }
        : {}),
    },
    vars: redact(run.resolvedVars) as Record<string, unknown>,
    files: files.map((f) => ({
      path: f.path,
      sha256: f.sha256,
      bytes: f.bytes,
      action: f.action,
      template: f.template,
    })),
    timings: {
      parseMs: round(run.timings.parseMs),
      rdfLoadMs: round(run.timings.rdfLoadMs),
      sparqlMs: round(run.timings.sparqlMs),
      renderMs: round(run.timings.renderMs),
      writeMs: round(run.timings.writeMs),
      totalMs: round(run.timings.totalMs),
    },
    counts: { templates: units.length, files: groups.size, triples, queries: run.queries },
  };
  const seed = [...run.seeds][0];
  if (seed !== undefined) manifest.seed = seed;
  let manifestPath: string | undefined;
  if (mode === "write" && opts.manifest !== false) {
    manifestPath = opts.manifest
      ? resolve(run.cwd, opts.manifest)
      : join(run.outRoot, ".ggen", "manifest.json");
    await writeAtomic(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
  }
  for (const g of graphsUsed) g.free();
  return { files, manifest, manifestPath, drift, hooks: hookResults, warnings: run.warnings };
}

function packDigest(p: Pack): string {
  const parts = [readFileSync(p.manifestFile)];
  for (const t of p.templates) if (existsSync(t.path)) parts.push(readFileSync(t.path));
  for (const g of p.graphs) if (existsSync(g)) parts.push(readFileSync(g));
  return sha256(Buffer.concat(parts));
}
