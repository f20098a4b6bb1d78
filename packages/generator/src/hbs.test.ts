// The compiled-template cache: a second compile of the same text runs what the cache holds (through
// the Handlebars runtime alone), a damaged entry is compiled again, and checks still run on a miss.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { compile } from "./hbs.js";
import { renderState } from "./testkit.js";

const dir = mkdtempSync(join(tmpdir(), "ggen-hbs-cache-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const state = renderState();
const text = "export const {{camel name}} = {{#each items}}{{@index}}{{/each}};";

describe("compiled-template cache", () => {
  it("saves the precompiled template and runs it on the next compile", () => {
    const cache = join(dir, "a");
    expect(compile(text, "t.tmpl", 1, cache)({ name: "order line", items: [1, 2] }, state)).toBe(
      "export const orderLine = 01;",
    );
    const [entry] = readdirSync(cache);
    expect(entry).toMatch(/^[0-9a-f]{64}\.js$/);
    expect(readFileSync(join(cache, entry!), "utf8")).toMatch(/"compiler":\[/);
    // Same text, same key: what runs is what the cache holds (here, another template's code).
    const other = readdirSync(join(dir, "a"));
    compile("OTHER {{snake name}}", "o.tmpl", 1, join(dir, "b"));
    const [otherEntry] = readdirSync(join(dir, "b"));
    writeFileSync(join(cache, other[0]!), readFileSync(join(dir, "b", otherEntry!), "utf8"));
    expect(compile(text, "t.tmpl", 1, cache)({ name: "order line", items: [] }, state)).toBe(
      "OTHER order_line",
    );
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
