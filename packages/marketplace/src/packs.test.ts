import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { findPack, listPacks, packagesDir, readPack, readPackManifest } from "./packs.js";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function project(files: Record<string, string>): string {
  const d = mkdtempSync(join(tmpdir(), "ggen-market-packs-"));
  dirs.push(d);
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(dirname(join(d, p)), { recursive: true });
    writeFileSync(join(d, p), text);
  }
  return d;
}
const toml = (id: string) =>
  `[pack]\nid = "${id}"\nversion = "2.0.0"\n[[templates]]\nname = "one"\npath = "t/one.tmpl"\ndescription = "first"\n[vars]\nx = 1\n[graphs]\nfiles = ["g.ttl"]\n`;

describe("packs on disk", () => {
  it("reads a pack directory into id, version, absolute dir and its parsed manifest", async () => {
    const d = project({ "p/ggen.toml": toml("acme.web") });
    const p = readPack(join(d, "p"));
    expect(p).toMatchObject({ id: "acme.web", version: "2.0.0", dir: join(d, "p") });
    expect(p.manifest.templates).toEqual([{ name: "one", path: "t/one.tmpl", description: "first" }]);
    expect(p.manifest.vars).toEqual({ x: 1 });
    expect(await readPackManifest(join(d, "p"))).toEqual(p.manifest);
  });

  it("a missing or broken ggen.toml is a usage error naming the file (and the line)", async () => {
    const d = project({ "q/ggen.toml": '[pack]\nid = "y"\nversion = \n', "empty/x": "" });
    expect(() => readPack(join(d, "empty"))).toThrowError(
      expect.objectContaining({ code: "MANIFEST_MISSING", location: { file: join(d, "empty/ggen.toml") } }),
    );
    await expect(readPackManifest(join(d, "empty"))).rejects.toThrow(/no ggen\.toml in pack directory/);
    expect(() => readPack(join(d, "q"))).toThrowError(
      expect.objectContaining({ code: "MANIFEST_INVALID", location: expect.objectContaining({ line: 3 }) }),
    );
  });

  it("finds a project's installed pack in .ggen/packages/<id>, with did-you-mean", () => {
    const d = project({ ".ggen/packages/acme.web/ggen.toml": toml("acme.web") });
    expect(packagesDir(d)).toBe(join(d, ".ggen", "packages"));
    expect(findPack("acme.web", { projectDir: d }).dir).toBe(join(d, ".ggen/packages/acme.web"));
    expect(() => findPack("acme.wbe", { projectDir: d })).toThrowError(
      expect.objectContaining({ code: "PACK_NOT_FOUND", hint: "did you mean 'acme.web'?" }),
    );
    expect(() => findPack("other", { projectDir: d })).toThrowError(
      /no installed pack 'other' in \.ggen\/packages/,
    );
  });

  it("finds packs by id in any folder of a packs dir, and lists them", () => {
    const d = project({ "packs/whatever/ggen.toml": toml("acme.api"), "packs/notes/readme.md": "x" });
    expect(findPack("acme.api", { projectDir: d, packsDir: "packs" }).dir).toBe(join(d, "packs/whatever"));
    expect(listPacks(join(d, "packs")).map((p) => p.id)).toEqual(["acme.api"]);
    expect(listPacks(join(d, "packs/whatever")).map((p) => p.id)).toEqual(["acme.api"]);
    expect(listPacks(join(d, "nowhere"))).toEqual([]);
  });
});
