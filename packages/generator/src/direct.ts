// Plain texts without the Handlebars runtime. Most template texts — an output path, a file of names run
// through case helpers — are only text, `{{path}}` and `{{helper path "literal"}}`. For those, the
// compile step writes a JavaScript function that does what Handlebars' compiled code does for the same
// AST (its property lookup rules, helper calls, options and data frame), so a short run renders them
// without loading the runtime, creating its environments and running its per-call set-up. Anything
// else (blocks, partials, subexpressions, hashes, @data, `this`, Handlebars' own helpers) is left to
// Handlebars. direct.test.ts renders every accepted text both ways and compares.
import type { HelperDelegate } from "handlebars";
import { builtinHelpers, type RenderState } from "./helpers.js";

interface Loc {
  start: { line: number; column: number };
  end: { line: number; column: number };
}
interface Path {
  type: "PathExpression";
  data: boolean;
  depth: number;
  parts: string[];
  original: string;
}
interface Node {
  type: string;
  loc?: Loc;
  [k: string]: unknown;
}

/** Handlebars' own helpers: a text naming one (as a call or a bare name) is left to Handlebars. */
const HANDLEBARS_HELPERS: ReadonlySet<string> = new Set(builtinHelpers);

/** A plain path from the context: `name`, `a.b` (not `this`, `./`, `../`, `@data` or `[segments]`). */
function plainPath(p: unknown): p is Path {
  const path = p as Path;
  return (
    path?.type === "PathExpression" &&
    !path.data &&
    path.depth === 0 &&
    path.parts.length > 0 &&
    path.original === path.parts.join(".") &&
    !path.parts.some((part) => HANDLEBARS_HELPERS.has(part))
  );
}

const lit = (v: unknown) => JSON.stringify(v);

/** One parameter's expression: a plain path's value or a string, number or boolean literal. */
function param(p: Node): string | undefined {
  if (plainPath(p)) return `r.v(c, ${lit(p.parts)})`;
  if (p.type === "StringLiteral" || p.type === "BooleanLiteral") return lit(p.value);
  // A finite number only: JSON has no Infinity or -0 to write it with.
  if (p.type === "NumberLiteral" && Number.isFinite(p.value) && !Object.is(p.value, -0)) return lit(p.value);
  return undefined;
}

/**
 * The function source for a parsed `program` (as Handlebars' `parse` gives it: whitespace control
 * applied), or undefined when it needs Handlebars. `helpers` are the names that call a ggen helper.
 */
export function directSource(program: unknown, helpers: ReadonlySet<string>): string | undefined {
  const body = (program as { type?: string; body?: Node[] }).body;
  if ((program as Node)?.type !== "Program" || !Array.isArray(body)) return undefined;
  const parts: string[] = [];
  for (const n of body) {
    if (n.type === "ContentStatement") {
      if (n.value !== "") parts.push(lit(n.value));
      continue;
    }
    if (n.type === "CommentStatement") continue;
    if (n.type !== "MustacheStatement" || !plainPath(n.path)) return undefined;
    const path = n.path as Path;
    const params = (n.params as Node[] | undefined) ?? [];
    const hash = n.hash as { pairs?: unknown[] } | undefined;
    if (hash && (hash.pairs?.length ?? 0) > 0) return undefined;
    // Where the helper's options say it is (errors at file:line), as Handlebars' compiled code has it.
    const loc = lit({ start: n.loc?.start, end: n.loc?.end });
    if (params.length > 0) {
      // A call: only of a ggen helper by its plain name.
      if (path.parts.length !== 1 || !helpers.has(path.parts[0]!)) return undefined;
      const args = params.map(param);
      if (args.some((a) => a === undefined)) return undefined;
      parts.push(`r.o(r.call(c, ${lit(path.parts[0])}, [${args.join(", ")}], ${loc}))`);
    } else if (path.parts.length === 1) {
      parts.push(`r.o(r.bare(c, ${lit(path.parts[0])}, ${loc}))`);
    } else {
      parts.push(`r.o(r.lambda(r.v(c, ${lit(path.parts)}), c))`);
    }
  }
  // Joined as Handlebars joins them — not from "": two values side by side (`{{n}}{{flag}}`) add up as
  // JavaScript adds them (0 + false is 0); the caller makes the result a string, as Handlebars does.
  return `function (c, r) { return ${parts.length ? parts.join(" + ") : '""'}; }`;
}

export type DirectFunction = (context: unknown, r: DirectRuntime) => string;

/** The form of the functions directSource writes (part of a compiled-template cache key). */
export const DIRECT_FORM = "direct/1";

interface DirectRuntime {
  v(c: unknown, parts: readonly string[]): unknown;
  call(c: unknown, name: string, params: unknown[], loc: Loc): unknown;
  bare(c: unknown, name: string, loc: Loc): unknown;
  lambda(value: unknown, c: unknown): unknown;
  o(value: unknown): unknown;
}

const hasOwn = Object.prototype.hasOwnProperty;
// Handlebars' defaults for what is not an own property: every such property is refused; these are
// refused without a word, the others with one warning per name (as its runtime does, on stderr).
const SILENT_METHODS = new Set([
  "constructor",
  "__defineGetter__",
  "__defineSetter__",
  "__lookupGetter__",
  "__lookupSetter__",
]);
const warned = new Set<string>();

/**
 * Handlebars' lookupProperty with its default prototype-access rules: an own property, unless it is a
 * prototype's own `constructor` (Function.prototype.constructor is Function); nothing inherited.
 */
export function lookupProperty(parent: unknown, name: string): unknown {
  const result = (parent as Record<string, unknown>)[name];
  if (result === null || result === undefined) return result;
  const prototypeConstructor =
    name === "constructor" && typeof result === "function" && parent === result.prototype;
  if (hasOwn.call(parent, name) && !prototypeConstructor) return result;
  const silent = typeof result === "function" ? SILENT_METHODS.has(name) : name === "__proto__";
  if (!silent && !warned.has(name)) {
    warned.add(name);
    console.error(
      `Handlebars: Access has been denied to resolve the property "${name}" because it is not an "own property" of its parent.\n` +
        "You can add a runtime option to disable the check or this warning:\n" +
        "See https://handlebarsjs.com/api-reference/runtime-options.html#options-to-control-prototype-access for details",
    );
  }
  return undefined;
}

/** Runs a direct function as Handlebars runs a template: `helpers` by name, the data frame it makes. */
export function directRenderer(
  fn: DirectFunction,
  helpers: Readonly<Record<string, HelperDelegate>>,
): (context: unknown, state: RenderState) => string {
  const nullContext = Object.seal({});
  return (context, state) => {
    const base = { ggen: state };
    const data = { ggen: state, _parent: base, root: context };
    const self = (c: unknown) => (c !== null && c !== undefined ? c : nullContext);
    const options = (name: string, loc: Loc) => ({ lookupProperty, name, hash: {}, data, loc });
    const r: DirectRuntime = {
      v: (c, parts) => {
        let v = c;
        for (const p of parts) {
          if (v === null || v === undefined) return v;
          v = lookupProperty(v, p);
        }
        return v;
      },
      call: (c, name, params, loc) =>
        (lookupProperty(helpers, name) as HelperDelegate).call(self(c), ...params, options(name, loc)),
      bare: (c, name, loc) => {
        const helper = lookupProperty(helpers, name) as HelperDelegate | undefined;
        if (helper) return helper.call(self(c), options(name, loc));
        const v = c !== null && c !== undefined ? lookupProperty(c, name) : c;
        // A value that is a function is called as Handlebars calls it (its helperMissing gives nothing).
        if (v === null || v === undefined) return undefined;
        return typeof v === "function" ? v.call(self(c), { name, hash: {}, data, loc }) : v;
      },
      lambda: (value, c) => (typeof value === "function" ? value.call(c) : value),
      o: (value) => (value !== null && value !== undefined ? value : ""),
    };
    // '' + value, as Handlebars makes its result a string (valueOf first, where a template string would
    // take toString).
    return "" + fn(context, r);
  };
}
