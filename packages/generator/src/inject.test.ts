import { describe, expect, it } from "vitest";
import { inject, toMatcher } from "./inject.js";

const file = "import a from 'a';\n\nexport const routes = [\n  a,\n];\n";

describe("inject", () => {
  it("inserts after the first line matching a literal string", () => {
    const r = inject(file, "  b,", { after: "export const routes = [" });
    expect(r).toEqual({
      ok: true,
      content: "import a from 'a';\n\nexport const routes = [\n  b,\n  a,\n];\n",
    });
  });
  it("inserts before a regex match", () => {
    const r = inject(file, "import b from 'b';\n", { before: "/^$/" });
    expect(r.ok && r.content.split("\n").slice(0, 3)).toEqual([
      "import a from 'a';",
      "import b from 'b';",
      "",
    ]);
  });
  it("treats regex metacharacters in plain strings literally", () => {
    expect(toMatcher("a.b").test("axb")).toBe(false);
    expect(toMatcher("/a.b/").test("axb")).toBe(true);
    expect(toMatcher("/A/i").test("a")).toBe(true);
  });
  it("skip_if makes re-runs idempotent", () => {
    const once = inject(file, "  b,", { after: "routes = [", skip_if: "  b," });
    expect(once.ok).toBe(true);
    const twice = once.ok ? inject(once.content, "  b,", { after: "routes = [", skip_if: "  b," }) : once;
    expect(twice).toEqual({ ok: false, reason: "skip_if matched" });
  });
  it("prepends, appends and inserts at a line", () => {
    expect(inject("x\n", "top", { prepend: true })).toEqual({ ok: true, content: "top\nx\n" });
    expect(inject("x", "end\n", { append: true })).toEqual({ ok: true, content: "x\nend\n" });
    expect(inject("x\n", "end\n", { append: true, eof_last: false })).toEqual({
      ok: true,
      content: "x\nend",
    });
    expect(inject("x\n", "end", { append: true, eof_last: true })).toEqual({ ok: true, content: "x\nend\n" });
    expect(inject("1\n2\n3\n", "new", { at_line: 2 })).toEqual({ ok: true, content: "1\nnew\n2\n3\n" });
    expect(inject("1\n2\n", "new", { at_line: 1 })).toEqual({ ok: true, content: "new\n1\n2\n" });
  });
  it("reports a pattern that is not there", () => {
    expect(inject(file, "x", { after: "nothing like this" })).toEqual({
      ok: false,
      reason: "pattern nothing like this not found",
    });
  });
});
