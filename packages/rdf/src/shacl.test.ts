// SHACL Core cases modelled on the W3C data-shapes test suite (core/property, core/node, core/targets,
// core/path): each checks which focus nodes break which component, and the sentence ggen prints.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isGgenError } from "@ggen/contract";
import { afterAll, describe, expect, it } from "vitest";
import { loadGraph, subjectPositions, validateShapes } from "./index.js";

const P = `@prefix sh: <http://www.w3.org/ns/shacl#> . @prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> . @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix ex: <http://example.org/> .
`;

const cases: { name: string; shapes: string; data: string; expect: string[] }[] = [
  {
    name: "minCount (core/property/minCount-001)",
    shapes:
      "ex:BookShape a sh:NodeShape ; sh:targetClass ex:Book ; sh:property [ sh:path ex:title ; sh:minCount 1 ] .",
    data: 'ex:b1 a ex:Book ; ex:title "A" . ex:b2 a ex:Book .',
    expect: ["ex:b2 has no ex:title (shape ex:BookShape)"],
  },
  {
    name: "maxCount",
    shapes:
      "ex:S a sh:NodeShape ; sh:targetClass ex:Book ; sh:property [ sh:path ex:isbn ; sh:maxCount 1 ] .",
    data: 'ex:b1 a ex:Book ; ex:isbn "1", "2" . ex:b2 a ex:Book ; ex:isbn "3" .',
    expect: ["ex:b1 has more than 1 ex:isbn (shape ex:S)"],
  },
  {
    name: "datatype, including an ill-typed literal (core/property/datatype-ill-formed)",
    shapes:
      "ex:S a sh:NodeShape ; sh:targetClass ex:Book ; sh:property [ sh:path ex:pages ; sh:datatype xsd:integer ] .",
    data: 'ex:b1 a ex:Book ; ex:pages 12 . ex:b2 a ex:Book ; ex:pages "x" . ex:b3 a ex:Book ; ex:pages "1a"^^xsd:integer .',
    expect: [
      'ex:b2 ex:pages "x" is not a xsd:integer (shape ex:S)',
      'ex:b3 ex:pages "1a" is not a xsd:integer (shape ex:S)',
    ],
  },
  {
    name: "targetClass through rdfs:subClassOf in the data graph (core/targets/targetClass-subclass)",
    shapes:
      "ex:S a sh:NodeShape ; sh:targetClass ex:Work ; sh:property [ sh:path ex:title ; sh:minCount 1 ] .",
    data: 'ex:Book rdfs:subClassOf ex:Work . ex:Novel rdfs:subClassOf ex:Book . ex:n1 a ex:Novel . ex:w1 a ex:Work ; ex:title "t" .',
    expect: ["ex:n1 has no ex:title (shape ex:S)"],
  },
  {
    name: "class with a subclass in the data graph (core/property/class-001)",
    shapes:
      "ex:S a sh:NodeShape ; sh:targetClass ex:Book ; sh:property [ sh:path ex:author ; sh:class ex:Person ] .",
    data: "ex:Author rdfs:subClassOf ex:Person . ex:p a ex:Author . ex:b1 a ex:Book ; ex:author ex:p . ex:b2 a ex:Book ; ex:author ex:q .",
    expect: ["ex:b2 ex:author ex:q is not a ex:Person (shape ex:S)"],
  },
  {
    name: "pattern with flags",
    shapes:
      'ex:S a sh:NodeShape ; sh:targetClass ex:Book ; sh:property [ sh:path ex:isbn ; sh:pattern "^97[89]" ; sh:flags "i" ] .',
    data: 'ex:b1 a ex:Book ; ex:isbn "9781" . ex:b2 a ex:Book ; ex:isbn "123" .',
    expect: ['ex:b2 ex:isbn "123" does not match /^97[89]/ (shape ex:S)'],
  },
  {
    name: "in",
    shapes:
      'ex:S a sh:NodeShape ; sh:targetClass ex:Book ; sh:property [ sh:path ex:format ; sh:in ( "paper" "ebook" ) ] .',
    data: 'ex:b1 a ex:Book ; ex:format "paper" . ex:b2 a ex:Book ; ex:format "scroll" .',
    expect: ['ex:b2 ex:format "scroll" is not one of "paper", "ebook" (shape ex:S)'],
  },
  {
    name: "or (core/node/or-001)",
    shapes:
      "ex:S a sh:NodeShape ; sh:targetClass ex:Book ; sh:or ( [ sh:path ex:title ; sh:minCount 1 ] [ sh:path ex:name ; sh:minCount 1 ] ) .",
    data: 'ex:b1 a ex:Book ; ex:name "n" . ex:b2 a ex:Book .',
    expect: ["ex:b2 matches none of the sh:or alternatives (shape ex:S)"],
  },
  {
    name: "node (core/node/node-001)",
    shapes:
      "ex:S a sh:NodeShape ; sh:targetClass ex:Book ; sh:property [ sh:path ex:author ; sh:node ex:PersonShape ] . ex:PersonShape a sh:NodeShape ; sh:property [ sh:path ex:name ; sh:minCount 1 ] .",
    data: 'ex:b1 a ex:Book ; ex:author ex:p1 . ex:p1 ex:name "a" . ex:b2 a ex:Book ; ex:author ex:p2 .',
    expect: ["ex:b2 ex:author ex:p2 does not conform to ex:PersonShape (shape ex:S)"],
  },
  {
    name: "closed with ignoredProperties (core/node/closed-001)",
    shapes:
      "ex:S a sh:NodeShape ; sh:targetClass ex:Book ; sh:closed true ; sh:ignoredProperties ( rdf:type ) ; sh:property [ sh:path ex:title ] .",
    data: 'ex:b1 a ex:Book ; ex:title "t" . ex:b2 a ex:Book ; ex:title "t" ; ex:extra 1 .',
    expect: ["ex:b2 has ex:extra 1, which the shape does not allow (shape ex:S)"],
  },
  {
    name: "inverse path (core/path/path-inverse-001)",
    shapes:
      "ex:S a sh:NodeShape ; sh:targetClass ex:Person ; sh:property [ sh:path [ sh:inversePath ex:author ] ; sh:minCount 1 ] .",
    data: "ex:p1 a ex:Person . ex:b ex:author ex:p1 . ex:p2 a ex:Person .",
    expect: ["ex:p2 has no ^ex:author (shape ex:S)"],
  },
  {
    name: "sequence path (core/path/path-sequence-001)",
    shapes:
      "ex:S a sh:NodeShape ; sh:targetClass ex:Book ; sh:property [ sh:path ( ex:author ex:name ) ; sh:minCount 1 ] .",
    data: 'ex:b1 a ex:Book ; ex:author ex:p1 . ex:p1 ex:name "x" . ex:b2 a ex:Book ; ex:author ex:p2 .',
    expect: ["ex:b2 has no ex:author/ex:name (shape ex:S)"],
  },
  {
    name: "targetSubjectsOf and minInclusive",
    shapes:
      "ex:S a sh:NodeShape ; sh:targetSubjectsOf ex:pages ; sh:property [ sh:path ex:pages ; sh:minInclusive 1 ] .",
    data: "ex:b1 ex:pages 0 . ex:b2 ex:pages 5 .",
    expect: ["ex:b1 ex:pages 0 is less than 1 (shape ex:S)"],
  },
  {
    name: "a blank focus node is named by the IRI that holds it",
    shapes:
      "ex:S a sh:NodeShape ; sh:targetClass ex:Restriction ; sh:property [ sh:path ex:card ; sh:datatype xsd:integer ] .",
    data: 'ex:Book ex:sub [ a ex:Restriction ; ex:card "one" ] .',
    expect: ['ex:Book ex:sub [ … ] ex:card "one" is not a xsd:integer (shape ex:S)'],
  },
  {
    name: "the shape's own sh:message is the sentence, with {$this}, {$path} and {$value} filled in",
    shapes:
      'ex:S a sh:NodeShape ; sh:targetClass ex:Book ; sh:property [ sh:path ex:pages ; sh:datatype xsd:integer ; sh:message "livre"@fr, """{$this} says {$path} is {$value}:\n  give a number""" ] .',
    data: 'ex:b1 a ex:Book ; ex:pages "many" .',
    expect: ['ex:b1 says ex:pages is "many": give a number (shape ex:S)'],
  },
  {
    name: "an English sh:message is taken when there is no untagged one",
    shapes:
      'ex:S a sh:NodeShape ; sh:targetNode ex:Book ; sh:property [ sh:path [ sh:inversePath rdf:type ] ; sh:minCount 1 ; sh:message "aucun livre"@fr, "there is no book: add one"@en ] .',
    data: "ex:x ex:p 1 .",
    expect: ["there is no book: add one (shape ex:S)"],
  },
  {
    name: "deactivated shapes are not checked",
    shapes:
      "ex:S a sh:NodeShape ; sh:deactivated true ; sh:targetClass ex:Book ; sh:property [ sh:path ex:title ; sh:minCount 1 ] .",
    data: "ex:b2 a ex:Book .",
    expect: [],
  },
];

const dir = mkdtempSync(join(tmpdir(), "ggen-shacl-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function check(shapes: string, data: string) {
  const s = await loadGraph([{ text: P + shapes, format: "turtle" }], { cache: false });
  const d = await loadGraph([{ text: P + data, format: "turtle", name: "data.ttl" }], { cache: false });
  try {
    return await validateShapes(d, s, { sources: [{ text: P + data, format: "turtle", name: "data.ttl" }] });
  } finally {
    s.free();
    d.free();
  }
}

describe("validateShapes (SHACL Core)", () => {
  for (const c of cases) {
    it(c.name, async () => {
      const r = await check(c.shapes, c.data);
      expect(r.conforms).toBe(c.expect.length === 0);
      expect(r.violations.map((v) => v.message).sort()).toEqual([...c.expect].sort());
    });
  }

  it("locates each focus node where it is first written as a subject", async () => {
    const data = `${P}ex:b1 a ex:Book ;\n  ex:title "A" .\n\n  ex:b2 a ex:Book .\n`;
    const file = join(dir, "library.ttl");
    writeFileSync(file, data);
    const s = await loadGraph([{ text: P + cases[0]!.shapes, format: "turtle" }], { cache: false });
    const d = await loadGraph([{ path: file }], { cache: false });
    const r = await validateShapes(d, s, { sources: [{ path: file }] });
    expect(r.violations.map((v) => v.location)).toEqual([{ file, line: 7, column: 3 }]);
    s.free();
    d.free();
  });

  it("runs sh:pattern on RE2: a catastrophic pattern answers at once, a backreference is refused", async () => {
    const long = "a".repeat(30_000);
    const r = await check(
      'ex:S a sh:NodeShape ; sh:targetNode ex:b ; sh:property [ sh:path ex:isbn ; sh:pattern "^(a+)+$" ] .',
      `ex:b ex:isbn "${long}!" .`,
    );
    expect(r.violations.map((v) => v.component)).toEqual(["Pattern"]);
    const e = await check(
      'ex:S a sh:NodeShape ; sh:targetNode ex:b ; sh:property [ sh:path ex:isbn ; sh:pattern "(a)\\\\1" ] .',
      'ex:b ex:isbn "aa" .',
    ).catch((x: unknown) => x);
    expect(isGgenError(e) && [e.code, e.kind]).toEqual(["BAD_PATTERN", "usage"]);
  });

  it("refuses SPARQL-based constraints instead of skipping them", async () => {
    const e = await check(
      'ex:S a sh:NodeShape ; sh:targetClass ex:Book ; sh:sparql [ sh:select "SELECT $this WHERE { }" ] .',
      "ex:b a ex:Book .",
    ).catch((x: unknown) => x);
    expect(isGgenError(e) && e.code).toBe("SHACL_UNSUPPORTED");
    expect(isGgenError(e) && e.kind).toBe("usage");
  });
});

describe("subjectPositions", () => {
  it("finds subjects (not graph names, not objects first) with prefixes, base and indentation", () => {
    const text = `@prefix ex: <http://e/> .
BASE <http://b/>
ex:x ex:p ex:y .
    <rel> ex:p [ ex:q ex:z ] .
GRAPH ex:g { ex:c ex:p ex:d }
ex:h { ex:y ex:p 1 . }
`;
    const m = subjectPositions(text, { format: "trig" });
    expect(m.get("http://e/x")).toEqual({ line: 3, column: 1 });
    expect(m.get("http://b/rel")).toEqual({ line: 4, column: 5 });
    expect(m.get("http://e/c")).toEqual({ line: 5, column: 14 });
    expect(m.get("http://e/y")).toEqual({ line: 6, column: 8 });
    expect(m.get("http://e/z")).toEqual({ line: 4, column: 23, mention: true });
    expect(m.has("http://e/g")).toBe(false);
    expect(subjectPositions("<a> <b> <c> .", { format: "rdfxml" }).size).toBe(0);
    expect(subjectPositions("ex:a ex:b", { format: "turtle" }).size).toBe(0);
  });
});
