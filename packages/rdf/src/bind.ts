// bind(): put values into a SPARQL query as escaped IRIs or literals, never as query text.
import { GgenError } from "@ggen/support";
import { tokenize } from "./lexer.js";

const XSD = "http://www.w3.org/2001/XMLSchema#";

/** An IRI value for bind(). A URL object works too. */
export interface IriValue {
  iri: string;
}

/** A literal with an explicit datatype or language tag. */
export interface LiteralValue {
  value: string;
  datatype?: string;
  language?: string;
}

export function escapeString(s: string): string {
  let out = "";
  for (const ch of s) {
    switch (ch) {
      case "\\":
        out += "\\\\";
        break;
      case '"':
        out += '\\"';
        break;
      case "'":
        out += "\\'";
        break;
      case "\n":
        out += "\\n";
        break;
      case "\r":
        out += "\\r";
        break;
      case "\t":
        out += "\\t";
        break;
      case "\b":
        out += "\\b";
        break;
      case "\f":
        out += "\\f";
        break;
      default:
        out += ch;
    }
  }
  return `"${out}"`;
}

/** `<iri>`; throws on characters an IRIREF cannot hold (so no way out of the brackets). */
export function iriRef(iri: string, varName = "value"): string {
  if (/[\u0000-\u0020<>"{}|^`\\]/.test(iri)) {
    throw new GgenError("SPARQL_BIND", `'${varName}' is not a valid IRI: ${JSON.stringify(iri)}`, {
      kind: "usage",
      hint: "IRIs cannot contain spaces, quotes, angle brackets, braces, |, ^, ` or \\",
    });
  }
  if (!/^[A-Za-z][A-Za-z0-9+.-]*:/.test(iri)) {
    throw new GgenError("SPARQL_BIND", `'${varName}' is not an absolute IRI: ${JSON.stringify(iri)}`, {
      kind: "usage",
    });
  }
  return `<${iri}>`;
}

function literal(value: string, datatype?: string, language?: string, varName = "value"): string {
  if (language !== undefined && language !== "") {
    if (!/^[A-Za-z]+(-[A-Za-z0-9]+)*$/.test(language)) {
      throw new GgenError("SPARQL_BIND", `'${varName}' has an invalid language tag: ${language}`, {
        kind: "usage",
      });
    }
    return `${escapeString(value)}@${language}`;
  }
  if (datatype !== undefined && datatype !== `${XSD}string`) {
    return `${escapeString(value)}^^${iriRef(datatype, varName)}`;
  }
  return escapeString(value);
}

/** The SPARQL text of one value. */
export function sparqlTerm(value: unknown, varName = "value"): string {
  if (value instanceof URL) return iriRef(value.href, varName);
  if (typeof value === "string") return escapeString(value);
  if (typeof value === "number") {
    if (!Number.isFinite(value)) {
      return literal(Number.isNaN(value) ? "NaN" : value > 0 ? "INF" : "-INF", `${XSD}double`);
    }
    if (Number.isInteger(value)) return literal(String(value), `${XSD}integer`);
    return literal(String(value), `${XSD}double`);
  }
  if (typeof value === "bigint") return literal(value.toString(), `${XSD}integer`);
  if (typeof value === "boolean") return literal(String(value), `${XSD}boolean`);
  if (value instanceof Date) return literal(value.toISOString(), `${XSD}dateTime`);
  if (value !== null && typeof value === "object") {
    const o = value as Record<string, unknown>;
    if (typeof o.iri === "string") return iriRef(o.iri, varName);
    if (typeof o.value === "string") {
      if (o.type === "iri") return iriRef(o.value, varName);
      if (o.type === "blank") {
        throw new GgenError("SPARQL_BIND", `'${varName}' is a blank node, which a query cannot name`, {
          kind: "usage",
        });
      }
      return literal(
        o.value,
        typeof o.datatype === "string" ? o.datatype : undefined,
        typeof o.language === "string" ? o.language : undefined,
        varName,
      );
    }
  }
  throw new GgenError(
    "SPARQL_BIND",
    `'${varName}' cannot be bound: ${value === null ? "null" : typeof value} is not an IRI or a literal`,
    { kind: "usage", hint: "use a string, number, boolean, Date, URL, {iri} or {value, datatype|language}" },
  );
}

/**
 * Replaces `?name` / `$name` with the SPARQL term for `vars[name]`, outside strings, IRIs and
 * comments. Variables not in `vars` (or undefined there) stay variables. In a SELECT projection
 * `SELECT ?name` the bound value would be invalid SPARQL, so bind only variables of the pattern.
 */
export function bind(query: string, vars: Record<string, unknown>): string {
  let out = "";
  for (const t of tokenize(query)) {
    if (t.kind === "var") {
      const name = t.text.slice(1);
      if (Object.hasOwn(vars, name) && vars[name] !== undefined) {
        out += sparqlTerm(vars[name], name);
        continue;
      }
    }
    out += t.text;
  }
  return out;
}
