import { describe, expect, it } from "vitest";
import { contractKinds, isGgenError, schemaKeys, schemaUrl } from "./index.js";

describe("schemaKeys", () => {
  it("lists an object schema's keys in the schema's order, following $ref", () => {
    expect(schemaKeys("make-toml/v1", "/properties/limits")).toEqual(["line", "log"]);
    // environments' values are a $ref to #/$defs/environment
    expect(schemaKeys("make-toml/v1", "/properties/environments/additionalProperties")).toEqual(
      schemaKeys("make-toml/v1", "/$defs/environment"),
    );
    expect(schemaKeys("scenario/v1", "/$defs/expect")).toContain("stdout_matches");
  });
  it("refuses a pointer that is not an object schema", () => {
    try {
      schemaKeys("make-toml/v1", "/properties/nothing");
      expect.unreachable();
    } catch (e) {
      expect(isGgenError(e) && e.code).toBe("CONTRACT_SCHEMA");
    }
  });
});

describe("schemaUrl", () => {
  it("is each schema's $id, under one base, named after its kind", () => {
    expect(schemaUrl("make-toml/v1")).toBe("https://ggen.dev/schemas/make-toml/v1.json");
    expect(schemaUrl("pack-manifest/v1")).toBe("https://ggen.dev/schemas/pack-manifest/v1.json");
    for (const kind of contractKinds) expect(schemaUrl(kind)).toBe(`https://ggen.dev/schemas/${kind}.json`);
  });
});
