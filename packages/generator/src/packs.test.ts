import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { inspectTemplate, validateVarsFile } from "./inspect.js";
import { findPack, listPacks, readPack, resolvePackTemplate, trustedPacks } from "./packs.js";
import { listTemplates } from "./resolve.js";

const repo = join(import.meta.dirname, "..", "..", "..");
const fixturePack = join(repo, "fixtures", "templates");
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function project(files: Record<string, string>): string {
  const d = mkdtempSync(join(tmpdir(), "ggen-packs-"));
  dirs.push(d);
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(dirname(join(d, p)), { recursive: true });
    writeFileSync(join(d, p), text);
  }
  return d;
}
const toml = (id: string) =>
  `[pack]\nid = "${id}"\nversion = "2.0.0"\n[[templates]]\nname = "one"\npath = "t/one.tmpl"\ndescription = "first"\n[vars]\nx = 1\n[graphs]\nfiles = ["g.ttl"]\n`;

describe("packs", () => {
  it("the fixture pack is io.ggen.domain-service 1.1.0 and ships the domain ontology unchanged", () => {
    const p = readPack(fixturePack);
    expect(p.id).toBe("io.ggen.domain-service");
    expect(p.version).toBe("1.1.0");
    expect(p.templates.map((t) => t.name)).toEqual(
      expect.arrayContaining([
        "sql-schema",
        "ts-types",
        "data-access",
        "http-api",
        "package-json",
        "make-toml",
      ]),
    );
    expect(p.graphs).toEqual([join(fixturePack, "graphs", "domain.ttl")]);
    expect(readFileSync(join(fixturePack, "graphs", "domain.ttl"), "utf8")).toBe(
      readFileSync(join(repo, "fixtures", "domain", "shop.ttl"), "utf8"),
    );
  });

  it("resolves pack:template from <project>/.ggen/packages/<id>, with suggestions", () => {
    const d = project({
      ".ggen/packages/acme.web/ggen.toml": toml("acme.web"),
      ".ggen/packages/acme.web/t/one.tmpl": "x",
    });
    const { pack, template } = resolvePackTemplate(d, "acme.web:one");
    expect(pack.vars).toEqual({ x: 1 });
    expect(template.path).toBe(join(d, ".ggen/packages/acme.web/t/one.tmpl"));
    expect(() => resolvePackTemplate(d, "acme.web:onee")).toThrowError(
      expect.objectContaining({ hint: "did you mean 'acme.web:one'?" }),
    );
    expect(() => resolvePackTemplate(d, "acme.wbe:one")).toThrowError(
      expect.objectContaining({ code: "PACK_NOT_FOUND", hint: "did you mean 'acme.web'?" }),
    );
    expect(findPack("acme.web", { cwd: d }).version).toBe("2.0.0");
  });

  it("finds packs by id in any folder of --packs-dir, and lists their templates", () => {
    const d = project({
      "packs/whatever/ggen.toml": toml("acme.api"),
      "packs/whatever/t/one.tmpl": "x",
      "local/a.tmpl": "x",
    });
    expect(findPack("acme.api", { cwd: d, packsDir: "packs" }).dir).toBe(join(d, "packs/whatever"));
    expect(listPacks(join(d, "packs")).map((p) => p.id)).toEqual(["acme.api"]);
    expect(listTemplates({ cwd: d, packsDir: "packs", dirs: ["local"] })).toEqual([
      {
        ref: "acme.api:one",
        path: "packs/whatever/t/one.tmpl",
        description: "first",
        pack: { id: "acme.api", version: "2.0.0" },
      },
      { ref: "local/a.tmpl", path: "local/a.tmpl" },
    ]);
  });

  it("trust comes only from the project's ggen.toml", () => {
    const d = project({
      "ggen.toml": '[packs]\ntrusted = ["acme.web"]\n',
      ".ggen/packages/acme.web/ggen.toml": `${toml("acme.web")}trusted = true\n`,
      ".ggen/packages/acme.other/ggen.toml": toml("acme.other").replace(
        "[pack]\n",
        "[pack]\ntrusted = true\n",
      ),
    });
    expect(trustedPacks(d)).toEqual(new Set(["acme.web"]));
    expect(findPack("acme.web", { cwd: d }).trusted).toBe(true);
    expect(findPack("acme.other", { cwd: d }).trusted).toBe(false);
  });

  it("rejects template paths that leave the pack and broken manifests with a location", () => {
    const d = project({
      "p/ggen.toml": '[pack]\nid = "x"\n[[templates]]\nname = "evil"\npath = "../../etc/passwd"\n',
      "q/ggen.toml": '[pack]\nid = "y"\nversion = \n',
    });
    expect(() => readPack(join(d, "p"))).toThrowError(/leaves the pack/);
    expect(() => readPack(join(d, "q"))).toThrowError(
      expect.objectContaining({ code: "PACK_MANIFEST", location: expect.objectContaining({ line: 3 }) }),
    );
  });
});

describe("pack templates stay inside their pack", () => {
  it("from:, rdf: and @query files may not leave the pack", async () => {
    const { generate } = await import("./engine.js");
    const pack = '[pack]\nid = "p"\nversion = "1.0.0"\n[[templates]]\nname = "a"\npath = "a.tmpl"\n';
    for (const front of [
      "from: ../../secret.txt",
      "rdf: ../../secret.ttl",
      'rdf_inline: "<http://e/a> <http://e/b> 1 ."\nsparql:\n  q: "@../../secret.rq"',
    ]) {
      const d = project({
        ".ggen/packages/p/ggen.toml": pack,
        ".ggen/packages/p/a.tmpl": `---\nto: a.txt\n${front}\n---\nx\n`,
        ".ggen/secret.txt": "s",
        ".ggen/secret.ttl": "<http://e/a> <http://e/b> 1 .",
        ".ggen/secret.rq": "SELECT * {}",
      });
      await expect(generate({ cwd: d, templates: ["p:a"], outputDir: "out" }), front).rejects.toThrowError(
        /outside the pack/,
      );
    }
  });
});

describe("inspect and validate-vars", () => {
  it("describes a pack template: vars with types and defaults, graphs, queries, outputs", () => {
    const [info] = inspectTemplate("fixtures/templates:package-json", { cwd: repo });
    expect(info).toMatchObject({
      ref: "io.ggen.domain-service:package-json",
      to: "package.json",
      pack: { id: "io.ggen.domain-service" },
    });
    expect(info!.vars).toEqual([
      expect.objectContaining({
        name: "name",
        type: "string",
        default: "shop-service",
        pattern: "^[a-z][a-z0-9-]*$",
      }),
      expect.objectContaining({ name: "version", type: "string", default: "0.1.0" }),
    ]);
    const [schema] = inspectTemplate("fixtures/templates:sql-schema", { cwd: repo });
    expect(schema!.queries.map((q) => q.name)).toEqual(["classes", "fields"]);
    expect(schema!.graphs[0]).toMatch(/domain\.ttl$/);
    const [each] = inspectTemplate("fixtures/templates:entity-tests", { cwd: repo });
    expect(each!.forEach).toBe("@queries/classes.rq");
    expect(
      inspectTemplate("io.ggen.domain-service", { cwd: repo, packsDir: "fixtures" }).length,
    ).toBeGreaterThanOrEqual(15);
  });

  it("validates a vars file against declarations", () => {
    const d = project({
      "t.tmpl":
        "---\nto: x\nvars:\n  db: { enum: [pg, mysql], required: true }\n  port: { type: integer }\n---\n",
      "ok.yaml": "db: pg\nport: 5432\n",
      "bad.json": '{"port": "http", "other": 1}',
    });
    expect(validateVarsFile("ok.yaml", "t.tmpl", { cwd: d })).toMatchObject({
      ok: true,
      problems: [],
      unknown: [],
    });
    const bad = validateVarsFile("bad.json", "t.tmpl", { cwd: d });
    expect(bad.ok).toBe(false);
    expect(bad.problems).toEqual([
      { name: "db", message: "missing required var 'db'", line: 4, file: "t.tmpl" },
      { name: "port", message: "var 'port' must be an integer, got \"http\"", line: 5, file: "t.tmpl" },
    ]);
    expect(bad.unknown).toEqual(["other"]);
  });
});
