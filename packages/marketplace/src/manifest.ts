// A pack's ggen.toml: reading and checking it.

import { readFile } from "node:fs/promises";
import { join, normalize, resolve } from "node:path";
import { GgenError } from "@ggen/contract";
import { parse as parseToml } from "smol-toml";
import { semver } from "./deps.js";
import { invalidIdReason, isInside, lineOf } from "./util.js";

export interface PackTemplate {
  name: string;
  /** Relative to the pack root. */
  path: string;
  description?: string;
}

export interface PackManifest {
  pack: {
    id: string;
    name: string;
    version: string;
    description: string;
    license?: string;
    homepage?: string;
    author?: string;
    /** ggen version range the pack needs. */
    ggen?: string;
    tags: string[];
    keywords: string[];
    category?: string;
  };
  templates: PackTemplate[];
  /** Pack-level var defaults (a value, or a table with `default`, `type`, `description`…). */
  vars: Record<string, unknown>;
  graphs: { files: string[] };
  dependencies: Record<string, string>;
}

export const MANIFEST_FILE = "ggen.toml";

/** Reads `<dir>/ggen.toml`. Errors name the file (and the line when it is known). */
export async function readPackManifest(dir: string): Promise<PackManifest> {
  const file = join(dir, MANIFEST_FILE);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new GgenError(
      "MANIFEST_MISSING",
      `no ${MANIFEST_FILE} in pack directory${code ? ` (${code})` : ""}`,
      {
        location: { file },
      },
    );
  }
  return parsePackManifest(text, file, dir);
}

const str = (v: unknown): v is string => typeof v === "string";
const strArray = (v: unknown): v is string[] => Array.isArray(v) && v.every(str);

/** Parses and checks a ggen.toml's text; `dir` (optional) lets paths be checked to stay inside the pack. */
export function parsePackManifest(text: string, file: string, dir?: string): PackManifest {
  let doc: Record<string, unknown>;
  try {
    doc = parseToml(text) as Record<string, unknown>;
  } catch (e) {
    const te = e as { message?: string; line?: number; column?: number };
    const first = String(te.message ?? e).split("\n")[0];
    throw new GgenError("MANIFEST_INVALID", `not valid TOML: ${first}`, {
      kind: "usage",
      location: { file, ...(te.line ? { line: te.line } : {}), ...(te.column ? { column: te.column } : {}) },
    });
  }
  const fail = (msg: string, needle?: string): never => {
    const line = needle ? lineOf(text, needle) : undefined;
    throw new GgenError("MANIFEST_INVALID", msg, {
      kind: "usage",
      location: { file, ...(line ? { line } : {}) },
    });
  };
  const pack = doc.pack as Record<string, unknown> | undefined;
  if (!pack || typeof pack !== "object") return fail("missing [pack] table");
  const id = pack.id;
  if (!str(id)) return fail("[pack] id is required", "[pack]");
  const why = invalidIdReason(id);
  if (why) fail(`[pack] id '${id}' ${why}`, "id");
  const version = pack.version;
  if (!str(version) || !semver().valid(version))
    fail(`[pack] version must be semver, got ${JSON.stringify(version)}`, "version");
  for (const k of ["name", "description", "license", "homepage", "author", "ggen", "category"]) {
    if (pack[k] !== undefined && !str(pack[k])) fail(`[pack] ${k} must be a string`, `${k} =`);
  }
  if (str(pack.ggen) && semver().validRange(pack.ggen) === null)
    fail(`[pack] ggen must be a semver range, got '${pack.ggen}'`, "ggen =");
  for (const k of ["tags", "keywords"]) {
    if (pack[k] !== undefined && !strArray(pack[k])) fail(`[pack] ${k} must be a list of strings`, `${k} =`);
  }
  const root = dir ? resolve(dir) : undefined;
  const insidePath = (p: string, what: string) => {
    const n = normalize(p);
    if (p.startsWith("/") || n.startsWith("..") || (root && !isInside(root, resolve(root, p))))
      fail(`${what} '${p}' escapes the pack directory`, p);
  };
  const templates: PackTemplate[] = [];
  const rawTemplates = doc.templates ?? [];
  if (!Array.isArray(rawTemplates)) fail("[[templates]] must be an array of tables", "templates");
  const names = new Set<string>();
  for (const t of rawTemplates as Record<string, unknown>[]) {
    if (!str(t.name) || !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(t.name))
      fail(`[[templates]] name must be a simple name, got ${JSON.stringify(t.name)}`, "[[templates]]");
    if (!str(t.path)) fail(`[[templates]] '${String(t.name)}' needs a path`, `"${String(t.name)}"`);
    if (names.has(t.name as string))
      fail(`[[templates]] name '${String(t.name)}' is used twice`, `"${String(t.name)}"`);
    names.add(t.name as string);
    insidePath(t.path as string, `template path`);
    templates.push({
      name: t.name as string,
      path: t.path as string,
      ...(str(t.description) ? { description: t.description } : {}),
    });
  }
  const graphsRaw = (doc.graphs ?? {}) as Record<string, unknown>;
  const files = graphsRaw.files ?? [];
  if (!strArray(files)) return fail("[graphs] files must be a list of strings", "[graphs]");
  for (const f of files) insidePath(f, "graph file");
  const deps = (doc.dependencies ?? {}) as Record<string, unknown>;
  const dependencies: Record<string, string> = {};
  for (const [dep, range] of Object.entries(deps)) {
    const depWhy = invalidIdReason(dep);
    if (depWhy) fail(`[dependencies] '${dep}' ${depWhy}`, dep);
    if (!str(range) || semver().validRange(range) === null)
      fail(`[dependencies] '${dep}' needs a semver range, got ${JSON.stringify(range)}`, dep);
    dependencies[dep] = range as string;
  }
  const vars = doc.vars ?? {};
  if (typeof vars !== "object" || Array.isArray(vars)) fail("[vars] must be a table", "[vars]");
  return {
    pack: {
      id,
      name: str(pack.name) ? pack.name : id,
      version: version as string,
      description: str(pack.description) ? pack.description : "",
      ...(str(pack.license) ? { license: pack.license } : {}),
      ...(str(pack.homepage) ? { homepage: pack.homepage } : {}),
      ...(str(pack.author) ? { author: pack.author } : {}),
      ...(str(pack.ggen) ? { ggen: pack.ggen } : {}),
      tags: strArray(pack.tags) ? pack.tags : [],
      keywords: strArray(pack.keywords) ? pack.keywords : [],
      ...(str(pack.category) ? { category: pack.category } : {}),
    },
    templates,
    vars: vars as Record<string, unknown>,
    graphs: { files },
    dependencies,
  };
}
