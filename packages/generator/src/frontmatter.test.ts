import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import {
  parseSimpleYaml,
  parseTemplateFront,
  parseYaml,
  plainScalar,
  Slot,
  splitTemplate,
} from "./frontmatter.js";

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

describe("parseTemplateFront", () => {
  it("parses the structure once, before any var: values holding Handlebars become slots", () => {
    const y = parseTemplateFront(
      'to: src/{{kebab name}}.ts\nport: {{port}}\nq: "{{x}}"\nsh_after:\n  - echo {{name}}\nvars:\n  name: { default: "{{a}}-b" }',
      "t.tmpl",
      2,
    );
    const v = y.value as Record<string, unknown>;
    expect(v.to).toEqual(new Slot("src/{{kebab name}}.ts", true, 2, "to"));
    expect(v.port).toEqual(new Slot("{{port}}", true, 3, "port"));
    expect(v.q).toEqual(new Slot("{{x}}", false, 4, "q"));
    expect((v.sh_after as unknown[])[0]).toEqual(new Slot("echo {{name}}", true, 6, "sh_after"));
    expect((v.vars as { name: { default: Slot } }).name.default.source).toBe("{{a}}-b");
  });
  it("refuses Handlebars in a key, an expression across lines, and the placeholder characters", () => {
    expect(() => parseTemplateFront("{{k}}: 1", "t", 2)).toThrow(/a frontmatter key cannot hold Handlebars/);
    expect(() => parseTemplateFront("to: {{#if\n x}}a{{/if}}", "t", 2)).toThrow(/spans lines/);
    expect(() => parseTemplateFront("to: \uE000", "t", 2)).toThrow(/reserved characters/);
  });
  it("types a rendered plain scalar as YAML's core schema would, never as structure", () => {
    expect(plainScalar("3000")).toBe(3000);
    expect(plainScalar("0o755")).toBe(0o755);
    expect(plainScalar(" true ")).toBe(true);
    expect(plainScalar("")).toBeNull();
    expect(plainScalar("1.5e3")).toBe(1500);
    expect(plainScalar("a\nfrom: /etc/passwd")).toBe("a\nfrom: /etc/passwd");
    expect(plainScalar("[a, b]")).toBe("[a, b]");
    expect(plainScalar("{ x: 1 }")).toBe("{ x: 1 }");
  });
});
