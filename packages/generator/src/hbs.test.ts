// The compiled-template cache: a second compile of the same text runs what the cache holds (through
// the Handlebars runtime alone), a damaged entry is compiled again, and checks still run on a miss; a
// template file's texts (frontmatter values and body) share one entry, with the helpers each one calls.
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { compile, compileAll, helpersNamed } from "./hbs.js";
import { loadTemplate } from "./resolve.js";
import { renderState } from "./testkit.js";

const dir = mkdtempSync(join(tmpdir(), "ggen-hbs-cache-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const state = renderState();
/** The precompiled code of the one entry in `cache` (after its key line: the helper names, then the code). */
const specOf = (cache: string) =>
  readFileSync(join(cache, readdirSync(cache)[0]!), "utf8")
    .split("\n")
    .slice(1)
    .join("\n");
const text = "export const {{camel name}} = {{#each items}}{{@index}}{{/each}};";

describe("compiled-template cache", () => {
  it("saves the precompiled template under its key and runs it on the next compile", () => {
    const cache = join(dir, "a");
    expect(compile(text, "t.tmpl", 1, cache)({ name: "order line", items: [1, 2] }, state)).toBe(
      "export const orderLine = 01;",
    );
    const [entry] = readdirSync(cache);
    expect(entry).toMatch(/^[0-9a-f]{16}\.js$/);
    const saved = readFileSync(join(cache, entry!), "utf8");
    const [key, ...spec] = saved.split("\n");
    expect(JSON.parse(key!)).toContain(text);
    expect(spec.join("\n")).toMatch(/"compiler":\[/);
    // Same text, same key: what runs is what the cache holds (here, another template's code).
    compile("OTHER {{snake name}}", "o.tmpl", 1, join(dir, "b"));
    writeFileSync(join(cache, entry!), `${key}\n${specOf(join(dir, "b"))}`);
    expect(compile(text, "t.tmpl", 1, cache)({ name: "order line", items: [] }, state)).toBe(
      "OTHER order_line",
    );
  });

  it("does not run an entry written for another text under the same name (a fingerprint clash)", () => {
    const cache = join(dir, "clash");
    compile(text, "t.tmpl", 1, cache);
    const [entry] = readdirSync(cache);
    compile("OTHER {{snake name}}", "o.tmpl", 1, join(dir, "clash-b"));
    const [otherEntry] = readdirSync(join(dir, "clash-b"));
    // The other template's whole entry (its key and code) where this text's entry is looked for.
    writeFileSync(join(cache, entry!), readFileSync(join(dir, "clash-b", otherEntry!), "utf8"));
    expect(compile(text, "t.tmpl", 1, cache)({ name: "order line", items: [3] }, state)).toBe(
      "export const orderLine = 0;",
    );
    expect(JSON.parse(readFileSync(join(cache, entry!), "utf8").split("\n")[0]!)).toContain(text);
  });

  it("compiles a damaged entry again and rewrites it", () => {
    const cache = join(dir, "c");
    compile(text, "t.tmpl", 1, cache);
    const [entry] = readdirSync(cache);
    writeFileSync(join(cache, entry!), "{ this is not a template");
    expect(compile(text, "t.tmpl", 1, cache)({ name: "x y", items: [7] }, state)).toBe(
      "export const xY = 0;",
    );
    expect(readFileSync(join(cache, entry!), "utf8")).toMatch(/"compiler":\[/);
  });

  it("still reports syntax errors and unknown helpers with file:line, and caches nothing for them", () => {
    const cache = join(dir, "d");
    expect(() => compile("line one\n{{#if}", "bad.tmpl", 3, cache)).toThrow(/Handlebars syntax error/);
    expect(() => compile("{{camell name}}", "bad.tmpl", 1, cache)).toThrow(/unknown helper 'camell'/);
    expect(existsSync(cache)).toBe(false);
  });
});

describe("one entry per template file", () => {
  it("keeps a template's frontmatter values and its body in one entry, read back in order", () => {
    const d = join(dir, "file");
    const cache = join(d, "cache");
    const file = join(d, "t.tmpl");
    mkdirSync(d);
    writeFileSync(
      file,
      '---\nto: "src/{{kebab name}}.ts"\nsh_after: "echo {{name}}"\n---\nconst {{camel name}} = 1;\n',
    );
    const first = loadTemplate(file, "t.tmpl", cache);
    expect(readdirSync(cache)).toHaveLength(1);
    const again = loadTemplate(file, "t.tmpl", cache);
    expect(readdirSync(cache)).toHaveLength(1);
    for (const t of [first, again]) {
      expect(t.body({ name: "order line" }, state)).toBe("const orderLine = 1;\n");
      const to = (t.front!.value as { to: { compiled: typeof t.body } }).to.compiled!;
      expect(to({ name: "order line" }, state)).toBe("src/order-line.ts");
    }
    const [, names] = readFileSync(join(cache, readdirSync(cache)[0]!), "utf8").split("\n");
    expect(JSON.parse(names!)).toEqual([["kebab"], ["ggen_hook_value"], ["camel"]]);
  });

  it("runs each text with the helpers its entry names (no scan of the code on a hit)", () => {
    const cache = join(dir, "names");
    // Blocks: texts Handlebars' runtime runs (plain ones run without it, see direct.test.ts).
    const texts = [
      { text: "{{#if name}}{{kebab name}}{{/if}}", firstLine: 2 },
      { text: "{{#if name}}{{snake name}}{{/if}}", firstLine: 5 },
    ];
    expect(compileAll(texts, "n.tmpl", cache).map((c) => c({ name: "A B" }, state))).toEqual(["a-b", "a_b"]);
    const [entry] = readdirSync(cache);
    const [key, , ...code] = readFileSync(join(cache, entry!), "utf8").split("\n");
    // The second text's entry names another helper: it now runs without `snake`.
    writeFileSync(
      join(cache, entry!),
      [
        key,
        JSON.stringify([
          ["if", "kebab"],
          ["camel", "if"],
        ]),
        ...code,
      ].join("\n"),
    );
    const [a, b] = compileAll(texts, "n.tmpl", cache);
    expect(a!({ name: "A B" }, state)).toBe("a-b");
    expect(() => b!({ name: "A B" }, state)).toThrow(`Missing helper: "snake"`);
  });
});

describe("the helpers a precompiled template runs with", () => {
  // A name that is a helper is called (`title`, `json` with no argument), whatever the context holds; one
  // that is not reads the context (`heading`).
  const mixed =
    "{{heading}}|{{title}}|{{camel heading}}|{{json}}|{{#if flag}}{{kebab name}}{{/if}}{{#each items}}{{.}}{{/each}}";
  const ctx = { heading: "order line", title: "T", json: "J", flag: true, name: "A B", items: [1, 2] };

  it("names each helper its code looks up, and nothing when `helpers` appears otherwise", () => {
    compile(mixed, "m.tmpl", 1, join(dir, "n"));
    const spec = specOf(join(dir, "n")).split("\n").slice(1).join("\n");
    expect(helpersNamed(spec)).toEqual(["camel", "each", "heading", "if", "json", "kebab", "title"]);
    compile("ggen helpers: {{camel name}}", "h.tmpl", 1, join(dir, "h"));
    const own = specOf(join(dir, "h")).split("\n").slice(1).join("\n");
    expect(helpersNamed(own)).toBeUndefined();
  });

  it("renders as with every helper, from the cache and without one", () => {
    const full = compile(mixed, "m.tmpl", 1)(ctx, state); // no cache: the full environment
    expect(full.split("|")[0]).toBe("order line");
    expect(full.split("|")[1]).not.toBe("T");
    expect(compile(mixed, "m.tmpl", 1, join(dir, "n"))(ctx, state)).toBe(full); // cached, narrowed
    expect(compile(mixed, "m.tmpl", 1, join(dir, "p"))(ctx, state)).toBe(full); // compiled, narrowed
  });
});
