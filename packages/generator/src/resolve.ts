// From what the user typed to template files: paths, `pack:template`, pack ids, directories — or packs
// the caller has already read.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { isAbsolute, join, relative, resolve } from "node:path";
import { PACK_MANIFEST_FILE, parseTemplateRef } from "@ggen/contract";
import { sha256 } from "@ggen/support";
import { at, fail } from "./errors.js";
import { type ParsedYaml, parseYaml, type SplitTemplate, splitTemplate } from "./frontmatter.js";
import { type Compiled, compile, hasMustache } from "./hbs.js";
import { marketplace } from "./lazy.js";
import { type Pack, type PackTemplates, packOf, packOfRef, templateOf } from "./packs.js";

export interface TemplateUnit {
  /** Absolute template file. */
  file: string;
  /** How it is shown in messages and the manifest (relative to the project when inside it). */
  display: string;
  /** `pack:template` when it comes from a pack. */
  ref: string;
  pack: Pack | undefined;
  /** What the user named as a whole (`pack:<id>`, `dir:<abs>`): outputs of it no run produces are orphans. */
  scope?: string;
}

export interface LoadedTemplate {
  file: string;
  display: string;
  sha256: string;
  split: SplitTemplate;
  front: string | undefined;
  /** Set when the frontmatter contains Handlebars (rendered with vars before parsing). */
  frontCompiled: Compiled | undefined;
  /** Set when the frontmatter is plain YAML (parsed once). */
  frontParsed: ParsedYaml | undefined;
  body: Compiled;
}

export const TEMPLATE_EXTENSIONS = [".tmpl", ".hbs"];
const isTemplateFile = (f: string) => TEMPLATE_EXTENSIONS.some((e) => f.endsWith(e));

/** Reads and compiles a template; `cacheDir` keeps compiled templates between runs (see `compile`). */
export function loadTemplate(file: string, display: string, cacheDir?: string): LoadedTemplate {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    fail("TEMPLATE_NOT_FOUND", "cannot read template", at(display), { kind: "usage" });
  }
  const split = splitTemplate(text, display);
  const front = split.front;
  let frontCompiled: Compiled | undefined;
  let frontParsed: ParsedYaml | undefined;
  if (front !== undefined) {
    if (hasMustache(front)) frontCompiled = compile(front, display, split.frontLine, cacheDir);
    else frontParsed = parseYaml(front, display, split.frontLine);
  }
  return {
    file,
    display,
    sha256: sha256(text),
    split,
    front,
    frontCompiled,
    frontParsed,
    body: compile(split.body, display, split.bodyLine, cacheDir),
  };
}

function display(cwd: string, p: string): string {
  const r = relative(cwd, p);
  return r && !r.startsWith("..") && !isAbsolute(r) ? r : p;
}

function walkTemplates(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (e.name === "node_modules" || e.name.startsWith(".")) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...walkTemplates(p));
    else if (isTemplateFile(e.name)) out.push(p);
  }
  return out;
}

/** Every template `refs` name, each once, in order. */
export async function resolveTemplates(
  refs: readonly (string | PackTemplates)[],
  opts: { cwd: string; packsDir?: string },
  trusted: Set<string>,
): Promise<TemplateUnit[]> {
  if (refs.length === 0) fail("TEMPLATE_REF", "no template given", undefined, { kind: "usage" });
  const units: TemplateUnit[] = [];
  const seen = new Set<string>();
  const push = (u: TemplateUnit) => {
    if (seen.has(u.file)) return;
    seen.add(u.file);
    units.push(u);
  };
  const fromPack = (pack: Pack, name?: string) => {
    const chosen = name === undefined ? pack.templates : [templateOf(pack, name)];
    for (const t of chosen)
      push({
        file: t.path,
        display: display(opts.cwd, t.path),
        ref: `${pack.id}:${t.name}`,
        pack,
        ...(name === undefined ? { scope: `pack:${pack.id}` } : {}),
      });
  };
  const fromFile = async (file: string, ref: string, scope?: string) =>
    push({
      file,
      display: display(opts.cwd, file),
      ref,
      pack: await packOf(file, trusted),
      ...(scope ? { scope } : {}),
    });
  const readPack = async (dir: string) => packOfRef((await marketplace()).readPack(dir), trusted);
  const findPack = async (id: string) =>
    packOfRef(
      (await marketplace()).findPack(id, {
        projectDir: opts.cwd,
        ...(opts.packsDir ? { packsDir: opts.packsDir } : {}),
      }),
      trusted,
    );
  for (const ref of refs) {
    if (typeof ref !== "string") {
      fromPack(packOfRef(ref.pack, trusted), ref.template);
      continue;
    }
    const abs = resolve(opts.cwd, ref);
    if (existsSync(abs)) {
      if (!statSync(abs).isDirectory()) await fromFile(abs, ref);
      else if (existsSync(join(abs, PACK_MANIFEST_FILE))) fromPack(await readPack(abs));
      else {
        const files = walkTemplates(abs);
        if (!files.length)
          fail("TEMPLATE_NOT_FOUND", `no .tmpl or .hbs templates in '${ref}'`, undefined, { kind: "usage" });
        for (const f of files) await fromFile(f, display(opts.cwd, f), `dir:${abs}`);
      }
      continue;
    }
    const { pack, template } = parseTemplateRef(ref);
    if (template !== undefined) {
      // `<pack dir>:<template>` (a pack directory that is not installed), else `<pack id>:<template>`.
      const dir = resolve(opts.cwd, pack);
      fromPack(
        existsSync(join(dir, PACK_MANIFEST_FILE)) ? await readPack(dir) : await findPack(pack),
        template,
      );
      continue;
    }
    if (/[/\\]/.test(ref) || isTemplateFile(ref)) {
      fail("TEMPLATE_NOT_FOUND", `template '${ref}' not found`, undefined, { kind: "usage" });
    }
    // A pack id alone: every template of the pack.
    fromPack(await findPack(ref));
  }
  return units;
}

export interface ListedTemplate {
  ref: string;
  path: string;
  description?: string;
  pack?: { id: string; version: string };
}

/** Templates of the installed packs (or of a folder of packs) and of local template directories. */
export async function listTemplates(
  opts: { cwd?: string; packsDir?: string; dirs?: string[] } = {},
): Promise<ListedTemplate[]> {
  const cwd = resolve(opts.cwd ?? process.cwd());
  const out: ListedTemplate[] = [];
  const market = await marketplace();
  const packsDir = opts.packsDir === undefined ? market.packagesDir(cwd) : resolve(cwd, opts.packsDir);
  for (const ref of market.listPacks(packsDir)) {
    for (const t of ref.manifest.templates) {
      const e: ListedTemplate = {
        ref: `${ref.id}:${t.name}`,
        path: display(cwd, resolve(ref.dir, t.path)),
        pack: { id: ref.id, version: ref.version },
      };
      if (t.description) e.description = t.description;
      out.push(e);
    }
  }
  for (const d of opts.dirs ?? []) {
    const abs = resolve(cwd, d);
    if (!existsSync(abs)) continue;
    for (const f of walkTemplates(abs)) out.push({ ref: display(cwd, f), path: display(cwd, f) });
  }
  return out;
}
