import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { undeclaredPrefixes } from "./query-prefixes.js";

describe("undeclaredPrefixes", () => {
  it("lists the prefixes used without PREFIX, with the line of first use", () => {
    const q = `PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?c WHERE {
  ?c a owl:Class ; rdfs:label ?l .
  ?c rdf:rest*/rdf:first ?x .
  FILTER(datatype(?l) = xsd:string)
}`;
    expect(undeclaredPrefixes(q)).toEqual([
      { prefix: "owl", line: 3 },
      { prefix: "rdf", line: 4 },
      { prefix: "xsd", line: 5 },
    ]);
  });

  it("ignores what only looks like a prefixed name: IRIs, strings, comments, variables, blank nodes, tags", () => {
    const q = `prefix ex: <http://example.org/ns#>
# owl:Class in a comment
SELECT * WHERE {
  ?s <http://example.org/p:q> "foaf:name"@en-GB , 'dc:x' , """skos:y
  more""" .
  _:b ex:p ?o . ?o ex:q $v .
  FILTER(?o < 3 && ?v > 1)
}`;
    expect(undeclaredPrefixes(q)).toEqual([]);
  });

  it("counts the default prefix ':' and typed literals", () => {
    expect(undeclaredPrefixes('SELECT * { ?s :p "1"^^xsd:integer }')).toEqual([
      { prefix: "", line: 1 },
      { prefix: "xsd", line: 1 },
    ]);
  });

  it("finds what the bundled domain-service pack's queries lean on (until they declare it)", () => {
    const fields = readFileSync(
      join(import.meta.dirname, "../../../fixtures/templates/queries/fields.rq"),
      "utf8",
    );
    const used = undeclaredPrefixes(fields).map((u) => u.prefix);
    const declared = [...fields.matchAll(/^PREFIX\s+(\w*):/gim)].map((m) => m[1]);
    for (const p of ["owl", "rdfs", "rdf"]) expect(used.includes(p) || declared.includes(p)).toBe(true);
  });
});
