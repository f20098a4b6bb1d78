// Heavier dependencies loaded on first use, so a run that does not need them never pays for loading
// them: `ggen gen` with plain frontmatter skips `yaml`, a template without graphs skips @ggen/rdf (and
// oxigraph), a template outside any pack skips @ggen/marketplace. CommonJS ones load synchronously.
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

let yamlLib: typeof import("yaml") | undefined;
export function yaml(): typeof import("yaml") {
  yamlLib ??= require("yaml") as typeof import("yaml");
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
    handlebarsLib = require("handlebars") as typeof import("handlebars");
  } finally {
    if (had) g.define = previous;
    else delete g.define;
  }
  return handlebarsLib;
}

let runtimeLib: typeof import("handlebars") | undefined;
/** The Handlebars runtime alone (no parser or compiler): enough to run precompiled templates. */
export function handlebarsRuntime(): typeof import("handlebars") {
  runtimeLib ??= (require("handlebars/runtime") as { default: typeof import("handlebars") }).default;
  return runtimeLib;
}
