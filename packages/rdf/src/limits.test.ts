// Every input is bounded: queries stop at their time limit (and the engine comes back), sources stop at
// their size limit, URLs at their time limits, RDF/XML at its entity expansion; what oxigraph would accept
// silently (two root elements) is refused.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isGgenError } from "@ggen/contract";
import { afterAll, describe, expect, it } from "vitest";
import { loadGraph, undeclaredPrefixes } from "./index.js";

const dir = mkdtempSync(join(tmpdir(), "ggen-rdf-limits-"));
const servers: Server[] = [];
afterAll(() => {
  for (const s of servers) s.close();
  rmSync(dir, { recursive: true, force: true });
});

async function refusal(p: Promise<unknown> | (() => unknown)): Promise<{ code: string; line: string }> {
  try {
    await (typeof p === "function" ? p() : p);
  } catch (e) {
    if (!isGgenError(e)) throw e;
    return { code: e.code, line: e.toLine() };
  }
  throw new Error("expected a refusal");
}

const triples = Array.from({ length: 300 }, (_, i) => `<http://e/${i}> <http://p/${i % 7}> "${i}" .`).join(
  "\n",
);
const cartesian = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }";

const laughs = (levels: number) => {
  let decls = '<!ENTITY l0 "lollollollollollollollollollol">\n';
  for (let i = 1; i <= levels; i++) decls += `<!ENTITY l${i} "${`&l${i - 1};`.repeat(10)}">\n`;
  return `<?xml version="1.0"?>
<!DOCTYPE rdf:RDF [
${decls}]>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:ex="http://ex.org/">
  <rdf:Description rdf:about="http://ex.org/a"><ex:p>&l${levels};</ex:p></rdf:Description>
</rdf:RDF>
`;
};

const oneRoot = `<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:ex="http://ex.org/">
  <rdf:Description rdf:about="http://ex.org/a"><ex:p>1</ex:p></rdf:Description>
</rdf:RDF>
`;

function serve(handler: Parameters<typeof createServer>[1]): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () =>
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
    ),
  );
}

describe("query time limit", () => {
  it("stops a cartesian product at its limit, naming the query, and the engine comes back", async () => {
    const g = await loadGraph([{ text: triples, format: "ntriples" }], { cache: false });
    const r = await refusal(() => g.select(cartesian, { name: "q.rq", line: 3, timeoutMs: 300 }));
    expect(r.code).toBe("SPARQL_TIMEOUT");
    expect(r.line).toMatch(
      /^q\.rq:3: query ran past its 300 ms limit \(raise the limit with --query-timeout/,
    );
    // The stopped engine took its graphs with it; a new load gets a new engine.
    expect((await refusal(() => g.size)).line).toMatch(/dropped when the RDF engine restarted/);
    const again = await loadGraph([{ text: triples, format: "ntriples" }], { cache: false });
    expect(again.select("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")[0]?.n?.value).toBe("300");
    again.free();
  });
});

describe("RDF/XML", () => {
  it("refuses entities that expand past the size limit, in one line", async () => {
    const r = await refusal(loadGraph([{ text: laughs(9), format: "rdfxml", name: "lol.rdf" }]));
    expect(r.code).toBe("RDF_SYNTAX");
    expect(r.line).toMatch(/^lol\.rdf:1: RDF\/XML: entity 'l\d' expands to more than 512 MiB/);
  });

  it("refuses a document with two root elements, at the second", async () => {
    const two = oneRoot + oneRoot.replace('<?xml version="1.0"?>\n', "").replace("ex.org/a", "ex.org/b");
    const r = await refusal(loadGraph([{ text: two, format: "rdfxml", name: "two.rdf" }]));
    expect(r.line).toBe("two.rdf:5: RDF/XML: more than one root element (an XML document has exactly one)");
    expect((await loadGraph([{ text: oneRoot, format: "rdfxml" }])).size).toBe(1);
  });
});

describe("engine failures", () => {
  it("turn into one line, and the engine is replaced", async () => {
    const g = await loadGraph([{ text: triples, format: "ntriples" }], { cache: false });
    const deep = `SELECT * WHERE { ?s ?p ?o FILTER(${"(".repeat(100_000)}1${")".repeat(100_000)}) }`;
    const r = await refusal(() => g.select(deep, { name: "deep.rq" }));
    expect(r.code).toBe("RDF_ENGINE");
    // oxigraph overflows its stack: a RangeError, or a trap when its shadow stack runs out first.
    expect(r.line).toMatch(
      /^deep\.rq: the RDF engine failed: (Maximum call stack size exceeded|memory access out of bounds)$/,
    );
    expect((await refusal(() => g.size)).code).toBe("GRAPH_FREED");
    const again = await loadGraph([{ text: oneRoot, format: "rdfxml" }], { cache: false });
    expect(again.size).toBe(1);
    again.free();
  });
});

describe("source size", () => {
  it("refuses a file past the limit, and what is not a regular file, without reading it", async () => {
    const file = join(dir, "big.nt");
    writeFileSync(file, triples);
    const big = await refusal(loadGraph([{ path: file }], { limits: { maxSourceBytes: 1024 } }));
    expect(big.code).toBe("RDF_TOO_LARGE");
    expect(big.line).toMatch(/big\.nt: \d+(\.\d+)? KiB|big\.nt: [\d.]+ \w+, more than the 1 KiB limit/);
    const zero = await refusal(loadGraph([{ path: "/dev/zero", format: "ntriples" }]));
    expect(zero.line).toBe("/dev/zero: not a regular file");
    const fifo = join(dir, "pipe.nt");
    execFileSync("mkfifo", [fifo]);
    expect((await refusal(loadGraph([{ path: fifo }]))).line).toMatch(/pipe\.nt: not a regular file$/);
  });
});

describe("URLs", () => {
  it("stop when the server never answers, stalls, or streams past the size limit", async () => {
    const silent = await serve(() => undefined);
    const r1 = await refusal(loadGraph([{ url: `${silent}/g.ttl` }], { limits: { fetchConnectMs: 300 } }));
    expect(r1.line).toMatch(/cannot fetch http:\/\/127\.0\.0\.1:\d+\/g\.ttl: sent no response within 300 ms/);
    const stalled = await serve((_req, res) => {
      res.writeHead(200, { "content-type": "text/turtle" });
      res.write("@prefix ex: <http://ex.org/> .\n");
    });
    const r2 = await refusal(loadGraph([{ url: `${stalled}/g.ttl` }], { limits: { fetchIdleMs: 300 } }));
    expect(r2.line).toMatch(/: stalled for 300 ms \(raise the limit with GGEN_FETCH_TIMEOUT\)$/);
    const endless = await serve((_req, res) => {
      res.writeHead(200, { "content-type": "application/n-triples" });
      const chunk = `${"<http://e/s> <http://e/p> <http://e/o> .\n".repeat(1000)}`;
      const more = () => {
        while (res.write(chunk));
        res.once("drain", more);
      };
      more();
      res.on("close", () => res.removeAllListeners("drain"));
    });
    const r3 = await refusal(
      loadGraph([{ url: `${endless}/g.nt` }], { limits: { maxSourceBytes: 1 << 20 } }),
    );
    expect(r3.code).toBe("RDF_TOO_LARGE");
  });
});

describe("undeclaredPrefixes", () => {
  it("names the prefixes a query uses but does not declare, ignoring strings, IRIs and comments", () => {
    const q = `PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
# owl:Class in a comment
SELECT ?c WHERE { ?c a owl:Class ; rdfs:label "ex:x" ; :p _:b . FILTER(datatype(?l) = xsd:string) <http://a/b:c> ?o }`;
    expect(undeclaredPrefixes(q)).toEqual(["", "owl", "xsd"]);
    expect(undeclaredPrefixes("PREFIX : <http://e/> PREFIX ex: <http://x/> SELECT * { :a ex:b ?c }")).toEqual(
      [],
    );
  });
});
