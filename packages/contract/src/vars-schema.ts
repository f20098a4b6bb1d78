// A pack's vars as a JSON Schema (`[contract] vars_schema`): compiled once per file by its own ajv
// (not the contract's precompiled ones), checked against the vars a generation resolves. Strings from
// the command line are coerced on a copy, as template var declarations coerce them.
import { createRequire } from "node:module";
import type { ValidateFunction } from "ajv";
import { GgenError } from "./errors.js";
import { parseJson } from "./json.js";
import { compilePattern } from "./pattern.js";
import { type ContractIssue, describeSchemaError } from "./validate.js";

const require = createRequire(import.meta.url);

type AjvLike = { compile(schema: object): ValidateFunction };
const engines = new Map<string, AjvLike>();
function engine(draft07: boolean): AjvLike {
  const key = draft07 ? "07" : "2020";
  let a = engines.get(key);
  if (!a) {
    const Ajv = draft07
      ? (require("ajv") as { default: new (o: object) => AjvLike }).default
      : (require("ajv/dist/2020.js") as { Ajv2020: new (o: object) => AjvLike }).Ajv2020;
    const formats = require("ajv-formats") as { default?: unknown };
    const addFormats = (formats.default ?? formats) as (ajv: AjvLike) => AjvLike;
    // A schema's `pattern`s run on RE2 (compilePattern), so no pattern can backtrack catastrophically.
    const regExp = Object.assign(
      (pattern: string, flags: string) => {
        const re = compilePattern(pattern, { flags, what: "vars schema pattern" });
        // ajv keys compiled patterns by their text.
        return { test: (s: string) => re.test(s), toString: () => `/${pattern}/${flags}` };
      },
      { code: "compilePattern" },
    );
    a = addFormats(
      new Ajv({ allErrors: true, strict: false, coerceTypes: true, allowUnionTypes: true, code: { regExp } }),
    );
    engines.set(key, a);
  }
  return a;
}

/** Checks vars against a pack's schema: every problem, each with its JSON pointer ("/port"). */
export type VarsSchemaCheck = (vars: Record<string, unknown>) => ContractIssue[];

/**
 * Parses and compiles a vars JSON Schema (`text` of the file `file`). A schema that is not JSON, not an
 * object, or that ajv refuses is a usage error at the file. Draft 2020-12 by default; a `$schema` naming
 * draft-07 (or 06/04-era `draft-0`) is compiled as such.
 */
export function compileVarsSchema(text: string, file: string): VarsSchemaCheck {
  const schema = parseJson(text, file, "VARS_SCHEMA", "usage");
  if (schema === null || typeof schema !== "object" || Array.isArray(schema))
    throw new GgenError("VARS_SCHEMA", "a vars schema must be a JSON object", {
      kind: "usage",
      location: { file, line: 1, column: 1 },
    });
  const declared = String((schema as { $schema?: unknown }).$schema ?? "");
  let fn: ValidateFunction;
  try {
    fn = engine(/draft-0\d/.test(declared)).compile(schema);
  } catch (e) {
    throw new GgenError("VARS_SCHEMA", `invalid JSON Schema: ${String((e as Error).message ?? e)}`, {
      kind: "usage",
      location: { file },
    });
  }
  return (vars) => {
    if (fn(structuredClone(vars))) return [];
    const seen = new Set<string>();
    const out: ContractIssue[] = [];
    for (const e of fn.errors ?? []) {
      if (e.keyword === "anyOf" || e.keyword === "oneOf" || e.keyword === "if") continue;
      const issue = describeSchemaError(e);
      const key = `${issue.path} ${issue.message}`;
      if (!seen.has(key)) {
        seen.add(key);
        out.push(issue);
      }
    }
    return out;
  };
}
