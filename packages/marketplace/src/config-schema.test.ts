// [marketplace] of .ggen/config.toml and the ggen-config/v1 schema editors check it against: the same keys,
// the same fixed values, so neither can drift from the other.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { schemaKeys, schemas, validate } from "@ggen/contract";
import { describe, expect, it, onTestFinished } from "vitest";
import { FIXED, KNOWN_KEYS, readMarketConfig } from "./limits.js";

const KIND = "ggen-config/v1";
const section = (schemas[KIND] as { properties: { marketplace: { properties: Record<string, unknown> } } })
  .properties.marketplace.properties;

describe("[marketplace] and the ggen-config/v1 schema", () => {
  it("know the same keys", () => {
    expect([...KNOWN_KEYS].sort()).toEqual(schemaKeys(KIND, "/properties/marketplace").sort());
  });
  it("agree on the fixed keys: the accepted value validates, another does not", () => {
    for (const [key, { accepts }] of Object.entries(FIXED)) {
      expect(section[key], key).toBeDefined();
      if (accepts !== undefined)
        expect(validate(KIND, { marketplace: { [key]: accepts } }).ok, key).toBe(true);
      expect(validate(KIND, { marketplace: { [key]: "other" } }).ok, key).toBe(false);
    }
  });
  it("the program refuses a key the schema does not have", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ggen-market-config-"));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    mkdirSync(join(dir, ".ggen"));
    writeFileSync(join(dir, ".ggen", "config.toml"), "[marketplace]\nregistry_urls = 'x'\n");
    expect(validate(KIND, { marketplace: { registry_urls: "x" } }).ok).toBe(false);
    await expect(readMarketConfig(dir)).rejects.toThrow(/no key 'registry_urls'/);
  });
});
