// Rendering one template into planned outputs, in named steps: resolve its vars (frontmatter rendered
// with the given vars for the declarations, then with every var), load its graph, run its queries,
// expand its rows (for_each), note its hooks, render each row's output. Nothing is written here.

import { dirname, resolve } from "node:path";
import { schemaKeys } from "@ggen/contract";
import type { Graph } from "@ggen/rdf";
import { closest } from "@ggen/support";
import { clockMs } from "./clock.js";
import { defer, deferMap } from "./deferred.js";
import { at, fail } from "./errors.js";
import { type ParsedYaml, plainScalar, Slot } from "./frontmatter.js";
import { readsGraph } from "./graph-use.js";
import { type Front, isObj, loadGraph, prefixHeader, queryText, readRoot } from "./graphs.js";
import { type Compiled, compile } from "./hbs.js";
import { type RenderState, seededNow, type TemplateRow, toTemplateRows, withPrefixes } from "./helpers.js";
import { type InjectOptions, toMatcher } from "./inject.js";
import { containRead, readInput } from "./input.js";
import type { LoadedTemplate, TemplateUnit } from "./resolve.js";
import type { Run } from "./run.js";
import { hookCommand, substitutionIn } from "./shell.js";
import {
  type EditFormat,
  formatOf,
  loadStructured,
  parseKeyPath,
  type StructuredEdit,
} from "./structured.js";
import type { Planned } from "./types.js";
import { checkVars, parseVarDecls, type VarDecl } from "./vars.js";

/** The frontmatter keys: those of the template-frontmatter/v1 schema (what editors check it against). */
export const KNOWN_KEYS = schemaKeys("template-frontmatter/v1", "");

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
  // A template that reads no graph renders without waiting for its graph: the graph still loads (the
  // lock records it, its outputs' provenance names it, a broken one fails the run), just not first.
  const reads = readsGraph(tpl);
  const loading = reads
    ? loadGraph(run, unit, tpl, front, yaml)
    : run.templatesLoaded.then(() => loadGraph(run, unit, tpl, front, yaml));
  if (!reads) loading.catch(() => undefined);
  const graph = reads ? await loading : undefined;
  const r: Rendering = {
    run,
    unit,
    tpl,
    vars,
    front,
    yaml,
    seed,
    graph,
    header: prefixHeader(front, graph, tpl.display, yaml),
  };
  const sparql = runQueries(r, front, yaml);
  const items = rowsOf(r);
  collectHooks(r);
  const planned = renderItems(r, items, sparql);
  for (const p of planned) if (p.inject?.structured) await loadStructured(p.inject.structured.format);
  handOver(run, planned);
  if (!reads) {
    const loaded = await loading;
    const regen = run.regen;
    if (loaded && regen)
      for (const p of planned)
        if (Object.hasOwn(p, "provenance")) deferMap(p, "provenance", (v) => v && regen.withGraph(v, loaded));
  }
  return planned;
}

/** Each rendered output to the caller that wants it early (GenerateOptions.onRendered). */
function handOver(run: Run, planned: readonly Planned[]): void {
  const to = run.opts.onRendered;
  if (!to) return;
  for (const p of planned)
    if (p.content !== undefined && !p.inject) to({ path: resolve(run.outRoot, p.to), content: p.content });
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
  let now: Date | undefined;
  return {
    file: tpl.display,
    lineOffset,
    seed,
    // On first read: a seeded clock is a digest, and a template that never asks the time need not
    // load node:crypto for it.
    get now() {
      now ??= run.now ?? (seed !== undefined ? seededNow(seed) : runClock);
      return now;
    },
    graph,
    rdf: run.rdf,
    queryCache: run.queryCache,
    uuidCounter: 0,
    onQuery: (ms) => {
      run.timings.sparqlMs += ms;
      run.queries++;
    },
    ...(run.opts.queryTimeoutMs !== undefined ? { queryTimeoutMs: run.opts.queryTimeoutMs } : {}),
  };
}

/** A hook command as rendered: its text with placeholders, and the values they stand for (shell.ts). */
class HookText {
  constructor(
    readonly text: string,
    readonly values: string[],
  ) {}
  /** The command as it runs (for `template inspect`). */
  toString(): string {
    const c = hookCommand(this.text, this.values);
    return typeof c === "string" ? this.text : c.command;
  }
}

/** A frontmatter's values rendered with `context` (for `template inspect`). */
export function frontValues(v: unknown, context: unknown, state: RenderState): unknown {
  return renderValue(v, context, state);
}

/**
 * The frontmatter's values with every slot rendered with `context` (only the top-level `keys` when
 * given): each slot renders to data — a string, or a plain scalar's type — never to YAML structure.
 */
function renderValue(v: unknown, context: unknown, state: RenderState, keys?: ReadonlySet<string>): unknown {
  if (v instanceof Slot) {
    if (keys && !keys.has(v.key)) return undefined;
    const st: RenderState = { ...state, lineOffset: v.line - 1 };
    const shell = v.key === "sh_before" || v.key === "sh_after";
    if (shell) st.hookValues = [];
    const text = v.compiled!(context, st);
    if (shell) return new HookText(text, st.hookValues ?? []);
    return v.plain ? plainScalar(text) : text;
  }
  if (Array.isArray(v)) return v.map((x) => renderValue(x, context, state, keys));
  if (isObj(v)) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (!keys || keys.has(k)) out[k] = renderValue(x, context, state);
    return out;
  }
  return v;
}

/** The frontmatter's values rendered with `context` (only `keys` when given); parsed once, when loaded. */
function renderFront(
  run: Run,
  tpl: LoadedTemplate,
  context: Record<string, unknown>,
  state: RenderState,
  keys?: ReadonlySet<string>,
): { front: Front; yaml: ParsedYaml | undefined } {
  if (tpl.front === undefined) return { front: {}, yaml: undefined };
  if (!tpl.slotted) return { front: tpl.front.value as Front, yaml: tpl.front };
  const t0 = clockMs();
  const front = renderValue(tpl.front.value, context, state, keys) as Front;
  run.timings.renderMs += clockMs() - t0;
  return { front, yaml: tpl.front };
}

/** What a template's frontmatter may be, checked once when it is loaded (before any var is known). */
export function checkFront(yaml: ParsedYaml, file: string, frontLine: number): void {
  const v = yaml.value;
  if (v !== null && v !== undefined && !isObj(v)) {
    fail(
      "TEMPLATE_FRONTMATTER",
      "frontmatter must be a YAML map of keys (to, vars, rdf, sparql, …)",
      at(file, frontLine, 1),
      {
        kind: "usage",
      },
    );
  }
  const front = (v ?? {}) as Front;
  const shape = (key: string, message: string) =>
    fail("TEMPLATE_FRONTMATTER", `'${key}' ${message}`, at(file, yaml.lineOf(key)), { kind: "usage" });
  const text = (x: unknown) => typeof x === "string" || x instanceof Slot;
  for (const k of Object.keys(front)) {
    if (!KNOWN_KEYS.includes(k)) {
      const close = closest(k, KNOWN_KEYS);
      fail("TEMPLATE_FRONTMATTER", `unknown frontmatter key '${k}'`, at(file, yaml.lineOf(k), 1), {
        kind: "usage",
        hint: close ? `did you mean '${close}'?` : `known keys: ${KNOWN_KEYS.join(", ")}`,
      });
    }
  }
  if (front.to !== undefined && front.to !== null && !text(front.to))
    shape("to", "must be a path (a string), not a list or a map");
  if (front.from !== undefined && front.from !== null && !text(front.from))
    shape("from", "must be a file path (a string)");
  for (const key of ["sh_before", "sh_after"]) {
    const h = front[key];
    if (h !== undefined && h !== null && !text(h) && !(Array.isArray(h) && h.every(text)))
      shape(key, "must be a command (a string) or a list of commands");
  }
  if (front.prefixes !== undefined && front.prefixes !== null) {
    if (!isObj(front.prefixes)) shape("prefixes", "must be a map of prefix → IRI");
    for (const [p, iri] of Object.entries(front.prefixes as Record<string, unknown>)) {
      if (!/^(?:[A-Za-z][\w.-]*)?$/.test(p) || !text(iri))
        fail(
          "TEMPLATE_FRONTMATTER",
          `prefix '${p}': expected a name and an IRI`,
          at(file, yaml.lineOf(`prefixes.${p}`) ?? yaml.lineOf("prefixes")),
          {
            kind: "usage",
          },
        );
    }
  }
}

/** What pass A needs: the declarations and the seed. */
const PASS_A_KEYS: ReadonlySet<string> = new Set(["vars", "determinism"]);

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
  const a = renderFront(run, tpl, given, stA, PASS_A_KEYS);
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
  const b = renderFront(run, tpl, vars, stB);
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
    const q = queryText(qRaw, readRoot(r.run, r.unit), r.unit, tpl, y?.valueLineOf(`sparql.${name}`));
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
    const q = queryText(spec.query, readRoot(r.run, r.unit), r.unit, tpl, line);
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

/**
 * sh_before / sh_after, once per template (run, or not, by the write step): one hook per command, each
 * with its values as environment variables (shell.ts). A value holding a command substitution is refused
 * when the hook would run (seed 002's promise).
 */
function collectHooks(r: Rendering): void {
  const { run, unit, tpl } = r;
  const wouldRun = run.opts.allowHooks === true && (!unit.pack || unit.pack.trusted);
  for (const when of ["before", "after"] as const) {
    const key = `sh_${when}`;
    const raw = r.front[key];
    const line = r.yaml?.lineOf(key);
    for (const c of raw === undefined || raw === null ? [] : Array.isArray(raw) ? raw : [raw]) {
      const h = c instanceof HookText ? c : new HookText(String(c), []);
      const bad = substitutionIn(h.values);
      if (bad !== undefined && wouldRun) {
        fail(
          "HOOK_VALUE",
          `a value reaching ${key} holds a command substitution ($( or \`)`,
          at(tpl.display, line),
          {
            kind: "usage",
            hint: "hooks take values as data; pass one without $( or backticks",
          },
        );
      }
      const cmd = hookCommand(h.text, h.values);
      if (typeof cmd === "string")
        fail("HOOK_VALUE", `${key}: ${cmd}`, at(tpl.display, line), { kind: "usage" });
      run.hooks.push({ unit, when, commands: [cmd.command], env: cmd.env });
    }
  }
}

/** A rendered `to` that is a plain relative path, or a usage error naming what is wrong with it. */
function outputPath(v: unknown, file: string, line: number | undefined): string {
  if (v === null || v === undefined) return "";
  if (typeof v !== "string" && typeof v !== "number")
    fail("TEMPLATE_TO", "'to' must be a path (a string)", at(file, line), { kind: "usage" });
  const to = String(v).trim();
  const refuse = (why: string) =>
    fail(
      "TEMPLATE_TO",
      `output path ${JSON.stringify(to.length > 120 ? `${to.slice(0, 117)}…` : to)} ${why}`,
      at(file, line),
      {
        kind: "usage",
        hint: "'to' is a plain relative path inside the output dir",
      },
    );
  if (/[\u0000-\u001f\u007f]/.test(to)) refuse("holds a control character (a newline?)");
  if (to.includes("\\")) refuse("holds a backslash");
  if (to.startsWith("~")) refuse("starts with '~' (no home directories)");
  if (to.endsWith("/")) refuse("ends with '/' (a directory, not a file)");
  if (/%(?:2e|2f|5c|00)/i.test(to)) refuse("holds a percent-encoded '.', '/', '\\' or NUL");
  if (Buffer.byteLength(to) > 4096) refuse("is longer than 4096 bytes");
  if (to.split("/").some((part) => Buffer.byteLength(part) > 255)) refuse("has a name longer than 255 bytes");
  return to;
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
    if (tpl.slotted && item.row !== undefined) {
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
    const toLine = y?.lineOf("to");
    const to = outputPath(f.to, tpl.display, toLine);
    if (!to) continue; // An empty `to` skips the file (conditional output).
    if (!guardHolds(r, f, y)) continue; // `when:` is false: no output.
    const body = bodyOf(r, f, y, bodies);
    const t0 = clockMs();
    const bodyState = {
      ...st,
      lineOffset: f.from ? 0 : tpl.split.bodyLine - 1,
      file: f.from ? run.rel(resolve(dirname(tpl.file), String(f.from))) : tpl.display,
      iterations: 0,
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
    const inject = injectOf(f, to, tpl.display, y);
    // Compared now where a lock may let the output be reused; otherwise taken when first read (see
    // deferred.ts): by the manifest, a plan or --json.
    const regen = inject ? undefined : run.regen;
    const provenance = regen?.mayReuse ? regen.inputsOf(run, io) : undefined;
    const reused = provenance && regen?.reusable(run, to, provenance);
    const content = reused ? undefined : body(context, bodyState);
    run.timings.renderMs += clockMs() - t0;
    if (flag(f, "skip_empty", tpl.display, y) && content !== undefined && content.trim() === "") continue; // blank body: no file
    planned.push({
      unit,
      to,
      line: toLine,
      content,
      ...(reused ? { reused } : {}),
      ...(provenance ? { provenance } : {}),
      inject,
      backup: flag(f, "backup", tpl.display, y),
      force: f.force === true,
      unlessExists: f.unless_exists === true,
      mode:
        f.chmod === undefined || f.chmod === null
          ? undefined
          : parseMode(f.chmod, tpl.display, y?.lineOf("chmod")),
    });
    if (regen && !provenance)
      defer(planned[planned.length - 1]!, "provenance", () => regen.inputsOf(run, io));
  }
  return planned;
}

/** The template's body, or the one `from:` names (compiled once per template), read inside its root. */
function bodyOf(r: Rendering, f: Front, y: ParsedYaml | undefined, bodies: Map<string, Compiled>): Compiled {
  const { run, unit, tpl } = r;
  if (f.from === undefined || f.from === null || f.from === "") return tpl.body;
  const line = y?.lineOf("from");
  const fromAbs = resolve(dirname(tpl.file), String(f.from));
  let c = bodies.get(fromAbs);
  if (!c) {
    containRead(readRoot(run, unit), fromAbs, `'from' file '${String(f.from)}'`, tpl.display, line);
    const text = readInput(fromAbs, at(tpl.display, line), `'from' file '${String(f.from)}'`);
    const t0 = clockMs();
    c = compile(text, run.rel(fromAbs), 1, run.opts.cacheDir);
    run.timings.parseMs += clockMs() - t0;
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
  const mode = Number.parseInt(s, 8);
  if (mode & 0o7000)
    fail(
      "TEMPLATE_CHMOD",
      `chmod ${s} sets the setuid, setgid or sticky bit; generated files never get them`,
      at(file, line),
      {
        kind: "usage",
        hint: "use permission bits only, e.g. 755",
      },
    );
  return mode;
}

/** A boolean key (`skip_empty`, `backup`): true, false or absent; anything else is a usage error. */
function flag(f: Front, key: string, file: string, y: ParsedYaml | undefined): boolean {
  const v = f[key];
  if (v === undefined || v === null || v === false || v === "false") return false;
  if (v === true || v === "true") return true;
  return fail(
    "TEMPLATE_FRONTMATTER",
    `'${key}' must be true or false, got ${JSON.stringify(v)}`,
    at(file, y?.lineOf(key)),
    {
      kind: "usage",
    },
  );
}

/**
 * `when:` — a SPARQL ASK on the template's graph (or `@file.rq`), or a boolean (a var rendered into
 * it: `when: "{{with_tests}}"`). False: the output is not produced.
 */
function guardHolds(r: Rendering, f: Front, y: ParsedYaml | undefined): boolean {
  const w = f.when;
  if (w === undefined || w === null) return true;
  if (typeof w === "boolean") return w;
  const text = String(w).trim();
  if (/^(true|false)$/i.test(text)) return text.toLowerCase() === "true";
  const line = y?.valueLineOf("when");
  if (text === "")
    fail("TEMPLATE_WHEN", "'when' is empty: give an ASK query or true/false", at(r.tpl.display, line), {
      kind: "usage",
    });
  if (!r.graph)
    fail(
      "TEMPLATE_NO_GRAPH",
      "'when' needs a graph for its ASK query (add rdf: or rdf_inline:)",
      at(r.tpl.display, line),
      {
        kind: "usage",
      },
    );
  const q = queryText(text, readRoot(r.run, r.unit), r.unit, r.tpl, line);
  const full = withPrefixes(q.text, r.header);
  const added = full.split("\n").length - q.text.split("\n").length;
  const options = { name: q.file, ...(q.line !== undefined ? { line: q.line - added } : {}) };
  const form = r.run.rdf?.queryForm(q.text);
  if (form !== "ask")
    fail(
      "TEMPLATE_WHEN",
      `'when' must be an ASK query (or true/false), got ${form === undefined ? "text" : form.toUpperCase()}`,
      at(r.tpl.display, line),
      {
        kind: "usage",
      },
    );
  return r.graph.ask(full, options);
}

/** `inject: true` (text, at a line) or `inject: { path, value?, add?, format? }` (a key of JSON/YAML/TOML). */
function injectOf(f: Front, to: string, file: string, y: ParsedYaml | undefined): InjectOptions | undefined {
  if (f.inject === undefined || f.inject === null || f.inject === false) return undefined;
  if (f.inject === true) return injectOptions(f, file, y);
  const line = y?.lineOf("inject");
  const bad = (message: string): never =>
    fail("TEMPLATE_INJECT", message, at(file, line), {
      kind: "usage",
      hint: 'e.g. inject: { path: "dependencies.pg", value: "^8.11" }',
    });
  if (!isObj(f.inject))
    return bad("'inject' must be true (text) or a map { path, value } (JSON, YAML, TOML)");
  const spec = f.inject;
  for (const k of Object.keys(spec))
    if (!["path", "value", "add", "format"].includes(k))
      bad(`unknown inject key '${k}' (path, value, add, format)`);
  const raw = spec.path;
  const path = Array.isArray(raw)
    ? raw.map((s) => (typeof s === "number" ? s : String(s)))
    : typeof raw === "string"
      ? parseKeyPath(raw)
      : bad("inject needs 'path': the key to set, like dependencies.pg");
  if (typeof path === "string") return bad(`inject path '${String(raw)}' ${path}`);
  if (path.length === 0) return bad("inject path is empty");
  const format = (spec.format === undefined ? formatOf(to) : String(spec.format)) as EditFormat | undefined;
  if (format !== "json" && format !== "yaml" && format !== "toml")
    return bad(
      spec.format === undefined
        ? `cannot tell the format of '${to}' for a structural inject: give format: json, yaml or toml`
        : `inject format must be json, yaml or toml, got '${String(spec.format)}'`,
    );
  if (spec.add !== undefined && typeof spec.add !== "boolean") bad("inject 'add' must be true or false");
  const edit: StructuredEdit = { path, format, target: to, where: at(file, line) };
  if (spec.value !== undefined) edit.value = spec.value;
  if (spec.add === true) edit.add = true;
  for (const k of ["before", "after", "prepend", "append", "at_line", "skip_if"])
    if (f[k] !== undefined) bad(`'${k}' is for text injection (inject: true), not for a structural inject`);
  return { structured: edit };
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
  // Anchors are compiled now, so a bad pattern is reported at its template line before anything runs.
  for (const k of ["before", "after", "skip_if"] as const) {
    const v = o[k];
    if (v !== undefined) toMatcher(v, at(file, y?.lineOf(k)));
  }
  o.where = at(file, y?.lineOf("inject"));
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
