// Packs as the generator renders them. The marketplace reads packs (and alone knows where a project
// installs them); here a PackRef becomes absolute template and graph paths, plus the project's trust.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { PACK_MANIFEST_FILE, type PackRef, parseToml } from "@ggen/contract";
import { closest } from "@ggen/support";
import { fail } from "./errors.js";
import { marketplace } from "./lazy.js";

/** A pack of a generation run. */
export interface Pack {
  id: string;
  version: string;
  /** Absolute pack directory. */
  dir: string;
  manifestFile: string;
  /** Its templates, with absolute paths. */
  templates: { name: string; path: string; description?: string }[];
  vars: Record<string, unknown>;
  /** Absolute graph files from [graphs] files. */
  graphs: string[];
  /** [contract]: absolute shapes files/dirs and vars schema file. */
  contract: { shapes: string[]; varsSchema?: string };
  /** Set from the project's config ([packs] trusted = [...] in <project>/ggen.toml), never by the pack. */
  trusted: boolean;
}

/** The templates of a pack the caller has already read (e.g. with the marketplace's `installedPack`). */
export interface PackTemplates {
  pack: PackRef;
  /** One template by name; every template of the pack when absent. */
  template?: string;
}

const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** Pack ids the project trusts to run hooks: `[packs] trusted = ["id", …]` in `<project>/ggen.toml`. */
export function trustedPacks(projectDir: string): Set<string> {
  const f = join(projectDir, PACK_MANIFEST_FILE);
  if (!existsSync(f)) return new Set();
  try {
    const packs = parseToml(readFileSync(f, "utf8"), f, "PROJECT_CONFIG", "usage").packs;
    if (isObj(packs) && Array.isArray(packs.trusted)) return new Set(packs.trusted.map(String));
  } catch {
    // A broken project config trusts nothing.
  }
  return new Set();
}

export function packOfRef(ref: PackRef, trusted: Set<string>): Pack {
  const m = ref.manifest;
  return {
    id: ref.id,
    version: ref.version,
    dir: ref.dir,
    manifestFile: join(ref.dir, PACK_MANIFEST_FILE),
    templates: m.templates.map((t) => ({ ...t, path: resolve(ref.dir, t.path) })),
    vars: m.vars,
    graphs: m.graphs.files.map((g) => resolve(ref.dir, g)),
    contract: {
      shapes: m.contract.shapes.map((f) => resolve(ref.dir, f)),
      ...(m.contract.varsSchema !== undefined ? { varsSchema: resolve(ref.dir, m.contract.varsSchema) } : {}),
    },
    trusted: trusted.has(ref.id),
  };
}

/** The template `name` of `pack`, or a usage error with a did-you-mean. */
export function templateOf(pack: Pack, name: string): Pack["templates"][number] {
  const template = pack.templates.find((t) => t.name === name);
  if (template) return template;
  const close = closest(
    name,
    pack.templates.map((t) => t.name),
  );
  return fail("TEMPLATE_NOT_FOUND", `pack '${pack.id}' has no template '${name}'`, undefined, {
    kind: "usage",
    hint: close
      ? `did you mean '${pack.id}:${close}'?`
      : `it has: ${pack.templates.map((t) => t.name).join(", ")}`,
  });
}

/**
 * The pack a template file belongs to: the nearest ancestor directory (up to 4 up) with a ggen.toml
 * [pack]. `manifests` remembers, for one resolution, which directories hold a ggen.toml (the templates
 * of a folder share their ancestors).
 */
export async function packOf(
  file: string,
  trusted: Set<string>,
  manifests = new Map<string, boolean>(),
): Promise<Pack | undefined> {
  const abs = resolve(file);
  let d = dirname(abs);
  for (let i = 0; i < 4; i++) {
    let has = manifests.get(d);
    if (has === undefined) {
      has = existsSync(join(d, PACK_MANIFEST_FILE));
      manifests.set(d, has);
    }
    if (has) {
      let pack: Pack;
      try {
        pack = packOfRef((await marketplace()).readPack(d), trusted);
      } catch {
        return undefined;
      }
      if (pack.templates.some((t) => t.path === abs)) return pack;
    }
    const up = dirname(d);
    if (up === d) break;
    d = up;
  }
  return undefined;
}
