// The W3C SPARQL 1.1 Query Results formats (JSON, CSV, TSV) for select/ask results.
import { RDF_LANG_STRING, type Row, type Term, termText, XSD_STRING } from "./terms.js";

export type ResultsFormat = "json" | "csv" | "tsv";

export interface SparqlJsonTerm {
  type: "uri" | "literal" | "bnode";
  value: string;
  datatype?: string;
  "xml:lang"?: string;
}

export type SparqlJson =
  | { head: { vars: string[] }; results: { bindings: Record<string, SparqlJsonTerm>[] } }
  | { head: Record<string, never>; boolean: boolean };

export function toJsonTerm(t: Term): SparqlJsonTerm {
  if (t.type === "iri") return { type: "uri", value: t.value };
  if (t.type === "blank") return { type: "bnode", value: t.value };
  const j: SparqlJsonTerm = { type: "literal", value: t.value };
  if (t.language) j["xml:lang"] = t.language;
  else if (t.datatype && t.datatype !== XSD_STRING && t.datatype !== RDF_LANG_STRING) j.datatype = t.datatype;
  return j;
}

export function toSparqlJson(result: { vars: string[]; rows: Row[] } | boolean): SparqlJson {
  if (typeof result === "boolean") return { head: {}, boolean: result };
  return {
    head: { vars: result.vars },
    results: {
      bindings: result.rows.map((row) => {
        const b: Record<string, SparqlJsonTerm> = {};
        for (const v of result.vars) {
          const t = row[v];
          if (t) b[v] = toJsonTerm(t);
        }
        return b;
      }),
    },
  };
}

function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** CSV: lexical values only, CRLF line ends (SPARQL 1.1 Query Results CSV and TSV Formats §3). */
export function toCsv(result: { vars: string[]; rows: Row[] } | boolean): string {
  if (typeof result === "boolean") return `_askResult\r\n${result}\r\n`;
  const lines = [result.vars.map(csvField).join(",")];
  for (const row of result.rows) {
    lines.push(
      result.vars
        .map((v) => {
          const t = row[v];
          if (!t) return "";
          return csvField(t.type === "blank" ? `_:${t.value}` : t.value);
        })
        .join(","),
    );
  }
  return `${lines.join("\r\n")}\r\n`;
}

const XSD = "http://www.w3.org/2001/XMLSchema#";

/** TSV: terms in N-Triples/Turtle syntax, numbers bare (§4). */
export function tsvTerm(t: Term): string {
  if (t.type === "literal" && !t.language) {
    if (t.datatype === `${XSD}integer` && /^[+-]?\d+$/.test(t.value)) return t.value;
    if (t.datatype === `${XSD}decimal` && /^[+-]?\d*\.\d+$/.test(t.value)) return t.value;
    if (t.datatype === `${XSD}double` && /^[+-]?(\d+\.?\d*|\.\d+)[eE][+-]?\d+$/.test(t.value)) return t.value;
  }
  return termText(t).replace(/\t/g, "\\t");
}

export function toTsv(result: { vars: string[]; rows: Row[] } | boolean): string {
  if (typeof result === "boolean") return `?_askResult\n${result}\n`;
  const lines = [result.vars.map((v) => `?${v}`).join("\t")];
  for (const row of result.rows) {
    lines.push(result.vars.map((v) => (row[v] ? tsvTerm(row[v]) : "")).join("\t"));
  }
  return `${lines.join("\n")}\n`;
}

export function formatResults(
  result: { vars: string[]; rows: Row[] } | boolean,
  format: ResultsFormat,
): string {
  if (format === "json") return `${JSON.stringify(toSparqlJson(result), null, 2)}\n`;
  if (format === "csv") return toCsv(result);
  return toTsv(result);
}

/** A short form for people: prefixed names where a prefix fits, `_:b` for blank nodes. */
export function compactTerm(t: Term, prefixes: Record<string, string>): string {
  if (t.type === "blank") return `_:${t.value}`;
  if (t.type === "iri") {
    let best: [string, string] | undefined;
    for (const [p, ns] of Object.entries(prefixes)) {
      if (ns && t.value.startsWith(ns) && (!best || ns.length > best[1].length)) {
        const local = t.value.slice(ns.length);
        if (/^[A-Za-z0-9_-]*$/.test(local)) best = [p, ns];
      }
    }
    return best ? `${best[0]}:${t.value.slice(best[1].length)}` : `<${t.value}>`;
  }
  if (t.language) return `"${t.value}"@${t.language}`;
  return t.value;
}
