import { describe, expect, it } from "vitest";
import { compilePattern, GgenError } from "./index.js";

describe("compilePattern", () => {
  it("matches like a RegExp for the common subset", () => {
    const p = compilePattern("^[a-z][a-z0-9_-]*$");
    expect(p.test("shop")).toBe(true);
    expect(p.test("Shop")).toBe(false);
    expect(compilePattern("shop", { flags: "i" }).test("SHOP")).toBe(true);
    const m = compilePattern("(\\d+)-(\\d+)").exec("v 12-34 x");
    expect(m).toEqual({ index: 2, groups: ["12-34", "12", "34"] });
    expect(compilePattern("^b", { flags: "m" }).test("a\nb")).toBe(true);
  });
  it("is linear on input that makes a backtracking engine take forever", () => {
    const evil = compilePattern("^(a+)+$");
    // 100k characters: a backtracking engine would not finish; RE2 answers (the time is the bench's business).
    expect(evil.test(`${"a".repeat(100_000)}!`)).toBe(false);
  });
  it("refuses backreferences and lookaround in one line, naming what the pattern is", () => {
    for (const bad of ["(a)\\1", "a(?=b)", "(?<!x)y", "[z-a]"]) {
      try {
        compilePattern(bad, { what: "var 'name' pattern", location: { file: "t.tmpl", line: 3 } });
        expect.unreachable(bad);
      } catch (e) {
        expect(e).toBeInstanceOf(GgenError);
        expect((e as GgenError).toLine()).toMatch(
          /^t\.tmpl:3: var 'name' pattern \/.*\/ is not a supported pattern/,
        );
        expect((e as GgenError).exitCode).toBe(2);
      }
    }
    expect(() => compilePattern("a", { flags: "y" })).toThrow(/unsupported flag 'y'/);
  });
});
