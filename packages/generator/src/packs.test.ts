import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { readPack } from "@ggen/marketplace";
import { afterEach, describe, expect, it } from "vitest";
import { inspectTemplate, validateVarsFile } from "./inspect.js";
import { trustedPacks } from "./packs.js";
import { listTemplates, resolveTemplates } from "./resolve.js";

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

/** The templates `refs` resolve to in project `cwd`: [ref, file, pack id, trusted]. */
async function resolved(cwd: string, refs: string[], packsDir?: string) {
  const units = await resolveTemplates(refs, { cwd, ...(packsDir ? { packsDir } : {}) }, trustedPacks(cwd));
  return units.map((u) => [u.ref, u.file, u.pack?.id, u.pack?.trusted]);
}

describe("packs", () => {
  it("the fixture pack is io.ggen.domain-service 1.1.0 and ships the domain ontology unchanged", async () => {
    const units = await resolveTemplates([fixturePack], { cwd: repo }, new Set());
    const p = units[0]!.pack!;
    expect(p.id).toBe("io.ggen.domain-service");
    expect(p.version).toBe("1.1.0");
    expect(units.map((u) => u.ref.split(":")[1])).toEqual(
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

  it("resolves pack:template and pack ids from <project>/.ggen/packages/<id>, with suggestions", async () => {
    const d = project({
      ".ggen/packages/acme.web/ggen.toml": toml("acme.web"),
      ".ggen/packages/acme.web/t/one.tmpl": "x",
    });
    const file = join(d, ".ggen/packages/acme.web/t/one.tmpl");
    expect(await resolved(d, ["acme.web:one"])).toEqual([["acme.web:one", file, "acme.web", false]]);
    expect(await resolved(d, ["acme.web"])).toEqual([["acme.web:one", file, "acme.web", false]]);
    await expect(resolved(d, ["acme.web:onee"])).rejects.toThrowError(
      expect.objectContaining({ code: "TEMPLATE_NOT_FOUND", hint: "did you mean 'acme.web:one'?" }),
    );
    await expect(resolved(d, ["acme.wbe:one"])).rejects.toThrowError(
      expect.objectContaining({ code: "PACK_NOT_FOUND", hint: "did you mean 'acme.web'?" }),
    );
  });

  it("a template file inside a pack directory belongs to that pack", async () => {
    const d = project({ "p/ggen.toml": toml("acme.web"), "p/t/one.tmpl": "x", "p/t/loose.tmpl": "x" });
    expect(await resolved(d, ["p/t/one.tmpl", "p/t/loose.tmpl"])).toEqual([
      ["p/t/one.tmpl", join(d, "p/t/one.tmpl"), "acme.web", false],
      ["p/t/loose.tmpl", join(d, "p/t/loose.tmpl"), undefined, undefined],
    ]);
    expect(await resolved(d, ["p:one"])).toEqual([
      ["acme.web:one", join(d, "p/t/one.tmpl"), "acme.web", false],
    ]);
  });

  it("takes packs already read (as the marketplace returns them), without looking for them", async () => {
    const d = project({ "elsewhere/ggen.toml": toml("acme.web"), "elsewhere/t/one.tmpl": "x" });
    const pack = readPack(join(d, "elsewhere"));
    const units = await resolveTemplates([{ pack, template: "one" }, { pack }], { cwd: d }, new Set());
    expect(units.map((u) => [u.ref, u.file])).toEqual([["acme.web:one", join(d, "elsewhere/t/one.tmpl")]]);
    expect(units[0]!.pack!.vars).toEqual({ x: 1 });
  });

  it("finds packs by id in any folder of --packs-dir, and lists their templates", async () => {
    const d = project({
      "packs/whatever/ggen.toml": toml("acme.api"),
      "packs/whatever/t/one.tmpl": "x",
      "local/a.tmpl": "x",
    });
    expect(await resolved(d, ["acme.api:one"], "packs")).toEqual([
      ["acme.api:one", join(d, "packs/whatever/t/one.tmpl"), "acme.api", false],
    ]);
    expect(await listTemplates({ cwd: d, packsDir: "packs", dirs: ["local"] })).toEqual([
      {
        ref: "acme.api:one",
        path: "packs/whatever/t/one.tmpl",
        description: "first",
        pack: { id: "acme.api", version: "2.0.0" },
      },
      { ref: "local/a.tmpl", path: "local/a.tmpl" },
    ]);
  });

  it("trust comes only from the project's ggen.toml", async () => {
    const d = project({
      "ggen.toml": '[packs]\ntrusted = ["acme.web"]\n',
      ".ggen/packages/acme.web/ggen.toml": `${toml("acme.web")}trusted = true\n`,
      ".ggen/packages/acme.web/t/one.tmpl": "x",
      ".ggen/packages/acme.other/ggen.toml": toml("acme.other").replace(
        "[pack]\n",
        "[pack]\ntrusted = true\n",
      ),
      ".ggen/packages/acme.other/t/one.tmpl": "x",
    });
    expect(trustedPacks(d)).toEqual(new Set(["acme.web"]));
    expect((await resolved(d, ["acme.web:one"]))[0]![3]).toBe(true);
    expect((await resolved(d, ["acme.other:one"]))[0]![3]).toBe(false);
  });

  it("rejects template paths that leave the pack and broken manifests with a location", async () => {
    const d = project({
      "p/ggen.toml":
        '[pack]\nid = "x"\nversion = "1.0.0"\n[[templates]]\nname = "evil"\npath = "../../etc/passwd"\n',
      "q/ggen.toml": '[pack]\nid = "y"\nversion = \n',
    });
    await expect(resolved(d, ["p"])).rejects.toThrowError(/escapes the pack directory/);
    await expect(resolved(d, ["q"])).rejects.toThrowError(
      expect.objectContaining({ code: "MANIFEST_INVALID", location: expect.objectContaining({ line: 3 }) }),
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
  it("describes a pack template: vars with types and defaults, graphs, queries, outputs", async () => {
    const [info] = await inspectTemplate("fixtures/templates:package-json", { cwd: repo });
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
    const [schema] = await inspectTemplate("fixtures/templates:sql-schema", { cwd: repo });
    expect(schema!.queries.map((q) => q.name)).toEqual(["classes", "fields"]);
    expect(schema!.graphs[0]).toMatch(/domain\.ttl$/);
    const [each] = await inspectTemplate("fixtures/templates:entity-tests", { cwd: repo });
    expect(each!.forEach).toBe("@queries/classes.rq");
    expect(
      (await inspectTemplate("io.ggen.domain-service", { cwd: repo, packsDir: "fixtures" })).length,
    ).toBeGreaterThanOrEqual(15);
  });

  it("validates a vars file against declarations", async () => {
    const d = project({
      "t.tmpl":
        "---\nto: x\nvars:\n  db: { enum: [pg, mysql], required: true }\n  port: { type: integer }\n---\n",
      "ok.yaml": "db: pg\nport: 5432\n",
      "bad.json": '{"port": "http", "other": 1}',
    });
    expect(await validateVarsFile("ok.yaml", "t.tmpl", { cwd: d })).toMatchObject({
      ok: true,
      problems: [],
      unknown: [],
    });
    const bad = await validateVarsFile("bad.json", "t.tmpl", { cwd: d });
    expect(bad.ok).toBe(false);
    expect(bad.problems).toEqual([
      { name: "db", message: "missing required var 'db'", line: 4, file: "t.tmpl" },
      { name: "port", message: "var 'port' must be an integer, got \"http\"", line: 5, file: "t.tmpl" },
    ]);
    expect(bad.unknown).toEqual(["other"]);
  });
});
