// The plain terms and rows @ggen/rdf hands out, and conversion from the W3C SPARQL JSON results oxigraph
// writes (one string across the WASM boundary instead of one call per term).

export interface Term {
  value: string;
  type: "iri" | "literal" | "blank";
  datatype?: string;
  language?: string;
}

export type Row = Record<string, Term>;

export const XSD_STRING = "http://www.w3.org/2001/XMLSchema#string";
export const RDF_LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString";

export interface JsonTerm {
  type: "uri" | "literal" | "bnode" | "triple" | "typed-literal";
  value: unknown;
  datatype?: string;
  "xml:lang"?: string;
}

export interface JsonResults {
  head: { vars?: string[] };
  results?: { bindings: Record<string, JsonTerm>[] };
  boolean?: boolean;
}

function tripleText(v: unknown): string {
  const t = v as { subject: JsonTerm; predicate: JsonTerm; object: JsonTerm };
  return `<< ${termText(fromJsonTerm(t.subject))} ${termText(fromJsonTerm(t.predicate))} ${termText(fromJsonTerm(t.object))} >>`;
}

export function fromJsonTerm(j: JsonTerm): Term {
  switch (j.type) {
    case "uri":
      return { type: "iri", value: String(j.value) };
    case "bnode":
      return { type: "blank", value: String(j.value) };
    case "triple":
      return { type: "literal", value: tripleText(j.value), datatype: XSD_STRING };
    default: {
      const lang = j["xml:lang"];
      if (lang !== undefined)
        return { type: "literal", value: String(j.value), datatype: RDF_LANG_STRING, language: lang };
      return { type: "literal", value: String(j.value), datatype: j.datatype ?? XSD_STRING };
    }
  }
}

export function rowsFromJson(json: JsonResults): { vars: string[]; rows: Row[] } {
  const vars = json.head.vars ?? [];
  const rows: Row[] = [];
  for (const b of json.results?.bindings ?? []) {
    const row: Row = {};
    for (const k in b) {
      const t = b[k];
      if (t) row[k] = fromJsonTerm(t);
    }
    rows.push(row);
  }
  return { vars, rows };
}

function escapeLiteral(s: string): string {
  return s.replace(/[\\"\n\r]/g, (c) =>
    c === "\\" ? "\\\\" : c === '"' ? '\\"' : c === "\n" ? "\\n" : "\\r",
  );
}

/** N-Triples text of a term. */
export function termText(t: Term): string {
  if (t.type === "iri") return `<${t.value}>`;
  if (t.type === "blank") return `_:${t.value}`;
  const lit = `"${escapeLiteral(t.value)}"`;
  if (t.language) return `${lit}@${t.language}`;
  if (t.datatype && t.datatype !== XSD_STRING) return `${lit}^^<${t.datatype}>`;
  return lit;
}
