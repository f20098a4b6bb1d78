// Readers for the expected results of the W3C tests: SPARQL XML (.srx), JSON (.srj), TSV, CSV, and
// N-Triples/N-Quads text (through n3's parser).
import { createRequire } from "node:module";
import type { Term } from "../src/index.js";

const XSD = "http://www.w3.org/2001/XMLSchema#";
const XSD_STRING = `${XSD}string`;
const LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString";

export interface Table {
  vars: string[];
  rows: Record<string, Term>[];
}
export type Expected = { kind: "table"; table: Table } | { kind: "boolean"; value: boolean };

function decode(s: string): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#\d+|lt|gt|amp|quot|apos);/g, (_m, e: string) => {
    if (e === "lt") return "<";
    if (e === "gt") return ">";
    if (e === "amp") return "&";
    if (e === "quot") return '"';
    if (e === "apos") return "'";
    return String.fromCodePoint(e.startsWith("#x") ? Number.parseInt(e.slice(2), 16) : Number(e.slice(1)));
  });
}

function attr(tag: string, name: string): string | undefined {
  const m = new RegExp(`${name}\\s*=\\s*(?:"([^"]*)"|'([^']*)')`).exec(tag);
  return m ? decode(m[1] ?? m[2] ?? "") : undefined;
}

export function literal(value: string, datatype?: string, language?: string): Term {
  if (language) return { type: "literal", value, datatype: LANG_STRING, language: language.toLowerCase() };
  return { type: "literal", value, datatype: datatype ?? XSD_STRING };
}

export function parseSrx(xml: string): Expected {
  const bool = /<boolean>\s*(true|false)\s*<\/boolean>/.exec(xml);
  if (bool) return { kind: "boolean", value: bool[1] === "true" };
  const vars = [...xml.matchAll(/<variable\s[^>]*>/g)].map((m) => attr(m[0], "name") ?? "");
  const rows: Record<string, Term>[] = [];
  for (const r of xml.matchAll(/<result\s*>([\s\S]*?)<\/result>|<result\s*\/>/g)) {
    const row: Record<string, Term> = {};
    for (const b of (r[1] ?? "").matchAll(/<binding\s([^>]*)>([\s\S]*?)<\/binding>/g)) {
      const name = attr(b[1] ?? "", "name") ?? "";
      const body = (b[2] ?? "").trim();
      let m = /^<uri>([\s\S]*)<\/uri>$/.exec(body);
      if (m) {
        row[name] = { type: "iri", value: decode(m[1] ?? "") };
        continue;
      }
      m = /^<bnode>([\s\S]*)<\/bnode>$/.exec(body);
      if (m) {
        row[name] = { type: "blank", value: decode(m[1] ?? "") };
        continue;
      }
      m = /^<literal([^>]*)\/>$/.exec(body);
      if (m) {
        row[name] = literal("", attr(m[1] ?? "", "datatype"), attr(m[1] ?? "", "xml:lang"));
        continue;
      }
      m = /^<literal([^>]*)>([\s\S]*)<\/literal>$/.exec(body);
      if (m)
        row[name] = literal(decode(m[2] ?? ""), attr(m[1] ?? "", "datatype"), attr(m[1] ?? "", "xml:lang"));
    }
    rows.push(row);
  }
  return { kind: "table", table: { vars, rows } };
}

interface JsonTerm {
  type: string;
  value: string;
  datatype?: string;
  "xml:lang"?: string;
}

export function parseSrj(text: string): Expected {
  const j = JSON.parse(text) as {
    head: { vars?: string[] };
    boolean?: boolean;
    results?: { bindings: Record<string, JsonTerm>[] };
  };
  if (typeof j.boolean === "boolean") return { kind: "boolean", value: j.boolean };
  const rows = (j.results?.bindings ?? []).map((b) => {
    const row: Record<string, Term> = {};
    for (const [k, t] of Object.entries(b)) {
      if (t.type === "uri") row[k] = { type: "iri", value: t.value };
      else if (t.type === "bnode") row[k] = { type: "blank", value: t.value };
      else row[k] = literal(t.value, t.datatype, t["xml:lang"]);
    }
    return row;
  });
  return { kind: "table", table: { vars: j.head.vars ?? [], rows } };
}

function unescapeString(s: string): string {
  return s.replace(/\\(u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[tbnrf"'\\])/g, (_m, e: string) => {
    const map: Record<string, string> = {
      t: "\t",
      b: "\b",
      n: "\n",
      r: "\r",
      f: "\f",
      '"': '"',
      "'": "'",
      "\\": "\\",
    };
    if (e[0] === "u" || e[0] === "U") return String.fromCodePoint(Number.parseInt(e.slice(1), 16));
    return map[e] ?? e;
  });
}

/** One term in TSV (Turtle/N-Triples syntax, numbers and booleans bare). */
export function parseTsvTerm(s: string): Term | undefined {
  if (s === "") return undefined;
  if (s.startsWith("<") && s.endsWith(">")) return { type: "iri", value: s.slice(1, -1) };
  if (s.startsWith("_:")) return { type: "blank", value: s.slice(2) };
  const m = /^"((?:[^"\\]|\\.)*)"(?:@([A-Za-z0-9-]+)|\^\^<([^>]*)>)?$/.exec(s);
  if (m) return literal(unescapeString(m[1] ?? ""), m[3], m[2]);
  if (/^[+-]?\d+$/.test(s)) return literal(s, `${XSD}integer`);
  if (/^[+-]?\d*\.\d+$/.test(s)) return literal(s, `${XSD}decimal`);
  if (/^[+-]?(\d+\.?\d*|\.\d+)[eE][+-]?\d+$/.test(s)) return literal(s, `${XSD}double`);
  if (s === "true" || s === "false") return literal(s, `${XSD}boolean`);
  return literal(s);
}

export function parseTsv(text: string): Expected {
  const lines = text.replace(/\r?\n$/, "").split(/\r?\n/);
  const vars = (lines[0] ?? "").split("\t").map((v) => v.replace(/^[?$]/, ""));
  const rows = lines.slice(1).map((line) => {
    const row: Record<string, Term> = {};
    line.split("\t").forEach((cell, i) => {
      const t = parseTsvTerm(cell);
      const v = vars[i];
      if (t && v !== undefined) row[v] = t;
    });
    return row;
  });
  return { kind: "table", table: { vars, rows } };
}

function csvRecords(text: string): string[][] {
  const out: string[][] = [];
  let row: string[] = [];
  let field = "";
  let i = 0;
  let quoted = false;
  while (i < text.length) {
    const c = text[i] as string;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i += 2;
        continue;
      }
      if (c === '"') quoted = false;
      else field += c;
      i++;
      continue;
    }
    if (c === '"') quoted = true;
    else if (c === ",") {
      row.push(field);
      field = "";
    } else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      row.push(field);
      out.push(row);
      row = [];
      field = "";
    } else field += c;
    i++;
  }
  if (field !== "" || row.length > 0) {
    row.push(field);
    out.push(row);
  }
  return out;
}

/** CSV is lossy: every cell becomes a plain literal, except `_:x` (a blank node) and empty (unbound). */
export function parseCsv(text: string): Expected {
  const [head, ...body] = csvRecords(text);
  const vars = head ?? [];
  const rows = body.map((cells) => {
    const row: Record<string, Term> = {};
    cells.forEach((cell, i) => {
      const v = vars[i];
      if (v === undefined || cell === "") return;
      row[v] = cell.startsWith("_:") ? { type: "blank", value: cell.slice(2) } : literal(cell);
    });
    return row;
  });
  return { kind: "table", table: { vars, rows } };
}

type N3Term = import("n3").Term;
const require = createRequire(import.meta.url);

function fromN3(t: N3Term): Term | undefined {
  switch (t.termType) {
    case "NamedNode":
      return { type: "iri", value: t.value };
    case "BlankNode":
      return { type: "blank", value: t.value };
    case "Literal":
      return literal(t.value, t.datatype.value, t.language || undefined);
    case "DefaultGraph":
      return undefined;
    default:
      return { type: "iri", value: `?${t.value}` };
  }
}

/** Quads of N-Triples / N-Quads text as tuples (graph undefined for the default graph). */
export function quadTuples(nquads: string): (Term | undefined)[][] {
  const N3 = require("n3") as typeof import("n3");
  return new N3.Parser({ format: "N-Quads" })
    .parse(nquads)
    .map((q) => [fromN3(q.subject), fromN3(q.predicate), fromN3(q.object), fromN3(q.graph)]);
}
