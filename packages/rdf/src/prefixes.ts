// Prefixes and base declared by a source, read from its text (oxigraph's loader does not report them).
import type { RdfFormat } from "./formats.js";

export interface Declarations {
  prefixes: Record<string, string>;
  base: string | undefined;
}

const turtlePrefix = /(?:@prefix|\bPREFIX)\s+([A-Za-z][\w.-]*)?:\s*<([^>\s]*)>/gi;
const turtleBase = /(?:@base|\bBASE)\s+<([^>\s]*)>/i;
const xmlns = /\bxmlns:([A-Za-z_][\w.-]*)\s*=\s*["']([^"']*)["']/g;
const xmlBase = /\bxml:base\s*=\s*["']([^"']*)["']/;

function resolve(iri: string, base: string | undefined): string {
  if (base === undefined) return iri;
  try {
    return new URL(iri, base).href;
  } catch {
    return iri;
  }
}

export function declarations(text: string, format: RdfFormat, baseIri: string | undefined): Declarations {
  const prefixes: Record<string, string> = {};
  let base: string | undefined;
  if (format === "turtle" || format === "trig" || format === "n3") {
    text = text.replace(/^[ \t]*#.*$/gm, ""); // whole-line comments
    const b = turtleBase.exec(text);
    base = b?.[1] !== undefined ? resolve(b[1], baseIri) : undefined;
    for (const m of text.matchAll(turtlePrefix)) {
      prefixes[m[1] ?? ""] = resolve(m[2] ?? "", base ?? baseIri);
    }
  } else if (format === "rdfxml") {
    const b = xmlBase.exec(text);
    base = b?.[1];
    for (const m of text.matchAll(xmlns)) {
      prefixes[m[1] ?? ""] = m[2] ?? "";
    }
  } else if (format === "jsonld") {
    try {
      const doc = JSON.parse(text) as unknown;
      const ctx = (Array.isArray(doc) ? doc[0] : doc) as Record<string, unknown> | undefined;
      const context = ctx?.["@context"];
      const contexts = Array.isArray(context) ? context : [context];
      for (const c of contexts) {
        if (c === null || typeof c !== "object") continue;
        for (const [k, v] of Object.entries(c as Record<string, unknown>)) {
          if (k === "@base" && typeof v === "string") base = v;
          else if (!k.startsWith("@") && typeof v === "string" && /[#/:]$/.test(v)) prefixes[k] = v;
        }
      }
    } catch {
      // a syntax error is reported by the loader
    }
  }
  return { prefixes, base };
}
