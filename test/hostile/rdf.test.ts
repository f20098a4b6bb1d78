// RDF and SPARQL (ggen graph): every source bounded in size and time, every query in time; what oxigraph
// would accept silently or panic on is one line. Each refusal is followed by the ordinary command.
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectRefused, run, Sandbox } from "./harness.js";

const box = new Sandbox("rdf");
const servers: Server[] = [];
afterAll(() => {
  for (const s of servers) s.close();
  box.dispose();
});

const ggen = (args: string[], env?: NodeJS.ProcessEnv) =>
  run("ggen", args, { cwd: box.root, ...(env ? { env } : {}) });

const count = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }";

/** The ordinary command after a refusal: a plain query answers. */
async function stillWorks(): Promise<void> {
  const r = await ggen(["graph", "query", "c.nt", "--query", count, "--format", "csv"]);
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout).toBe("n\r\n300\r\n");
  box.check();
}

function serve(handler: Parameters<typeof createServer>[1]): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () =>
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
    ),
  );
}

const laughs = (levels: number) => {
  let decls = '<!ENTITY l0 "lol">\n';
  for (let i = 1; i <= levels; i++) decls += `<!ENTITY l${i} "${`&l${i - 1};`.repeat(10)}">\n`;
  return `<?xml version="1.0"?>\n<!DOCTYPE rdf:RDF [\n${decls}]>\n<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:ex="http://ex.org/">\n<rdf:Description rdf:about="http://ex.org/a"><ex:p>&l${levels};</ex:p></rdf:Description>\n</rdf:RDF>\n`;
};

const doc = (s: string) =>
  `<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:ex="http://ex.org/">\n<rdf:Description rdf:about="http://ex.org/${s}"><ex:p>1</ex:p></rdf:Description>\n</rdf:RDF>\n`;

beforeAll(() => {
  writeFileSync(
    join(box.root, "c.nt"),
    Array.from({ length: 300 }, (_, i) => `<http://e/${i}> <http://p/${i % 7}> "${i}" .\n`).join(""),
  );
});

describe("RDF/XML", () => {
  it("entity expansion ('billion laughs') is refused in one line, no panic", async () => {
    writeFileSync(join(box.root, "lol.rdf"), laughs(9));
    const r = await ggen(["graph", "query", "lol.rdf", "--query", count]);
    expectRefused(r, 1);
    expect(r.stderr).toMatch(/lol\.rdf:1: RDF\/XML: entity 'l9' expands to more than 512 MiB/);
    expect(r.stderr).not.toMatch(/panicked|Stack/);
    await stillWorks();
  });

  it("a document with two root elements is refused", async () => {
    writeFileSync(join(box.root, "two.rdf"), `<?xml version="1.0"?>\n${doc("a")}${doc("b")}`);
    const r = await ggen(["graph", "validate", "two.rdf"]);
    expectRefused(r, 1);
    expect(r.stderr).toMatch(/two\.rdf:5: RDF\/XML: more than one root element/);
    await stillWorks();
  });
});

describe("queries are bounded in time", () => {
  it("a cartesian product (COUNT, ORDER BY … LIMIT) stops at --query-timeout", async () => {
    const product = "?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l";
    for (const q of [
      `SELECT (COUNT(*) AS ?n) WHERE { ${product} }`,
      `SELECT ?a WHERE { ${product} } ORDER BY ?l ?i ?f ?c LIMIT 1`,
    ]) {
      const r = await ggen(["graph", "query", "c.nt", "--query", q, "--query-timeout", "1s"]);
      expectRefused(r, 1);
      expect(r.stderr).toMatch(/^ggen: error: --query:1: query ran past its 1 s limit \(raise the limit/);
    }
    const env = await ggen(
      ["graph", "query", "c.nt", "--query", `SELECT (COUNT(*) AS ?n) WHERE { ${product} }`],
      {
        GGEN_QUERY_TIMEOUT: "1500ms",
      },
    );
    expectRefused(env, 1);
    expect(env.stderr).toMatch(/query ran past its 1\.5 s limit/);
    await stillWorks();
  });

  it("a query nested 100,000 deep is one line", async () => {
    const deep = `SELECT * WHERE { ?s ?p ?o FILTER(${"(".repeat(100_000)}1${")".repeat(100_000)}) }`;
    writeFileSync(join(box.root, "deep.rq"), deep);
    const r = await ggen(["graph", "query", "c.nt", "--query", "@deep.rq"]);
    expectRefused(r, 1);
    expect(r.stderr).toMatch(/deep\.rq: the RDF engine failed: /);
    await stillWorks();
  });
});

describe("sources are bounded in size and time", () => {
  it("/dev/zero and a FIFO as a graph or a query file end at once", async () => {
    execFileSync("mkfifo", [join(box.root, "pipe.nt")]);
    expectRefused(await ggen(["graph", "query", "/dev/zero", "--input-format", "nt", "--query", count]), 2);
    expectRefused(await ggen(["graph", "query", "pipe.nt", "--query", count]), 2);
    expectRefused(await ggen(["graph", "query", "c.nt", "--query", "@/dev/zero"]), 2);
    expectRefused(await ggen(["graph", "query", "c.nt", "--query", "@pipe.nt"]), 2);
    await stillWorks();
  });

  it("a graph past GGEN_MAX_GRAPH_SIZE is refused", async () => {
    const r = await ggen(["graph", "query", "c.nt", "--query", count], { GGEN_MAX_GRAPH_SIZE: "4K" });
    expectRefused(r, 1);
    expect(r.stderr).toMatch(/c\.nt: \d+ B, more than the 4 KiB limit for a graph source/);
    await stillWorks();
  });

  it("a URL that never answers, stalls, or streams forever ends within its limits", async () => {
    const silent = await serve(() => undefined);
    const r1 = await ggen(["graph", "query", `${silent}/g.ttl`, "--query", count], {
      GGEN_FETCH_TIMEOUT: "1s",
    });
    expectRefused(r1, 1);
    expect(r1.stderr).toMatch(
      /cannot fetch http:\/\/127\.0\.0\.1:\d+\/g\.ttl: (sent no response within|took longer than) 1 s/,
    );
    const stalled = await serve((_req, res) => {
      res.writeHead(200, { "content-type": "text/turtle" });
      res.write("@prefix ex: <http://ex.org/> .\n");
    });
    const r2 = await ggen(["graph", "query", `${stalled}/g.ttl`, "--query", count], {
      GGEN_FETCH_TIMEOUT: "1s",
    });
    expectRefused(r2, 1);
    const endless = await serve((_req, res) => {
      res.writeHead(200, { "content-type": "application/n-triples" });
      const chunk = "<http://e/s> <http://e/p> <http://e/o> .\n".repeat(1000);
      const more = () => {
        while (res.write(chunk));
        res.once("drain", more);
      };
      more();
      res.on("close", () => res.removeAllListeners("drain"));
    });
    const r3 = await ggen(["graph", "query", `${endless}/g.nt`, "--query", count], {
      GGEN_MAX_GRAPH_SIZE: "2M",
    });
    expectRefused(r3, 1);
    expect(r3.stderr).toMatch(/more than the 2 MiB limit for a graph source/);
    await stillWorks();
  });
});
