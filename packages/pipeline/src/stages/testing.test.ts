import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { GenerationManifest } from "@ggen/contract";
import { GgenError, sha256 } from "@ggen/support";
import { afterAll, describe, expect, it } from "vitest";
import { manifestTarget } from "./testing.js";

const dir = mkdtempSync(join(tmpdir(), "ggen-pipeline-testing-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const TEST = 'import { test } from "node:test";\ntest("db", () => process.env.DATABASE_URL);\n';

/** A project with generated output under `gen/app` and its manifest in gen/app/.ggen/. */
function generatedProject(name: string, outputRoot = "gen/app") {
  const cwd = join(dir, name);
  const files = { "package.json": '{"name":"app"}\n', "test/db.test.mjs": TEST };
  for (const [f, text] of Object.entries(files)) {
    const abs = join(cwd, "gen/app", f);
    mkdirSync(dirname(abs), { recursive: true });
    writeFileSync(abs, text);
  }
  const manifest = {
    kind: "generation-manifest/v1",
    outputRoot,
    files: Object.entries(files).map(([path, text]) => ({
      path,
      sha256: sha256(text),
      bytes: text.length,
      action: "created",
    })),
  } as unknown as GenerationManifest;
  const manifestText = JSON.stringify(manifest);
  mkdirSync(join(cwd, "gen/app/.ggen"), { recursive: true });
  writeFileSync(join(cwd, "gen/app/.ggen/manifest.json"), manifestText);
  return { cwd, manifest, manifestText, manifestPath: "gen/app/.ggen/manifest.json" };
}

describe("manifestTarget", () => {
  it("the output, its test files, its sources as they are now, and the services they need", async () => {
    const p = generatedProject("ok");
    const t = await manifestTarget(p);
    expect(t.root).toBe(join(p.cwd, "gen/app"));
    expect(t.files).toEqual([join(p.cwd, "gen/app/test/db.test.mjs")]);
    expect(t.sourceRefs).toEqual([
      { path: "gen/app/package.json", sha256: sha256('{"name":"app"}\n') },
      { path: "gen/app/test/db.test.mjs", sha256: sha256(TEST) },
    ]);
    expect(t.manifest).toEqual({ path: "gen/app/.ggen/manifest.json", sha256: sha256(p.manifestText) });
    expect(t.needs).toEqual([{ service: "postgres", because: "test/db.test.mjs reads DATABASE_URL" }]);
  });

  it("finds the output beside a .ggen/ manifest when outputRoot is relative to somewhere else", async () => {
    const p = generatedProject("moved", "elsewhere/app");
    expect((await manifestTarget(p)).root).toBe(join(p.cwd, "gen/app"));
  });

  it("a changed file is tested as it is now, and said; a missing one is a usage error at the manifest", async () => {
    const p = generatedProject("changed");
    writeFileSync(join(p.cwd, "gen/app/package.json"), '{"name":"edited"}\n');
    const changed: string[] = [];
    const t = await manifestTarget({ ...p, onChanged: (f) => changed.push(f) });
    expect(changed).toEqual(["package.json"]);
    expect(t.sourceRefs[0]).toEqual({ path: "gen/app/package.json", sha256: sha256('{"name":"edited"}\n') });

    rmSync(join(p.cwd, "gen/app/test/db.test.mjs"));
    const e = await manifestTarget(p).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(GgenError);
    expect(e).toMatchObject({
      code: "FILE_NOT_FOUND",
      kind: "usage",
      location: { file: "gen/app/.ggen/manifest.json" },
    });
    expect((e as Error).message).toBe("the manifest lists test/db.test.mjs but it is not in gen/app");
  });
});
