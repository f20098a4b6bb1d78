import { isGgenError } from "@ggen/contract";
import { describe, expect, it } from "vitest";
import { bind, loadGraph, queryForm } from "./index.js";

describe("bind", () => {
  it("puts strings in as escaped literals, never as query text", async () => {
    const evil = '"} ; DROP ALL ; SELECT * { ?s ?p "';
    const q = bind("SELECT ?s WHERE { ?s <http://x/name> ?name }", { name: evil });
    expect(q).toBe(`SELECT ?s WHERE { ?s <http://x/name> "\\"} ; DROP ALL ; SELECT * { ?s ?p \\"" }`);
    const g = await loadGraph([
      { text: `<http://x/a> <http://x/name> ${JSON.stringify(evil)} .`, format: "ntriples" },
    ]);
    expect(g.select(q)).toEqual([{ s: { type: "iri", value: "http://x/a" } }]);
    g.free();
  });

  it("binds IRIs from URL and {iri}, numbers, booleans, dates and language literals", () => {
    expect(bind("ASK { $s ?p ?o }", { s: new URL("http://x/a b") })).toBe("ASK { <http://x/a%20b> ?p ?o }");
    expect(bind("ASK { ?s ?p ?o }", { s: { iri: "http://x/a" }, o: 3 })).toBe(
      'ASK { <http://x/a> ?p "3"^^<http://www.w3.org/2001/XMLSchema#integer> }',
    );
    expect(bind("ASK { ?s ?p ?o }", { o: true })).toContain(
      '"true"^^<http://www.w3.org/2001/XMLSchema#boolean>',
    );
    expect(bind("ASK { ?s ?p ?o }", { o: { value: "chat", language: "fr" } })).toBe(
      'ASK { ?s ?p "chat"@fr }',
    );
    expect(bind("ASK { ?s ?p ?o }", { o: new Date(0) })).toContain('"1970-01-01T00:00:00.000Z"^^');
  });

  it("leaves strings, IRIs, comments and unknown variables alone", () => {
    const q = 'SELECT ?x WHERE { ?x <http://a?x> "?x" . # ?x\n ?y ?p ?x }';
    expect(bind(q, { x: "v" })).toBe('SELECT "v" WHERE { "v" <http://a?x> "?x" . # ?x\n ?y ?p "v" }');
    expect(bind("SELECT * WHERE { ?s ?p ?o }", { q: 1 })).toBe("SELECT * WHERE { ?s ?p ?o }");
  });

  it("refuses IRIs that could break out of <…> and values that are not terms", () => {
    for (const iri of ["http://x/> } DROP ALL {", "http://x/a b", "not an iri", "http://x/\\u003e"]) {
      let err: unknown;
      try {
        bind("ASK { ?s ?p ?o }", { s: { iri } });
      } catch (e) {
        err = e;
      }
      expect(isGgenError(err) && err.code, iri).toBe("SPARQL_BIND");
    }
    expect(() => bind("ASK { ?s ?p ?o }", { s: null })).toThrow(/cannot be bound/);
    expect(() => bind("ASK { ?s ?p ?o }", { s: { value: "b0", type: "blank" } })).toThrow(/blank node/);
  });
});

describe("queryForm", () => {
  it("finds the form after the prologue", () => {
    expect(queryForm("PREFIX ex: <http://e/>\n# c\nBASE <http://b/> select * {}")).toBe("select");
    expect(queryForm("prefix : <http://e/> CONSTRUCT WHERE {}")).toBe("construct");
    expect(queryForm("ASK {}")).toBe("ask");
    expect(queryForm("DESCRIBE <x>")).toBe("describe");
    expect(queryForm("INSERT DATA {}")).toBe("update");
    expect(queryForm("nonsense")).toBe("unknown");
  });
});
