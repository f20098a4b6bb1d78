// Heavier dependencies loaded on first use, so a run that does not need them never pays for loading
// them: `ggen gen` with plain frontmatter skips `yaml`, a template without graphs skips @ggen/rdf (and
// oxigraph), a template outside any pack skips @ggen/marketplace. CommonJS ones load synchronously.
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

/**
 * A CommonJS library from its one-file bundle in dist/vendor (see tsup.config.ts: far cheaper to load
 * than its many modules), or from the package itself when running from src (tests), where there is none.
 */
function vendored<T>(bundle: string, pkg: string): T {
  try {
    return require(`./vendor/${bundle}.cjs`) as T;
  } catch (e) {
    if ((e as { code?: string }).code !== "MODULE_NOT_FOUND") throw e;
    return require(pkg) as T;
  }
}

let yamlLib: typeof import("yaml") | undefined;
export function yaml(): typeof import("yaml") {
  yamlLib ??= vendored<typeof import("yaml")>("yaml", "yaml");
  return yamlLib;
}

/** @ggen/rdf's API; its types are imported with `import type`, erased at build time. */
export type Rdf = typeof import("@ggen/rdf");
let rdfLib: Promise<Rdf> | undefined;
export function rdf(): Promise<Rdf> {
  rdfLib ??= import("@ggen/rdf");
  return rdfLib;
}

let marketplaceLib: Promise<typeof import("@ggen/marketplace")> | undefined;
/** The marketplace reads packs (and knows where a project installs them). */
export function marketplace(): Promise<typeof import("@ggen/marketplace")> {
  marketplaceLib ??= import("@ggen/marketplace");
  return marketplaceLib;
}

let handlebarsLib: typeof import("handlebars") | undefined;
/**
 * Handlebars, loaded without `source-map`: its code generator only requires `source-map` when no AMD
 * `define` is around, and falls back to a small built-in SourceNode otherwise. Templates never need
 * source maps, and skipping that library saves a noticeable part of a short run's start-up.
 */
export function handlebars(): typeof import("handlebars") {
  if (handlebarsLib) return handlebarsLib;
  const g = globalThis as { define?: unknown };
  const had = Object.hasOwn(g, "define");
  const previous = g.define;
  g.define = Object.assign(() => undefined, { amd: true });
  try {
    handlebarsLib = vendored<typeof import("handlebars")>("handlebars", "handlebars");
  } finally {
    if (had) g.define = previous;
    else delete g.define;
  }
  return handlebarsLib;
}

let runtimeLib: typeof import("handlebars") | undefined;
/** The Handlebars runtime alone (no parser or compiler): enough to run precompiled templates. */
export function handlebarsRuntime(): typeof import("handlebars") {
  runtimeLib ??= vendored<{ default: typeof import("handlebars") }>(
    "handlebars-runtime",
    "handlebars/runtime",
  ).default;
  return runtimeLib;
}
