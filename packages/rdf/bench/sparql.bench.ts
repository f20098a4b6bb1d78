// SPARQL on a generated 100k-triple graph: @ggen/rdf (oxigraph) against Comunica on the same data, one
// ratio per query; and the second load of a graph through the on-disk cache against the first load.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { QueryEngine } from "@comunica/query-sparql-rdfjs";
import { type BenchResult, measure, ratio, record } from "@ggen/bench";
import { Parser, Store } from "n3";
import { afterAll, expect, it } from "vitest";
import { clearGraphCache, loadGraph, syntheticGraph } from "../src/index.js";

const TRIPLES = 100_000;
const P = `PREFIX ex: <http://example.org/bench#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
`;
const queries: { name: string; query: string; kind: "select" | "construct" }[] = [
  {
    name: "point lookup",
    kind: "select",
    query: `${P}SELECT ?v ?n WHERE { ex:item5000 ex:value ?v ; ex:name ?n }`,
  },
  {
    name: "join",
    kind: "select",
    query: `${P}SELECT ?a ?n ?v WHERE { ?a a ex:Class3 ; ex:name ?n ; ex:next ?b . ?b ex:value ?v }`,
  },
  { name: "FILTER", kind: "select", query: `${P}SELECT ?s ?v WHERE { ?s ex:value ?v FILTER(?v > 990) }` },
  {
    name: "GROUP BY",
    kind: "select",
    query: `${P}SELECT ?c (COUNT(?s) AS ?n) (AVG(?v) AS ?avg) WHERE { ?s a ?c ; ex:value ?v } GROUP BY ?c`,
  },
  {
    name: "property path",
    kind: "select",
    query: `${P}SELECT ?s ?end WHERE { ?s a ex:Class7 . ?s ex:next+ ?end }`,
  },
  {
    name: "CONSTRUCT",
    kind: "construct",
    query: `${P}CONSTRUCT { ?s rdfs:label ?n } WHERE { ?s a ex:Class5 ; ex:name ?n }`,
  },
];

const dir = mkdtempSync(join(tmpdir(), "ggen-rdf-bench-"));
afterAll(() => {
  clearGraphCache();
  rmSync(dir, { recursive: true, force: true });
});

it("SPARQL through @ggen/rdf against Comunica on a 100k-triple graph", async () => {
  const text = syntheticGraph(TRIPLES);
  const graph = await loadGraph([{ text, format: "ntriples" }], { cache: false });
  expect(graph.size).toBe(TRIPLES);
  const store = new Store(new Parser({ format: "N-Triples" }).parse(text));
  const engine = new QueryEngine();
  const results: BenchResult[] = [];
  for (const q of queries) {
    // same answers first: row / triple counts agree
    const ours =
      q.kind === "select" ? graph.select(q.query, { memo: false }).length : graph.construct(q.query).size;
    const theirs =
      q.kind === "select"
        ? (await (await engine.queryBindings(q.query, { sources: [store] })).toArray()).length
        : (await (await engine.queryQuads(q.query, { sources: [store] })).toArray()).length;
    expect(ours, q.name).toBe(theirs);
    expect(ours, q.name).toBeGreaterThan(0);
    const subject = await measure(
      `@ggen/rdf ${q.name}`,
      () => {
        if (q.kind === "select") graph.select(q.query, { memo: false });
        else graph.construct(q.query).free();
      },
      { runs: 15, warmup: 2 },
    );
    const baseline = await measure(
      `comunica ${q.name}`,
      async () => {
        if (q.kind === "select") await (await engine.queryBindings(q.query, { sources: [store] })).toArray();
        else await (await engine.queryQuads(q.query, { sources: [store] })).toArray();
      },
      { runs: 5, warmup: 1 },
    );
    results.push({ ...ratio(subject, baseline), rows: ours });
  }
  // a memoized repeat of the GROUP BY, for scale
  const group = queries[3]?.query ?? "";
  graph.select(group);
  const memoHit = await measure("@ggen/rdf GROUP BY (memoized)", () => graph.select(group), {
    runs: 50,
    warmup: 5,
  });
  results.push(memoHit);
  graph.free();
  record("rdf-sparql-vs-comunica", results);
  for (const r of results.slice(0, queries.length)) expect(r.ratio).toBeGreaterThan(0);
});

it("crossing to the host: queries through @ggen/rdf against oxigraph on this thread (the cost of the time limit)", async () => {
  const text = syntheticGraph(TRIPLES);
  const graph = await loadGraph([{ text, format: "ntriples" }], { cache: false });
  const ox = await import("oxigraph");
  const store = new ox.Store();
  store.load(text, { format: "application/n-triples" });
  const results: BenchResult[] = [];
  for (const q of queries.filter((x) => x.kind === "select")) {
    expect(graph.select(q.query, { memo: false }).length, q.name).toBe(
      (
        JSON.parse(store.query(q.query, { results_format: "json" }) as string) as {
          results: { bindings: unknown[] };
        }
      ).results.bindings.length,
    );
    const subject = await measure(`host ${q.name}`, () => graph.select(q.query, { memo: false }), {
      runs: 15,
      warmup: 2,
    });
    const baseline = await measure(
      `in-thread ${q.name}`,
      () => JSON.parse(store.query(q.query, { results_format: "json" }) as string),
      { runs: 15, warmup: 2 },
    );
    results.push(ratio(subject, baseline));
  }
  graph.free();
  record("rdf-host-crossing", results);
  for (const r of results) expect(r.ratio).toBeGreaterThan(0);
});

it("second load with the on-disk cache against the first load (Turtle, 100k triples)", async () => {
  // Turtle with prefixes, as a project's ontology would be written
  const nt = syntheticGraph(TRIPLES);
  const ttl = `@prefix ex: <http://example.org/bench#> .\n${nt.replaceAll("<http://example.org/bench#", "ex:").replace(/ex:([A-Za-z0-9_]+)>/g, "ex:$1")}`;
  const file = join(dir, "onto.ttl");
  writeFileSync(file, ttl);
  let n = 0;
  const first = await measure(
    "first load (parse Turtle, write cache)",
    async () => {
      clearGraphCache();
      const g = await loadGraph([{ path: file }], { cacheDir: join(dir, `cache-${n++}`) });
      g.free();
    },
    { runs: 7, warmup: 1 },
  );
  const cacheDir = join(dir, "cache-warm");
  (await loadGraph([{ path: file }], { cacheDir })).free();
  const second = await measure(
    "second load (on-disk cache)",
    async () => {
      clearGraphCache();
      const g = await loadGraph([{ path: file }], { cacheDir });
      expect(g.size).toBe(TRIPLES);
      g.free();
    },
    { runs: 7, warmup: 1 },
  );
  const inProcess = await measure(
    "repeat load (process cache)",
    async () => {
      const g = await loadGraph([{ path: file }], { cacheDir });
      g.free();
    },
    { runs: 20, warmup: 2 },
  );
  // why the disk cache holds N-Quads: parsing them against parsing the Turtle they came from
  const turtleParse = await measure(
    "parse Turtle (no cache)",
    async () => (await loadGraph([{ text: ttl, format: "turtle" }], { cache: false })).free(),
    { runs: 7, warmup: 1 },
  );
  const nq = (await loadGraph([{ text: ttl, format: "turtle" }], { cache: false })).dump("nquads");
  const nquadsParse = await measure(
    "parse N-Quads (no cache)",
    async () => (await loadGraph([{ text: nq, format: "nquads" }], { cache: false })).free(),
    { runs: 7, warmup: 1 },
  );
  clearGraphCache();
  record("rdf-graph-cache", [ratio(second, first), inProcess, ratio(nquadsParse, turtleParse)]);
  expect(second.median).toBeGreaterThan(0);
});
