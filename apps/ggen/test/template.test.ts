// `ggen template …` and `ggen gen` as a user meets them: the built binary on temp projects. Bad input
// is one line with file:line(:col), exit 2 (usage) or 1 (failure), and nothing written.
import { spawnSync } from "node:child_process";
import {
  cpSync,
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
import { afterAll, describe, expect, it, vi } from "vitest";

vi.setConfig({ testTimeout: 60_000 });

const repo = join(import.meta.dirname, "..", "..", "..");
const bin = join(import.meta.dirname, "..", "dist", "bin.js");
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function project(files: Record<string, string> = {}): string {
  const d = mkdtempSync(join(tmpdir(), "ggen-cli-tpl-"));
  dirs.push(d);
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(dirname(join(d, p)), { recursive: true });
    writeFileSync(join(d, p), text);
  }
  return d;
}
const ggen = (cwd: string, ...args: string[]) =>
  spawnSync(process.execPath, [bin, ...args], {
    cwd,
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1" },
  });

const hello = `---
to: "src/{{kebab name}}.ts"
vars:
  name: { type: string, required: true, description: "component name" }
  count: { type: integer, default: 1 }
---
export const {{camel name}} = {{count}};
`;

function oneLineError(r: ReturnType<typeof ggen>, status: number | number[], where: RegExp): void {
  expect([status].flat(), r.stderr).toContain(r.status);
  const lines = r.stderr.trim().split("\n");
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^ggen: error: /);
  expect(lines[0]).toMatch(where);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

describe("ggen template generate / ggen gen", () => {
  it("renders, reports actions, writes a manifest, and is idempotent", () => {
    const d = project({ "t/hello.tmpl": hello });
    const r1 = ggen(d, "template", "generate", "t/hello.tmpl", "--vars", "name=Order Line", "-o", "out");
    expect(r1.status, r1.stderr).toBe(0);
    expect(r1.stdout).toMatch(/^created\s+src\/order-line\.ts$/m);
    expect(readFileSync(join(d, "out/src/order-line.ts"), "utf8")).toBe("export const orderLine = 1;\n");
    const manifest = JSON.parse(readFileSync(join(d, "out/.ggen/manifest.json"), "utf8"));
    expect(manifest.kind).toBe("generation-manifest/v1");
    const r2 = ggen(d, "gen", "t/hello.tmpl", "--vars", "name=Order Line", "-o", "out", "--json");
    expect(r2.status).toBe(0);
    const j = JSON.parse(r2.stdout);
    expect(j.files[0]).toMatchObject({ path: "src/order-line.ts", action: "unchanged" });
  });

  it("--dry-run writes nothing, --diff shows the change, --check exits 1 on drift", () => {
    const d = project({ "t/hello.tmpl": hello });
    const dry = ggen(d, "gen", "t/hello.tmpl", "--vars", "name=a", "-o", "out", "--dry-run", "--diff");
    expect(dry.status).toBe(0);
    expect(dry.stdout).toMatch(/would be created\s+src\/a\.ts/);
    expect(dry.stdout).toMatch(/^\+export const a = 1;$/m);
    expect(existsSync(join(d, "out"))).toBe(false);
    expect(ggen(d, "gen", "t/hello.tmpl", "--vars", "name=a", "-o", "out").status).toBe(0);
    const clean = ggen(d, "gen", "t/hello.tmpl", "--vars", "name=a", "-o", "out", "--check");
    expect(clean.status).toBe(0);
    const drift = ggen(
      d,
      "gen",
      "t/hello.tmpl",
      "--vars",
      "name=a",
      "--vars",
      "count=2",
      "-o",
      "out",
      "--check",
      "--diff",
    );
    expect(drift.status).toBe(1);
    expect(drift.stderr).toMatch(/drift: 1 file/);
    expect(drift.stdout).toMatch(/^-export const a = 1;$/m);
    expect(drift.stdout).toMatch(/^\+export const a = 2;$/m);
    expect(readFileSync(join(d, "out/src/a.ts"), "utf8")).toBe("export const a = 1;\n");
  });

  it("skips a changed file with a warning unless --force", () => {
    const d = project({ "t/hello.tmpl": hello, "out/src/a.ts": "mine\n" });
    const r = ggen(d, "gen", "t/hello.tmpl", "--vars", "name=a", "-o", "out");
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/warning: src\/a\.ts: exists and differs/);
    expect(readFileSync(join(d, "out/src/a.ts"), "utf8")).toBe("mine\n");
    expect(ggen(d, "gen", "t/hello.tmpl", "--vars", "name=a", "-o", "out", "--force").status).toBe(0);
    expect(readFileSync(join(d, "out/src/a.ts"), "utf8")).toBe("export const a = 1;\n");
  });

  it("vars files in YAML, JSON and TOML", () => {
    const d = project({
      "t/hello.tmpl": hello,
      "v.yaml": "name: y\n",
      "v.json": '{"name":"j","count":3}',
      "v.toml": 'name = "t"\n',
    });
    for (const [f, out] of [
      ["v.yaml", "src/y.ts"],
      ["v.json", "src/j.ts"],
      ["v.toml", "src/t.ts"],
    ] as const) {
      const r = ggen(d, "gen", "t/hello.tmpl", "--vars-file", f, "-o", "out");
      expect(r.status, r.stderr).toBe(0);
      expect(existsSync(join(d, "out", out))).toBe(true);
    }
    expect(readFileSync(join(d, "out/src/j.ts"), "utf8")).toBe("export const j = 3;\n");
  });

  it("batch-generate renders many templates, for_each one file per item", () => {
    const d = project({
      "t/a.tmpl":
        "---\nto: 'a/{{item}}.txt'\nfor_each: names\nvars:\n  names: { type: list }\n---\n{{item}}\n",
      "t/b.tmpl": "---\nto: b.txt\nvars:\n  names: { type: list }\n---\n{{join names '+'}}\n",
    });
    const r = ggen(
      d,
      "template",
      "batch-generate",
      "t/a.tmpl",
      "t/b.tmpl",
      "--vars",
      "names=x,y,z",
      "-o",
      "out",
      "--max-parallel",
      "2",
    );
    expect(r.status, r.stderr).toBe(0);
    expect(readdirSync(join(d, "out/a")).sort()).toEqual(["x.txt", "y.txt", "z.txt"]);
    expect(readFileSync(join(d, "out/b.txt"), "utf8")).toBe("x+y+z\n");
  });

  it("hooks run only with --allow-hooks", () => {
    const d = project({ "t/h.tmpl": "---\nto: a.txt\nsh_after: echo ran > hook.txt\n---\na\n" });
    const r1 = ggen(d, "gen", "t/h.tmpl", "-o", "out");
    expect(r1.stderr).toMatch(/sh_after not run: hooks need --allow-hooks/);
    expect(existsSync(join(d, "out/hook.txt"))).toBe(false);
    expect(ggen(d, "gen", "t/h.tmpl", "-o", "out", "--allow-hooks").status).toBe(0);
    expect(readFileSync(join(d, "out/hook.txt"), "utf8")).toBe("ran\n");
  });

  it("pack hooks also need the pack trusted by the project", () => {
    const d = project({
      ".ggen/packages/acme.hooks/ggen.toml":
        '[pack]\nid = "acme.hooks"\nversion = "1.0.0"\n[[templates]]\nname = "h"\npath = "h.tmpl"\n',
      ".ggen/packages/acme.hooks/h.tmpl": "---\nto: a.txt\nsh_after: echo ran > hook.txt\n---\na\n",
    });
    const r1 = ggen(d, "gen", "acme.hooks:h", "-o", "out", "--allow-hooks");
    expect(r1.status).toBe(0);
    expect(r1.stderr).toMatch(/pack 'acme.hooks' is not trusted/);
    expect(existsSync(join(d, "out/hook.txt"))).toBe(false);
    writeFileSync(join(d, "ggen.toml"), '[packs]\ntrusted = ["acme.hooks"]\n');
    expect(ggen(d, "gen", "acme.hooks:h", "-o", "out", "--allow-hooks", "--force").status).toBe(0);
    expect(readFileSync(join(d, "out/hook.txt"), "utf8")).toBe("ran\n");
  });
});

describe("packs: pack:template, list, inspect, validate-vars", () => {
  it("resolves pack:template from --packs-dir and from .ggen/packages, with did-you-mean", () => {
    const d = project();
    cpSync(join(repo, "fixtures/templates"), join(d, ".ggen/packages/io.ggen.domain-service"), {
      recursive: true,
    });
    const r = ggen(d, "gen", "io.ggen.domain-service:sql-schema", "-o", "out");
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(join(d, "out/sql/schema.sql"), "utf8")).toMatch(
      /CREATE TABLE IF NOT EXISTS "order_lines"/,
    );
    const typo = ggen(d, "gen", "io.ggen.domain-service:sql-shema", "-o", "out");
    oneLineError(typo, 2, /no template 'sql-shema' \(did you mean 'io\.ggen\.domain-service:sql-schema'\?\)/);
    const fromFixtures = ggen(
      repo,
      "gen",
      "io.ggen.domain-service:ts-types",
      "--packs-dir",
      "fixtures",
      "-o",
      join(d, "out2"),
      "--json",
    );
    expect(fromFixtures.status, fromFixtures.stderr).toBe(0);
    expect(JSON.parse(fromFixtures.stdout).files[0].path).toBe("src/types.d.ts");
    const missing = ggen(d, "gen", "no.such.pack:x", "-o", "out");
    oneLineError(missing, 2, /no installed pack 'no\.such\.pack'/);
  });

  it("list and inspect", () => {
    const list = ggen(repo, "template", "list", "--packs-dir", "fixtures", "--json");
    expect(list.status, list.stderr).toBe(0);
    const refs = JSON.parse(list.stdout).map((t: { ref: string }) => t.ref);
    expect(refs).toContain("io.ggen.domain-service:sql-schema");
    expect(refs).toContain("io.ggen.domain-service:http-api");
    const text = ggen(repo, "template", "list", "--packs-dir", "fixtures");
    expect(text.stdout).toMatch(/^TEMPLATE\s+VERSION\s+DESCRIPTION/m);
    const inspect = ggen(repo, "template", "inspect", "fixtures/templates:package-json", "--json");
    expect(inspect.status, inspect.stderr).toBe(0);
    const info = JSON.parse(inspect.stdout);
    expect(info.to).toBe("package.json");
    expect(info.vars.find((v: { name: string }) => v.name === "name")).toMatchObject({
      type: "string",
      default: "shop-service",
    });
    const itext = ggen(repo, "template", "inspect", "fixtures/templates:sql-schema");
    expect(itext.stdout).toMatch(/queries: classes, fields/);
    expect(itext.stdout).toMatch(/graphs: .*domain\.ttl/);
  });

  it("validate-vars reports problems with the template line", () => {
    const d = project({
      "t/hello.tmpl": hello,
      "good.yaml": "name: a\ncount: 2\n",
      "bad.yaml": "count: many\nextra: 1\n",
    });
    const ok = ggen(d, "template", "validate-vars", "good.yaml", "--template", "t/hello.tmpl");
    expect(ok.status).toBe(0);
    expect(ok.stdout).toMatch(/good\.yaml: ok/);
    const bad = ggen(d, "template", "validate-vars", "bad.yaml", "--template", "t/hello.tmpl", "--json");
    expect(bad.status).toBe(1);
    const j = JSON.parse(bad.stdout);
    expect(j.problems.map((p: { line: number }) => p.line)).toEqual([4, 5]);
    expect(j.unknown).toEqual(["extra"]);
  });
});

describe("bad input: one line with file:line, nothing written", () => {
  const cases: [string, Record<string, string>, string[], number | number[], RegExp][] = [
    [
      "malformed frontmatter",
      { "t/x.tmpl": "---\nto: x.txt\nbody without end\n" },
      [],
      2,
      /t\/x\.tmpl:1:1: frontmatter opened with '---' is never closed/,
    ],
    [
      "malformed YAML",
      { "t/x.tmpl": "---\nto: x.txt\nvars: { a: [1, }\n---\n" },
      [],
      2,
      /t\/x\.tmpl:3:\d+: invalid YAML/,
    ],
    [
      "malformed Handlebars",
      { "t/x.tmpl": "---\nto: x.txt\n---\nok\n{{#each items}}\n" },
      [],
      2,
      /t\/x\.tmpl:\d+: Handlebars syntax error/,
    ],
    [
      "unknown helper",
      { "t/x.tmpl": "---\nto: x.txt\n---\n{{pascl name}}\n" },
      [],
      2,
      /t\/x\.tmpl:4:3: unknown helper 'pascl' \(did you mean 'pascal'\?\)/,
    ],
    ["missing required var", { "t/x.tmpl": hello }, [], 2, /t\/x\.tmpl:4: missing required var 'name'/],
    [
      "bad var value",
      { "t/x.tmpl": hello },
      ["--vars", "name=a", "--vars", "count=lots"],
      2,
      /t\/x\.tmpl:5: var 'count' must be an integer/,
    ],
    [
      "malformed Turtle",
      {
        "t/x.tmpl": "---\nto: x.txt\nrdf: g.ttl\n---\n",
        "t/g.ttl": "@prefix ex: <http://e/> .\nex:a ex:b ex:c\nex:d ex:e ex:f .\n",
      },
      [],
      [1, 2],
      /t\/g\.ttl:\d+:\d+: /,
    ],
    [
      "malformed SPARQL",
      {
        "t/x.tmpl":
          "---\nto: x.txt\nrdf_inline: '<http://e/a> <http://e/b> 1 .'\nsparql:\n  q: SELECT ?x WHERE { ?x ?y\n---\n",
      },
      [],
      2,
      /t\/x\.tmpl:\d+(:\d+)?: sparql 'q': /,
    ],
    [
      "malformed vars file (JSON)",
      { "t/x.tmpl": hello, "v.json": '{\n  "name": "a",,\n}' },
      ["--vars-file", "v.json"],
      2,
      /v\.json:2:15: not valid JSON: unexpected ","/,
    ],
    [
      "malformed vars file (TOML)",
      { "t/x.tmpl": hello, "v.toml": 'name = "a"\ncount = = 2\n' },
      ["--vars-file", "v.toml"],
      2,
      /v\.toml:2:\d+: invalid TOML/,
    ],
    [
      "malformed vars file (YAML)",
      { "t/x.tmpl": hello, "v.yaml": "name: [a\n" },
      ["--vars-file", "v.yaml"],
      2,
      /v\.yaml:\d+:\d+: invalid YAML/,
    ],
    [
      "path escaping the output dir",
      { "t/x.tmpl": "---\nto: ../../escape.txt\n---\nx\n" },
      [],
      2,
      /t\/x\.tmpl:2: output path '\.\.\/\.\.\/escape\.txt' escapes the output dir/,
    ],
    [
      "absolute output path",
      { "t/x.tmpl": "---\nto: /tmp/ggen-abs.txt\n---\nx\n" },
      [],
      2,
      /t\/x\.tmpl:2: output path '\/tmp\/ggen-abs\.txt' must be relative/,
    ],
    [
      "two templates, one file",
      { "t/x.tmpl": "---\nto: ok.txt\n---\nx\n" },
      [],
      2,
      /t\/x\.tmpl:2: 'ok\.txt' is also written by t\/ok\.tmpl/,
    ],
    [
      "a bad --vars pair",
      { "t/x.tmpl": hello },
      ["--vars", "novalue"],
      2,
      /--vars 'novalue': expected key=value/,
    ],
  ];
  it.each(cases)("%s", (_name, files, args, status, where) => {
    const d = project({ ...files, "t/ok.tmpl": "---\nto: ok.txt\n---\nok\n" });
    const r = ggen(d, "template", "batch-generate", "t/ok.tmpl", "t/x.tmpl", "-o", "out", ...args);
    oneLineError(r, status, where);
    expect(existsSync(join(d, "out")), "nothing written").toBe(false);
    expect(existsSync(join(d, "../escape.txt"))).toBe(false);
  });

  it("--debug adds the stack", () => {
    const d = project({ "t/x.tmpl": "---\nto: x.txt\n---\n{{pascl name}}\n" });
    const r = ggen(d, "gen", "t/x.tmpl", "-o", "out", "--debug");
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/\n\s+at /);
  });

  it("an unknown template, and --check with --dry-run", () => {
    const d = project({ "t/x.tmpl": "---\nto: x.txt\n---\nx\n" });
    oneLineError(ggen(d, "gen", "t/nope.tmpl"), 2, /template 't\/nope\.tmpl' not found/);
    oneLineError(ggen(d, "gen", "t/x.tmpl", "--check", "--dry-run"), 2, /cannot be combined/);
  });
});

// `--graph` given to templates that read no graph (no query, no sparql helper): refused out loud before
// the graph is parsed or anything is written — in a generation, --plan and --diff alike. A run where one
// template reads it is unchanged.
const rustLib = join(repo, "fixtures", "registry", "packs", "io.ggen.rust-lib");
// A real vocabulary's shape (FOAF as N-Quads), but not valid RDF: parsing it would fail differently.
const foaf = "<http://xmlns.com/foaf/0.1/Person> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> !!! .\n";

describe("ggen template generate --graph", () => {
  it("refuses a pack none of whose templates reads a graph: exit 2, one line, nothing written", () => {
    const d = project({ "foaf.nq": foaf });
    for (const extra of [[], ["--plan", "plan.json"], ["--diff", "--dry-run"]]) {
      const r = ggen(d, "template", "generate", rustLib, "--graph", "foaf.nq", "-o", "out", ...extra);
      expect(r.status, r.stderr).toBe(2);
      expect(r.stderr.trim().split("\n")).toEqual([
        "ggen: error: --graph foaf.nq: no template of io.ggen.rust-lib reads a graph (no query, no sparql helper); leave out --graph, or use a pack that queries one",
      ]);
      expect(r.stdout).toBe("");
    }
    expect(readdirSync(d)).toEqual(["foaf.nq"]);
  });

  it("still generates the same pack without --graph", () => {
    const d = project({});
    const r = ggen(d, "template", "generate", rustLib, "-o", "out", "--vars", "name=demo");
    expect(r.status, r.stderr).toBe(0);
    expect(existsSync(join(d, "out", "Cargo.toml"))).toBe(true);
  });

  it("keeps a run where one template reads the graph", () => {
    const d = project({
      "t/plain.tmpl": "---\nto: plain.txt\n---\nplain\n",
      "t/people.tmpl":
        '---\nto: people.txt\n---\n{{#each (sparql "SELECT ?s WHERE { ?s a <http://xmlns.com/foaf/0.1/Person> }")}}{{s}}\n{{/each}}',
      "people.nq":
        "<http://ex.org/ann> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <http://xmlns.com/foaf/0.1/Person> .\n",
    });
    const r = ggen(d, "template", "batch-generate", "t", "--graph", "people.nq", "-o", "out");
    expect(r.status, r.stderr).toBe(0);
    expect(readdirSync(join(d, "out")).sort()).toEqual(expect.arrayContaining(["people.txt", "plain.txt"]));
  });
});
