// `template inspect` and `template validate-vars`: what a template declares, without rendering outputs.
import { isAbsolute, relative, resolve } from "node:path";
import type { ParsedYaml } from "./frontmatter.js";
import { seededNow } from "./helpers.js";
import { trustedPacks } from "./packs.js";
import { frontValues } from "./render.js";
import { type LoadedTemplate, loadTemplate, resolveTemplates, type TemplateUnit } from "./resolve.js";
import { checkVars, loadVarsFile, parseVarDecls, type VarDecl, type VarProblem } from "./vars.js";

export interface InspectResult {
  ref: string;
  file: string;
  pack?: { id: string; version: string };
  vars: VarDecl[];
  graphs: string[];
  rdfInline: number;
  queries: { name: string; query: string }[];
  forEach?: string;
  /** The `to` line as written (before rendering). */
  to: string | undefined;
  inject: boolean;
  hooks: { before: string[]; after: string[] };
  determinism?: string;
}

function frontOf(
  tpl: LoadedTemplate,
  vars: Record<string, unknown>,
): { front: Record<string, unknown>; yaml: ParsedYaml | undefined } {
  if (tpl.front === undefined) return { front: {}, yaml: undefined };
  const front = frontValues(tpl.front.value, vars, {
    file: tpl.display,
    lineOffset: tpl.split.frontLine - 1,
    seed: "inspect",
    now: seededNow("inspect"),
    graph: undefined,
    rdf: undefined,
    queryCache: new Map(),
    uuidCounter: 0,
  });
  return { front: front as Record<string, unknown>, yaml: tpl.front };
}

function shown(p: string): string {
  const r = relative(process.cwd(), p);
  return r && !r.startsWith("..") && !isAbsolute(r) ? r : p;
}

const list = (v: unknown): string[] =>
  v === undefined || v === null ? [] : Array.isArray(v) ? v.map(String) : [String(v)];

function describe(
  unit: TemplateUnit,
  given: Record<string, unknown>,
): { info: InspectResult; decls: VarDecl[] } {
  const tpl = loadTemplate(unit.file, unit.display);
  const { front, yaml } = frontOf(tpl, { ...(unit.pack?.vars ?? {}), ...given });
  const decls = parseVarDecls(front.vars, tpl.display, (p) => yaml?.lineOf(p));
  const rawTo =
    tpl.split.front === undefined ? undefined : /^to:[ \t]*(.*)$/m.exec(tpl.split.front)?.[1]?.trim();
  const sparql =
    front.sparql && typeof front.sparql === "object" ? (front.sparql as Record<string, unknown>) : {};
  const info: InspectResult = {
    ref: unit.ref,
    file: unit.display,
    vars: decls,
    graphs: [...(unit.pack?.graphs ?? []).map((g) => shown(g)), ...list(front.rdf)],
    rdfInline: list(front.rdf_inline).length,
    queries: Object.entries(sparql).map(([name, q]) => ({ name, query: String(q) })),
    to: rawTo,
    inject: front.inject === true,
    hooks: { before: list(front.sh_before), after: list(front.sh_after) },
  };
  if (unit.pack) info.pack = { id: unit.pack.id, version: unit.pack.version };
  if (front.for_each !== undefined)
    info.forEach = typeof front.for_each === "string" ? front.for_each : JSON.stringify(front.for_each);
  if (front.determinism !== undefined)
    info.determinism = String(
      typeof front.determinism === "object" ? JSON.stringify(front.determinism) : front.determinism,
    );
  return { info, decls };
}

export async function inspectTemplate(
  ref: string,
  opts: { cwd?: string; packsDir?: string; vars?: Record<string, unknown> } = {},
): Promise<InspectResult[]> {
  const cwd = resolve(opts.cwd ?? process.cwd());
  const units = await resolveTemplates(
    [ref],
    { cwd, ...(opts.packsDir ? { packsDir: opts.packsDir } : {}) },
    trustedPacks(cwd),
  );
  return units.map((u) => describe(u, opts.vars ?? {}).info);
}

export interface VarsCheck {
  template: string;
  ok: boolean;
  problems: (VarProblem & { file: string })[];
  /** Vars in the file that no template declares. */
  unknown: string[];
}

/** Check a vars file against the declarations of a template (or every template of a pack). */
export async function validateVarsFile(
  varsFile: string,
  ref: string,
  opts: { cwd?: string; packsDir?: string } = {},
): Promise<VarsCheck> {
  const cwd = resolve(opts.cwd ?? process.cwd());
  const given = loadVarsFile(resolve(cwd, varsFile), varsFile);
  const units = await resolveTemplates(
    [ref],
    { cwd, ...(opts.packsDir ? { packsDir: opts.packsDir } : {}) },
    trustedPacks(cwd),
  );
  const problems: (VarProblem & { file: string })[] = [];
  const declared = new Set<string>();
  for (const u of units) {
    const { decls } = describe(u, given);
    for (const d of decls) declared.add(d.name);
    const res = checkVars({ ...(u.pack?.vars ?? {}), ...given }, decls);
    for (const p of res.problems) problems.push({ ...p, file: u.display });
  }
  return {
    template: ref,
    ok: problems.length === 0,
    problems,
    unknown: Object.keys(given).filter((k) => !declared.has(k)),
  };
}
