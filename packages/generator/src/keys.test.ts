// The frontmatter keys of structural injection, `when`, `skip_empty` and `backup`, through generate().
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { isGgenError } from "@ggen/contract";
import { afterEach, describe, expect, it } from "vitest";
import { type GenerateOptions, generate } from "./engine.js";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function project(files: Record<string, string | Buffer>): string {
  const d = mkdtempSync(join(tmpdir(), "ggen-keys-"));
  dirs.push(d);
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(dirname(join(d, p)), { recursive: true });
    writeFileSync(join(d, p), text);
  }
  return d;
}
const read = (d: string, p: string) => readFileSync(join(d, p), "utf8");
const gen = (cwd: string, o: Omit<GenerateOptions, "cwd">) =>
  generate({ cwd, outputDir: "out", manifest: false, ...o });
async function failure(p: Promise<unknown>) {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  if (!isGgenError(e)) throw new Error(`expected a GgenError, got ${String(e)}`);
  return e;
}

const pkg = '{\n  "name": "shop",\n  "dependencies": {\n    "express": "^4.18.0"\n  }\n}\n';
const compose = "services:\n  db:\n    image: postgres:15 # pinned\n    ports:\n      - 5432:5432\n";
const cargo = '[package]\nname = "demo" # crate\n\n[dependencies]\nserde = "1"\n';

describe("structural inject", () => {
  const files = {
    "t/pg.tmpl":
      '---\nto: package.json\ninject: { path: dependencies.pg, value: "^{{pg}}" }\nvars: { pg: "8.11" }\n---\n',
    "t/compose.tmpl":
      "---\nto: docker-compose.yml\ninject:\n  path: services.db.environment\n---\nPOSTGRES_DB: {{name}}\nPOSTGRES_USER: app\n",
    "t/ports.tmpl":
      '---\nto: docker-compose.yml\ninject: { path: "services.db.ports", value: "5433:5432", add: true }\n---\n',
    "t/cargo.tmpl": '---\nto: Cargo.toml\ninject: { path: "dependencies.anyhow", value: "1.0" }\n---\n',
    "out/package.json": pkg,
    "out/docker-compose.yml": compose,
    "out/Cargo.toml": cargo,
  };

  it("edits keys of JSON, YAML and TOML files, keeping the rest (comments too), and is idempotent", async () => {
    const d = project(files);
    const r = await gen(d, { templates: ["t"], vars: { name: "shop" } });
    expect(read(d, "out/package.json")).toBe(pkg.replace('"^4.18.0"\n', '"^4.18.0",\n    "pg": "^8.11"\n'));
    expect(read(d, "out/docker-compose.yml")).toBe(
      `${compose}      - 5433:5432\n    environment:\n      POSTGRES_DB: shop\n      POSTGRES_USER: app\n`,
    );
    expect(read(d, "out/Cargo.toml")).toBe(`${cargo}anyhow = "1.0"\n`);
    expect(r.files.map((f) => f.action)).toEqual(["injected", "injected", "injected", "injected"]);
    const again = await gen(d, { templates: ["t"], vars: { name: "shop" } });
    expect(again.files.map((f) => [f.path, f.action, f.reason])).toEqual([
      ["Cargo.toml", "unchanged", "already present"],
      ["docker-compose.yml", "unchanged", "already present"],
      ["docker-compose.yml", "unchanged", "already present"],
      ["package.json", "unchanged", "already present"],
    ]);
  });

  it("refuses a missing target (exit 1), a target that is not UTF-8, and a path through a scalar", async () => {
    const missing = await failure(gen(project({ "t/pg.tmpl": files["t/pg.tmpl"] }), { templates: ["t"] }));
    expect([missing.code, missing.kind, missing.location]).toEqual([
      "INJECT_TARGET_MISSING",
      "failure",
      { file: "t/pg.tmpl", line: 2 },
    ]);
    const latin1 = Buffer.from('{ "name": "caf\xe9" }\n', "latin1");
    const d = project({ "t/pg.tmpl": files["t/pg.tmpl"], "out/package.json": latin1 });
    const enc = await failure(gen(d, { templates: ["t"] }));
    expect([enc.code, enc.kind]).toEqual(["INJECT_TARGET_ENCODING", "failure"]);
    expect(readFileSync(join(d, "out/package.json")).equals(latin1)).toBe(true);
    const text = project({
      "t/a.tmpl": "---\nto: a.txt\ninject: true\nappend: true\n---\nx\n",
      "out/a.txt": Buffer.from([0x61, 0xff, 0x0a]),
    });
    expect((await failure(gen(text, { templates: ["t"] }))).code).toBe("INJECT_TARGET_ENCODING");
    const through = await failure(
      gen(
        project({
          "t/x.tmpl": '---\nto: package.json\ninject: { path: name.first, value: "x" }\n---\n',
          "out/package.json": pkg,
        }),
        {
          templates: ["t"],
        },
      ),
    );
    expect(through.message).toBe("package.json: name is not a table or list, so name.first cannot be set");
    expect(through.location).toEqual({ file: "t/x.tmpl", line: 3 });
  });

  it("refuses a malformed inject map at its line, with what to write", async () => {
    for (const [front, msg] of [
      ['inject: { value: "1" }', /inject needs 'path'/],
      ['inject: { path: "a..b", value: 1 }', /inject path 'a..b' has an empty key/],
      ["inject: { path: a, value: 1, extra: 2 }", /unknown inject key 'extra'/],
      ["inject: 3", /'inject' must be true/],
    ] as const) {
      const e = await failure(
        gen(project({ "t/x.tmpl": `---\nto: x.json\n${front}\n---\n`, "out/x.json": "{}" }), {
          templates: ["t"],
        }),
      );
      expect(e.kind).toBe("usage");
      expect(e.message).toMatch(msg);
      expect(e.location).toEqual({ file: "t/x.tmpl", line: 3 });
    }
    const fmt = await failure(
      gen(project({ "t/x.tmpl": "---\nto: x.cfg\ninject: { path: a, value: 1 }\n---\n" }), {
        templates: ["t"],
      }),
    );
    expect(fmt.message).toMatch(/cannot tell the format of 'x.cfg'/);
  });

  it("text inject anchors run on RE2: a backreference is refused at the template line", async () => {
    const e = await failure(
      gen(
        project({
          "t/x.tmpl": "---\nto: a.txt\ninject: true\nafter: '/(a)\\1/'\n---\nx\n",
          "out/a.txt": "aa\n",
        }),
        {
          templates: ["t"],
        },
      ),
    );
    expect([e.code, e.kind, e.location]).toEqual(["BAD_PATTERN", "usage", { file: "t/x.tmpl", line: 4 }]);
  });
});

describe("when, skip_empty, backup", () => {
  const graph = "@prefix ex: <http://example.org/> .\nex:Order a ex:Entity .\n";
  it("when: an ASK on the graph (or a boolean) decides whether the output exists", async () => {
    const d = project({
      "g.ttl": graph,
      "t/yes.tmpl": "---\nto: yes.txt\nrdf: ../g.ttl\nwhen: ASK { ex:Order a ex:Entity }\n---\nyes\n",
      "t/no.tmpl": "---\nto: no.txt\nrdf: ../g.ttl\nwhen: ASK { ex:Customer a ex:Entity }\n---\nno\n",
      "t/var.tmpl": '---\nto: var.txt\nvars: { tests: false }\nwhen: "{{tests}}"\n---\nv\n',
    });
    const r = await gen(d, { templates: ["t"] });
    expect(r.files.map((f) => f.path)).toEqual(["yes.txt"]);
    expect(existsSync(join(d, "out/no.txt"))).toBe(false);
    const withTests = await gen(d, { templates: ["t/var.tmpl"], vars: { tests: "true" } });
    expect(withTests.files.map((f) => f.path)).toEqual(["var.txt"]);
  });

  it("when: anything but an ASK is refused at its line", async () => {
    const d = project({
      "g.ttl": graph,
      "t/x.tmpl": "---\nto: x\nrdf: ../g.ttl\nwhen: SELECT * { ?s ?p ?o }\n---\n",
    });
    const e = await failure(gen(d, { templates: ["t"] }));
    expect([e.code, e.location]).toEqual(["TEMPLATE_WHEN", { file: "t/x.tmpl", line: 4 }]);
    const none = await failure(
      gen(project({ "t/x.tmpl": "---\nto: x\nwhen: ASK {}\n---\n" }), { templates: ["t"] }),
    );
    expect(none.code).toBe("TEMPLATE_NO_GRAPH");
  });

  it("skip_empty: a blank rendered body writes no file (per for_each row too)", async () => {
    const d = project({
      "t/x.tmpl":
        "---\nto: '{{item}}.txt'\nfor_each: names\nvars: { names: { type: list } }\nskip_empty: true\n---\n{{#if (eq item \"b\")}}B{{/if}}\n",
    });
    const r = await gen(d, { templates: ["t"], vars: { names: "a,b,c" } });
    expect(r.files.map((f) => f.path)).toEqual(["b.txt"]);
    const bad = await failure(
      gen(project({ "t/x.tmpl": "---\nto: x\nskip_empty: 2\n---\n" }), { templates: ["t"] }),
    );
    expect(bad.message).toBe("'skip_empty' must be true or false, got 2");
  });

  it("backup: the old bytes are kept as <file>.bak before an overwrite or an injection", async () => {
    const d = project({
      "t/x.tmpl": "---\nto: x.txt\nforce: true\nbackup: true\n---\nnew\n",
      "out/x.txt": "old\n",
      "t2/y.tmpl": "---\nto: y.json\ninject: { path: a, value: 2 }\nbackup: true\n---\n",
      "out/y.json": '{ "a": 1 }\n',
    });
    const info: string[] = [];
    await gen(d, { templates: ["t", "t2"], onInfo: (m) => info.push(m) });
    expect([read(d, "out/x.txt"), read(d, "out/x.txt.bak")]).toEqual(["new\n", "old\n"]);
    expect([read(d, "out/y.json"), read(d, "out/y.json.bak")]).toEqual(['{ "a": 2 }\n', '{ "a": 1 }\n']);
    expect(info).toEqual(["kept x.txt.bak", "kept y.json.bak"]);
    // Nothing changes: no new backup.
    rmSync(join(d, "out/x.txt.bak"));
    await gen(d, { templates: ["t"] });
    expect(existsSync(join(d, "out/x.txt.bak"))).toBe(false);
    // A new file has nothing to back up; --dry-run writes no backup either.
    const fresh = project({ "t/x.tmpl": "---\nto: x.txt\nbackup: true\n---\nnew\n" });
    await gen(fresh, { templates: ["t"] });
    expect(existsSync(join(fresh, "out/x.txt.bak"))).toBe(false);
  });
});
