import { existsSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { assertValid } from "@ggen/contract";
import { afterEach, describe, expect, it } from "vitest";
import { type GenerateOptions, generate } from "./engine.js";
import { project, removeProjects } from "./testkit.js";

afterEach(removeProjects);
const read = (d: string, p: string) => readFileSync(join(d, p), "utf8");
const gen = (cwd: string, o: Omit<GenerateOptions, "cwd">) => generate({ cwd, outputDir: "out", ...o });

async function failure(p: Promise<unknown>): Promise<{
  code: string;
  location?: { file: string; line?: number; column?: number };
  kind: string;
  message: string;
}> {
  try {
    await p;
  } catch (e) {
    return e as never;
  }
  throw new Error("expected a failure");
}

const hello = `---
to: src/{{kebab name}}.ts
vars:
  name: { type: string, required: true, description: "component name" }
  greeting: Hello
---
export const {{camel name}} = "{{greeting}}, {{name}}";
`;

describe("generate", () => {
  it("creates, reports unchanged, keeps edits, skips files it did not generate, and overwrites with force", async () => {
    const d = project({ "t/hello.tmpl": hello });
    const r1 = await gen(d, { templates: ["t/hello.tmpl"], vars: { name: "Order Line" } });
    expect(r1.files.map((f) => [f.path, f.action])).toEqual([["src/order-line.ts", "created"]]);
    expect(read(d, "out/src/order-line.ts")).toBe('export const orderLine = "Hello, Order Line";\n');
    const r2 = await gen(d, { templates: ["t/hello.tmpl"], vars: { name: "Order Line" } });
    expect(r2.files[0]!.action).toBe("unchanged");
    expect(r2.drift).toBe(false);
    // An edit to a generated file is the user's: the same inputs keep it (and say so, as drift).
    writeFileSync(join(d, "out/src/order-line.ts"), "edited\n");
    const r3 = await gen(d, { templates: ["t/hello.tmpl"], vars: { name: "Order Line" } });
    expect(r3.files[0]).toMatchObject({ action: "unchanged", reason: "your edits kept", differs: true });
    expect(r3.drift).toBe(true);
    expect(read(d, "out/src/order-line.ts")).toBe("edited\n");
    // A file ggen never generated there (no lock entry) is skipped unless --force.
    writeFileSync(join(d, "out/src/other.ts"), "mine\n");
    const warnings: string[] = [];
    const r4 = await gen(d, {
      templates: ["t/hello.tmpl"],
      vars: { name: "Other" },
      manifest: "other-manifest.json",
      onWarn: (w) => warnings.push(w),
    });
    expect(r4.files[0]!.action).toBe("skipped");
    expect(warnings[0]).toMatch(/exists and differs/);
    expect(read(d, "out/src/other.ts")).toBe("mine\n");
    const r5 = await gen(d, {
      templates: ["t/hello.tmpl"],
      vars: { name: "Order Line", greeting: "Hi" },
      force: true,
    });
    expect(r5.files[0]!.action).toBe("overwritten");
    expect(read(d, "out/src/order-line.ts")).toBe('export const orderLine = "Hi, Order Line";\n');
  });

  it("dry-run writes nothing; check reports drift; diff is unified", async () => {
    const d = project({ "t/hello.tmpl": hello });
    const dry = await gen(d, {
      templates: ["t/hello.tmpl"],
      vars: { name: "a" },
      mode: "dry-run",
      diff: true,
    });
    expect(dry.files[0]!.action).toBe("created");
    expect(dry.files[0]!.diff).toMatch(/^\+export const a = "Hello, a";$/m);
    expect(existsSync(join(d, "out"))).toBe(false);
    expect(dry.manifestPath).toBeUndefined();
    const check = await gen(d, { templates: ["t/hello.tmpl"], vars: { name: "a" }, mode: "check" });
    expect(check.drift).toBe(true);
    await gen(d, { templates: ["t/hello.tmpl"], vars: { name: "a" } });
    const clean = await gen(d, { templates: ["t/hello.tmpl"], vars: { name: "a" }, mode: "check" });
    expect(clean.drift).toBe(false);
    const changed = await gen(d, {
      templates: ["t/hello.tmpl"],
      vars: { name: "a", greeting: "Hi" },
      mode: "check",
      diff: true,
    });
    expect(changed.drift).toBe(true);
    expect(changed.files[0]!.diff).toContain('-export const a = "Hello, a";');
    expect(changed.files[0]!.diff).toContain('+export const a = "Hi, a";');
  });

  it("writes a valid generation-manifest with digests, counts and redacted secrets", async () => {
    const d = project({ "t/hello.tmpl": hello, "vars.yaml": "name: x\napiToken: abc\n" });
    const r = await gen(d, { templates: ["t/hello.tmpl"], varsFiles: ["vars.yaml"] });
    expect(r.manifestPath).toBe(join(d, "out/.ggen/manifest.json"));
    const m = JSON.parse(read(d, "out/.ggen/manifest.json"));
    assertValid("generation-manifest/v1", m);
    expect(m.vars.apiToken).toBe("***");
    expect(m.vars.name).toBe("x");
    expect(m.inputs.varFiles[0].path).toBe("vars.yaml");
    expect(m.inputs.templates[0].path).toBe("t/hello.tmpl");
    expect(m.counts).toMatchObject({ templates: 1, files: 1 });
    expect(m.files[0]).toMatchObject({ path: "src/x.ts", action: "created", template: "t/hello.tmpl" });
  });

  it("renders one file per item of a list var (for_each), with the item bound", async () => {
    const d = project({
      "t/each.tmpl":
        "---\nto: '{{snake name}}.txt'\nfor_each: names\nas: name\nvars:\n  names: { type: list }\n---\n{{pascal name}} of {{len names}} ({{row}})\n",
    });
    const r = await gen(d, { templates: ["t/each.tmpl"], vars: { names: "order,order line,customer" } });
    expect(r.files.map((f) => f.path)).toEqual(["order.txt", "order_line.txt", "customer.txt"]);
    expect(read(d, "out/order_line.txt")).toBe("OrderLine of 3 (order line)\n");
  });

  it("for_each over a SPARQL query and named queries over inline Turtle", async () => {
    const d = project({
      "t/classes.tmpl": `---
to: "{{kebab (local class)}}.md"
rdf_inline: |
  ex:Order a owl:Class ; rdfs:label "Order" .
  ex:OrderLine a owl:Class ; rdfs:label "Order line" .
  ex:total a owl:DatatypeProperty ; rdfs:domain ex:Order ; rdfs:range xsd:decimal .
prefixes:
  ex: "http://example.org/shop#"
  owl: "http://www.w3.org/2002/07/owl#"
  rdfs: "http://www.w3.org/2000/01/rdf-schema#"
  xsd: "http://www.w3.org/2001/XMLSchema#"
for_each: |
  SELECT ?class ?label WHERE { ?class a owl:Class ; rdfs:label ?label } ORDER BY ?class
sparql:
  props: |
    SELECT ?p ?range WHERE { ?p rdfs:domain ?d ; rdfs:range ?range } ORDER BY ?p
---
# {{label}} ({{row.class.type}})
{{#each sparql.props}}
- {{local p}}: {{sql_type range}}
{{/each}}
{{#each (sparql "SELECT ?c WHERE { ?c a owl:Class } ORDER BY ?c")}}{{local c}};{{/each}}
`,
    });
    const r = await gen(d, { templates: ["t/classes.tmpl"] });
    expect(r.files.map((f) => f.path)).toEqual(["order.md", "order-line.md"]);
    expect(read(d, "out/order-line.md")).toBe("# Order line (iri)\n- total: NUMERIC\nOrder;OrderLine;\n");
    expect(r.manifest.counts.triples).toBe(7);
    expect(r.manifest.counts.queries).toBeGreaterThanOrEqual(2);
  });

  it("templates of one run share the parsed graph and memoized query results", async () => {
    const t = (to: string) =>
      `---\nto: ${to}\nrdf: ../g.ttl\nsparql:\n  all: SELECT ?s WHERE { ?s ?p ?o } ORDER BY ?s\n---\n{{#each sparql.all}}{{local s}} {{/each}}\n`;
    const d = project({
      "g.ttl": "<http://e/a> <http://e/p> 1 .\n<http://e/b> <http://e/p> 2 .\n",
      "t/a.tmpl": t("a.txt"),
      "t/b.tmpl": t("b.txt"),
      "t/c.tmpl": t("c.txt"),
    });
    const r = await gen(d, { templates: ["t"], maxParallel: 3 });
    expect(r.files.map((f) => f.path)).toEqual(["a.txt", "b.txt", "c.txt"]);
    expect(read(d, "out/c.txt")).toBe("a b \n");
    expect(r.manifest.counts).toMatchObject({ templates: 3, files: 3, triples: 2, queries: 1 });
    expect(r.manifest.inputs.graphs).toEqual([
      { path: "g.ttl", sha256: expect.stringMatching(/^[0-9a-f]{64}$/) },
    ]);
  });

  it("injects into existing files idempotently", async () => {
    const d = project({
      "t/route.tmpl":
        "---\nto: routes.ts\ninject: true\nafter: 'const routes = ['\nskip_if: '{{name}}Route'\n---\n  {{name}}Route,\n",
      "out/routes.ts": "const routes = [\n];\n",
    });
    const r1 = await gen(d, { templates: ["t/route.tmpl"], vars: { name: "order" } });
    expect(r1.files[0]!.action).toBe("injected");
    expect(read(d, "out/routes.ts")).toBe("const routes = [\n  orderRoute,\n];\n");
    const r2 = await gen(d, { templates: ["t/route.tmpl"], vars: { name: "order" } });
    expect(r2.files[0]!.action).toBe("unchanged");
    expect(read(d, "out/routes.ts")).toBe("const routes = [\n  orderRoute,\n];\n");
  });

  it("injects into a file created by another template of the same run", async () => {
    const d = project({
      "t/a.tmpl": "---\nto: list.txt\n---\nstart\nend\n",
      "t/b.tmpl": "---\nto: list.txt\ninject: true\nbefore: end\n---\nmiddle\n",
    });
    const r = await gen(d, { templates: ["t"] });
    expect(r.files.map((f) => f.action)).toEqual(["created", "injected"]);
    expect(read(d, "out/list.txt")).toBe("start\nmiddle\nend\n");
  });

  it("unless_exists, chmod and empty to", async () => {
    const d = project({
      "t/once.tmpl": "---\nto: once.txt\nunless_exists: true\n---\nnew\n",
      "t/run.tmpl": "---\nto: run.sh\nchmod: 755\n---\n#!/bin/sh\n",
      "t/maybe.tmpl": '---\nto: "{{#if on}}maybe.txt{{/if}}"\n---\nx\n',
      "out/once.txt": "old\n",
    });
    const r = await gen(d, { templates: ["t"] });
    expect(r.files.find((f) => f.path === "once.txt")).toMatchObject({ action: "skipped", differs: false });
    expect(read(d, "out/once.txt")).toBe("old\n");
    expect(statSync(join(d, "out/run.sh")).mode & 0o777).toBe(0o755);
    expect(existsSync(join(d, "out/maybe.txt"))).toBe(false);
  });

  it("is byte-identical run to run with a determinism seed", async () => {
    const t = "---\nto: id.txt\ndeterminism: 42\n---\n{{uuid}} {{uuid 'order'}} {{now}}\n";
    const a = project({ "t/id.tmpl": t });
    const b = project({ "t/id.tmpl": t });
    await gen(a, { templates: ["t/id.tmpl"] });
    await gen(b, { templates: ["t/id.tmpl"] });
    expect(read(a, "out/id.txt")).toBe(read(b, "out/id.txt"));
    const ma = JSON.parse(read(a, "out/.ggen/manifest.json"));
    const mb = JSON.parse(read(b, "out/.ggen/manifest.json"));
    expect(ma.files).toEqual(mb.files);
    expect(ma.seed).toBe("42");
    await gen(b, { templates: ["t/id.tmpl"], seed: "7", force: true });
    expect(read(b, "out/id.txt")).not.toBe(read(a, "out/id.txt"));
  });

  it("hands a template's output over once that template is loaded, before the next one is compiled", async () => {
    // The second template does not compile: the run fails, but only after the first one's output went
    // to the caller (who starts on it early: the ultra-fast path's dependency install). Nothing is written.
    const d = project({
      "t/a-package.json.tmpl": '---\nto: package.json\n---\n{ "name": "{{name}}" }\n',
      "t/b-broken.tmpl": "---\nto: b.txt\n---\n{{#if a}}\n",
    });
    const seen: string[] = [];
    const e = await failure(
      gen(d, {
        templates: ["t/a-package.json.tmpl", "t/b-broken.tmpl"],
        vars: { name: "shop" },
        onRendered: ({ path, content }) => seen.push(`${path}: ${content.trim()}`),
      }),
    );
    expect(e.location?.file).toMatch(/b-broken\.tmpl$/);
    expect(seen).toEqual([`${join(d, "out", "package.json")}: { "name": "shop" }`]);
    expect(existsSync(join(d, "out"))).toBe(false);
  });

  it("runs hooks only with allowHooks", async () => {
    const d = project({ "t/h.tmpl": "---\nto: a.txt\nsh_after: echo done > hook.txt\n---\na\n" });
    const r1 = await gen(d, { templates: ["t/h.tmpl"] });
    expect(r1.hooks[0]).toMatchObject({ ran: false, reason: "hooks need --allow-hooks" });
    expect(existsSync(join(d, "out/hook.txt"))).toBe(false);
    const r2 = await gen(d, { templates: ["t/h.tmpl"], allowHooks: true });
    expect(r2.hooks[0]).toMatchObject({ ran: true });
    expect(read(d, "out/hook.txt")).toBe("done\n");
  });
});

describe("bad input writes nothing", () => {
  const cases: [string, Record<string, string>, Partial<GenerateOptions>, string, number | undefined][] = [
    ["path escaping with ..", { "t/x.tmpl": "---\nto: ../escape.txt\n---\nx\n" }, {}, "PATH_ESCAPE", 2],
    ["absolute path", { "t/x.tmpl": "---\n\nto: /tmp/abs.txt\n---\nx\n" }, {}, "PATH_ESCAPE", 3],
    ["missing required var", { "t/x.tmpl": hello }, {}, "TEMPLATE_VARS", 4],
    [
      "var of the wrong type",
      { "t/x.tmpl": "---\nto: x\nvars:\n  n: { type: integer }\n---\n" },
      { vars: { n: "many" } },
      "TEMPLATE_VARS",
      4,
    ],
    [
      "var not in enum",
      { "t/x.tmpl": "---\nto: x\nvars:\n  db: { enum: [pg, mysql] }\n---\n" },
      { vars: { db: "oracle" } },
      "TEMPLATE_VARS",
      4,
    ],
    [
      "var not matching pattern",
      { "t/x.tmpl": "---\nto: x\nvars:\n  id: { pattern: '^[a-z]+$' }\n---\n" },
      { vars: { id: "A1" } },
      "TEMPLATE_VARS",
      4,
    ],
    ["malformed YAML", { "t/x.tmpl": "---\nto: x\nvars: [a, b\n---\nbody\n" }, {}, "YAML_SYNTAX", 3],
    ["unclosed frontmatter", { "t/x.tmpl": "---\nto: x\n" }, {}, "TEMPLATE_FRONTMATTER", 1],
    [
      "unknown frontmatter key",
      { "t/x.tmpl": "---\nto: x\nfor-each: names\n---\n" },
      {},
      "TEMPLATE_FRONTMATTER",
      3,
    ],
    [
      "bad Handlebars",
      { "t/x.tmpl": "---\nto: x\n---\nline\n{{#if a}}\n" },
      {},
      "TEMPLATE_SYNTAX",
      undefined,
    ],
    [
      "unknown helper",
      { "t/x.tmpl": "---\nto: x\n---\n\n{{shout name}}\n" },
      {},
      "TEMPLATE_UNKNOWN_HELPER",
      5,
    ],
    [
      "for_each var that is not a list",
      { "t/x.tmpl": "---\nto: x\nfor_each: nope\n---\n" },
      {},
      "TEMPLATE_FOR_EACH",
      3,
    ],
    [
      "bad Turtle",
      { "t/x.tmpl": "---\nto: x\nrdf: g.ttl\n---\n", "t/g.ttl": "@prefix ex: <http://e/> .\nex:a ex:b .\n" },
      {},
      "",
      undefined,
    ],
    [
      "bad SPARQL",
      {
        "t/x.tmpl":
          "---\nto: x\nrdf_inline: '<http://e/a> <http://e/b> 1 .'\nsparql:\n  q: |\n    SELECT ?x WHERE { ?x ?y }\n---\n",
      },
      {},
      "SPARQL_SYNTAX",
      undefined,
    ],
  ];
  it.each(cases)("%s", async (_name, files, o, code, line) => {
    const d = project({ ...files, "t/ok.tmpl": "---\nto: ok.txt\n---\nok\n" });
    const e = await failure(gen(d, { templates: ["t/ok.tmpl", "t/x.tmpl"], ...o }));
    if (code) expect(e.code).toBe(code);
    expect(e.location?.file).toMatch(/t\/(x\.tmpl|g\.ttl)$/);
    if (line !== undefined) expect(e.location?.line).toBe(line);
    else expect(e.location?.line).toBeGreaterThan(0);
    expect(existsSync(join(d, "out"))).toBe(false);
  });

  it("two templates writing one file", async () => {
    const d = project({
      "t/a.tmpl": "---\nto: same.txt\n---\na\n",
      "t/b.tmpl": "---\nto: same.txt\n---\nb\n",
    });
    const e = await failure(gen(d, { templates: ["t/a.tmpl", "t/b.tmpl"] }));
    expect(e.code).toBe("OUTPUT_CONFLICT");
    expect(e.location).toEqual({ file: "t/b.tmpl", line: 2 });
    expect(existsSync(join(d, "out"))).toBe(false);
  });

  it("a symlink leading out of the output dir", async () => {
    const d = project({ "t/x.tmpl": "---\nto: link/evil.txt\n---\nx\n", "out/keep.txt": "k" });
    const outside = project({});
    symlinkSync(outside, join(d, "out/link"));
    const e = await failure(gen(d, { templates: ["t/x.tmpl"] }));
    expect(e.code).toBe("PATH_ESCAPE");
    expect(existsSync(join(outside, "evil.txt"))).toBe(false);
  });

  it("symlinks out of the output dir, however deep; one that stays inside is followed", async () => {
    const outside = project({ "secret.txt": "s" });
    const d = project({ "out/keep.txt": "k", "out/real/x.txt": "x" });
    symlinkSync(join(outside, "secret.txt"), join(d, "out/file-link.txt"));
    symlinkSync(outside, join(d, "out/dir-link"));
    symlinkSync(join(d, "out/real"), join(d, "out/inside-link"));
    for (const to of ["file-link.txt", "dir-link/new.txt", "dir-link/deeper/still/new.txt"]) {
      writeFileSync(join(d, "t.tmpl"), `---\nto: ${to}\n---\nx\n`);
      const e = await failure(gen(d, { templates: ["t.tmpl"] }));
      expect(e.code, to).toBe("PATH_ESCAPE");
    }
    expect(readFileSync(join(outside, "secret.txt"), "utf8")).toBe("s");
    expect(existsSync(join(outside, "new.txt"))).toBe(false);
    writeFileSync(join(d, "t.tmpl"), "---\nto: inside-link/y.txt\n---\ny\n");
    await gen(d, { templates: ["t.tmpl"] });
    expect(readFileSync(join(d, "out/real/y.txt"), "utf8")).toBe("y\n");
  });

  it("vars files with syntax errors", async () => {
    const d = project({
      "t/x.tmpl": hello,
      "v.json": '{\n  "name": "a",\n}\n',
      "v.toml": "name = \n",
      "v.yaml": "name: [x\n",
    });
    for (const f of ["v.json", "v.toml", "v.yaml"]) {
      const e = await failure(gen(d, { templates: ["t/x.tmpl"], varsFiles: [f] }));
      expect(e.code).toBe(f === "v.yaml" ? "YAML_SYNTAX" : "VARS_SYNTAX");
      expect(e.location?.file).toBe(f);
      expect(e.location?.line).toBeGreaterThan(0);
    }
  });
});
