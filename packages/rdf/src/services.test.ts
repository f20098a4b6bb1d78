// SERVICE answered by local graphs (QueryOptions.services): joins, OPTIONAL, nesting, SILENT,
// and the errors for an unbound or variable endpoint. Real oxigraph evaluation throughout.
import { isGgenError } from "@ggen/contract";
import { afterAll, describe, expect, it } from "vitest";
import { clearGraphCache, loadGraph } from "./index.js";

afterAll(() => clearGraphCache());

const ttl = (text: string) => loadGraph([{ text, format: "turtle", name: "inline.ttl" }], { cache: false });
const PREFIX = "PREFIX ex: <http://example.org/>\n";
const ENDPOINT = "http://example.org/sparql";

describe("SERVICE answered by a local graph", () => {
  it("joins the dataset with the endpoint's graph, leaving the dataset as it was", async () => {
    const data = await ttl(`${PREFIX.replace("PREFIX", "@prefix").trim()} .\nex:a ex:p 1 . ex:b ex:p 2 .`);
    const remote = await ttl(`@prefix ex: <http://example.org/> .\nex:a ex:q "one" . ex:c ex:q "three" .`);
    const rows = data.select(
      `${PREFIX}SELECT ?s ?o1 ?o2 { ?s ex:p ?o1 SERVICE <${ENDPOINT}> { ?s ex:q ?o2 } }`,
      {
        services: { [ENDPOINT]: remote },
      },
    );
    expect(rows.map((r) => [r.s?.value, r.o1?.value, r.o2?.value])).toEqual([
      ["http://example.org/a", "1", "one"],
    ]);
    expect(data.size).toBe(2);
    expect(data.select(`${PREFIX}SELECT * { GRAPH ?g { ?s ?p ?o } }`)).toEqual([]);
    data.free();
    remote.free();
  });

  it("keeps a named graph of the dataset with the endpoint's IRI apart from the endpoint", async () => {
    const data = await loadGraph(
      [
        {
          text: `<http://example.org/a> <http://example.org/q> "named graph" .`,
          format: "nquads",
          graph: ENDPOINT,
        },
      ],
      { cache: false },
    );
    const remote = await ttl(`<http://example.org/a> <http://example.org/q> "endpoint" .`);
    const rows = data.select(`${PREFIX}SELECT ?o { SERVICE <${ENDPOINT}> { ?s ex:q ?o } }`, {
      services: { [ENDPOINT]: remote },
    });
    expect(rows.map((r) => r.o?.value)).toEqual(["endpoint"]);
    data.free();
    remote.free();
  });

  it("evaluates OPTIONAL and nested SERVICE calls against each endpoint's own graph", async () => {
    const e1 = await ttl(`@prefix ex: <http://example.org/> .\nex:a ex:p 1 . ex:b ex:p 2 .`);
    const e2 = await ttl(`@prefix ex: <http://example.org/> .\nex:b ex:r "b in e2" .`);
    const empty = await ttl("");
    const q = `${PREFIX}SELECT ?s ?o2 { SERVICE <http://e1/> { ?s ex:p ?o1 OPTIONAL { SERVICE <http://e2/> { ?s ex:r ?o2 } } } } ORDER BY ?s`;
    const rows = empty.select(q, { services: { "http://e1/": e1, "http://e2/": e2 } });
    expect(rows.map((r) => [r.s?.value, r.o2?.value])).toEqual([
      ["http://example.org/a", undefined],
      ["http://example.org/b", "b in e2"],
    ]);
    for (const g of [e1, e2, empty]) g.free();
  });

  it("answers SERVICE SILENT to an unbound endpoint with one empty solution", async () => {
    const data = await ttl(`@prefix ex: <http://example.org/> .\nex:a ex:p 1 .`);
    const rows = data.select(
      `${PREFIX}SELECT ?s ?x { ?s ex:p ?o SERVICE SILENT <http://nowhere/> { ?s ex:q ?x } }`,
      {
        services: {},
      },
    );
    expect(rows.map((r) => [r.s?.value, r.x])).toEqual([["http://example.org/a", undefined]]);
    data.free();
  });

  it("rejects an unbound endpoint and a variable endpoint, naming them", async () => {
    const data = await ttl("");
    const run = (q: string) => {
      try {
        data.select(`${PREFIX}${q}`, { name: "q.rq", services: { [ENDPOINT]: data } });
      } catch (e) {
        return e;
      }
      return undefined;
    };
    const unbound = run("SELECT * { SERVICE <http://nowhere/> { ?s ?p ?o } }");
    expect(isGgenError(unbound) && unbound.code).toBe("SPARQL_SERVICE");
    expect((unbound as Error).message).toBe("SERVICE <http://nowhere/> has no local graph");
    const variable = run("SELECT * { ?x ex:endpoint ?e SERVICE ?e { ?s ?p ?o } }");
    expect((variable as Error).message).toMatch(/^SERVICE \?e: a variable endpoint cannot be answered/);
    data.free();
  });
});

describe("blank node scope in updates", () => {
  it("rejects a label reused across INSERT DATA operations, at the line of the reuse", async () => {
    const g = await ttl("");
    let err: unknown;
    try {
      g.update("PREFIX : <http://x/>\nINSERT DATA { _:b1 :p :o } ;\n\nINSERT DATA { _:b1 :p :o }", {
        name: "u.ru",
      });
    } catch (e) {
      err = e;
    }
    expect(isGgenError(err) && err.code).toBe("SPARQL_SYNTAX");
    expect((err as Error).message).toBe(
      "SPARQL syntax error: a blank node label is reused across INSERT DATA operations",
    );
    expect(isGgenError(err) && err.location).toEqual({ file: "u.ru", line: 4 });
    expect(g.size).toBe(0);
    // Distinct labels, or one operation: fine.
    g.update("PREFIX : <http://x/>\nINSERT DATA { _:b1 :p :o } ;\nINSERT DATA { _:b2 :p :o }");
    expect(g.size).toBe(2);
    g.free();
  });
});
