// Template variables: declarations (type, required, description, enum, pattern, default), values from
// vars files (YAML, JSON, TOML; `--vars k=v` lists are @ggen/support's parseKeyValues), coercion and
// validation with file:line errors.
import { extname } from "node:path";
import { compilePattern, parseJson, parseToml, type SafePattern, schemaKeys } from "@ggen/contract";
import { at, fail } from "./errors.js";
import { parseYaml } from "./frontmatter.js";
import { readInput } from "./input.js";

export type VarType = "string" | "number" | "integer" | "boolean" | "list" | "object";
const VAR_TYPES: VarType[] = ["string", "number", "integer", "boolean", "list", "object"];
const DECL_KEYS = new Set(schemaKeys("template-frontmatter/v1", "/$defs/varDecl"));

export interface VarDecl {
  name: string;
  type?: VarType;
  required?: boolean;
  description?: string;
  enum?: unknown[];
  pattern?: string;
  default?: unknown;
  /** Line of the declaration in the template. */
  line?: number;
}

// Compiled patterns (RE2, linear time: a var's pattern is a user's regular expression), by source.
const patterns = new Map<string, SafePattern>();

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** `vars:` of a frontmatter: a plain value is a default; a map of declaration keys is a declaration. */
export function parseVarDecls(
  raw: unknown,
  file: string,
  lineOf: (p: string) => number | undefined,
): VarDecl[] {
  if (raw === undefined || raw === null) return [];
  if (!isPlainObject(raw)) {
    fail("TEMPLATE_VARS", "'vars' must be a map of name → default or declaration", at(file, lineOf("vars")), {
      kind: "usage",
    });
  }
  const out: VarDecl[] = [];
  for (const [name, v] of Object.entries(raw)) {
    const line = lineOf(`vars.${name}`);
    const decl: VarDecl = { name };
    if (line !== undefined) decl.line = line;
    const keys = isPlainObject(v) ? Object.keys(v) : [];
    if (isPlainObject(v) && keys.length > 0 && keys.every((k) => DECL_KEYS.has(k))) {
      if (v.type !== undefined) {
        const t = String(v.type) === "array" ? "list" : String(v.type);
        if (!VAR_TYPES.includes(t as VarType)) {
          fail("TEMPLATE_VARS", `var '${name}': unknown type '${String(v.type)}'`, at(file, line), {
            kind: "usage",
            hint: `use one of ${VAR_TYPES.join(", ")}`,
          });
        }
        decl.type = t as VarType;
      }
      if (v.required !== undefined) decl.required = v.required === true;
      if (v.description !== undefined) decl.description = String(v.description);
      if (v.enum !== undefined) {
        if (!Array.isArray(v.enum))
          fail("TEMPLATE_VARS", `var '${name}': 'enum' must be a list`, at(file, line), { kind: "usage" });
        decl.enum = v.enum;
      }
      if (v.pattern !== undefined) {
        decl.pattern = String(v.pattern);
        if (!patterns.has(decl.pattern)) {
          patterns.set(
            decl.pattern,
            compilePattern(decl.pattern, { what: `var '${name}' pattern`, location: at(file, line) }),
          );
        }
      }
      if (v.default !== undefined) decl.default = v.default;
    } else {
      decl.default = v;
    }
    out.push(decl);
  }
  return out;
}

function typeOf(v: unknown): VarType {
  if (Array.isArray(v)) return "list";
  if (typeof v === "boolean") return "boolean";
  if (typeof v === "number") return Number.isInteger(v) ? "integer" : "number";
  if (isPlainObject(v)) return "object";
  return "string";
}

/** Coerce a value (often a string from the command line) to the declared type; undefined if impossible. */
export function coerce(
  value: unknown,
  type: VarType | undefined,
): { ok: true; value: unknown } | { ok: false } {
  if (type === undefined || value === undefined || value === null) return { ok: true, value };
  const s = typeof value === "string" ? value.trim() : undefined;
  switch (type) {
    case "string":
      return typeof value === "object" ? { ok: false } : { ok: true, value: String(value) };
    case "number":
    case "integer": {
      const n = typeof value === "number" ? value : s !== undefined && s !== "" ? Number(s) : Number.NaN;
      if (!Number.isFinite(n) || (type === "integer" && !Number.isInteger(n))) return { ok: false };
      return { ok: true, value: n };
    }
    case "boolean":
      if (typeof value === "boolean") return { ok: true, value };
      if (s !== undefined && /^(true|yes|on|1)$/i.test(s)) return { ok: true, value: true };
      if (s !== undefined && /^(false|no|off|0)$/i.test(s)) return { ok: true, value: false };
      return { ok: false };
    case "list":
      if (Array.isArray(value)) return { ok: true, value };
      if (s === undefined) return { ok: false };
      if (s.startsWith("[")) {
        try {
          const v = JSON.parse(s) as unknown;
          return Array.isArray(v) ? { ok: true, value: v } : { ok: false };
        } catch {
          return { ok: false };
        }
      }
      return { ok: true, value: s === "" ? [] : s.split(",").map((x) => x.trim()) };
    case "object":
      if (isPlainObject(value)) return { ok: true, value };
      if (s?.startsWith("{")) {
        try {
          const v = JSON.parse(s) as unknown;
          return isPlainObject(v) ? { ok: true, value: v } : { ok: false };
        } catch {
          return { ok: false };
        }
      }
      return { ok: false };
  }
}

export interface VarProblem {
  name: string;
  message: string;
  line?: number;
}

/** Apply defaults, coerce, and check every declaration; returns the resolved vars and the problems. */
export function checkVars(
  given: Record<string, unknown>,
  decls: VarDecl[],
): { vars: Record<string, unknown>; problems: VarProblem[] } {
  const vars: Record<string, unknown> = {};
  const problems: VarProblem[] = [];
  for (const d of decls) if (d.default !== undefined) vars[d.name] = d.default;
  Object.assign(vars, given);
  for (const d of decls) {
    const problem = (message: string) =>
      problems.push(
        d.line === undefined ? { name: d.name, message } : { name: d.name, message, line: d.line },
      );
    const v = vars[d.name];
    if (v === undefined || v === null || v === "") {
      if (d.required)
        problem(`missing required var '${d.name}'${d.description ? ` (${d.description})` : ""}`);
      continue;
    }
    const c = coerce(v, d.type);
    if (!c.ok) {
      problem(
        `var '${d.name}' must be ${d.type === "integer" ? "an integer" : `a ${d.type}`}, got ${JSON.stringify(v)}`,
      );
      continue;
    }
    vars[d.name] = c.value;
    if (d.enum && !d.enum.some((e) => String(e) === String(c.value))) {
      problem(
        `var '${d.name}' must be one of ${d.enum.map((e) => JSON.stringify(e)).join(", ")}, got ${JSON.stringify(c.value)}`,
      );
    }
    if (d.pattern !== undefined && typeOf(c.value) !== "object" && typeOf(c.value) !== "list") {
      const re = patterns.get(d.pattern) ?? compilePattern(d.pattern, { what: `var '${d.name}' pattern` });
      if (!re.test(String(c.value))) {
        problem(`var '${d.name}' must match /${d.pattern}/, got ${JSON.stringify(c.value)}`);
      }
    }
  }
  return { vars, problems };
}

/** Read a vars file (.yaml/.yml, .json, .toml); errors carry file:line:column. */
export function loadVarsFile(file: string, display = file): Record<string, unknown> {
  const text = readInput(file, at(display), "vars file");
  const ext = extname(file).toLowerCase();
  let value: unknown;
  if (ext === ".json") {
    value = parseJson(text, display, "VARS_SYNTAX", "usage");
  } else if (ext === ".toml") {
    value = parseToml(text, display, "VARS_SYNTAX", "usage");
  } else if (ext === ".yaml" || ext === ".yml") {
    value = parseYaml(text, display).value;
  } else {
    fail("VARS_FILE", `unknown vars file type '${ext || "(none)"}'`, at(display), {
      kind: "usage",
      hint: "use .yaml, .yml, .json or .toml",
    });
  }
  if (value === null || value === undefined) return {};
  if (!isPlainObject(value)) {
    fail("VARS_FILE", "a vars file must hold a map of name → value", at(display, 1, 1), { kind: "usage" });
  }
  return value;
}
