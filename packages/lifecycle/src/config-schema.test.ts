// make.toml and .ggen/config.toml take their key lists from their schemas (make-toml/v1, ggen-config/v1);
// these tests hold the other direction: every key a schema has is one the parser reads (a value no key
// accepts is refused at that key), so the schema never promises a key the program would ignore.
import { schemaKeys } from "@ggen/contract";
import { describe, expect, it } from "vitest";
import { parseConfig } from "./config.js";
import { parseSettings } from "./settings.js";

const BAD = "[{ a = 1 }]"; // an array of tables: no key of either file takes one

function refusedAt(parse: () => unknown, key: string): void {
  let message = "";
  try {
    parse();
  } catch (e) {
    message = (e as Error).message;
  }
  expect(message, `${key} was not read`).toContain(key);
  expect(message, key).not.toMatch(/unknown key/);
}

describe("make.toml: every key of make-toml/v1 is read", () => {
  const tables: [string, string, string][] = [
    ["/properties/project", "[project]", ""],
    ["/$defs/phase", "[phases.build]", ""],
    ["/$defs/environment", "[environments.dev]", ""],
    ["/$defs/deploy", "[environments.dev.deploy]", ""],
    ["/$defs/verify", "[environments.dev.verify]", 'url = "http://127.0.0.1:1/"\n'],
    ["/$defs/profile", "[profiles.fast]", ""],
    ["/properties/validation", "[validation]", ""],
    ["/properties/limits", "[limits]", ""],
  ];
  for (const [pointer, header, rest] of tables) {
    it(header, () => {
      const keys = schemaKeys("make-toml/v1", pointer).filter((k) => k !== "url" || !rest);
      expect(keys.length).toBeGreaterThan(0);
      for (const key of keys)
        refusedAt(() => parseConfig(`${header}\n${rest}${key} = ${BAD}\n`, "make.toml", "/p"), key);
    });
  }
  it("the top level", () => {
    for (const key of schemaKeys("make-toml/v1", ""))
      refusedAt(() => parseConfig(`${key} = ${BAD}\n`, "make.toml", "/p"), key);
  });
});

describe(".ggen/config.toml: every key of ggen-config/v1 the lifecycle reads is read", () => {
  for (const section of ["lifecycle", "template", "deployment"]) {
    it(`[${section}]`, () => {
      for (const key of schemaKeys("ggen-config/v1", `/properties/${section}`))
        refusedAt(() => parseSettings(`[${section}]\n${key} = ${BAD}\n`), key);
    });
  }
});
