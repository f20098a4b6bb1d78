// What oxigraph's RDF/XML parser lets through and ggen must not: entity declarations that expand past the
// size limit ("billion laughs": oxigraph expands them and panics on capacity overflow), and a document with
// more than one root element (XML allows exactly one; oxigraph reads them all silently). Both are found by
// one linear scan of the text before oxigraph sees it.
import { formatSize, GgenError } from "@ggen/support";

function lineAt(text: string, index: number): number {
  let line = 1;
  for (let i = text.indexOf("\n"); i !== -1 && i < index; i = text.indexOf("\n", i + 1)) line++;
  return line;
}

function refused(name: string, text: string, index: number, message: string, hint?: string): GgenError {
  return new GgenError("RDF_SYNTAX", `RDF/XML: ${message}`, {
    location: { file: name, line: lineAt(text, index) },
    ...(hint ? { hint } : {}),
  });
}

const ENTITY = /<!ENTITY\s+(%\s+)?([^\s"'>]+)\s+(?:"([^"]*)"|'([^']*)'|(SYSTEM|PUBLIC)\b[^>]*)\s*>/gy;
const REF = /&([A-Za-z_][\w.-]*);/g;

/** The internal subset's general entities (name → replacement text), refusing what ggen never reads. */
function entities(text: string, name: string, start: number, end: number): Map<string, string> {
  const out = new Map<string, string>();
  const subset = text.slice(start, end);
  for (let i = subset.indexOf("<!ENTITY"); i !== -1; i = subset.indexOf("<!ENTITY", i + 1)) {
    ENTITY.lastIndex = i;
    const m = ENTITY.exec(subset);
    if (!m) throw refused(name, text, start + i, "an entity declaration ggen cannot read");
    if (m[1] !== undefined || m[5] !== undefined) {
      throw refused(
        name,
        text,
        start + i,
        `${m[1] ? "parameter" : "external"} entity '${m[2]}' is not supported`,
        "declare internal general entities only",
      );
    }
    if (!out.has(m[2]!)) out.set(m[2]!, m[3] ?? m[4] ?? "");
  }
  return out;
}

/** Characters each entity expands to, refusing cycles and anything past `max`. */
function expansionSizes(
  decls: Map<string, string>,
  max: number,
  fail: (message: string) => never,
): Map<string, number> {
  const sizes = new Map<string, number>();
  const visiting = new Set<string>();
  const size = (entity: string): number => {
    const known = sizes.get(entity);
    if (known !== undefined) return known;
    const value = decls.get(entity);
    if (value === undefined) return 0; // predefined (&amp; …) or undeclared: oxigraph's business
    if (visiting.has(entity)) fail(`entity '${entity}' refers to itself`);
    visiting.add(entity);
    let n = value.length;
    for (const r of value.matchAll(REF)) {
      n += size(r[1]!) - r[0].length;
      if (n > max) fail(`entity '${entity}' expands to more than ${formatSize(max)}`);
    }
    visiting.delete(entity);
    sizes.set(entity, n);
    return n;
  };
  for (const e of decls.keys()) size(e);
  return sizes;
}

/** Where the DOCTYPE's internal subset `[…]` ends (the `]`), quotes and comments skipped. */
function subsetEnd(text: string, from: number): number {
  let quote = "";
  for (let i = from; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === quote) quote = "";
    } else if (c === '"' || c === "'") quote = c;
    else if (c === "]") return i;
    else if (text.startsWith("<!--", i)) {
      const e = text.indexOf("-->", i + 4);
      if (e === -1) return -1;
      i = e + 2;
    }
  }
  return -1;
}

// One token of XML at a time (sticky): what decides nesting, everything else skipped.
const TOKEN =
  /<!--[\s\S]*?-->|<\?[\s\S]*?\?>|<!\[CDATA\[[\s\S]*?\]\]>|<\/[^\s>]+\s*>|<[^\s/>!?][^\s/>]*(?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*\s*(\/?)>|[^<]+/y;

/**
 * Refuses RDF/XML that expands past `maxBytes` or has more than one root element. Text it cannot
 * tokenize is left to oxigraph, which reports it at its place.
 */
export function checkRdfXml(text: string, name: string, maxBytes: number): void {
  let pos = 0;
  let decls = new Map<string, string>();
  const doctype = /<!DOCTYPE\s[^[>]*(\[)?/y;
  let depth = 0;
  let roots = 0;
  while (pos < text.length) {
    if (depth === 0 && text.startsWith("<!DOCTYPE", pos)) {
      doctype.lastIndex = pos;
      const m = doctype.exec(text);
      if (!m) return;
      let end = doctype.lastIndex;
      if (m[1]) {
        const close = subsetEnd(text, end);
        if (close === -1) return;
        decls = entities(text, name, end, close);
        end = close + 1;
      }
      const gt = text.indexOf(">", end);
      if (gt === -1) return;
      pos = gt + 1;
      continue;
    }
    TOKEN.lastIndex = pos;
    const m = TOKEN.exec(text);
    if (!m) return;
    const tok = m[0];
    if (tok.startsWith("</")) depth--;
    else if (tok.startsWith("<") && !/^<[!?]/.test(tok)) {
      if (depth === 0 && ++roots > 1)
        throw refused(name, text, pos, "more than one root element", "an XML document has exactly one");
      if (m[1] !== "/") depth++;
    } else if (depth === 0 && !tok.startsWith("<") && tok.trim() !== "") {
      if (roots > 0) throw refused(name, text, pos, "text after the root element");
    }
    if (depth < 0) return;
    pos = TOKEN.lastIndex;
  }
  if (decls.size === 0) return;
  const fail = (message: string): never => {
    throw refused(name, text, 0, message, "entity expansion is limited to the graph size limit");
  };
  const sizes = expansionSizes(decls, maxBytes, fail);
  let total = text.length;
  for (const r of text.matchAll(REF)) {
    total += (sizes.get(r[1]!) ?? 0) - r[0].length;
    if (total > maxBytes) fail(`entities expand the document past ${formatSize(maxBytes)}`);
  }
}
