import { describe, expect, it } from "vitest";
import { formatFromContentType, formatFromPath, parseFormatName } from "./formats.js";
import { declarations } from "./prefixes.js";
import { toCsv, toSparqlJson, toTsv } from "./results.js";

describe("formats", () => {
  it("maps extensions, content types and aliases", () => {
    expect(formatFromPath("a/b/model.TTL")).toBe("turtle");
    expect(formatFromPath("x.owl")).toBe("rdfxml");
    expect(formatFromPath("http://h/x.nq?v=1")).toBe("nquads");
    expect(formatFromPath("x.docx")).toBeUndefined();
    expect(formatFromContentType("application/n-triples; charset=utf-8")).toBe("ntriples");
    expect(formatFromContentType("text/html")).toBeUndefined();
    expect(parseFormatName("nt")).toBe("ntriples");
    expect(parseFormatName("JSON-LD")).toBe("jsonld");
    expect(parseFormatName("docx")).toBeUndefined();
  });
});

describe("declarations", () => {
  it("reads Turtle prefixes and base, resolving relative namespaces", () => {
    const d = declarations(
      "@base <http://x/dir/> .\n@prefix ex: <ns#> .\nPREFIX : <http://e/>\n  # @prefix no: <http://commented/> .\n",
      "turtle",
      undefined,
    );
    expect(d.base).toBe("http://x/dir/");
    expect(d.prefixes.ex).toBe("http://x/dir/ns#");
    expect(d.prefixes[""]).toBe("http://e/");
    expect(d.prefixes.no).toBeUndefined();
  });

  it("reads RDF/XML namespaces and JSON-LD contexts", () => {
    const x = declarations(
      '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:ex="http://e/">',
      "rdfxml",
      undefined,
    );
    expect(x.prefixes.ex).toBe("http://e/");
    const j = declarations(
      '{"@context": {"ex": "http://e/", "name": "http://e/name", "@base": "http://b/"}}',
      "jsonld",
      undefined,
    );
    expect(j.prefixes).toEqual({ ex: "http://e/" });
    expect(j.base).toBe("http://b/");
  });
});

describe("W3C results writers", () => {
  const table = {
    vars: ["s", "o"],
    rows: [
      {
        s: { type: "blank" as const, value: "b0" },
        o: {
          type: "literal" as const,
          value: 'a "q"\tb',
          datatype: "http://www.w3.org/2001/XMLSchema#string",
        },
      },
      { s: { type: "iri" as const, value: "http://x/a" } },
    ],
  };
  it("JSON omits xsd:string datatypes and unbound variables", () => {
    expect(toSparqlJson(table)).toEqual({
      head: { vars: ["s", "o"] },
      results: {
        bindings: [
          { s: { type: "bnode", value: "b0" }, o: { type: "literal", value: 'a "q"\tb' } },
          { s: { type: "uri", value: "http://x/a" } },
        ],
      },
    });
    expect(toSparqlJson(true)).toEqual({ head: {}, boolean: true });
  });
  it("CSV quotes and uses CRLF; TSV escapes tabs and writes terms", () => {
    expect(toCsv(table)).toBe('s,o\r\n_:b0,"a ""q""\tb"\r\nhttp://x/a,\r\n');
    expect(toTsv(table)).toBe('?s\t?o\n_:b0\t"a \\"q\\"\\tb"\n<http://x/a>\t\n');
  });
});
