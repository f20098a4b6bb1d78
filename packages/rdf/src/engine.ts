// Lazy access to oxigraph (its WASM module costs ~40 ms to instantiate, so it loads on first use) and
// to n3 (for N3 that oxigraph cannot load and for prefixed Turtle output).
import { createRequire } from "node:module";

export type Ox = typeof import("oxigraph");
/** oxigraph Store; wasm-bindgen adds free(), which its typings leave out. */
export type OxStore = import("oxigraph").Store & { free(): void };
export type OxTerm = import("oxigraph").Term;
export type OxQuad = import("oxigraph").Quad;
export type N3 = typeof import("n3");

let ox: Ox | undefined;
let n3: N3 | undefined;
const require = createRequire(import.meta.url);

export async function loadOxigraph(): Promise<Ox> {
  if (!ox) {
    const mod = (await import("oxigraph")) as Ox & { default?: Ox };
    ox = mod.default ?? mod;
  }
  return ox;
}

/** oxigraph, once loadOxigraph() has run (every Graph exists only after it has). */
export function oxigraph(): Ox {
  if (!ox) ox = require("oxigraph") as Ox;
  return ox;
}

export function n3lib(): N3 {
  if (!n3) n3 = require("n3") as N3;
  return n3;
}
