import { describe, expect, it } from "vitest";
import { clampToContent, cleanMessage, locate, positionIn, simplify } from "./errors.js";

describe("error positions", () => {
  it("reads oxigraph's and n3's position formats", () => {
    expect(positionIn("Parser error at line 3 column 12: bad")).toEqual({ line: 3, column: 12 });
    expect(positionIn("Parser error at line 1 between columns 24 and 31: x")).toEqual({
      line: 1,
      column: 24,
    });
    expect(positionIn("error at 4:7: expected X")).toEqual({ line: 4, column: 7 });
    expect(positionIn("Unexpected token on line 9.")).toEqual({ line: 9, column: 1 });
    expect(positionIn("no position")).toBeUndefined();
    expect(cleanMessage("Parser error at line 3 column 12: . is not a valid RDF object")).toBe(
      ". is not a valid RDF object",
    );
  });

  it("shifts positions to where a query sits in its file", () => {
    expect(locate({ name: "t.tmpl", line: 10, column: 5 }, { line: 1, column: 3 })).toEqual({
      file: "t.tmpl",
      line: 10,
      column: 7,
    });
    expect(locate({ name: "t.tmpl", line: 10, column: 5 }, { line: 2, column: 3 })).toEqual({
      file: "t.tmpl",
      line: 11,
      column: 3,
    });
  });

  it("moves an end-of-input position back to the end of the content", () => {
    expect(clampToContent({ line: 4, column: 1 }, "a\nbb\nccc\n\n")).toEqual({ line: 3, column: 4 });
    expect(clampToContent({ line: 2, column: 1 }, "a\nbb\nccc\n")).toEqual({ line: 2, column: 1 });
  });

  it("names an unknown prefix and drops character-class noise", () => {
    expect(
      simplify("expected one of Prefix not found, ['%']", "SELECT * { ?s a ex:Foo }", {
        line: 1,
        column: 20,
      }),
    ).toBe("unknown prefix 'ex:' (declare it with PREFIX ex: <…>)");
    expect(simplify("expected one of LATERAL, SERVICE, [_]")).toBe("expected one of LATERAL, SERVICE");
  });
});
