// Every bundled pack's ggen.toml names the pack-manifest/v1 schema on its first line (Taplo's `#:schema`)
// and validates against it; the one parser (parsePackManifest) reads it too.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { PACK_MANIFEST_FILE, parsePackManifest, parseToml, schemaUrl, validate } from "@ggen/contract";
import { describe, expect, it } from "vitest";
import { packDirsUnder } from "./publish.js";
import { defaultRegistryDir } from "./sources.js";

describe("bundled packs' ggen.toml", async () => {
  const dirs = await packDirsUnder(join(defaultRegistryDir(), "packs"));
  dirs.push(join(defaultRegistryDir(), "..", "templates")); // io.ggen.domain-service
  it("there are the bundled packs", () => {
    expect(dirs.length).toBeGreaterThanOrEqual(10);
  });
  for (const dir of dirs) {
    it(`${dir.split("/").pop()}: names its schema and validates against it`, async () => {
      const file = join(dir, PACK_MANIFEST_FILE);
      const text = await readFile(file, "utf8");
      expect(text.split("\n")[0]).toBe(`#:schema ${schemaUrl("pack-manifest/v1")}`);
      const r = validate("pack-manifest/v1", parseToml(text, file, "X", "usage"));
      expect(r.ok ? [] : r.errors).toEqual([]);
      expect(parsePackManifest(text, file, dir).pack.id).toMatch(/^io\.ggen\./);
    });
  }
});
