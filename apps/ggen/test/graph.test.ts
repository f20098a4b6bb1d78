// `ggen graph query|export|validate` as a user meets them, through the built binary.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const bin = join(import.meta.dirname, "..", "dist", "bin.js");
const dir = mkdtempSync(join(tmpdir(), "ggen-graph-cli-"));
const run = (...args: string[]) =>
  spawnSync(process.execPath, [bin, ...args], {
    cwd: dir,
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1" },
  });

const good = `@prefix ex: <http://example.org/> .
ex:a ex:name "Alice"@en ; ex:age 30 .
ex:b ex:name "Bob, \\"B\\"" ; ex:knows ex:a .
`;

beforeAll(() => {
  writeFileSync(join(dir, "good.ttl"), good);
  writeFileSync(
    join(dir, "bad.ttl"),
    '@prefix ex: <http://example.org/> .\nex:a ex:name "x" ;\n  ex:age  .\n',
  );
  writeFileSync(join(dir, "bad.nt"), "<http://a> <http://b> .\n");
  writeFileSync(join(dir, "bad.rq"), "SELECT *\nWHERE { ?s ?p ?o .\n FILTER(?o = ) }\n");
  writeFileSync(join(dir, "g.trig"), "<http://g> { <http://s> <http://p> <http://o> . }\n");
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const names = "SELECT ?s ?n WHERE { ?s ex:name ?n } ORDER BY ?s";

describe("ggen graph query", () => {
  it("prints a table, using the data's prefixes", () => {
    const r = run("graph", "query", "good.ttl", "--query", names);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("ex:a");
    expect(r.stdout).toContain('"Alice"@en');
    expect(r.stdout).toContain("(2 rows)");
  });

  it("--format json is the W3C SPARQL JSON results format", () => {
    const r = run("graph", "query", "good.ttl", "--query", names, "--format", "json");
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      head: { vars: ["s", "n"] },
      results: {
        bindings: [
          {
            s: { type: "uri", value: "http://example.org/a" },
            n: { type: "literal", value: "Alice", "xml:lang": "en" },
          },
          { s: { type: "uri", value: "http://example.org/b" }, n: { type: "literal", value: 'Bob, "B"' } },
        ],
      },
    });
  });

  it("--format csv and tsv follow the W3C CSV/TSV results formats", () => {
    const csv = run("graph", "query", "good.ttl", "--query", names, "--format", "csv");
    expect(csv.stdout).toBe('s,n\r\nhttp://example.org/a,Alice\r\nhttp://example.org/b,"Bob, ""B"""\r\n');
    const tsv = run(
      "graph",
      "query",
      "good.ttl",
      "--query",
      "SELECT ?s ?a WHERE { ?s ex:age ?a }",
      "--format",
      "tsv",
    );
    expect(tsv.stdout).toBe("?s\t?a\n<http://example.org/a>\t30\n");
  });

  it("ASK gives a boolean; CONSTRUCT prints Turtle or N-Triples", () => {
    const ask = run("graph", "query", "good.ttl", "--query", "ASK { ?s ex:age 30 }", "--format", "json");
    expect(JSON.parse(ask.stdout)).toEqual({ head: {}, boolean: true });
    const ttl = run("graph", "query", "good.ttl", "--query", "CONSTRUCT WHERE { ?s ex:knows ?o }");
    expect(ttl.stdout).toContain("@prefix ex: <http://example.org/>");
    expect(ttl.stdout).toContain("ex:b ex:knows ex:a");
    const nt = run(
      "graph",
      "query",
      "good.ttl",
      "--query",
      "CONSTRUCT WHERE { ?s ex:knows ?o }",
      "--format",
      "nt",
    );
    expect(nt.stdout).toBe("<http://example.org/b> <http://example.org/knows> <http://example.org/a> .\n");
  });

  it("reads the query from @file", () => {
    writeFileSync(join(dir, "q.rq"), "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }");
    const r = run("graph", "query", "good.ttl", "--query", "@q.rq", "--format", "csv");
    expect(r.stdout).toBe("n\r\n4\r\n");
  });

  it("--bind puts values in as escaped literals and IRIs", () => {
    const q = "SELECT ?s WHERE { ?s ex:name ?n }";
    const r = run("graph", "query", "good.ttl", "--query", q, "--bind", 'n=Bob, "B"', "--format", "csv");
    expect(r.stdout).toBe("s\r\nhttp://example.org/b\r\n");
    const evil = run(
      "graph",
      "query",
      "good.ttl",
      "--query",
      q,
      "--bind",
      'n=x" } ?s ?p ?o . { "',
      "--format",
      "csv",
    );
    expect(evil.status).toBe(0);
    expect(evil.stdout).toBe("s\r\n");
    const iri = run(
      "graph",
      "query",
      "good.ttl",
      "--query",
      "ASK { $who ex:knows ?x }",
      "--bind",
      "who=<http://example.org/b>",
    );
    expect(iri.stdout.trim()).toBe("true");
    const bad = run("graph", "query", "good.ttl", "--query", q, "--bind", "nope");
    expect(bad.status).toBe(2);
  });

  it("--service answers SERVICE from a local file; an unbound endpoint is one clear line", () => {
    writeFileSync(join(dir, "remote.ttl"), '@prefix ex: <http://example.org/> .\nex:a ex:city "Oslo" .\n');
    const fed =
      "SELECT ?n ?c WHERE { ?s ex:name ?n SERVICE <https://remote.example/sparql> { ?s ex:city ?c } }";
    const r = run(
      "graph",
      "query",
      "good.ttl",
      "--query",
      fed,
      "--service",
      "https://remote.example/sparql=remote.ttl",
      "--format",
      "csv",
    );
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("n,c\r\nAlice,Oslo\r\n");
    const other = run(
      "graph",
      "query",
      "good.ttl",
      "--query",
      fed.replace("remote.example", "other.example"),
      "--service",
      "https://remote.example/sparql=remote.ttl",
    );
    expect(other.status).toBe(1);
    expect(other.stderr.trim().split("\n")).toHaveLength(1);
    expect(other.stderr).toMatch(/SERVICE <https:\/\/other\.example\/sparql> has no local graph/);
    expect(run("graph", "query", "good.ttl", "--query", fed, "--service", "remote.ttl").status).toBe(2);
  });

  it("bad SPARQL: one line with file:line:col, exit 2", () => {
    const r = run("graph", "query", "good.ttl", "--query", "@bad.rq");
    expect(r.status, r.stderr).toBe(2);
    expect(r.stdout).toBe("");
    const lines = r.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^ggen: error: bad\.rq:3:17: SPARQL syntax error: expected /);
    const inline = run("graph", "query", "good.ttl", "--query", "SELECT * WHERE { ?s ?p }");
    expect(inline.status, inline.stderr).toBe(2);
    expect(inline.stderr).toMatch(/^ggen: error: --query:1:\d+: SPARQL syntax error/);
  });

  it("malformed Turtle: one line with file:line:col, exit 1", () => {
    const r = run("graph", "query", "bad.ttl", "--query", "ASK {}");
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split("\n")).toEqual([
      "ggen: error: bad.ttl:3:11: RDF syntax error: . is not a valid RDF object",
    ]);
  });

  it("an unknown results format is a usage error", () => {
    const r = run("graph", "query", "good.ttl", "--query", names, "--format", "xlsx");
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/unknown results format 'xlsx'/);
  });
});

describe("ggen graph export", () => {
  it("converts between serializations, keeping named graphs in TriG/N-Quads", () => {
    const nt = run("graph", "export", "good.ttl", "--format", "nt");
    expect(nt.status).toBe(0);
    expect(nt.stdout.trim().split("\n")).toHaveLength(4);
    const nq = run("graph", "export", "g.trig", "--format", "nquads");
    expect(nq.stdout).toBe("<http://s> <http://p> <http://o> <http://g> .\n");
    const jsonld = run("graph", "export", "good.ttl", "--format", "jsonld");
    expect(JSON.parse(jsonld.stdout)).toHaveLength(2);
  });

  it("writes to --output atomically, and the file loads back", () => {
    const r = run("graph", "export", "good.ttl", "--format", "rdfxml", "--output", "out.rdf");
    expect(r.status).toBe(0);
    expect(readFileSync(join(dir, "out.rdf"), "utf8")).toContain("rdf:RDF");
    const back = run("graph", "validate", "out.rdf");
    expect(back.stdout).toContain("ok out.rdf (4 quads)");
  });

  it("warns when a triple format leaves named graphs out", () => {
    const r = run("graph", "export", "g.trig", "--format", "nt");
    expect(r.status).toBe(0);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe(
      "warning: 1 quads in named graphs are left out of ntriples (default graph only); use trig or nquads\n",
    );
  });

  it("an unknown serialization is a usage error", () => {
    const r = run("graph", "export", "good.ttl", "--format", "docx");
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^ggen: error: unknown serialization 'docx'/);
  });
});

describe("ggen graph validate", () => {
  it("passes good files", () => {
    const r = run("graph", "validate", "good.ttl", "g.trig");
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("ok good.ttl (4 quads)");
    expect(r.stdout).toContain("ok g.trig (1 quads)");
  });

  it("reports every bad file with file:line:col and exits 1", () => {
    const r = run("graph", "validate", "good.ttl", "bad.ttl", "bad.nt");
    expect(r.status).toBe(1);
    const lines = r.stderr.trim().split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[0]).toBe("ggen: error: bad.ttl:3:11: RDF syntax error: . is not a valid RDF object");
    expect(lines[1]).toMatch(/^ggen: error: bad\.nt:1:\d+: RDF syntax error: /);
  });

  it("--json gives a report", () => {
    const r = run("graph", "validate", "good.ttl", "bad.ttl", "--json");
    expect(r.status).toBe(1);
    const report = JSON.parse(r.stdout);
    expect(report.valid).toBe(false);
    expect(report.files[1]).toMatchObject({ file: "bad.ttl", ok: false });
  });

  it("a missing file is reported with its name", () => {
    const r = run("graph", "validate", "nope.ttl");
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toBe("ggen: error: nope.ttl: no such file");
  });

  it("graph without a subcommand is a usage error", () => {
    const r = run("graph");
    expect(r.status).toBe(2);
  });
});
