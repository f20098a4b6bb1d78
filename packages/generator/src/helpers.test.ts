import { describe, expect, it } from "vitest";
import { compile } from "./hbs.js";
import { localName, seededNow, seededUuid, sqlType, TermValue, tsType } from "./helpers.js";
import { renderState } from "./testkit.js";

const state = renderState;
const render = (text: string, ctx: Record<string, unknown> = {}, st = state()) =>
  compile(text, "t.tmpl", 1)(ctx, st);

describe("helpers", () => {
  it("cases and inflection", () => {
    expect(
      render("{{camel n}} {{pascal n}} {{snake n}} {{kebab n}} {{constant n}} {{title n}}", {
        n: "order line",
      }),
    ).toBe("orderLine OrderLine order_line order-line ORDER_LINE Order Line");
    expect(render("{{pluralize (snake n)}} {{singularize 'Categories'}}", { n: "OrderLine" })).toBe(
      "order_lines Category",
    );
    expect(render("{{#pascal}}order line{{/pascal}}")).toBe("OrderLine");
  });
  it("range counts from 1 to n, or from a to b, and refuses what is no count", () => {
    expect(render("[{{join (range n) ', '}}]", { n: 3 })).toBe("[1, 2, 3]");
    expect(render("{{#each (range 2 4)}}<{{this}}>{{/each}}", {})).toBe("<2><3><4>");
    expect(render("[{{join (range 0) ', '}}]", {})).toBe("[]");
    expect(() => render("{{range n}}", { n: "two" })).toThrow(/range: expects whole numbers, got two/);
    expect(() => render("{{range 1 n}}", { n: 1e9 })).toThrow(/range: at most 10000 numbers/);
  });
  it("does not HTML-escape (this is code generation)", () => {
    expect(render("{{x}}", { x: 'a < b && "c"' })).toBe('a < b && "c"');
  });
  it("comparisons and logic", () => {
    expect(render("{{#if (eq a 1)}}y{{else}}n{{/if}}", { a: 1 })).toBe("y");
    expect(render("{{#if (and (gt a 1) (lt a 5) (not b))}}y{{/if}}", { a: 3, b: false })).toBe("y");
    expect(render("{{#if (or (ne a 'x') (lte a 0))}}y{{/if}}", { a: "x" })).toBe("");
    expect(
      render("{{#if (eq t 'http://x/a')}}y{{/if}}", {
        t: new TermValue({ value: "http://x/a", type: "iri" }),
      }),
    ).toBe("y");
  });
  it("sees terms by their natural value in #if and logic, and filters with where", () => {
    const t = (value: string, datatype?: string) =>
      new TermValue(
        datatype
          ? { value, type: "literal", datatype: `http://www.w3.org/2001/XMLSchema#${datatype}` }
          : { value, type: "literal" },
      );
    expect(
      render("{{#if f}}y{{else}}n{{/if}}{{#unless z}}u{{/unless}}", {
        f: t("false", "boolean"),
        z: t("0", "int"),
      }),
    ).toBe("nu");
    expect(
      render("{{#if (and a (not b))}}y{{/if}}", { a: t("true", "boolean"), b: t("false", "boolean") }),
    ).toBe("y");
    const rows = [
      { c: t("A"), n: t("1") },
      { c: t("B"), n: t("2") },
      { c: t("A"), n: t("3") },
    ];
    expect(render("{{#each (where rows 'c' 'A')}}{{n}}{{/each}}", { rows })).toBe("13");
    expect(render("{{#each (where rows 'x')}}{{n}}{{/each}}", { rows: [{ x: 1, n: 1 }, { n: 2 }] })).toBe(
      "1",
    );
  });
  it("json, indent, join, sort_by", () => {
    expect(render("{{json v}}", { v: { a: [1, "b"] } })).toBe('{"a":[1,"b"]}');
    expect(render("{{indent t 2}}", { t: "a\n\nb" })).toBe("  a\n\n  b");
    expect(render("{{#indent 4}}x\ny{{/indent}}")).toBe("    x\n    y");
    expect(render("{{join xs ' | '}}", { xs: ["a", "b"] })).toBe("a | b");
    expect(render("{{join xs ', ' 'n'}}", { xs: [{ n: "a" }, { n: "b" }] })).toBe("a, b");
    expect(
      render("{{#each (sort_by xs 'n')}}{{n}}{{/each}}", { xs: [{ n: "b" }, { n: "c" }, { n: "a" }] }),
    ).toBe("abc");
    expect(
      render("{{#each (sort_by xs 'n' 'desc')}}{{n}}{{/each}}", { xs: [{ n: 2 }, { n: 10 }, { n: 1 }] }),
    ).toBe("1021");
  });
  it("local names and XSD type mapping", () => {
    expect(localName("http://ex.org/shop#OrderLine")).toBe("OrderLine");
    expect(localName("http://ex.org/shop/Order")).toBe("Order");
    expect(localName("shop:Order")).toBe("Order");
    expect(sqlType("http://www.w3.org/2001/XMLSchema#dateTime")).toBe("TIMESTAMPTZ");
    expect(sqlType("xsd:decimal")).toBe("NUMERIC");
    expect(sqlType("xsd:boolean")).toBe("BOOLEAN");
    expect(sqlType("integer")).toBe("BIGINT");
    expect(sqlType("http://ex.org/Unknown")).toBe("TEXT");
    expect(tsType("xsd:int")).toBe("number");
    expect(tsType("xsd:boolean")).toBe("boolean");
    expect(tsType("xsd:dateTime")).toBe("string");
    expect(tsType("xsd:decimal")).toBe("string");
    expect(render("{{sql_type d}}/{{ts_type d}}", { d: "http://www.w3.org/2001/XMLSchema#integer" })).toBe(
      "BIGINT/number",
    );
  });
  it("seeded uuid and now are stable and differ by seed", () => {
    const a = render("{{uuid}} {{uuid}} {{uuid 'x'}} {{now}}");
    const b = render("{{uuid}} {{uuid}} {{uuid 'x'}} {{now}}");
    expect(a).toBe(b);
    const [u1, u2, u3, now] = a.split(" ");
    expect(u1).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(u1).not.toBe(u2);
    expect(u3).toBe(seededUuid("s", "t.tmpl\0name:x"));
    expect(now).toBe(seededNow("s").toISOString());
    const other = render("{{uuid}}", {}, state({ seed: "other", now: seededNow("other") }));
    expect(other).not.toBe(u1);
    expect(render("{{now 'date'}}", {}, state({ now: new Date("2024-02-03T04:05:06Z") }))).toBe("2024-02-03");
    const random = render("{{uuid}}", {}, state({ seed: undefined }));
    expect(random).not.toBe(render("{{uuid}}", {}, state({ seed: undefined })));
  });
  it("unknown helpers are errors at file:line:col with a suggestion", () => {
    expect(() => compile("line one\n  {{camelcase name}}", "t.tmpl", 5)).toThrowError(
      expect.objectContaining({
        code: "TEMPLATE_UNKNOWN_HELPER",
        location: { file: "t.tmpl", line: 6, column: 5 },
        hint: "did you mean 'camel'?",
      }),
    );
    expect(() => compile("{{#each (nope xs)}}{{/each}}", "t.tmpl", 1)).toThrowError(/unknown helper 'nope'/);
  });
  it("Handlebars syntax errors point at the template line", () => {
    try {
      compile("a\nb\n{{#if x}}\nc\n", "t.tmpl", 10);
      expect.unreachable();
    } catch (e) {
      expect((e as { code: string }).code).toBe("TEMPLATE_SYNTAX");
      expect((e as { location: { line: number } }).location.line).toBeGreaterThanOrEqual(12);
    }
    expect(() => compile("x\n{{foo bar}\n", "t.tmpl", 1)).toThrowError(
      expect.objectContaining({ code: "TEMPLATE_SYNTAX", location: { file: "t.tmpl", line: 2 } }),
    );
  });
  it("helper misuse names the line", () => {
    expect(() => render("\n\n{{now 'weird'}}")).toThrowError(
      expect.objectContaining({ code: "TEMPLATE_HELPER", location: { file: "t.tmpl", line: 3, column: 1 } }),
    );
    expect(() => render("{{sparql 'SELECT * {}'}}")).toThrowError(/has no graph/);
  });
});
