import { mkdir, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { findPack, listPacks, packagesDir, readPack, readPackManifest } from "./packs.js";
import { tempDir, writePack } from "./testkit.js";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});
async function scratch(): Promise<string> {
  const t = await tempDir("ggen-market-packs-");
  cleanups.push(t.cleanup);
  return t.dir;
}

describe("packs on disk", () => {
  it("reads a pack directory into id, version, absolute dir and its parsed manifest", async () => {
    const dir = await writePack(await scratch(), {
      id: "acme.web",
      version: "2.0.0",
      deps: { "acme.db": "^1" },
    });
    const p = readPack(dir);
    expect(p).toMatchObject({ id: "acme.web", version: "2.0.0", dir });
    expect(p.manifest.templates).toEqual([
      { name: "hello", path: "templates/hello.txt.tmpl", description: "says hello" },
    ]);
    expect(p.manifest.dependencies).toEqual({ "acme.db": "^1" });
    expect(await readPackManifest(dir)).toEqual(p.manifest);
  });

  it("a missing or broken ggen.toml is a usage error naming the file (and the line)", async () => {
    const d = await scratch();
    await mkdir(join(d, "q"));
    await writeFile(join(d, "q", "ggen.toml"), '[pack]\nid = "y"\nversion = \n');
    expect(() => readPack(d)).toThrowError(
      expect.objectContaining({ code: "MANIFEST_MISSING", location: { file: join(d, "ggen.toml") } }),
    );
    await expect(readPackManifest(d)).rejects.toThrow(/no ggen\.toml in pack directory/);
    expect(() => readPack(join(d, "q"))).toThrowError(
      expect.objectContaining({ code: "MANIFEST_INVALID", location: expect.objectContaining({ line: 3 }) }),
    );
  });

  it("finds a project's installed pack in .ggen/packages/<id>, with did-you-mean", async () => {
    const d = await scratch();
    await mkdir(packagesDir(d), { recursive: true });
    await rename(await writePack(d, { id: "acme.web", version: "1.0.0" }), join(packagesDir(d), "acme.web"));
    expect(packagesDir(d)).toBe(join(d, ".ggen", "packages"));
    expect(findPack("acme.web", { projectDir: d }).dir).toBe(join(d, ".ggen/packages/acme.web"));
    expect(() => findPack("acme.wbe", { projectDir: d })).toThrowError(
      expect.objectContaining({ code: "PACK_NOT_FOUND", hint: "did you mean 'acme.web'?" }),
    );
    expect(() => findPack("other", { projectDir: d })).toThrowError(
      /no installed pack 'other' in \.ggen\/packages/,
    );
  });

  it("finds packs by id in any folder of a packs dir (named as it likes), and lists them", async () => {
    const d = await scratch();
    const dir = await writePack(join(d, "packs"), { id: "acme.api", version: "1.0.0" });
    await mkdir(join(d, "packs", "notes"));
    expect(findPack("acme.api", { projectDir: d, packsDir: "packs" }).dir).toBe(dir);
    expect(listPacks(join(d, "packs")).map((p) => p.id)).toEqual(["acme.api"]);
    expect(listPacks(dir).map((p) => p.id)).toEqual(["acme.api"]);
    expect(listPacks(join(d, "nowhere"))).toEqual([]);
  });
});
