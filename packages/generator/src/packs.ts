// Template packs: a directory with a `ggen.toml` ([pack], [[templates]], [vars], [graphs]), installed
// under `<project>/.ggen/packages/<id>/`. Templates are addressed as `<pack id>:<template name>`.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { at, fail, suggest } from "./errors.js";
import { isInside as inside } from "./fsutil.js";
import { toml } from "./lazy.js";

export const DEFAULT_PACKS_DIR = ".ggen/packages";

export interface PackTemplate {
  name: string;
  /** Absolute path of the template file. */
  path: string;
  description?: string;
}

export interface Pack {
  id: string;
  name?: string;
  version: string;
  description?: string;
  /** Absolute pack directory. */
  dir: string;
  manifestFile: string;
  templates: PackTemplate[];
  vars: Record<string, unknown>;
  /** Absolute graph files from [graphs] files. */
  graphs: string[];
  /** Set from the project's config ([packs] trusted = [...] in <project>/ggen.toml), never by the pack. */
  trusted: boolean;
}

const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** Pack ids the project trusts to run hooks: `[packs] trusted = ["id", …]` in `<project>/ggen.toml`. */
export function trustedPacks(projectDir: string): Set<string> {
  const f = join(projectDir, "ggen.toml");
  if (!existsSync(f)) return new Set();
  try {
    const doc = toml().parse(readFileSync(f, "utf8")) as Record<string, unknown>;
    const packs = doc.packs;
    if (isObj(packs) && Array.isArray(packs.trusted)) return new Set(packs.trusted.map(String));
  } catch {
    // A broken project config trusts nothing.
  }
  return new Set();
}

export function readPack(dir: string, trusted: Set<string> = new Set()): Pack {
  const abs = resolve(dir);
  const manifestFile = join(abs, "ggen.toml");
  let doc: Record<string, unknown>;
  try {
    doc = toml().parse(readFileSync(manifestFile, "utf8")) as Record<string, unknown>;
  } catch (e) {
    const te = e as { line?: number; column?: number; message?: string; code?: string };
    if (te.code === "ENOENT")
      fail("PACK_NOT_FOUND", "no ggen.toml in pack directory", at(manifestFile), { kind: "usage" });
    fail(
      "PACK_MANIFEST",
      `invalid TOML: ${String(te.message ?? e).split("\n")[0]}`,
      at(manifestFile, te.line, te.column),
      {
        kind: "usage",
      },
    );
  }
  const pack = doc.pack;
  if (!isObj(pack) || typeof pack.id !== "string" || !pack.id) {
    fail("PACK_MANIFEST", "missing [pack] id", at(manifestFile), { kind: "usage" });
  }
  const templates: PackTemplate[] = [];
  const rawTemplates = Array.isArray(doc.templates) ? doc.templates : [];
  for (const t of rawTemplates) {
    if (!isObj(t) || typeof t.name !== "string" || typeof t.path !== "string") {
      fail("PACK_MANIFEST", "every [[templates]] needs a name and a path", at(manifestFile), {
        kind: "usage",
      });
    }
    const p = resolve(abs, t.path);
    if (!inside(abs, p))
      fail("PACK_MANIFEST", `template '${t.name}' path leaves the pack`, at(manifestFile), { kind: "usage" });
    const entry: PackTemplate = { name: t.name, path: p };
    if (typeof t.description === "string") entry.description = t.description;
    templates.push(entry);
  }
  const graphsTable = isObj(doc.graphs) ? doc.graphs : {};
  const graphs = (Array.isArray(graphsTable.files) ? graphsTable.files : []).map((g) => {
    const p = resolve(abs, String(g));
    if (!inside(abs, p))
      fail("PACK_MANIFEST", `graph '${String(g)}' leaves the pack`, at(manifestFile), { kind: "usage" });
    return p;
  });
  const out: Pack = {
    id: pack.id,
    version: typeof pack.version === "string" ? pack.version : "0.0.0",
    dir: abs,
    manifestFile,
    templates,
    vars: isObj(doc.vars) ? doc.vars : {},
    graphs,
    trusted: trusted.has(pack.id),
  };
  if (typeof pack.name === "string") out.name = pack.name;
  if (typeof pack.description === "string") out.description = pack.description;
  return out;
}

/** Every pack directly under `packsDir` (and `packsDir` itself when it is a pack). */
export function listPacks(packsDir: string, trusted: Set<string> = new Set()): Pack[] {
  const abs = resolve(packsDir);
  if (!existsSync(abs)) return [];
  const out: Pack[] = [];
  if (existsSync(join(abs, "ggen.toml"))) out.push(readPack(abs, trusted));
  for (const name of readdirSync(abs).sort()) {
    const d = join(abs, name);
    if (existsSync(join(d, "ggen.toml")) && statSync(d).isDirectory()) out.push(readPack(d, trusted));
  }
  return out;
}

export interface ResolveOptions {
  /** Project directory (default: the current directory). */
  cwd?: string;
  /** Where installed packs live (default `<cwd>/.ggen/packages`). */
  packsDir?: string;
}

export function findPack(id: string, opts: ResolveOptions = {}): Pack {
  const cwd = resolve(opts.cwd ?? process.cwd());
  const packsDir = resolve(cwd, opts.packsDir ?? DEFAULT_PACKS_DIR);
  const trusted = trustedPacks(cwd);
  const direct = join(packsDir, id);
  if (existsSync(join(direct, "ggen.toml"))) {
    const p = readPack(direct, trusted);
    if (p.id === id) return p;
  }
  const all = listPacks(packsDir, trusted);
  const found = all.find((p) => p.id === id);
  if (found) return found;
  const close = suggest(
    id,
    all.map((p) => p.id),
  );
  fail("PACK_NOT_FOUND", `no installed pack '${id}' in ${relative(cwd, packsDir) || "."}`, undefined, {
    kind: "usage",
    hint: close ? `did you mean '${close}'?` : "install it with 'ggen market add', or pass --packs-dir",
  });
}

/** Resolve `pack:template` from the installed packs of `projectDir`. */
export function resolvePackTemplate(
  projectDir: string,
  ref: string,
  packsDir?: string,
): { pack: Pack; template: PackTemplate } {
  const i = ref.lastIndexOf(":");
  if (i <= 0) fail("TEMPLATE_REF", `'${ref}' is not a pack:template reference`, undefined, { kind: "usage" });
  const id = ref.slice(0, i);
  const name = ref.slice(i + 1);
  const pack = findPack(id, packsDir === undefined ? { cwd: projectDir } : { cwd: projectDir, packsDir });
  const template = pack.templates.find((t) => t.name === name);
  if (!template) {
    const close = suggest(
      name,
      pack.templates.map((t) => t.name),
    );
    fail("TEMPLATE_NOT_FOUND", `pack '${id}' has no template '${name}'`, undefined, {
      kind: "usage",
      hint: close
        ? `did you mean '${id}:${close}'?`
        : `it has: ${pack.templates.map((t) => t.name).join(", ")}`,
    });
  }
  return { pack, template };
}

/** The pack a template file belongs to: the nearest ancestor directory (up to 4 up) with a ggen.toml [pack]. */
export function packOf(file: string, trusted: Set<string>): Pack | undefined {
  let d = dirname(resolve(file));
  for (let i = 0; i < 4; i++) {
    if (existsSync(join(d, "ggen.toml"))) {
      try {
        const p = readPack(d, trusted);
        if (p.templates.some((t) => t.path === resolve(file))) return p;
      } catch {
        return undefined;
      }
    }
    const up = dirname(d);
    if (up === d) break;
    d = up;
  }
  return undefined;
}
