import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isGgenError } from "@ggen/contract";
import { afterAll, describe, expect, it } from "vitest";
import { cacheStats, clearGraphCache, loadGraph, prepareGraphHost } from "./index.js";

const dir = mkdtempSync(join(tmpdir(), "ggen-rdf-"));
afterAll(() => {
  clearGraphCache();
  rmSync(dir, { recursive: true, force: true });
});

const shop = `@prefix ex: <http://example.org/shop#> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
ex:Customer a owl:Class ; rdfs:label "Customer"@en .
ex:Order a owl:Class ; rdfs:label "Order" .
ex:total a owl:DatatypeProperty ; rdfs:domain ex:Order ; rdfs:range xsd:decimal .
ex:o1 a ex:Order ; ex:total 12.50 ; ex:placedBy ex:c1 .
ex:c1 a ex:Customer ; ex:knows [ ex:name "anon" ] .
`;

async function caught(p: Promise<unknown> | (() => unknown)): Promise<unknown> {
  try {
    await (typeof p === "function" ? p() : p);
  } catch (e) {
    return e;
  }
  throw new Error("expected an error");
}

describe("loadGraph", () => {
  it("loads Turtle text, collects prefixes, runs SELECT with typed terms", async () => {
    const g = await loadGraph([{ text: shop, format: "turtle", baseIri: "http://example.org/" }]);
    expect(g.size).toBe(13);
    expect(g.prefixes.ex).toBe("http://example.org/shop#");
    expect(g.hash).toMatch(/^[0-9a-f]{64}$/);
    const rows = g.select(
      "PREFIX ex: <http://example.org/shop#> PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> SELECT ?c ?l WHERE { ?c rdfs:label ?l } ORDER BY ?c",
    );
    expect(rows).toEqual([
      {
        c: { type: "iri", value: "http://example.org/shop#Customer" },
        l: {
          type: "literal",
          value: "Customer",
          language: "en",
          datatype: "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString",
        },
      },
      {
        c: { type: "iri", value: "http://example.org/shop#Order" },
        l: { type: "literal", value: "Order", datatype: "http://www.w3.org/2001/XMLSchema#string" },
      },
    ]);
    const anon = g.select("SELECT ?b WHERE { ?x <http://example.org/shop#knows> ?b }");
    expect(anon[0]?.b?.type).toBe("blank");
    g.free();
  });

  it("gives the same hash for the same content and a different one otherwise", async () => {
    clearGraphCache();
    const before = cacheStats();
    const a = await loadGraph([{ text: shop, format: "turtle" }]);
    const b = await loadGraph([{ text: shop, format: "turtle" }]);
    // the second load is answered from the process cache, not parsed again
    expect(cacheStats().parses - before.parses).toBe(1);
    expect(cacheStats().parseHits - before.parseHits).toBe(1);
    const c = await loadGraph([{ text: `${shop}\n`, format: "turtle" }]);
    expect(a.hash).toBe(b.hash);
    expect(c.hash).not.toBe(a.hash);
    for (const g of [a, b, c]) g.free();
  });

  it("loads files by extension, keeps named graphs, merges sources", async () => {
    writeFileSync(join(dir, "a.ttl"), shop);
    writeFileSync(
      join(dir, "b.trig"),
      "<http://g/1> { <http://s> <http://p> 1 . }\n<http://s> <http://p> 2 .\n",
    );
    writeFileSync(join(dir, "c.nt"), "<http://s> <http://p> <http://o> .\n");
    writeFileSync(
      join(dir, "d.rdf"),
      `<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:ex="http://x/"><rdf:Description rdf:about="http://x/a"><ex:p>v</ex:p></rdf:Description></rdf:RDF>`,
    );
    writeFileSync(join(dir, "e.jsonld"), '{"@context":{"ex":"http://x/"},"@id":"ex:b","ex:q":"w"}');
    const g = await loadGraph(
      ["a.ttl", "b.trig", "c.nt", "d.rdf", "e.jsonld"].map((f) => ({ path: join(dir, f) })),
    );
    expect(g.size).toBe(13 + 2 + 1 + 1 + 1);
    expect(g.ask("ASK { GRAPH <http://g/1> { <http://s> <http://p> 1 } }")).toBe(true);
    expect(g.ask("ASK { <http://s> <http://p> 1 }")).toBe(false);
    expect(g.ask("ASK { <http://x/b> <http://x/q> 'w' }")).toBe(true);
    expect(g.prefixes.ex).toBe("http://example.org/shop#");
    g.free();
  });

  it("loads N3 with variables and formulas through n3 when oxigraph refuses it", async () => {
    const g = await loadGraph([
      { text: "@prefix : <http://e/>. @forAll :x. { :x :p ?y } => { :x :q ?y }.", format: "n3" },
    ]);
    expect(g.size).toBe(3);
    g.free();
  });

  it("names file:line:column for a Turtle syntax error", async () => {
    const e = await caught(
      loadGraph([{ text: "@prefix ex: <http://e/> .\nex:a ex:b .\n", format: "turtle", name: "model.ttl" }]),
    );
    expect(isGgenError(e) && e.code).toBe("RDF_SYNTAX");
    expect(isGgenError(e) && e.location).toEqual({ file: "model.ttl", line: 2, column: 11 });
  });

  it("rejects an unknown extension, a missing file and a non-loopback URL", async () => {
    const e1 = await caught(loadGraph([{ path: join(dir, "x.docx") }]));
    expect(isGgenError(e1) && e1.code).toBe("RDF_FORMAT");
    const e2 = await caught(loadGraph([{ path: join(dir, "missing.ttl") }]));
    expect(isGgenError(e2) && e2.code).toBe("RDF_READ");
    const e3 = await caught(loadGraph([{ url: "http://example.org/x.ttl" }]));
    expect(isGgenError(e3) && e3.code).toBe("RDF_URL");
  });

  it("loads from a loopback URL with the format from the content type", async () => {
    const server = createServer((_req, res) => {
      res.writeHead(200, { "content-type": "application/n-triples; charset=utf-8" });
      res.end("<http://a> <http://b> <http://c> .\n");
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    try {
      const port = (server.address() as { port: number }).port;
      const g = await loadGraph([{ url: `http://127.0.0.1:${port}/data` }]);
      expect(g.ask("ASK { <http://a> <http://b> <http://c> }")).toBe(true);
      g.free();
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it("writes an on-disk cache and loads the same graph from it", async () => {
    const cacheDir = join(dir, "cache");
    writeFileSync(join(dir, "big.ttl"), shop);
    const first = await loadGraph([{ path: join(dir, "big.ttl") }], { cacheDir });
    const files = readdirSync(cacheDir).sort();
    expect(files).toEqual([`${first.hash}.json`, `${first.hash}.nq`]);
    first.free();
    clearGraphCache();
    const disk = cacheStats().diskHits;
    const second = await loadGraph([{ path: join(dir, "big.ttl") }], { cacheDir });
    expect(cacheStats().diskHits).toBe(disk + 1);
    expect(second.hash).toBe(first.hash);
    expect(second.size).toBe(13);
    expect(second.prefixes.ex).toBe("http://example.org/shop#");
    second.free();
    // a damaged cache file is ignored: the source is parsed again
    writeFileSync(join(cacheDir, `${first.hash}.nq`), "<broken");
    clearGraphCache();
    const parses = cacheStats().parses;
    const third = await loadGraph([{ path: join(dir, "big.ttl") }], { cacheDir });
    expect(third.size).toBe(13);
    expect(cacheStats().parses).toBe(parses + 1);
    third.free();
  });
});

describe("prepareGraphHost", () => {
  it("starts the host ahead without leaving a graph behind; loads and queries then answer as ever", async () => {
    clearGraphCache();
    prepareGraphHost();
    prepareGraphHost(); // once is enough: the second call changes nothing
    const before = cacheStats();
    const g = await loadGraph([{ text: shop, format: "turtle", name: "shop.ttl" }]);
    const rows = g.select(
      "PREFIX owl: <http://www.w3.org/2002/07/owl#> SELECT ?c WHERE { ?c a owl:Class } ORDER BY ?c",
    );
    expect(rows.map((r) => r.c?.value)).toEqual([
      "http://example.org/shop#Customer",
      "http://example.org/shop#Order",
    ]);
    // The warm-up's own little graph is not kept: only the one loaded here is.
    expect(cacheStats().stores).toBe(before.stores + 1);
    g.free();
  });

  it("does not keep a process alive that never loads a graph", () => {
    const built = new URL("../dist/index.js", import.meta.url).href;
    // A script file, not `-e`: the host's thread takes Node's flags, and with `--input-type` it would
    // die at once — the process then exits whatever the host does, and this test could not fail.
    const script = join(dir, "prepare-only.mjs");
    writeFileSync(
      script,
      `import { prepareGraphHost } from ${JSON.stringify(built)};
prepareGraphHost();
// Still warming after this line: the host must not hold the process open meanwhile or after.
setTimeout(() => process.stdout.write("waited\\n"), 300);`,
    );
    const r = spawnSync(process.execPath, [script], { encoding: "utf8", timeout: 20_000 });
    expect(r.signal).toBeNull();
    expect([r.status, r.stdout, r.stderr]).toEqual([0, "waited\n", ""]);
  });
});

describe("queries", () => {
  it("ASK, CONSTRUCT, DESCRIBE and query() forms", async () => {
    const g = await loadGraph([{ text: shop, format: "turtle" }]);
    expect(g.ask("ASK { ?o <http://example.org/shop#total> 12.5 }")).toBe(true);
    const c = g.construct("CONSTRUCT { ?s a <http://x/Thing> } WHERE { ?s a ?t }");
    expect(c.size).toBe(5);
    expect(c.prefixes).toEqual(g.prefixes);
    c.free();
    const d = g.query("DESCRIBE <http://example.org/shop#o1>");
    expect(d.type).toBe("graph");
    if (d.type === "graph") {
      expect(d.graph.size).toBe(3);
      d.graph.free();
    }
    const s = g.query("SELECT ?x ?unbound WHERE { ?x a <http://example.org/shop#Order> }");
    expect(s).toMatchObject({ type: "select", vars: ["x", "unbound"] });
    g.free();
  });

  it("memoizes per (hash, query) and update() changes the hash and the answers", async () => {
    const g = await loadGraph([{ text: shop, format: "turtle" }]);
    const other = await loadGraph([{ text: shop, format: "turtle" }]);
    const q = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }";
    expect(g.select(q)[0]?.n?.value).toBe("13");
    const hits = cacheStats().memoHits;
    expect(other.select(q)[0]?.n?.value).toBe("13");
    expect(cacheStats().memoHits).toBe(hits + 1);
    const before = g.hash;
    g.update("INSERT DATA { <http://x/a> <http://x/b> <http://x/c> }");
    expect(g.hash).not.toBe(before);
    expect(g.size).toBe(14);
    expect(g.select(q)[0]?.n?.value).toBe("14");
    // the other handle shares the original store, which update() copied rather than changed
    expect(other.size).toBe(13);
    expect(other.select(q)[0]?.n?.value).toBe("13");
    g.free();
    other.free();
  });

  it("reports SPARQL syntax errors at the query's place in its file", async () => {
    const g = await loadGraph([{ text: shop, format: "turtle" }]);
    const e = await caught(() => g.select("SELECT *\nWHERE { ?s ?p }", { name: "t.tmpl", line: 5 }));
    expect(isGgenError(e) && e.code).toBe("SPARQL_SYNTAX");
    expect(isGgenError(e) && e.location?.file).toBe("t.tmpl");
    expect(isGgenError(e) && e.location?.line).toBe(6);
    const u = await caught(() => g.update("INSERT DATA { <a> }"));
    expect(isGgenError(u) && u.code).toBe("SPARQL_SYNTAX");
    const f = await caught(() => g.ask("SELECT * WHERE { ?s ?p ?o }"));
    expect(isGgenError(f) && f.code).toBe("SPARQL_FORM");
    g.free();
  });

  it("throws after free()", async () => {
    const g = await loadGraph([{ text: shop, format: "turtle" }], { cache: false });
    g.free();
    const e = await caught(() => g.select("SELECT * WHERE { ?s ?p ?o }"));
    expect(isGgenError(e) && e.code).toBe("GRAPH_FREED");
  });
});

describe("dump", () => {
  it("round-trips through every serialization", async () => {
    const g = await loadGraph([{ text: shop, format: "turtle" }]);
    for (const format of ["turtle", "trig", "ntriples", "nquads", "rdfxml", "jsonld"] as const) {
      const text = g.dump(format);
      const back = await loadGraph([{ text, format, baseIri: "http://example.org/" }], { cache: false });
      expect(back.size, format).toBe(g.size);
      back.free();
    }
    expect(g.dump("turtle")).toContain("@prefix ex: <http://example.org/shop#>");
    g.free();
  });
});

describe("blank nodes", () => {
  it("get the same labels for the same content, in every load", async () => {
    let text = "@prefix : <http://e/> .\n";
    for (let i = 0; i < 30; i++) text += `:a${i % 3} :p [ :q ${i} ; :r [ :s ${i * 2} ] ] .\n`;
    const q = "SELECT ?x (COUNT(*) AS ?n) WHERE { ?x ?p ?v } GROUP BY ?x";
    const a = await loadGraph([{ text, format: "turtle" }], { cache: false });
    const b = await loadGraph([{ text, format: "turtle" }], { cache: false });
    expect(a.select(q)).toEqual(b.select(q));
    expect(a.dump("nquads")).toBe(b.dump("nquads"));
    expect(a.size).toBe(30 * 4);
    a.free();
    b.free();
  });
});

describe("N3", () => {
  it("dumps formulas inline and loads the dump back to the same size", async () => {
    const text = "@prefix : <http://e/>. { :a :p :b } => { :a :q :b }. :x :y :z .";
    const g = await loadGraph([{ text, format: "n3" }], { cache: false });
    expect(g.size).toBe(4);
    const n3 = g.dump("n3");
    expect(n3).toContain("{ :a :p :b . }");
    expect(n3).toContain(":x :y :z .");
    const back = await loadGraph([{ text: n3, format: "n3" }], { cache: false });
    expect(back.size).toBe(4);
    back.free();
    g.free();
  });
});
