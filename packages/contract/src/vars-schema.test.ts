import { describe, expect, it } from "vitest";
import { compileVarsSchema, isGgenError, parsePackManifest } from "./index.js";

const schema = JSON.stringify({
  type: "object",
  required: ["name"],
  properties: {
    name: { type: "string", pattern: "^[a-z][a-z0-9-]*$" },
    port: { type: "integer", minimum: 1, maximum: 65535 },
    db: { type: "object", properties: { host: { type: "string" } }, additionalProperties: false },
  },
});

describe("compileVarsSchema", () => {
  const check = compileVarsSchema(schema, "vars.schema.json");

  it("accepts conforming vars, coercing command-line strings on a copy", () => {
    const vars = { name: "shop", port: "8080" };
    expect(check(vars)).toEqual([]);
    expect(vars.port).toBe("8080");
  });

  it("reports every problem with its pointer", () => {
    expect(check({ name: "Shop", port: 0, db: { host: "h", user: "u" } })).toEqual([
      { path: "/name", message: 'must match pattern "^[a-z][a-z0-9-]*$"' },
      { path: "/port", message: "must be >= 1" },
      { path: "/db/user", message: "is not allowed here" },
    ]);
    expect(check({ port: "x" })).toEqual([
      { path: "/name", message: "is required" },
      { path: "/port", message: "must be integer" },
    ]);
  });

  it("runs patterns on RE2: a catastrophic one answers at once, a backreference is refused", () => {
    const c = compileVarsSchema(
      JSON.stringify({ properties: { a: { type: "string", pattern: "^(a+)+$" } } }),
      "s.json",
    );
    expect(c({ a: `${"a".repeat(50_000)}!` })).toEqual([
      { path: "/a", message: 'must match pattern "^(a+)+$"' },
    ]);
    expect(() =>
      compileVarsSchema(
        JSON.stringify({ properties: { a: { type: "string", pattern: "(a)\\1" } } }),
        "s.json",
      ),
    ).toThrow(/not a supported pattern|invalid JSON Schema/);
  });

  it("compiles draft-07 schemas too", () => {
    const c = compileVarsSchema(
      JSON.stringify({ $schema: "http://json-schema.org/draft-07/schema#", required: ["a"] }),
      "s.json",
    );
    expect(c({})).toEqual([{ path: "/a", message: "is required" }]);
  });

  it("refuses a schema that is not JSON, not an object, or not a schema, at the file", () => {
    for (const [text, what] of [
      ["{ nope", /not valid JSON/],
      ["[1]", /must be a JSON object/],
      ['{"type": "strange"}', /invalid JSON Schema/],
    ] as const) {
      try {
        compileVarsSchema(text, "bad.json");
        expect.unreachable();
      } catch (e) {
        expect(isGgenError(e) && e.kind).toBe("usage");
        expect((e as Error).message).toMatch(what);
        expect(isGgenError(e) && e.location?.file).toBe("bad.json");
      }
    }
  });
});

describe("[contract] in ggen.toml", () => {
  const head = '[pack]\nid = "io.x"\nversion = "1.0.0"\n';
  it("reads shapes and the vars schema", () => {
    const m = parsePackManifest(
      `${head}[contract]\nshapes = ["shapes/book.ttl"]\nvars_schema = "vars.schema.json"\n`,
      "ggen.toml",
    );
    expect(m.contract).toEqual({ shapes: ["shapes/book.ttl"], varsSchema: "vars.schema.json" });
    expect(parsePackManifest(head, "ggen.toml").contract).toEqual({ shapes: [] });
  });

  it("refuses paths that leave the pack, at their line", () => {
    try {
      parsePackManifest(`${head}[contract]\nvars_schema = "../x.json"\n`, "ggen.toml", "/p");
      expect.unreachable();
    } catch (e) {
      expect((e as Error).message).toMatch(/vars schema '..\/x.json' escapes the pack directory/);
      expect(isGgenError(e) && e.location?.line).toBe(5);
    }
    expect(() => parsePackManifest(`${head}[contract]\nshapes = "x.ttl"\n`, "ggen.toml")).toThrow(
      /\[contract\] shapes must be array/,
    );
  });
});
