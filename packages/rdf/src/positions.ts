// Where each subject of a Turtle-family document is first written (line and column), so a problem about
// a node (a SHACL violation) can point into the user's file. oxigraph keeps no positions; n3's lexer
// (public API) gives every token's line, and a small statement-level reader finds the subjects.

import { n3lib } from "./engine.js";
import type { RdfFormat } from "./formats.js";

export interface Position {
  line: number;
  column: number;
  /** Set when the IRI is never written as a subject: this is its first mention. */
  mention?: true;
}

interface Tok {
  type: string;
  value: string;
  prefix: string;
  line: number;
  start: number;
}

const TEXT_FORMATS: ReadonlySet<RdfFormat> = new Set(["turtle", "trig", "ntriples", "nquads", "n3"]);

function resolveIri(value: string, base: string | undefined): string {
  if (/^[A-Za-z][A-Za-z0-9+.-]*:/.test(value) || base === undefined) return value;
  try {
    return new URL(value, base).href;
  } catch {
    return value;
  }
}

/**
 * The first position of every IRI written as a subject (and, for IRIs never a subject, of their first
 * mention) in `text`. Turtle, TriG, N-Triples, N-Quads and N3; other formats (RDF/XML, JSON-LD) and text
 * that does not lex give an empty map: the caller then names the file alone. Blank nodes are not
 * listed (their labels do not survive loading).
 */
export function subjectPositions(
  text: string,
  options: { format: RdfFormat; baseIri?: string },
): Map<string, Position> {
  const out = new Map<string, Position>();
  if (!TEXT_FORMATS.has(options.format)) return out;
  let tokens: Tok[];
  try {
    const lineMode = options.format === "ntriples" || options.format === "nquads";
    tokens = new (n3lib().Lexer)({ lineMode, n3: options.format === "n3" }).tokenize(text) as Tok[];
  } catch {
    return out;
  }
  const lines = text.split(/\r\n|\r|\n/);
  // n3's `start` drops a line's leading whitespace: find the token's text at or after it.
  const columnOf = (t: Tok, raw: string): number => {
    const found = (lines[t.line - 1] ?? "").indexOf(raw, t.start);
    return (found >= 0 ? found : t.start) + 1;
  };
  const mentions = new Map<string, Position>();
  const prefixes: Record<string, string> = {};
  let base = options.baseIri;
  let expectSubject = true;
  let depth = 0;
  let pending: { iri: string; pos: Position } | undefined;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (pending) {
      // `<g> { … }` in TriG: the IRI before `{` names a graph, it is not a subject.
      if (t.type !== "{" && !out.has(pending.iri)) out.set(pending.iri, pending.pos);
      pending = undefined;
    }
    switch (t.type) {
      case "@prefix":
      case "PREFIX": {
        const name = tokens[i + 1];
        const iri = tokens[i + 2];
        if (name?.type === "prefix" && iri?.type === "IRI")
          prefixes[name.value] = resolveIri(iri.value, base);
        i += 2;
        continue;
      }
      case "@base":
      case "BASE": {
        const iri = tokens[i + 1];
        if (iri?.type === "IRI") base = resolveIri(iri.value, base);
        i += 1;
        continue;
      }
      case "GRAPH":
        i += 1; // the graph's name
        continue;
      case "[":
      case "(":
        depth++;
        expectSubject = false;
        continue;
      case "]":
      case ")":
        depth = Math.max(0, depth - 1);
        continue;
      case "{":
      case "}":
        expectSubject = depth === 0;
        continue;
      case ".":
        if (depth === 0) expectSubject = true;
        continue;
    }
    let iri: string | undefined;
    let raw = "";
    if (t.type === "IRI") {
      iri = resolveIri(t.value, base);
      raw = `<${t.value}>`;
    } else if (t.type === "prefixed" && prefixes[t.prefix] !== undefined) {
      iri = prefixes[t.prefix] + t.value;
      raw = `${t.prefix}:${t.value}`;
    }
    if (iri !== undefined) {
      const pos = { line: t.line, column: columnOf(t, raw) };
      if (!mentions.has(iri)) mentions.set(iri, pos);
      if (expectSubject && depth === 0) pending = { iri, pos };
    }
    expectSubject = false;
  }
  if (pending && !out.has(pending.iri)) out.set(pending.iri, pending.pos);
  for (const [iri, pos] of mentions) if (!out.has(iri)) out.set(iri, { ...pos, mention: true });
  return out;
}
