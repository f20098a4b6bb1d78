// From what the user typed to template files: paths, `pack:template`, pack ids, directories.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { isAbsolute, join, relative, resolve } from "node:path";
import { at, fail, suggest } from "./errors.js";
import { type ParsedYaml, parseYaml, type SplitTemplate, splitTemplate } from "./frontmatter.js";
import { sha256 } from "./fsutil.js";
import { type Compiled, compile, hasMustache } from "./hbs.js";
import {
  DEFAULT_PACKS_DIR,
  findPack,
  listPacks,
  type Pack,
  packOf,
  readPack,
  resolvePackTemplate,
} from "./packs.js";

export interface TemplateUnit {
  /** Absolute template file. */
  file: string;
  /** How it is shown in messages and the manifest (relative to the project when inside it). */
  display: string;
  /** `pack:template` when it comes from a pack. */
  ref: string;
  pack: Pack | undefined;
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

export function resolveTemplates(
  refs: readonly string[],
  opts: { cwd: string; packsDir?: string },
  trusted: Set<string>,
): TemplateUnit[] {
  if (refs.length === 0) fail("TEMPLATE_REF", "no template given", undefined, { kind: "usage" });
  const units: TemplateUnit[] = [];
  const seen = new Set<string>();
  const push = (u: TemplateUnit) => {
    if (seen.has(u.file)) return;
    seen.add(u.file);
    units.push(u);
  };
  const fromPack = (pack: Pack, names?: string[]) => {
    for (const t of pack.templates) {
      if (names && !names.includes(t.name)) continue;
      push({ file: t.path, display: display(opts.cwd, t.path), ref: `${pack.id}:${t.name}`, pack });
    }
  };
  for (const ref of refs) {
    const abs = resolve(opts.cwd, ref);
    if (existsSync(abs)) {
      if (statSync(abs).isDirectory()) {
        if (existsSync(join(abs, "ggen.toml"))) fromPack(readPack(abs, trusted));
        else {
          const files = walkTemplates(abs);
          if (!files.length)
            fail("TEMPLATE_NOT_FOUND", `no .tmpl or .hbs templates in '${ref}'`, undefined, {
              kind: "usage",
            });
          for (const f of files)
            push({
              file: f,
              display: display(opts.cwd, f),
              ref: display(opts.cwd, f),
              pack: packOf(f, trusted),
            });
        }
      } else {
        push({ file: abs, display: display(opts.cwd, abs), ref, pack: packOf(abs, trusted) });
      }
      continue;
    }
    // `<pack dir>:<template>` (a pack directory that is not installed)
    const colon = ref.lastIndexOf(":");
    if (colon > 0) {
      const left = resolve(opts.cwd, ref.slice(0, colon));
      if (existsSync(join(left, "ggen.toml"))) {
        const pack = readPack(left, trusted);
        const name = ref.slice(colon + 1);
        if (!pack.templates.some((t) => t.name === name)) {
          const close = suggest(
            name,
            pack.templates.map((t) => t.name),
          );
          fail("TEMPLATE_NOT_FOUND", `pack '${pack.id}' has no template '${name}'`, undefined, {
            kind: "usage",
            hint: close ? `did you mean '${close}'?` : undefined,
          });
        }
        fromPack(pack, [name]);
        continue;
      }
      const { pack, template } = resolvePackTemplate(opts.cwd, ref, opts.packsDir);
      fromPack(pack, [template.name]);
      continue;
    }
    if (/[/\\]/.test(ref) || isTemplateFile(ref)) {
      fail("TEMPLATE_NOT_FOUND", `template '${ref}' not found`, undefined, { kind: "usage" });
    }
    // A pack id alone: every template of the pack.
    fromPack(findPack(ref, { cwd: opts.cwd, ...(opts.packsDir ? { packsDir: opts.packsDir } : {}) }));
  }
  return units;
}

export interface ListedTemplate {
  ref: string;
  path: string;
  description?: string;
  pack?: { id: string; version: string };
}

/** Templates of the installed packs and of local template directories. */
export function listTemplates(
  opts: { cwd?: string; packsDir?: string; dirs?: string[] } = {},
): ListedTemplate[] {
  const cwd = resolve(opts.cwd ?? process.cwd());
  const out: ListedTemplate[] = [];
  for (const pack of listPacks(resolve(cwd, opts.packsDir ?? DEFAULT_PACKS_DIR))) {
    for (const t of pack.templates) {
      const e: ListedTemplate = {
        ref: `${pack.id}:${t.name}`,
        path: display(cwd, t.path),
        pack: { id: pack.id, version: pack.version },
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
