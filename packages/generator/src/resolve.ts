// From what the user typed to template files: paths, `pack:template`, pack ids, directories — or packs
// the caller has already read.
import { existsSync, readdirSync, statSync } from "node:fs";
import { isAbsolute, join, relative, resolve } from "node:path";
import { PACK_MANIFEST_FILE, parseTemplateRef } from "@ggen/contract";
import { sha256 } from "@ggen/support";
import { at, fail } from "./errors.js";
import {
  type ParsedYaml,
  parseTemplateFront,
  type Slot,
  type SplitTemplate,
  slotsOf,
  splitTemplate,
} from "./frontmatter.js";
import { type Compiled, type CompileText, compileAll } from "./hbs.js";
import { containRead, readInput } from "./input.js";
import { marketplace } from "./lazy.js";
import { type Pack, type PackTemplates, packOf, packOfRef, templateOf } from "./packs.js";
import { checkFront } from "./render.js";

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
  /** The frontmatter, parsed once; a value holding Handlebars is a Slot, rendered per use. */
  front: ParsedYaml | undefined;
  /** Whether any value holds Handlebars. */
  slotted: boolean;
  body: Compiled;
}

export const TEMPLATE_EXTENSIONS = [".tmpl", ".hbs"];
const isTemplateFile = (f: string) => TEMPLATE_EXTENSIONS.some((e) => f.endsWith(e));

/** Reads and compiles a template; `cacheDir` keeps compiled templates between runs (see `compile`). */
export function loadTemplate(file: string, display: string, cacheDir?: string): LoadedTemplate {
  const text = readInput(file, at(display), "template");
  const split = splitTemplate(text, display);
  let front: ParsedYaml | undefined;
  const slots: Slot[] = [];
  if (split.front !== undefined) {
    front = parseTemplateFront(split.front, display, split.frontLine);
    checkFront(front, display, split.frontLine);
    slotsOf(front.value, slots);
  }
  // The frontmatter's Handlebars values and the body: one cache entry (compileAll).
  const texts: CompileText[] = slots.map((slot) => ({
    text: slot.source,
    firstLine: slot.line,
    mode: slot.key === "sh_before" || slot.key === "sh_after" ? "shell" : "text",
  }));
  texts.push({ text: split.body, firstLine: split.bodyLine });
  const compiled = compileAll(texts, display, cacheDir);
  for (const [i, slot] of slots.entries()) slot.compiled = compiled[i];
  let digest: string | undefined;
  return {
    file,
    display,
    // On first read: only a manifest or a delta needs it, and a short run need not load node:crypto.
    get sha256() {
      digest ??= sha256(text);
      return digest;
    },
    split,
    front,
    slotted: slots.length > 0,
    body: compiled[slots.length]!,
  };
}

const checkedPacks = new WeakSet<Pack>();

/**
 * A pack's templates and graphs are read only inside the pack, also through symlinks, and only when
 * they are regular files (the manifest hashes every one of them).
 */
function checkPack(pack: Pack): Pack {
  if (checkedPacks.has(pack)) return pack;
  for (const f of [...pack.templates.map((t) => t.path), ...pack.graphs]) {
    containRead({ dir: pack.dir, name: "the pack" }, f, `'${relative(pack.dir, f)}'`, pack.manifestFile);
    if (existsSync(f) && !statSync(f).isFile())
      fail("TEMPLATE_READ", `'${relative(pack.dir, f)}' is not a regular file`, at(pack.manifestFile), {
        kind: "usage",
      });
  }
  checkedPacks.add(pack);
  return pack;
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
    checkPack(pack);
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
  const manifests = new Map<string, boolean>();
  const fromFile = async (file: string, ref: string, scope?: string, shown = display(opts.cwd, file)) => {
    const pack = await packOf(file, trusted, manifests);
    push({
      file,
      display: shown,
      ref,
      pack: pack ? checkPack(pack) : undefined,
      ...(scope ? { scope } : {}),
    });
  };
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
      if (!statSync(abs, { bigint: true }).isDirectory()) await fromFile(abs, ref);
      else if (existsSync(join(abs, PACK_MANIFEST_FILE))) fromPack(await readPack(abs));
      else {
        const files = walkTemplates(abs);
        if (!files.length)
          fail("TEMPLATE_NOT_FOUND", `no .tmpl or .hbs templates in '${ref}'`, undefined, { kind: "usage" });
        for (const f of files) {
          const shown = display(opts.cwd, f);
          await fromFile(f, shown, `dir:${abs}`, shown);
        }
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
