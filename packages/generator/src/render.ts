// Rendering one template into planned outputs, in named steps: resolve its vars (frontmatter rendered
// with the given vars for the declarations, then with every var), load its graph, run its queries,
// expand its rows (for_each), note its hooks, render each row's output. Nothing is written here.
import { existsSync, readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import type { Graph } from "@ggen/rdf";
import { closest, isInside } from "@ggen/support";
import { at, fail } from "./errors.js";
import { type ParsedYaml, parseYaml } from "./frontmatter.js";
import { asList, type Front, isObj, loadGraph, prefixHeader, queryText } from "./graphs.js";
import { type Compiled, compile } from "./hbs.js";
import { type RenderState, seededNow, type TemplateRow, toTemplateRows, withPrefixes } from "./helpers.js";
import type { InjectOptions } from "./inject.js";
import type { LoadedTemplate, TemplateUnit } from "./resolve.js";
import type { Run } from "./run.js";
import type { Planned } from "./types.js";
import { checkVars, parseVarDecls, type VarDecl } from "./vars.js";

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

/** What every step after the vars knows about the template being rendered. */
interface Rendering {
  run: Run;
  unit: TemplateUnit;
  tpl: LoadedTemplate;
  vars: Record<string, unknown>;
  front: Front;
  yaml: ParsedYaml | undefined;
  seed: string | undefined;
  graph: Graph | undefined;
  /** PREFIX lines added to the template's queries. */
  header: string;
}

/** One output file's worth of data: a row of for_each (or the one output). */
interface Item {
  bindings: Record<string, unknown>;
  row: unknown;
}

/** Every output `unit` renders, in order. */
export async function renderTemplate(run: Run, unit: TemplateUnit): Promise<Planned[]> {
  const tpl = run.template(unit);
  const { vars, front, yaml, seed } = resolveVars(run, unit, tpl);
  const graph = await loadGraph(run, unit, tpl, front, yaml);
  const r: Rendering = { run, unit, tpl, vars, front, yaml, seed, graph, header: prefixHeader(front, graph) };
  const sparql = runQueries(r, front, yaml);
  const items = rowsOf(r);
  collectHooks(r);
  return renderItems(r, items, sparql);
}

function seedOf(v: unknown): string | undefined {
  if (v === undefined || v === null || v === false) return undefined;
  if (v === true) return "ggen";
  if (isObj(v)) return v.seed === undefined ? undefined : String(v.seed);
  return String(v);
}

let runClock = new Date();
/** The wall clock `now` shows in a run without a seed: the run's start, the same for every file. */
export function startClock(at: Date): void {
  runClock = at;
}

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

/** The frontmatter rendered with `context` and parsed (plain YAML is parsed once, when loaded). */
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
      const close = closest(k, KNOWN_KEYS);
      fail("TEMPLATE_FRONTMATTER", `unknown frontmatter key '${k}'`, at(tpl.display, yaml.lineOf(k), 1), {
        kind: "usage",
        hint: close ? `did you mean '${close}'?` : `known keys: ${KNOWN_KEYS.join(", ")}`,
      });
    }
  }
  return { front, yaml };
}

/**
 * Pass A renders the frontmatter with the given vars (pack defaults, vars files, --vars) for the
 * declarations and their defaults; the vars are checked; pass B renders it with every var resolved.
 */
function resolveVars(
  run: Run,
  unit: TemplateUnit,
  tpl: LoadedTemplate,
): { vars: Record<string, unknown>; front: Front; yaml: ParsedYaml | undefined; seed: string | undefined } {
  const given = { ...(unit.pack?.vars ?? {}), ...run.baseVars };
  const seed0 = run.opts.seed;
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
  const seedB = seed0 ?? seedOf(a.front.determinism);
  const stB = stateFor(run, tpl, seedB, undefined, tpl.split.frontLine - 1);
  const b = tpl.frontCompiled ? renderFront(run, tpl, vars, stB) : a;
  const seed = seed0 ?? seedOf(b.front.determinism);
  if (seed !== undefined) run.seeds.add(seed);
  return { vars, front: b.front, yaml: b.yaml, seed };
}

/** `sparql:` of a frontmatter: name → rows. */
function runQueries(r: Rendering, f: Front, y: ParsedYaml | undefined): Record<string, TemplateRow[]> {
  const { tpl, graph } = r;
  const out: Record<string, TemplateRow[]> = {};
  if (f.sparql === undefined) return out;
  if (!isObj(f.sparql))
    fail(
      "TEMPLATE_FRONTMATTER",
      "'sparql' must be a map of name → query",
      at(tpl.display, y?.lineOf("sparql")),
      {
        kind: "usage",
      },
    );
  for (const [name, qRaw] of Object.entries(f.sparql)) {
    if (!graph)
      fail(
        "TEMPLATE_NO_GRAPH",
        `sparql '${name}' needs a graph (add rdf: or rdf_inline:)`,
        at(tpl.display, y?.lineOf(`sparql.${name}`)),
        { kind: "usage" },
      );
    const q = queryText(qRaw, r.unit, tpl, y?.valueLineOf(`sparql.${name}`));
    out[name] = toTemplateRows(
      r.run.select(graph, withPrefixes(q.text, r.header), {
        file: q.file,
        line: q.line,
        what: `sparql '${name}'`,
        original: q.text,
      }),
    );
  }
  return out;
}

/** The rows of `for_each` (a query, or a list var), one output each; or the one output. */
function rowsOf(r: Rendering): Item[] {
  const { front, tpl, graph } = r;
  if (front.for_each === undefined || front.for_each === null) return [{ bindings: {}, row: undefined }];
  const fe = front.for_each;
  const spec = isObj(fe)
    ? fe
    : typeof fe === "string" && /^\s*[A-Za-z_][\w.]*\s*$/.test(fe)
      ? { var: fe.trim() }
      : { query: fe };
  const as = String(spec.as ?? front.as ?? "item");
  const line = r.yaml?.valueLineOf("for_each");
  if (spec.query !== undefined) {
    if (!graph)
      fail(
        "TEMPLATE_NO_GRAPH",
        "for_each query needs a graph (add rdf: or rdf_inline:)",
        at(tpl.display, line),
        {
          kind: "usage",
        },
      );
    const q = queryText(spec.query, r.unit, tpl, line);
    const rows = toTemplateRows(
      r.run.select(graph, withPrefixes(q.text, r.header), {
        file: q.file,
        line: q.line,
        what: "for_each",
        original: q.text,
      }),
    );
    return rows.map((row) => {
      const bindings: Record<string, unknown> = {};
      for (const [k, t] of Object.entries(row)) bindings[k] = t.value;
      return { bindings, row };
    });
  }
  const name = String(spec.var);
  const list = name.split(".").reduce<unknown>((o, k) => (isObj(o) ? o[k] : undefined), r.vars);
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
  return list.map((x) => ({ bindings: isObj(x) ? x : { [as]: x }, row: x }));
}

/** sh_before / sh_after, once per template (run, or not, by the write step). */
function collectHooks(r: Rendering): void {
  for (const when of ["before", "after"] as const) {
    const cmds = asList(r.front[`sh_${when}`]);
    if (cmds.length) r.run.hooks.push({ unit: r.unit, when, commands: cmds });
  }
}

/** Each item's output: its `to` (an empty one skips it), its body rendered, how it is written. */
function renderItems(r: Rendering, items: Item[], sparql: Record<string, TemplateRow[]>): Planned[] {
  const { run, unit, tpl, front } = r;
  const planned: Planned[] = [];
  const bodies = new Map<string, Compiled>();
  for (const item of items) {
    const context: Record<string, unknown> = { ...r.vars, ...item.bindings, sparql };
    if (item.row !== undefined) context.row = item.row;
    const st = stateFor(run, tpl, r.seed, r.graph, tpl.split.frontLine - 1);
    st.queryPrefix = r.header;
    let f = front;
    let y = r.yaml;
    // A frontmatter with Handlebars is rendered again per row: `to` (and queries) may use the row.
    if (tpl.frontCompiled && item.row !== undefined) {
      const c = renderFront(run, tpl, context, st);
      f = c.front;
      y = c.yaml;
      if (JSON.stringify(f.sparql) !== JSON.stringify(front.sparql)) context.sparql = runQueries(r, f, y);
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
    const body = bodyOf(r, f, y, bodies);
    const t0 = performance.now();
    const bodyState = {
      ...st,
      lineOffset: f.from ? 0 : tpl.split.bodyLine - 1,
      file: f.from ? run.rel(resolve(dirname(tpl.file), String(f.from))) : tpl.display,
    };
    const from = f.from ? { from: resolve(dirname(tpl.file), String(f.from)) } : {};
    const io = {
      unit,
      tpl,
      vars: r.vars,
      row: item.row,
      sparql: context.sparql as object,
      graph: r.graph,
      to,
      ...from,
    };
    const provenance = f.inject === true ? undefined : run.regen?.inputsOf(run, io);
    const reused = provenance && run.regen?.reusable(run, to, provenance);
    const content = reused ? undefined : body(context, bodyState);
    run.timings.renderMs += performance.now() - t0;
    planned.push({
      unit,
      to,
      line: y?.lineOf("to"),
      content,
      ...(reused ? { reused } : {}),
      ...(provenance ? { provenance } : {}),
      inject: f.inject === true ? injectOptions(f, tpl.display, y) : undefined,
      force: f.force === true,
      unlessExists: f.unless_exists === true,
      mode: parseMode(f.chmod, tpl.display, y?.lineOf("chmod")),
    });
  }
  return planned;
}

/** The template's body, or the one `from:` names (compiled once per template). */
function bodyOf(r: Rendering, f: Front, y: ParsedYaml | undefined, bodies: Map<string, Compiled>): Compiled {
  const { run, unit, tpl } = r;
  if (f.from === undefined || f.from === null) return tpl.body;
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
      fail("TEMPLATE_FROM", `'from' file '${String(f.from)}' not found`, at(tpl.display, y?.lineOf("from")), {
        kind: "usage",
      });
    const t0 = performance.now();
    c = compile(readFileSync(fromAbs, "utf8"), run.rel(fromAbs), 1, run.opts.cacheDir);
    run.timings.parseMs += performance.now() - t0;
    bodies.set(fromAbs, c);
  }
  return c;
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
        {
          kind: "usage",
        },
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
