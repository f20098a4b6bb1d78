import { describe, expect, it } from "vitest";
import { checkVars, coerce, parseVarDecls } from "./vars.js";

describe("vars", () => {
  it("coerces command-line strings to declared types", () => {
    expect(coerce("a, b,c", "list")).toEqual({ ok: true, value: ["a", "b", "c"] });
    expect(coerce('["a b", 1]', "list")).toEqual({ ok: true, value: ["a b", 1] });
    expect(coerce("", "list")).toEqual({ ok: true, value: [] });
    expect(coerce("yes", "boolean")).toEqual({ ok: true, value: true });
    expect(coerce("0", "boolean")).toEqual({ ok: true, value: false });
    expect(coerce("maybe", "boolean")).toEqual({ ok: false });
    expect(coerce("42", "integer")).toEqual({ ok: true, value: 42 });
    expect(coerce("4.2", "integer")).toEqual({ ok: false });
    expect(coerce("4.2", "number")).toEqual({ ok: true, value: 4.2 });
    expect(coerce('{"a":1}', "object")).toEqual({ ok: true, value: { a: 1 } });
    expect(coerce("[1]", "object")).toEqual({ ok: false });
    expect(coerce(7, "string")).toEqual({ ok: true, value: "7" });
  });

  it("reads declarations and plain defaults, with lines", () => {
    const decls = parseVarDecls(
      {
        name: { type: "string", required: true },
        port: 3000,
        opts: { a: 1 },
        kind: { enum: ["x", "y"], default: "x" },
      },
      "t",
      (p) => ({ "vars.name": 3, "vars.port": 4 })[p],
    );
    expect(decls).toEqual([
      { name: "name", type: "string", required: true, line: 3 },
      { name: "port", default: 3000, line: 4 },
      { name: "opts", default: { a: 1 } },
      { name: "kind", enum: ["x", "y"], default: "x" },
    ]);
    expect(() => parseVarDecls({ n: { type: "float" } }, "t", () => 9)).toThrowError(
      expect.objectContaining({ location: { file: "t", line: 9 }, hint: expect.stringContaining("integer") }),
    );
  });

  it("applies defaults, coerces and reports every problem", () => {
    const decls = parseVarDecls(
      {
        n: { type: "integer", default: 1 },
        tags: { type: "list" },
        id: { pattern: "^[a-z]+$", required: true },
      },
      "t",
      () => undefined,
    );
    expect(checkVars({ tags: "a,b", id: "abc" }, decls)).toEqual({
      vars: { n: 1, tags: ["a", "b"], id: "abc" },
      problems: [],
    });
    const bad = checkVars({ n: "x", id: "ABC" }, decls);
    expect(bad.problems.map((p) => p.name)).toEqual(["n", "id"]);
    expect(checkVars({}, decls).problems[0]?.message).toBe("missing required var 'id'");
  });
});
