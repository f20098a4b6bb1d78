import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { generate } from "./engine.js";
import { ContractViolations, mayHoldRelativeIri } from "./pack-contract.js";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function project(files: Record<string, string>): string {
  const d = mkdtempSync(join(tmpdir(), "ggen-contract-"));
  dirs.push(d);
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(dirname(join(d, p)), { recursive: true });
    writeFileSync(join(d, p), text);
  }
  return d;
}

const pack = {
  "pack/ggen.toml": `[pack]
id = "acme.library"
version = "1.0.0"
[[templates]]
name = "books"
path = "t/books.tmpl"
[vars]
name = "lib"
port = { default = 3000, type = "integer" }
[graphs]
files = ["g/library.ttl"]
[contract]
shapes = ["shapes"]
vars_schema = "vars.schema.json"
`,
  "pack/t/books.tmpl": `---
to: books.txt
sparql:
  books: "SELECT ?b WHERE { ?b a <http://example.org/Book> } ORDER BY ?b"
---
{{#each sparql.books}}{{b}}
{{/each}}`,
  "pack/g/library.ttl": '@prefix ex: <http://example.org/> .\nex:b1 a ex:Book ; ex:title "T" .\n',
  "pack/shapes/book.ttl": `@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix ex: <http://example.org/> .
ex:BookShape a sh:NodeShape ; sh:targetClass ex:Book ;
  sh:property [ sh:path ex:title ; sh:minCount 1 ] .
`,
  "pack/vars.schema.json": JSON.stringify({
    type: "object",
    required: ["name"],
    properties: { name: { type: "string", pattern: "^[a-z]+$" }, port: { type: "integer", maximum: 65535 } },
  }),
};

async function failure(p: Promise<unknown>): Promise<ContractViolations> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(ContractViolations);
  return e as ContractViolations;
}

describe("pack contracts", () => {
  it("renders when the graph and vars satisfy the pack's shapes and vars schema", async () => {
    const d = project(pack);
    const r = await generate({ templates: ["pack"], cwd: d, outputDir: "out", manifest: false });
    expect(r.files.map((f) => f.path)).toEqual(["books.txt"]);
  });

  it("reports every shape violation in the user's graph at file:line:col, before rendering anything", async () => {
    const d = project({
      ...pack,
      "library.ttl":
        '@prefix ex: <http://example.org/> .\nex:b1 a ex:Book ; ex:title "A" .\n\n  ex:b2 a ex:Book .\nex:b3 a ex:Book .\n',
    });
    const e = await failure(
      generate({ templates: ["pack"], cwd: d, outputDir: "out", graphs: ["library.ttl"], manifest: false }),
    );
    expect(e.violations.map((v) => v.toLine())).toEqual([
      "library.ttl:4:3: ex:b2 has no ex:title (shape ex:BookShape of acme.library)",
      "library.ttl:5:1: ex:b3 has no ex:title (shape ex:BookShape of acme.library)",
    ]);
    expect(e.kind).toBe("usage");
    expect(existsSync(join(d, "out"))).toBe(false);
  });

  it("hands each output over as it is rendered, before anything is written", async () => {
    const d = project(pack);
    const seen: { path: string; content: string; onDisk: boolean }[] = [];
    await generate({
      templates: ["pack"],
      cwd: d,
      outputDir: "out",
      manifest: false,
      onRendered: ({ path, content }) => seen.push({ path, content, onDisk: existsSync(path) }),
    });
    expect(seen).toEqual([
      { path: join(d, "out", "books.txt"), content: "http://example.org/b1\n", onDisk: false },
    ]);
    expect(readFileSync(join(d, "out", "books.txt"), "utf8")).toBe(seen[0]!.content);
  });

  it("checks vars against the schema and points at where each value came from", async () => {
    const d = project({ ...pack, "vars.yaml": "# vars\nname: Lib\n" });
    const e = await failure(
      generate({
        templates: ["pack"],
        cwd: d,
        outputDir: "out",
        varsFiles: ["vars.yaml"],
        vars: { port: "70000" },
        mode: "dry-run",
      }),
    );
    expect(e.violations.map((v) => v.toLine())).toEqual([
      'vars.yaml:2:1: var \'name\' must match pattern "^[a-z]+$", got "Lib" (vars schema of acme.library)',
      "--vars port: var 'port' must be <= 65535, got \"70000\" (vars schema of acme.library)",
    ]);
  });

  it("a pack default that breaks the schema points at ggen.toml", async () => {
    const d = project({
      ...pack,
      "pack/ggen.toml": pack["pack/ggen.toml"].replace('name = "lib"', 'name = "LIB"'),
    });
    const e = await failure(generate({ templates: ["pack"], cwd: d, outputDir: "out", mode: "dry-run" }));
    expect(e.violations[0]!.toLine()).toBe(
      'pack/ggen.toml:8:1: var \'name\' must match pattern "^[a-z]+$", got "LIB" (vars schema of acme.library)',
    );
  });
});

describe("pack contract cache", () => {
  it("a check that passed is remembered by its inputs; a changed graph is checked again", async () => {
    const d = project(pack);
    const cacheDir = join(d, "cache");
    await generate({ templates: ["pack"], cwd: d, outputDir: "out", manifest: false, cacheDir });
    const remembered = readdirSync(join(cacheDir, "contracts"));
    expect(remembered).toHaveLength(2);
    // Same inputs: the remembered passes are used, nothing new is remembered.
    await generate({ templates: ["pack"], cwd: d, outputDir: "out", manifest: false, cacheDir, force: true });
    expect(readdirSync(join(cacheDir, "contracts")).sort()).toEqual([...remembered].sort());
    writeFileSync(join(d, "pack/g/library.ttl"), "@prefix ex: <http://example.org/> .\nex:b9 a ex:Book .\n");
    const e = await failure(
      generate({ templates: ["pack"], cwd: d, outputDir: "out", manifest: false, cacheDir }),
    );
    expect(e.violations.map((v) => v.toLine())).toEqual([
      "pack/g/library.ttl:2:1: ex:b9 has no ex:title (shape ex:BookShape of acme.library)",
    ]);
  });

  it("the lock is the same whether the check ran or was remembered (the shapes are not the model)", async () => {
    const d = project(pack);
    const cacheDir = join(d, "cache");
    const lock = async () => {
      const r = await generate({ templates: ["pack"], cwd: d, outputDir: "out", cacheDir, force: true });
      return r.manifest!.counts;
    };
    const ran = await lock();
    expect(readdirSync(join(cacheDir, "contracts"))).toHaveLength(2);
    const remembered = await lock();
    expect(remembered).toEqual(ran);
    expect(ran.triples).toBe(2); // ex:b1's type and title; the shapes' triples are not counted
  });

  it("a pass is remembered by content: the same pack in another project is not checked again", async () => {
    const cacheDir = mkdtempSync(join(tmpdir(), "ggen-contract-cache-"));
    dirs.push(cacheDir);
    const first = project(pack);
    await generate({ templates: ["pack"], cwd: first, outputDir: "out", manifest: false, cacheDir });
    const remembered = readdirSync(join(cacheDir, "contracts")).sort();
    const second = project(pack);
    await generate({ templates: ["pack"], cwd: second, outputDir: "out", manifest: false, cacheDir });
    expect(readdirSync(join(cacheDir, "contracts")).sort()).toEqual(remembered);
  });

  it("a graph with relative IRIs is checked again where they resolve to other IRIs", async () => {
    // The shape holds only where the books' IRIs (relative, so under the graph's file URL) name a dir 'a'.
    const relative = (dir: string) => ({
      [`${dir}/pack/ggen.toml`]: pack["pack/ggen.toml"].replace('vars_schema = "vars.schema.json"\n', ""),
      [`${dir}/pack/t/books.tmpl`]: pack["pack/t/books.tmpl"],
      [`${dir}/pack/g/library.ttl`]: "@prefix ex: <http://example.org/> .\n<b1> a ex:Book .\n",
      [`${dir}/pack/shapes/book.ttl`]: `@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix ex: <http://example.org/> .
ex:BookShape a sh:NodeShape ; sh:targetClass ex:Book ; sh:pattern "/a/pack/g/" .
`,
    });
    const cacheDir = mkdtempSync(join(tmpdir(), "ggen-contract-cache-"));
    dirs.push(cacheDir);
    const ok = project(relative("a"));
    await generate({ templates: ["a/pack"], cwd: ok, outputDir: "out", manifest: false, cacheDir });
    expect(readdirSync(join(cacheDir, "contracts"))).toHaveLength(1);
    const moved = project(relative("b"));
    const e = await failure(
      generate({ templates: ["b/pack"], cwd: moved, outputDir: "out", manifest: false, cacheDir }),
    );
    expect(e.violations).toHaveLength(1);
    expect(e.violations[0]!.toLine()).toMatch(/^b\/pack\/g\/library\.ttl:2:1: /);
  });
});

describe("templates that read no graph", () => {
  const withPlain = {
    ...pack,
    "pack/ggen.toml": pack["pack/ggen.toml"].replace(
      "[vars]",
      '[[templates]]\nname = "plain"\npath = "t/plain.tmpl"\n[vars]',
    ),
    "pack/t/plain.tmpl": "---\nto: plain.txt\n---\nname={{name}}\n",
  };

  it("name the pack's graph in their provenance, as those that read it do", async () => {
    const d = project(withPlain);
    const r = await generate({ templates: ["pack"], cwd: d, outputDir: "out" });
    const of = (path: string) => r.manifest!.files.find((f) => f.path === path)!.provenance!;
    expect(of("plain.txt").graph).toMatch(/^[0-9a-f]{64}$/);
    expect(of("plain.txt").graph).toBe(of("books.txt").graph);
    expect(Object.keys(of("plain.txt"))).toEqual(Object.keys(of("books.txt")));
  });

  it("render without waiting for the graph; a graph that does not parse still fails the run", async () => {
    const d = project({ ...withPlain, "pack/g/library.ttl": "@prefix ex: <http://example.org/> .\nex:b1 a" });
    const seen: string[] = [];
    const e = await generate({
      templates: ["pack"],
      cwd: d,
      outputDir: "out",
      onRendered: ({ path }) => seen.push(path),
    }).then(
      () => undefined,
      (x: unknown) => x as Error,
    );
    expect((e as { toLine?: () => string }).toLine?.()).toMatch(
      /pack\/g\/library\.ttl:2:\d+: RDF syntax error/,
    );
    expect(seen).toEqual([join(d, "out", "plain.txt")]);
    expect(existsSync(join(d, "out"))).toBe(false);
  });
});

describe("relative IRIs in a Turtle text", () => {
  it("says 'may' for any IRI reference without a scheme, and 'no' only when every one has one", () => {
    expect(mayHoldRelativeIri("@prefix ex: <http://example.org/> .\nex:a ex:b <urn:x:1> .\n")).toBe(false);
    expect(mayHoldRelativeIri("<#a> <http://example.org/p> <http://example.org/o> .")).toBe(true);
    expect(mayHoldRelativeIri("@base <http://example.org/> . <> a <http://example.org/C> .")).toBe(true);
    expect(mayHoldRelativeIri("@prefix : <../terms#> .")).toBe(true);
    // An escaped IRI is resolved after unescaping: taken as relative.
    expect(mayHoldRelativeIri("<\\u0072el> a <http://example.org/C> .")).toBe(true);
    // A literal that opens an IRI-like text does not hide the relative IRI after it.
    expect(mayHoldRelativeIri('<http://example.org/s> <http://example.org/p> "<http:"<rel> .')).toBe(true);
  });
});
