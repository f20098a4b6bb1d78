// One Handlebars environment with the ggen helpers, compiling with source positions: parse errors and
// unknown helpers are reported at the template file's line and column.
import type { HelperDelegate } from "handlebars";
import { at, fail, suggest } from "./errors.js";
import { builtinHelpers, helpers, type RenderState, unwrap } from "./helpers.js";
import { handlebars as loadHandlebars } from "./lazy.js";

type Env = typeof import("handlebars");
let env: Env | undefined;

function handlebars(): Env {
  if (env) return env;
  env = loadHandlebars().create();
  for (const [name, fn] of Object.entries(helpers)) env.registerHelper(name, fn);
  // #if / #unless see a term's natural value ("false"^^xsd:boolean is false, 0 is falsy).
  for (const name of ["if", "unless"]) {
    const builtin = env.helpers[name] as HelperDelegate;
    env.registerHelper(name, function (this: unknown, cond: unknown, options: unknown) {
      return builtin.call(this, unwrap(cond), options);
    });
  }
  return env;
}

export const helperNames = (): string[] => [...Object.keys(helpers), ...builtinHelpers];

export type Compiled = (context: unknown, state: RenderState) => string;

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
    const isCall = n.type === "SubExpression" || params.length > 0 || (hash?.pairs?.length ?? 0) > 0;
    if (!isCall) return;
    const name = path.parts[0]!;
    if (known.has(name)) return;
    const loc = (path as { loc?: Loc }).loc ?? n.loc;
    const close = suggest(name, known);
    fail(
      "TEMPLATE_UNKNOWN_HELPER",
      `unknown helper '${name}'`,
      at(file, (loc?.start.line ?? 1) + firstLine - 1, (loc?.start.column ?? 0) + 1),
      {
        kind: "usage",
        hint: close ? `did you mean '${close}'?` : "see the helper list in the generator README",
      },
    );
  });
}

/** Compile Handlebars `text` that starts at `firstLine` of `file`. */
export function compile(text: string, file: string, firstLine: number): Compiled {
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
  const tpl = hb.compile(ast as Parameters<Env["compile"]>[0], { noEscape: true });
  return (context, state) => {
    try {
      return tpl(context, { data: { ggen: state } });
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
}

/** Does this text contain Handlebars at all? (plain frontmatter is parsed once, not rendered.) */
export const hasMustache = (text: string): boolean => text.includes("{{");
