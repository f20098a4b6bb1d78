import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { parseSimpleYaml, parseYaml, splitTemplate } from "./frontmatter.js";

describe("splitTemplate", () => {
  it("finds the frontmatter, the body and their lines", () => {
    const s = splitTemplate("---\nto: a\nforce: true\n---\nbody {{x}}\nmore\n", "t");
    expect(s).toEqual({ front: "to: a\nforce: true", frontLine: 2, body: "body {{x}}\nmore\n", bodyLine: 5 });
    expect(splitTemplate("no frontmatter\n", "t")).toEqual({
      front: undefined,
      frontLine: 1,
      body: "no frontmatter\n",
      bodyLine: 1,
    });
    expect(splitTemplate("\uFEFF---\r\nto: x\r\n---\r\nb", "t").front).toBe("to: x\r");
  });
});

describe("parseYaml", () => {
  const samples = [
    "to: src/a.ts",
    'to: "src/{x}.ts"\nforce: true\nchmod: 755',
    "to: 'a b'\nunless_exists: false\nat_line: 3\nx: null\ny: ~",
    "# comment\nto: a\n\ninject: true\nafter: export const routes = [",
    "to: a # trailing comment",
    "to: 1.5\nb: 0x10\nc: 1e3\nd: .inf\ne: yes\nf: 2024-01-01",
    "to: [a, b]\nvars:\n  name: x",
    "to: \"a\\tb\"\nq: 'it''s'",
    "a: -1\nb: +1\nc: 007\nd: -0",
    "key with space: 1",
    "to: a: b",
    "to:",
    "to: |\n  block",
    "to: x\nvars:\n  names: { type: list }\n  n: 1\nfor_each: names\nas: name",
    "a: &x 1\nb: *x",
    "a: 1\n# c\nb:\n  - 1\n  - 2\n\nc: { d: [1, 2] }",
    "a: 1\n b: 2",
    "a:\n  b: 1\na: 2",
  ];
  const outcome = (f: () => unknown) => {
    try {
      return { value: f() };
    } catch {
      return { error: true };
    }
  };
  it.each(samples)("the fast path agrees with the yaml library: %j", (text) => {
    expect(outcome(() => parseYaml(text, "t").value)).toEqual(outcome(() => parse(text)));
  });
  it("the fast path takes only what it surely understands", () => {
    expect(parseSimpleYaml("to: src/a.ts\nforce: true")?.value).toEqual({ to: "src/a.ts", force: true });
    for (const text of [
      "to: [a]",
      "a: 1.5",
      "a: yes",
      "vars:\n  x: 1",
      "a: 1\na: 2",
      "a: 'x''y'",
      'a: "x\\n"',
      "a: x #c",
    ]) {
      expect(parseSimpleYaml(text), text).toBeUndefined();
    }
  });
  it("reports lines of keys and values, offset to the template", () => {
    const y = parseYaml("to: x\nsparql:\n  q: |\n    SELECT *\nvars:\n  a: 1\n", "t", 2);
    expect(y.lineOf("to")).toBe(2);
    expect(y.lineOf("sparql.q")).toBe(4);
    expect(y.valueLineOf("sparql.q")).toBe(5);
    expect(y.lineOf("vars.a")).toBe(7);
    expect(parseYaml("to: x\nforce: true", "t", 10).lineOf("force")).toBe(11);
  });
  it("per-row documents reuse the parse of unchanged blocks, with the right lines", () => {
    const doc = (n: number) => `to: out/${n}.txt\nvars:\n  names: { type: list }\n  n: 1\nfor_each: names`;
    for (let i = 0; i < 3; i++) {
      const y = parseYaml(doc(i), "t", 2);
      expect(y.value).toEqual(parse(doc(i)));
      expect(y.lineOf("to")).toBe(2);
      expect(y.lineOf("vars.n")).toBe(5);
      expect(y.valueLineOf("for_each")).toBe(6);
    }
  });
  it("syntax errors carry the template line and column", () => {
    expect(() => parseYaml("to: x\nvars: [a, b\n", "t.tmpl", 2)).toThrowError(
      expect.objectContaining({
        code: "YAML_SYNTAX",
        location: expect.objectContaining({ file: "t.tmpl", line: 4 }),
      }),
    );
    expect(() => parseYaml("a: 1\na: 2\n", "t.tmpl", 2)).toThrowError(
      expect.objectContaining({ code: "YAML_SYNTAX" }),
    );
  });
});
