// Direct texts against Handlebars itself: every text the direct compiler accepts — each template of this
// repository (bodies and frontmatter values) and the edge cases below — renders the same through both,
// with the same helpers, over contexts that reach the lookup rules' corners.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import Handlebars from "handlebars";
import { afterEach, describe, expect, it, vi } from "vitest";
import { type DirectFunction, directRenderer, directSource } from "./direct.js";
import { parseTemplateFront, slotsOf, splitTemplate } from "./frontmatter.js";
import { helpers } from "./helpers.js";
import { renderState } from "./testkit.js";

const names = new Set(Object.keys(helpers));
const hb = Handlebars.create();
for (const [name, fn] of Object.entries(helpers)) hb.registerHelper(name, fn);

const direct = (text: string) => {
  const src = directSource(hb.parse(text), names);
  return src === undefined
    ? undefined
    : directRenderer(new Function(`return (${src});`)() as DirectFunction, helpers);
};
/** Both ways, each with a fresh state (helpers such as uuid count in it); errors compared by message. */
function both(text: string, context: unknown): { direct: string; handlebars: string } {
  const d = direct(text);
  if (!d) throw new Error(`not direct: ${text}`);
  const run = (f: () => string) => {
    try {
      return f();
    } catch (e) {
      return `threw: ${(e as Error).message}`;
    }
  };
  return {
    direct: run(() => d(context, renderState())),
    handlebars: run(() => hb.compile(text, { noEscape: true })(context, { data: { ggen: renderState() } })),
  };
}

class Term {
  own = "own value";
  get inherited() {
    return "from the prototype";
  }
  method() {
    return "method";
  }
  toString() {
    return "Term!";
  }
}
const contexts: unknown[] = [
  {
    name: "order line",
    title: "A Title",
    n: 0,
    f: false,
    e: "",
    nested: { a: { b: "deep" } },
    items: [1, 2, 3],
  },
  { name: null, nested: null, items: [] },
  {},
  { name: new Term(), nested: { a: new Term() } },
  { name: "x", fn: () => "called", nested: { a: { b: () => "lambda" } }, json: "shadowed by the helper" },
  { name: 42, nested: { a: "str" } },
  { name: { valueOf: () => 7, toString: () => "seven" }, n: new Date(0), f: Symbol.iterator === undefined },
];

const cases = [
  "plain text only",
  "",
  "{{name}}",
  "{{{name}}} and {{&name}}",
  "{{nested.a.b}}|{{nested.a}}|{{nested.x.y}}",
  "{{name.length}}|{{items.length}}|{{items.[1]}}|{{nested.a.length}}|{{[odd name]}}",
  "{{n}}{{f}}{{e}}|{{missing}}",
  "{{fn}}|{{nested.a.b}}",
  "{{pascal name}}/{{kebab name}}.ts",
  "{{camel name}} {{snake name}} {{constant name}} {{title name}} {{lower name}} {{upper name}}",
  "{{pluralize name}} {{singularize name}}",
  '{{default missing "fallback"}} {{default name "fallback"}}',
  '{{concat name "-" 1 true}} {{replace name "o" "0"}} {{concat name 1.5 -2 0 false}}',
  "{{json}}|{{json nested}}",
  "{{uuid}} {{uuid}} {{uuid name}}",
  '{{now}} {{now "date"}}',
  "{{name.own}}|{{name.inherited}}|{{name.method}}|{{name.toString}}|{{name.constructor}}|{{name.__proto__}}",
  "{{nested.a.own}}{{nested.a.inherited}}",
  "{{len items}} {{eq n 0}} {{not f}}",
  "line one\n  {{~name~}}  \nline three {{! a comment }}{{!-- another --}}",
  "a standalone comment:\n  {{! on a line of its own }}\nnext {{name}}\n{{!-- and\nanother --}}\nend",
];

describe("direct texts", () => {
  afterEach(() => vi.restoreAllMocks());

  it("render as Handlebars renders them, over every context", () => {
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    for (const text of cases)
      for (const context of contexts) {
        const r = both(text, context);
        expect(r.direct, `${JSON.stringify(text)} over ${JSON.stringify(context)}`).toBe(r.handlebars);
      }
  });

  it("warn once per name, as Handlebars does, when a property is not the context's own", () => {
    const errors = vi.spyOn(console, "error").mockImplementation(() => undefined);
    const d = direct("{{t.onlyOnPrototype}}{{t.onlyOnPrototype}}{{t.__proto__}}")!;
    class T {
      get onlyOnPrototype() {
        return 1;
      }
    }
    expect(d({ t: new T() }, renderState())).toBe("");
    expect(errors.mock.calls).toEqual([
      [
        'Handlebars: Access has been denied to resolve the property "onlyOnPrototype" because it is not an "own property" of its parent.\n' +
          "You can add a runtime option to disable the check or this warning:\n" +
          "See https://handlebarsjs.com/api-reference/runtime-options.html#options-to-control-prototype-access for details",
      ],
    ]);
  });

  it("leave to Handlebars what they do not cover", () => {
    for (const text of [
      "{{#if name}}x{{/if}}",
      "{{> partial}}",
      "{{pascal (lower name)}}",
      "{{indent name n=2}}",
      "{{@root.name}}",
      "{{this}}",
      "{{this.name}}",
      "{{./name}}",
      "{{../name}}",
      "{{lookup nested 'a'}}",
      "{{log name}}",
      "{{unknownHelper name}}",
      "{{name.each}}",
      "{{concat name -0}}",
    ])
      expect(direct(text), text).toBeUndefined();
  });

  it("cover the repository's templates: each text they accept renders as Handlebars renders it", () => {
    const root = join(import.meta.dirname, "../../..");
    const files: string[] = [];
    const walk = (d: string) => {
      for (const e of readdirSync(d)) {
        if (e === "node_modules" || e.startsWith(".") || e === "dist" || e === "target") continue;
        const p = join(d, e);
        if (statSync(p).isDirectory()) walk(p);
        else if (e.endsWith(".tmpl") || e.endsWith(".hbs")) files.push(p);
      }
    };
    for (const d of ["fixtures", "packages", "apps", "examples"]) {
      try {
        walk(join(root, d));
      } catch {
        // a directory this checkout does not have
      }
    }
    expect(files.length).toBeGreaterThan(20);
    let accepted = 0;
    let texts = 0;
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    for (const file of files) {
      const display = relative(root, file);
      let split: ReturnType<typeof splitTemplate>;
      try {
        split = splitTemplate(readFileSync(file, "utf8"), display);
      } catch {
        continue; // a deliberately broken fixture
      }
      const own = [split.body];
      try {
        if (split.front !== undefined)
          own.push(
            ...slotsOf(parseTemplateFront(split.front, display, split.frontLine).value).map((s) => s.source),
          );
      } catch {
        // a deliberately broken frontmatter
      }
      for (const text of own) {
        let d: ReturnType<typeof direct>;
        try {
          d = direct(text);
        } catch {
          continue; // not Handlebars this parser takes (a syntax-error fixture)
        }
        texts++;
        if (!d) continue;
        accepted++;
        for (const context of contexts) {
          const r = both(text, context);
          expect(r.direct, `${display}: ${JSON.stringify(text).slice(0, 80)}`).toBe(r.handlebars);
        }
      }
    }
    // Most texts of real templates are plain: the direct path is the common one.
    expect(accepted).toBeGreaterThan(texts / 3);
  });
});
