// The committed fixture registry: its index validates, every sha256/size matches its archive, every
// archive extracts safely into a pack whose ggen.toml agrees with the index, and rebuilding it from
// the pack sources reproduces the same bytes.
import { existsSync } from "node:fs";
import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import type { RegistryIndex } from "@ggen/contract";
import { sha256 } from "@ggen/support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { extractSafe } from "./archive.js";
import { readPackManifest } from "./packs.js";
import { buildRegistry, packDirsUnder } from "./publish.js";
import { parseIndex } from "./registry-index.js";
import { defaultRegistryDir } from "./sources.js";
import { tempDir } from "./testkit.js";

const dir = defaultRegistryDir();
let index: RegistryIndex;
let t: Awaited<ReturnType<typeof tempDir>>;

beforeAll(async () => {
  index = parseIndex(await readFile(join(dir, "index.json"), "utf8"), join(dir, "index.json"));
  t = await tempDir();
});
afterAll(async () => t.cleanup());

describe("fixtures/registry", () => {
  it("lists the real packs", () => {
    const ids = index.packs.map((p) => p.id);
    for (const id of [
      "io.ggen.node-cli",
      "io.ggen.rust-cli",
      "io.ggen.postgres-schema",
      "io.ggen.dockerfile",
      "io.ggen.ci-workflow",
      "io.ggen.docs",
      "io.ggen.redis-service",
    ])
      expect(ids).toContain(id);
    if (existsSync(join(dir, "..", "templates", "ggen.toml")))
      expect(ids).toContain("io.ggen.domain-service");
  });

  it("has sha256 and size matching every archive, and archives matching their manifests", async () => {
    for (const p of index.packs) {
      for (const v of p.versions) {
        const data = await readFile(join(dir, v.url));
        expect(sha256(data), `${p.id}@${v.version}`).toBe(v.sha256);
        expect(data.length).toBe(v.size);
        const out = join(t.dir, `${p.id}-${v.version}`);
        await mkdir(out, { recursive: true });
        await extractSafe(join(dir, v.url), out);
        const m = await readPackManifest(out);
        expect(m.pack.id).toBe(p.id);
        expect(m.pack.version).toBe(v.version);
        expect(m.dependencies).toEqual(v.dependencies ?? {});
        for (const tpl of m.templates) expect(existsSync(join(out, tpl.path)), tpl.path).toBe(true);
      }
    }
  });

  it("is reproducible: rebuilding from the pack sources gives the same sha256s", async () => {
    const packDirs = await packDirsUnder(join(dir, "packs"));
    const domain = join(dir, "..", "templates");
    if (existsSync(join(domain, "ggen.toml"))) packDirs.push(domain);
    const rebuilt = await buildRegistry({ packDirs, outDir: join(t.dir, "rebuilt") });
    const sums = (i: RegistryIndex) =>
      i.packs.flatMap((p) => p.versions.map((v) => `${p.id}@${v.version} ${v.sha256}`));
    expect(sums(rebuilt), "fixtures/registry is stale: run `node fixtures/registry/build.mjs`").toEqual(
      sums(index),
    );
  });
});
