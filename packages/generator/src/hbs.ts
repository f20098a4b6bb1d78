// One Handlebars environment with the ggen helpers, compiling with source positions: parse errors and
// unknown helpers are reported at the template file's line and column.
import { readFileSync } from "node:fs";
import { sep } from "node:path";
import { closest, fingerprintAfter, writeFileAtomicSync } from "@ggen/support";
import type { HelperDelegate, HelperOptions } from "handlebars";
import { DIRECT_FORM, type DirectFunction, directRenderer, directSource } from "./direct.js";
import { at, fail } from "./errors.js";
import { builtinHelpers, HOOK_VALUE, helpers, type RenderState, unwrap } from "./helpers.js";
import { generatorLimits } from "./input.js";
import { handlebarsRuntime, handlebars as loadHandlebars } from "./lazy.js";

type Env = typeof import("handlebars");
// `helpers` is also the name of many locals here (the names a text calls).
const ggenHelpers = helpers;
let env: Env | undefined;
let runtimeEnv: Env | undefined;

/** The full environment (parser + compiler) with the ggen helpers. */
function handlebars(): Env {
  env ??= withHelpers(loadHandlebars().create());
  return env;
}

/** The runtime-only environment with the same helpers, for precompiled templates. */
function runtime(): Env {
  runtimeEnv ??= withHelpers(handlebarsRuntime().create());
  return runtimeEnv;
}

/**
 * An environment with only the ggen helpers `names` (and Handlebars' own), for a precompiled template
 * that names no others. Handlebars copies and wraps every registered helper on each call of a template,
 * so a template rendered per row (a `to:` slot over a thousand rows) runs noticeably faster with the
 * few it uses than with all of them.
 */
const narrowEnvs = new Map<string, Env>();
function narrowed(base: "runtime" | "full", names: readonly string[]): Env {
  const key = `${base}\u0000${names.join(",")}`;
  let e = narrowEnvs.get(key);
  if (!e) {
    const lib = base === "runtime" ? handlebarsRuntime() : loadHandlebars();
    e = withHelpers(lib.create(), new Set(names));
    narrowEnvs.set(key, e);
  }
  return e;
}

/**
 * The helper names a precompiled template can call: each is looked up by name in its code
 * (`lookupProperty(helpers,"name")`, `helpers.name`). Undefined when `helpers` appears in any other
 * form (or in the template's own text): such a template gets every helper.
 */
export function helpersNamed(spec: string): string[] | undefined {
  const all = spec.match(/\bhelpers\b/g)?.length ?? 0;
  let seen =
    spec.match(/\(container,depth0,helpers,partials,data(?:,blockParams)?(?:,depths)?\)/g)?.length ?? 0;
  const names = new Set<string>();
  try {
    for (const m of spec.matchAll(/lookupProperty\(helpers,("(?:[^"\\]|\\.)*")\)/g)) {
      names.add(JSON.parse(m[1]!) as string);
      seen++;
    }
  } catch {
    return undefined;
  }
  for (const m of spec.matchAll(/\bhelpers\.([A-Za-z_$][\w$]*)/g)) {
    names.add(m[1]!);
    seen++;
  }
  return seen === all ? [...names].sort() : undefined;
}

type TemplateSpec = Parameters<Env["template"]>[0];

const isDirect = (spec: unknown): spec is { direct: DirectFunction } =>
  typeof (spec as { direct?: unknown }).direct === "function";

/** A direct text (direct.ts) as a compiled one: called as Handlebars' templates are. */
function directChecked(spec: unknown, helpers: readonly string[] | undefined): Checked {
  if (!isDirect(spec)) throw new Error("not a direct text");
  const render = directRenderer(spec.direct, ggenHelpers);
  return {
    tpl: ((context: unknown, options: { data: { ggen: RenderState } }) =>
      render(context, options.data.ggen)) as HandlebarsTemplateDelegate,
    helpers,
  };
}

let helperNameSet: ReadonlySet<string> | undefined;
const ggenHelperNames = (): ReadonlySet<string> => {
  helperNameSet ??= new Set(Object.keys(ggenHelpers));
  return helperNameSet;
};

/** A precompiled template in the narrowest environment that has every helper it names. */
function templateOf(
  base: "runtime" | "full",
  spec: TemplateSpec,
  names: readonly string[] | undefined,
): HandlebarsTemplateDelegate {
  const env = names ? narrowed(base, names) : base === "runtime" ? runtime() : handlebars();
  return env.template(spec);
}

function withHelpers(env: Env, only?: ReadonlySet<string>): Env {
  for (const [name, fn] of Object.entries(helpers)) if (!only || only.has(name)) env.registerHelper(name, fn);
  // #if / #unless see a term's natural value ("false"^^xsd:boolean is false, 0 is falsy).
  for (const name of ["if", "unless"]) {
    const builtin = env.helpers[name] as HelperDelegate;
    env.registerHelper(name, function (this: unknown, cond: unknown, options: unknown) {
      return builtin.call(this, unwrap(cond), options);
    });
  }
  // The render budget: {{#each}} iterations per rendered file (a product of big lists never ends soon).
  const each = env.helpers.each as HelperDelegate;
  env.registerHelper("each", function (this: unknown, items: unknown, options: HelperOptions) {
    const st = (options.data as { ggen?: RenderState } | undefined)?.ggen;
    if (st) {
      const n = Array.isArray(items)
        ? items.length
        : items && typeof items === "object"
          ? Object.keys(items).length
          : 0;
      st.iterations = (st.iterations ?? 0) + n;
      const max = generatorLimits().maxIterations;
      if (st.iterations > max) {
        const loc = (options as unknown as { loc?: Loc }).loc;
        fail(
          "RENDER_BUDGET",
          `rendering passed ${max.toLocaleString("en")} {{#each}} iterations (the render budget of one file)`,
          at(st.file, loc ? loc.start.line + st.lineOffset : undefined),
          { hint: "loop over less, split the output into files (for_each), or raise GGEN_RENDER_BUDGET" },
        );
      }
    }
    return each.call(this, items, options);
  });
  return env;
}

export const helperNames = (): string[] => [...Object.keys(helpers), ...builtinHelpers];

export type Compiled = ((context: unknown, state: RenderState) => string) & {
  /** The ggen helpers the text may call; undefined when that is not known (then: any of them). */
  readonly helpers: readonly string[] | undefined;
};

interface Loc {
  start: { line: number; column: number };
}
interface Node {
  type: string;
  loc?: Loc;
  [k: string]: unknown;
}

function walk(node: unknown, visit: (n: Node) => void): void {
  if (Array.isArray(node)) {
    for (const n of node) walk(n, visit);
    return;
  }
  if (!node || typeof node !== "object") return;
  const n = node as Node;
  if (typeof n.type === "string") visit(n);
  for (const [k, v] of Object.entries(n)) if (k !== "loc" && v && typeof v === "object") walk(v, visit);
}

function checkHelpers(ast: unknown, file: string, firstLine: number): void {
  const known = new Set(helperNames());
  walk(ast, (n) => {
    if (n.type !== "MustacheStatement" && n.type !== "SubExpression" && n.type !== "BlockStatement") return;
    const path = n.path as {
      type?: string;
      parts?: string[];
      data?: boolean;
      depth?: number;
      original?: string;
    };
    if (path?.type !== "PathExpression" || path.data || path.depth !== 0 || path.parts?.length !== 1) return;
    const params = (n.params as unknown[] | undefined) ?? [];
    const hash = n.hash as { pairs?: unknown[] } | undefined;
    // A block is always a helper call: `{{#items}}…{{/items}}` sections over a var are not used here, and
    // an unknown block helper would otherwise render its body silently.
    const isCall =
      n.type === "SubExpression" ||
      n.type === "BlockStatement" ||
      params.length > 0 ||
      (hash?.pairs?.length ?? 0) > 0;
    if (!isCall) return;
    const name = path.parts[0]!;
    if (known.has(name)) return;
    const loc = (path as { loc?: Loc }).loc ?? n.loc;
    const close = closest(name, known);
    fail(
      "TEMPLATE_UNKNOWN_HELPER",
      `unknown ${n.type === "BlockStatement" ? "block helper" : "helper"} '${name}'`,
      at(file, (loc?.start.line ?? 1) + firstLine - 1, (loc?.start.column ?? 0) + 1),
      {
        kind: "usage",
        hint: close ? `did you mean '${close}'?` : "see the helper list in the generator README",
      },
    );
  });
}

// Handlebars adds keys to the options object it is given: each call gets its own copy.
const COMPILE_OPTIONS = { noEscape: true } as const;

/**
 * Compile Handlebars `text` that starts at `firstLine` of `file` (cached as `compileAll` does).
 */
export function compile(
  text: string,
  file: string,
  firstLine: number,
  cacheDir?: string,
  mode: CompileMode = "text",
): Compiled {
  return compileAll([{ text, firstLine, mode }], file, cacheDir)[0]!;
}

/** A Handlebars text of a file: where it starts in the file, and how its expressions are output. */
export interface CompileText {
  text: string;
  firstLine: number;
  mode?: CompileMode;
}

/**
 * Compile the Handlebars texts of one file (a template's frontmatter values and its body). With
 * `cacheDir`, they are kept there together as JavaScript — a plain text's direct function (direct.ts),
 * any other's Handlebars precompiled form — under a key made of the texts, the Handlebars version and
 * the helper names they were checked against: a later run with the same texts reads one file and
 * evaluates one script for all of them, with no parser or compiler (and no Handlebars runtime at all
 * when every text is plain), which is most of a short run's start-up. The entry
 * holds its key on its first line, checked on read (no digest, so node:crypto stays unloaded on a
 * short run), then the helper names each text calls; a damaged entry, or one written for another key,
 * is compiled again.
 */
export function compileAll(texts: readonly CompileText[], file: string, cacheDir?: string): Compiled[] {
  const cached = cacheDir ? cacheEntry(cacheDir, texts) : undefined;
  const checked = (cached && readCompiled(cached, texts.length)) || compileChecked(texts, file, cached);
  return checked.map((c, i) => renderer(c, file, texts[i]!.firstLine));
}

/** The texts of a cache entry, or undefined when it is missing, damaged or written for another key. */
function readCompiled(cached: CacheEntry, count: number): Checked[] | undefined {
  try {
    const entry = readFileSync(cached.file, "utf8");
    const keyEnd = entry.indexOf("\n");
    const namesEnd = entry.indexOf("\n", keyEnd + 1);
    if (keyEnd <= 0 || namesEnd < 0 || JSON.parse(entry.slice(0, keyEnd)) !== cached.key) return undefined;
    const names = JSON.parse(entry.slice(keyEnd + 1, namesEnd)) as (string[] | null)[];
    const specs = specification(entry.slice(namesEnd + 1)) as unknown as TemplateSpec[];
    if (!Array.isArray(specs) || specs.length !== count || names.length !== count) return undefined;
    return specs.map((spec, i) => {
      const helpers = names[i] ?? undefined;
      return isDirect(spec)
        ? directChecked(spec, helpers)
        : { tpl: templateOf("runtime", spec, helpers), helpers };
    });
  } catch {
    return undefined;
  }
}

/** A compiled text as the function a template renders with (a failure reported at file:line). */
function renderer(checked: Checked, file: string, firstLine: number): Compiled {
  const { tpl: run, helpers } = checked;
  const rendered = (context: unknown, state: RenderState): string => {
    try {
      return run(context, { data: { ggen: state } });
    } catch (e) {
      if (e && typeof e === "object" && (e as { name?: string }).name === "GgenError") throw e;
      const err = e as { message?: string; lineNumber?: number; column?: number };
      const line = typeof err.lineNumber === "number" ? err.lineNumber + firstLine - 1 : undefined;
      fail(
        "TEMPLATE_RENDER",
        `cannot render: ${String(err.message ?? e)
          .split("\n")[0]!
          .replace(/ - \d+:\d+$/, "")}`,
        at(file, line, line !== undefined && typeof err.column === "number" ? err.column + 1 : undefined),
        { kind: "usage" },
      );
    }
  };
  return Object.assign(rendered, { helpers });
}

/** A compiled text and the ggen helpers it may call (undefined: not known). */
interface Checked {
  tpl: HandlebarsTemplateDelegate;
  helpers: readonly string[] | undefined;
}

/**
 * How a template's expressions are output. "text": as they are (no HTML escaping). "shell" (a hook's
 * command): each expression's value is handed to the hook as an environment variable and only a
 * placeholder reaches the command (see shellCommand in helpers.ts) — a value is never shell source.
 */
export type CompileMode = "text" | "shell";

/**
 * The budget checked before Handlebars parses a text (its parser is super-linear in nesting and its
 * compiler costs about a millisecond an expression): block and subexpression nesting, expressions.
 */
function checkBudget(text: string, file: string, firstLine: number): void {
  const { maxDepth, maxExpressions } = generatorLimits();
  let depth = 0;
  let count = 0;
  const refuse = (index: number, message: string, hint: string) =>
    fail("RENDER_BUDGET", message, at(file, firstLine + text.slice(0, index).split("\n").length - 1), {
      kind: "usage",
      hint,
    });
  for (const m of text.matchAll(/\{\{!--[\s\S]*?--\}\}|\{\{[\s\S]*?\}\}/g)) {
    const tag = m[0];
    if (tag.startsWith("{{!")) continue;
    if (++count > maxExpressions)
      refuse(
        m.index,
        `more than ${maxExpressions.toLocaleString("en")} Handlebars expressions in one template`,
        "split the template",
      );
    if (/^\{\{~?\s*[#^](?!\s*\}\})/.test(tag)) depth++;
    else if (/^\{\{~?\s*\//.test(tag)) depth--;
    let parens = 0;
    for (const c of tag) {
      if (c === "(") parens++;
      else if (c === ")") parens--;
      if (depth + parens > maxDepth)
        refuse(m.index, `blocks and subexpressions nest more than ${maxDepth} deep`, "flatten the template");
    }
  }
}

/** In shell mode every `{{expr}}` becomes `{{ggen_hook_value expr}}`: its value goes to the environment. */
function shellValues(ast: unknown): void {
  walk(ast, (n) => {
    if (n.type !== "Program" || !Array.isArray(n.body)) return;
    n.body = (n.body as Node[]).map((stmt) => {
      if (stmt.type !== "MustacheStatement") return stmt;
      const params = (stmt.params as unknown[]) ?? [];
      const hash = stmt.hash as { pairs?: unknown[] } | undefined;
      const value =
        params.length > 0 || (hash?.pairs?.length ?? 0) > 0
          ? { type: "SubExpression", path: stmt.path, params, hash, loc: stmt.loc }
          : stmt.path;
      const path = {
        type: "PathExpression",
        data: false,
        depth: 0,
        parts: [HOOK_VALUE],
        original: HOOK_VALUE,
        loc: stmt.loc,
      };
      return { ...stmt, path, params: [value], hash: undefined, escaped: false };
    });
  });
}

/**
 * Parses each text (errors at file:line), checks its helper names and compiles it; with `saveAs`,
 * precompiles them and saves them there together (see `compileAll`).
 */
function compileChecked(
  texts: readonly CompileText[],
  file: string,
  saveAs: CacheEntry | undefined,
): Checked[] {
  if (!saveAs) return texts.map((t) => compileText(t, file, false).checked);
  const compiled = texts.map((t) => compileText(t, file, true));
  const names = compiled.map((c) => c.names ?? null);
  const specs = compiled.map((c) => c.spec);
  saveCompiled(
    saveAs.file,
    `${JSON.stringify(saveAs.key)}\n${JSON.stringify(names)}\n[${specs.join(",\n")}]`,
  );
  return compiled.map((c) => c.checked);
}

/** One text parsed, checked and compiled; `precompiled`: through its JavaScript (kept in the cache). */
function compileText(
  { text, firstLine, mode = "text" }: CompileText,
  file: string,
  precompiled: boolean,
): { checked: Checked; spec: string; names: string[] | undefined } {
  checkBudget(text, file, firstLine);
  const hb = handlebars();
  let ast: unknown;
  try {
    ast = hb.parse(text);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    const m = /Parse error on line (\d+)/.exec(msg);
    const lines = msg.split("\n");
    const expecting = lines[lines.length - 1] ?? msg;
    const got = /got '([^']+)'/.exec(expecting)?.[1];
    const line = m ? Number(m[1]) + firstLine - 1 : firstLine;
    fail(
      "TEMPLATE_SYNTAX",
      `Handlebars syntax error${got ? ` (unexpected ${got})` : `: ${lines[0]}`}`,
      at(file, line),
      {
        kind: "usage",
      },
    );
  }
  checkHelpers(ast, file, firstLine);
  const helpers = helpersIn(ast);
  if (mode === "shell") shellValues(ast);
  // A plain text runs without Handlebars' runtime (direct.ts); kept in the cache as `{"direct": fn}`.
  const direct = mode === "text" ? directSource(ast, ggenHelperNames()) : undefined;
  if (direct !== undefined) {
    const spec = `{"direct":${direct}}`;
    return { checked: directChecked(specification(spec), helpers), spec, names: helpers };
  }
  const program = ast as Parameters<Env["compile"]>[0];
  if (!precompiled)
    return {
      checked: { tpl: hb.compile(program, { ...COMPILE_OPTIONS }), helpers },
      spec: "",
      names: undefined,
    };
  const spec = hb.precompile(program, { ...COMPILE_OPTIONS }) as string;
  const names = helpersNamed(spec);
  // Run as a later run runs it (the runtime, from the entry's code), so the first run — whose code
  // cache is a later run's start (@ggen/code-cache) — takes the same path.
  return { checked: { tpl: templateOf("runtime", specification(spec), names), helpers }, spec, names };
}

/** Every ggen helper name a parsed text mentions as a plain name (a call, or a bare `{{name}}`). */
function helpersIn(ast: unknown): string[] {
  const known = new Set(Object.keys(helpers));
  const names = new Set<string>();
  walk(ast, (n) => {
    const p = n as { type: string; data?: boolean; depth?: number; parts?: string[] };
    if (p.type === "PathExpression" && !p.data && p.depth === 0 && p.parts?.length === 1)
      if (known.has(p.parts[0]!)) names.add(p.parts[0]!);
  });
  return [...names].sort();
}

/** Where a compiled template is kept, and the key its first line must hold. */
interface CacheEntry {
  file: string;
  key: string;
}

declare const __GGEN_HANDLEBARS_VERSION__: string | undefined;
/** Handlebars' version: set by the build (tsup.config.ts), else asked of the runtime. */
const handlebarsVersion = (): string =>
  typeof __GGEN_HANDLEBARS_VERSION__ === "string" ? __GGEN_HANDLEBARS_VERSION__ : handlebarsRuntime().VERSION;

let keying: { prefix: string; fingerprint: (text: string) => string } | undefined;

/**
 * What a compiled entry is valid for: the text, after a prefix of the Handlebars version, the helpers
 * and the options — hashed once (a short run looks up ten entries). The entry's path is joined by
 * hand: the file system reads it the same, and path.join would normalize the whole dir again.
 */
function cacheEntry(cacheDir: string, texts: readonly CompileText[]): CacheEntry {
  if (!keying) {
    const prefix = `${handlebarsVersion()}\u0000${DIRECT_FORM}\u0000${helperNames().join(",")}\u0000${JSON.stringify(COMPILE_OPTIONS)}\u0000`;
    keying = { prefix, fingerprint: fingerprintAfter(prefix) };
  }
  // Each text with its mode; the first lines only place errors, which are worked out when they occur.
  const source = JSON.stringify(texts.map((t) => [t.mode ?? "text", t.text]));
  return { file: `${cacheDir}${sep}${keying.fingerprint(source)}.js`, key: keying.prefix + source };
}

/** Precompiled templates' JavaScript (an object literal, or an array of them) as the value it writes. */
function specification(js: string): TemplateSpec {
  return new Function(`return (${js});`)() as TemplateSpec;
}

/** Atomic and best effort: a read-only or full cache only costs later runs their speed. */
function saveCompiled(file: string, spec: string): void {
  try {
    // A cache of derived code, compiled again when missing: no fsync on a generation's hot path.
    writeFileAtomicSync(file, spec, { fsync: false });
  } catch {
    // see above
  }
}

/** Does this text contain Handlebars at all? (plain frontmatter is parsed once, not rendered.) */
export const hasMustache = (text: string): boolean => text.includes("{{");
