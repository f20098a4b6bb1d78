// The pack format's rules in one place: a pack id, a `pack:template` reference, and the one parser of
// a pack's ggen.toml (schema pack-manifest/v1, then what a schema cannot say: semver versions and
// ranges, unique template names, paths that stay inside the pack), every error at file:line:col.
import { createRequire } from "node:module";
import { isAbsolute, normalize, resolve, sep } from "node:path";
import { isInside } from "@ggen/support";
import { GgenError } from "./errors.js";
import { parseToml, tomlKeyLocation } from "./toml.js";
import type { PackManifest, PackManifestDocument, PackPipeline, PackTemplate } from "./types.js";
import { type ContractIssue, validate } from "./validate.js";

/** A pack's manifest file, at the root of the pack directory. */
export const PACK_MANIFEST_FILE = "ggen.toml";

/** A pack read from its directory: what the marketplace installs and the generator renders from. */
export interface PackRef {
  id: string;
  version: string;
  /** Absolute pack directory; manifest paths are relative to it. */
  dir: string;
  manifest: PackManifest;
}

/** `pack`, or `pack:template`, as the user wrote it. */
export interface TemplateRef {
  /** A pack id, a pack directory, or (where a caller allows it) a search query. */
  pack: string;
  /** The template's name inside the pack; absent for "every template of the pack". */
  template?: string;
}

/**
 * The one reading of `pack:template`. The split is at the last ':' — ids and template names never
 * hold one, a pack directory's path may — and a leading ':' is no split.
 */
export function parseTemplateRef(ref: string): TemplateRef {
  const i = ref.lastIndexOf(":");
  return i > 0 ? { pack: ref.slice(0, i), template: ref.slice(i + 1) } : { pack: ref };
}

/** Why `id` is not a valid pack id, or undefined when it is. */
export function packIdProblem(id: string): string | undefined {
  if (id.length === 0) return "is empty";
  if (id.length > 128) return "is longer than 128 characters";
  if (id.includes("..")) return "contains '..'";
  if (!/^[a-z0-9][a-z0-9._-]*$/.test(id))
    return "must match ^[a-z0-9][a-z0-9._-]*$ (lowercase letters, digits, '.', '_', '-')";
  return undefined;
}

// Loaded on first use, and only the two functions needed (the whole of semver costs more to load).
const require = createRequire(import.meta.url);
let semverValid: ((v: string) => string | null) | undefined;
let semverValidRange: ((r: string) => string | null) | undefined;
function validVersion(v: string): boolean {
  semverValid ??= require("semver/functions/valid") as (v: string) => string | null;
  return semverValid(v) !== null;
}
function validRange(r: string): boolean {
  semverValidRange ??= require("semver/ranges/valid") as (r: string) => string | null;
  return semverValidRange(r) !== null;
}

const segments = (path: string): string[] => (path === "/" ? [] : path.slice(1).split("/"));

function valueAt(doc: unknown, segs: readonly string[]): unknown {
  let v = doc;
  for (const s of segs)
    v = v !== null && typeof v === "object" ? (v as Record<string, unknown>)[s] : undefined;
  return v;
}

/** Where a problem at `segs` is, in the TOML's own words: "[pack] version", "[[templates]] #2 path". */
function placeOf(segs: readonly string[]): string {
  const [table, ...rest] = segs;
  if (table === undefined) return "ggen.toml";
  if (table === "templates" && rest[0] !== undefined && /^\d+$/.test(rest[0]))
    return `[[templates]] #${Number(rest[0]) + 1}${rest.length > 1 ? ` ${rest.slice(1).join(".")}` : ""}`;
  if (table === "pipeline" && rest[0] === "stages" && rest[1] !== undefined && /^\d+$/.test(rest[1]))
    return `[[pipeline.stages]] #${Number(rest[1]) + 1}${rest.length > 2 ? ` ${rest.slice(2).join(".")}` : ""}`;
  return `[${table}]${rest.length ? ` ${rest.join(".")}` : ""}`;
}

/** A schema issue as a sentence about the manifest. */
function sentence(issue: ContractIssue, doc: unknown): string {
  const segs = segments(issue.path);
  const value = valueAt(doc, segs);
  if (issue.path === "/pack" && issue.message === "is required") return "missing [pack] table";
  if (issue.path === "/pack/id" && typeof value === "string")
    return `[pack] id '${value}' ${packIdProblem(value)}`;
  if (issue.path === "/pack/version") return `[pack] version must be semver, got ${JSON.stringify(value)}`;
  if (segs[0] === "dependencies" && segs.length === 2 && issue.message.startsWith("is not a valid key"))
    return `[dependencies] '${segs[1]}' ${packIdProblem(segs[1]!) ?? "is not a valid pack id"}`;
  if (segs[0] === "pipeline" && /^(run|uses)$/.test(segs.at(-1) ?? "") && issue.message === "is required")
    return `${placeOf(segs.slice(0, -1))} needs run (a command) or uses (a built-in check), one of them`;
  return `${placeOf(segs)} ${issue.message}`;
}

/**
 * Parses and checks a ggen.toml's text. `file` names it in errors; with `dir`, template and graph paths
 * must also stay inside that directory once resolved. Every error is a usage GgenError MANIFEST_INVALID
 * at file:line:col (the line of the key, or of its table when the key is missing).
 */
export function parsePackManifest(text: string, file: string, dir?: string): PackManifest {
  const doc = parseToml(text, file, "MANIFEST_INVALID", "usage");
  const fail = (message: string, path: readonly (string | number)[]): never => {
    throw new GgenError("MANIFEST_INVALID", message, {
      kind: "usage",
      location: { file, ...tomlKeyLocation(text, path) },
    });
  };
  const checked = validate("pack-manifest/v1", doc);
  if (!checked.ok) {
    const issue = checked.errors[0]!;
    return fail(sentence(issue, doc), segments(issue.path));
  }
  const m: PackManifestDocument = checked.value;
  const p = m.pack;
  // What the schema cannot say.
  if (!validVersion(p.version))
    fail(sentence({ path: "/pack/version", message: "" }, doc), ["pack", "version"]);
  if (p.ggen !== undefined && !validRange(p.ggen))
    fail(`[pack] ggen must be a semver range, got '${p.ggen}'`, ["pack", "ggen"]);
  const root = dir === undefined ? undefined : resolve(dir);
  const staysInPack = (path: string, what: string, at: (string | number)[]) => {
    const n = normalize(path);
    if (
      isAbsolute(path) ||
      n === ".." ||
      n.startsWith(`..${sep}`) ||
      (root && !isInside(root, resolve(root, path)))
    )
      fail(`${what} '${path}' escapes the pack directory`, at);
  };
  const templates: PackTemplate[] = [];
  const names = new Set<string>();
  for (const [i, t] of (m.templates ?? []).entries()) {
    if (names.has(t.name)) fail(`[[templates]] name '${t.name}' is used twice`, ["templates", i, "name"]);
    names.add(t.name);
    staysInPack(t.path, "template path", ["templates", i, "path"]);
    templates.push({
      name: t.name,
      path: t.path,
      ...(t.description !== undefined ? { description: t.description } : {}),
    });
  }
  const files = m.graphs?.files ?? [];
  for (const [i, f] of files.entries()) staysInPack(f, "graph file", ["graphs", "files", i]);
  const shapes = m.contract?.shapes ?? [];
  for (const [i, f] of shapes.entries()) staysInPack(f, "shapes file", ["contract", "shapes", i]);
  const varsSchema = m.contract?.vars_schema;
  if (varsSchema !== undefined) staysInPack(varsSchema, "vars schema", ["contract", "vars_schema"]);
  const dependencies = m.dependencies ?? {};
  for (const [dep, range] of Object.entries(dependencies)) {
    if (!validRange(range))
      fail(`[dependencies] '${dep}' needs a semver range, got ${JSON.stringify(range)}`, [
        "dependencies",
        dep,
      ]);
  }
  if (m.pipeline) checkPipeline(m.pipeline, fail);
  return {
    pack: {
      id: p.id,
      name: p.name ?? p.id,
      version: p.version,
      description: p.description ?? "",
      ...(p.license !== undefined ? { license: p.license } : {}),
      ...(p.homepage !== undefined ? { homepage: p.homepage } : {}),
      ...(p.author !== undefined ? { author: p.author } : {}),
      ...(p.ggen !== undefined ? { ggen: p.ggen } : {}),
      tags: p.tags ?? [],
      keywords: p.keywords ?? [],
      ...(p.category !== undefined ? { category: p.category } : {}),
    },
    templates,
    vars: m.vars ?? {},
    graphs: { files },
    contract: { shapes, ...(varsSchema !== undefined ? { varsSchema } : {}) },
    dependencies: { ...dependencies },
    ...(m.pipeline ? { pipeline: m.pipeline } : {}),
  };
}

/** What the schema cannot say of a [pipeline]: unique names, `after` naming earlier-declared or later stages that exist, no cycle. */
function checkPipeline(
  pipeline: PackPipeline,
  fail: (message: string, path: readonly (string | number)[]) => never,
): void {
  const at = (i: number, ...rest: (string | number)[]) => ["pipeline", "stages", i, ...rest];
  const index = new Map<string, number>();
  for (const [i, s] of pipeline.stages.entries()) {
    if (index.has(s.name)) fail(`[[pipeline.stages]] name '${s.name}' is used twice`, at(i, "name"));
    index.set(s.name, i);
  }
  for (const [i, s] of pipeline.stages.entries()) {
    for (const [j, dep] of (s.after ?? []).entries()) {
      if (dep === s.name) fail(`[[pipeline.stages]] '${s.name}' cannot run after itself`, at(i, "after", j));
      if (!index.has(dep)) {
        const names = [...index.keys()].join(", ");
        fail(`[[pipeline.stages]] '${s.name}' runs after '${dep}', which is not a stage (stages: ${names})`, [
          ...at(i, "after", j),
        ]);
      }
    }
    if (s.coverage && !s.run)
      fail(`[[pipeline.stages]] '${s.name}': coverage needs a command (run)`, at(i, "coverage"));
    if (s.uses && s.parse && s.parse !== s.uses)
      fail(`[[pipeline.stages]] '${s.name}': ${s.uses} has its own parser`, at(i, "parse"));
  }
  // A cycle through `after` would never start: name it.
  const state = new Map<string, "open" | "done">();
  const visit = (name: string, path: string[]): void => {
    if (state.get(name) === "done") return;
    if (state.get(name) === "open") {
      const cycle = [...path.slice(path.indexOf(name)), name].join(" → ");
      fail(`[[pipeline.stages]] after forms a cycle: ${cycle}`, at(index.get(name)!, "after"));
    }
    state.set(name, "open");
    for (const dep of pipeline.stages[index.get(name)!]!.after ?? []) visit(dep, [...path, name]);
    state.set(name, "done");
  };
  for (const s of pipeline.stages) visit(s.name, []);
}
