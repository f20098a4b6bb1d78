// Hostile input to generation's inputs (issue 17's input side): inject targets that are missing, not
// UTF-8, malformed or alias bombs; user regexes that would backtrack forever (inject anchors, vars
// schema patterns, SHACL sh:pattern); shapes that recurse; pack tests that try to leave their pack.
// Each is one line, the right exit code, nothing outside the project, nothing left behind.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { expectRefused, run, Sandbox } from "./harness.js";

const box = new Sandbox("generation-inputs");
afterAll(() => box.dispose());

/** Writes `files` under a fresh folder of the project; returns its path. */
let n = 0;
function project(files: Record<string, string | Buffer>): string {
  const d = join(box.root, `case-${++n}`);
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(dirname(join(d, p)), { recursive: true });
    writeFileSync(join(d, p), text);
  }
  return d;
}
const gen = (cwd: string, ...args: string[]) =>
  run("ggen", ["gen", "t", "-o", "out", ...args], { cwd, limitMs: 60_000 });

const pack = (extra: Record<string, string>) => ({
  "p/ggen.toml":
    '[pack]\nid = "evil.pack"\nversion = "1.0.0"\n[[templates]]\nname = "a"\npath = "t/a.tmpl"\n[graphs]\nfiles = ["g.ttl"]\n[contract]\nshapes = ["shapes.ttl"]\nvars_schema = "vars.schema.json"\n',
  "p/t/a.tmpl": "---\nto: a.txt\n---\nok\n",
  "p/g.ttl": '@prefix ex: <http://example.org/> .\nex:b a ex:Book ; ex:isbn "978" .\n',
  "p/shapes.ttl":
    "@prefix sh: <http://www.w3.org/ns/shacl#> .\n@prefix ex: <http://example.org/> .\nex:S a sh:NodeShape ; sh:targetClass ex:Book .\n",
  "p/vars.schema.json": "{}",
  ...extra,
});

describe("inject targets", () => {
  it("a missing target is a failure (exit 1), not a skipped success", async () => {
    const d = project({
      "t/a.tmpl": '---\nto: package.json\ninject: { path: dependencies.pg, value: "^8" }\n---\n',
    });
    expectRefused(await gen(d), 1);
    box.check();
  });

  it("a target that is not UTF-8 is refused and left byte for byte", async () => {
    const bytes = Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d, 0x0a]);
    const d = project({
      "t/a.tmpl": "---\nto: x.json\ninject: { path: b, value: 1 }\n---\n",
      "t/b.tmpl": "---\nto: y.txt\ninject: true\nappend: true\n---\nline\n",
      "out/x.json": bytes,
      "out/y.txt": bytes,
    });
    expectRefused(await gen(d), 1);
    expect(readFileSync(join(d, "out/x.json")).equals(bytes)).toBe(true);
    expect(readFileSync(join(d, "out/y.txt")).equals(bytes)).toBe(true);
    box.check();
  });

  it("a malformed JSON target and a YAML alias bomb are refused in one line", async () => {
    const laughs = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 12; i++)
      laughs.push(
        `${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10)
          .fill(`*${String.fromCharCode(96 + i)}`)
          .join(",")}]`,
      );
    const d = project({
      "t/a.tmpl": "---\nto: compose.yml\ninject: { path: services.web.image, value: node }\n---\n",
      "out/compose.yml": `${laughs.join("\n")}\n`,
    });
    expectRefused(await gen(d), 1);
    const j = project({
      "t/a.tmpl": "---\nto: p.json\ninject: { path: a, value: 1 }\n---\n",
      "out/p.json": '{ "a": ',
    });
    expectRefused(await gen(j), 1);
    box.check();
  });

  it("a target outside the output dir is refused before anything is written", async () => {
    const d = project({
      "t/a.tmpl": "---\nto: ../../../outside/package.json\ninject: { path: a, value: 1 }\n---\n",
    });
    expectRefused(await gen(d), 2);
    box.check();
  });
});

describe("user regexes cannot hang generation", () => {
  it("an inject anchor that backtracks catastrophically in JavaScript runs in linear time", async () => {
    const d = project({
      "t/a.tmpl": "---\nto: a.txt\ninject: true\nbefore: '/^(a+)+$/'\nskip_if: '/(x+x+)+y/'\n---\nnew\n",
      "out/a.txt": `${"a".repeat(40_000)}!\n${"x".repeat(40_000)}\n`,
    });
    const r = await gen(d);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("pattern /^(a+)+$/ not found");
    box.check();
  });

  it("an anchor RE2 cannot run (a backreference) is a usage error at its line", async () => {
    const d = project({
      "t/a.tmpl": "---\nto: a.txt\ninject: true\nafter: '/(a)\\1/'\n---\nx\n",
      "out/a.txt": "aa\n",
    });
    const r = await gen(d);
    expectRefused(r, 2);
    expect(r.stderr).toContain("t/a.tmpl:4");
    box.check();
  });

  it("a pack's vars schema pattern and SHACL sh:pattern run on RE2 too", async () => {
    const long = "a".repeat(40_000);
    const d = project(
      pack({
        "p/vars.schema.json": JSON.stringify({
          properties: { name: { type: "string", pattern: "^(a+)+$" } },
        }),
      }),
    );
    const r = await run("ggen", ["gen", "p", "-o", "out", "--vars", `name=${long}!`], {
      cwd: d,
      limitMs: 60_000,
    });
    expectRefused(r, 2);
    expect(r.stderr).toContain("--vars name: var 'name' must match pattern");
    const s = project(
      pack({
        "p/shapes.ttl": `@prefix sh: <http://www.w3.org/ns/shacl#> .\n@prefix ex: <http://example.org/> .\nex:S a sh:NodeShape ; sh:targetClass ex:Book ; sh:property [ sh:path ex:isbn ; sh:pattern "^(a+)+$" ] .\n`,
        "p/g.ttl": `@prefix ex: <http://example.org/> .\nex:b a ex:Book ; ex:isbn "${long}!" .\n`,
      }),
    );
    const v = await run("ggen", ["gen", "p", "-o", "out"], { cwd: s, limitMs: 60_000 });
    expectRefused(v, 2);
    expect(v.stderr).toMatch(/^ggen: error: p\/g.ttl:2:1: ex:b ex:isbn ".*" does not match/);
    box.check();
  });
});

describe("pack contracts and pack tests", () => {
  it("shapes that refer to themselves finish; shapes with sh:sparql are refused in one line", async () => {
    const d = project(
      pack({
        "p/shapes.ttl":
          "@prefix sh: <http://www.w3.org/ns/shacl#> .\n@prefix ex: <http://example.org/> .\nex:S a sh:NodeShape ; sh:targetClass ex:Book ; sh:node ex:S .\n",
      }),
    );
    const self = await run("ggen", ["gen", "p", "-o", "out"], { cwd: d, limitMs: 60_000 });
    expect([self.code, self.stderr]).toEqual([0, ""]);
    const q = project(
      pack({
        "p/shapes.ttl":
          '@prefix sh: <http://www.w3.org/ns/shacl#> .\n@prefix ex: <http://example.org/> .\nex:S a sh:NodeShape ; sh:targetClass ex:Book ; sh:sparql [ sh:select "SELECT $this WHERE {}" ] .\n',
      }),
    );
    expectRefused(await run("ggen", ["gen", "p", "-o", "out"], { cwd: q, limitMs: 60_000 }), 2);
    box.check();
  });

  it("a vars schema that is not JSON, and shapes that are not RDF, point at their file", async () => {
    const d = project(pack({ "p/vars.schema.json": "{ not json" }));
    const r = await run("ggen", ["gen", "p", "-o", "out"], { cwd: d, limitMs: 60_000 });
    expectRefused(r, 2);
    expect(r.stderr).toContain("p/vars.schema.json:1:");
    const s = project(
      pack({ "p/shapes.ttl": "@prefix sh: <http://www.w3.org/ns/shacl#> .\nthis is not turtle\n" }),
    );
    const t = await run("ggen", ["gen", "p", "-o", "out"], { cwd: s, limitMs: 60_000 });
    expectRefused(t, 1);
    expect(t.stderr).toContain("shapes.ttl:2");
    box.check();
  });

  it("a pack test case cannot write outside its pack, and --case cannot name a path", async () => {
    const d = project({
      "p/ggen.toml":
        '[pack]\nid = "evil.pack"\nversion = "1.0.0"\n[[templates]]\nname = "a"\npath = "t/a.tmpl"\n',
      "p/t/a.tmpl": "---\nto: ../../../outside/pwned.txt\n---\nx\n",
      "p/tests/escape/vars.yaml": "a: 1\n",
    });
    const up = await run("ggen", ["pack", "test", "p", "--update"], { cwd: d, limitMs: 60_000 });
    expect(up.code).toBe(0);
    expect(readFileSync(join(d, "p/tests/escape/error.txt"), "utf8")).toMatch(/escapes the output dir/);
    expectRefused(await run("ggen", ["pack", "test", "p", "--case", "../../outside"], { cwd: d }), 2);
    box.check();
  });
});
