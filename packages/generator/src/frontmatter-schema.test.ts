// Template frontmatter and the template-frontmatter/v1 schema: the generator's known keys are the schema's,
// every bundled pack's templates satisfy both, and a key neither knows is refused by both.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { schemaKeys, validate } from "@ggen/contract";
import { describe, expect, it, onTestFinished } from "vitest";
import { parse } from "yaml";
import { KNOWN_KEYS } from "./render.js";
import { loadTemplate } from "./resolve.js";

const fixtures = join(import.meta.dirname, "..", "..", "..", "fixtures");
const templates = [join(fixtures, "registry", "packs"), join(fixtures, "templates")].flatMap((root) =>
  readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith(".tmpl"))
    .map((e) => join(e.parentPath, e.name)),
);
const frontOf = (text: string) => /^---\n([\s\S]*?)\n---\n/.exec(text)?.[1];

describe("template frontmatter and template-frontmatter/v1", () => {
  it("the generator knows the schema's keys", () => {
    expect(KNOWN_KEYS).toEqual(schemaKeys("template-frontmatter/v1", ""));
  });
  it("the bundled packs have templates with frontmatter", () => {
    expect(templates.filter((f) => frontOf(readFileSync(f, "utf8"))).length).toBeGreaterThan(20);
  });
  for (const file of templates) {
    const front = frontOf(readFileSync(file, "utf8"));
    if (front === undefined) continue;
    it(`${relative(fixtures, file)}: validates as an editor sees it, and loads`, () => {
      const r = validate("template-frontmatter/v1", parse(front) ?? {});
      expect(r.ok ? [] : r.errors).toEqual([]);
      expect(() => loadTemplate(file, relative(fixtures, file))).not.toThrow();
    });
  }
  it("a key neither knows is refused by both", () => {
    const dir = mkdtempSync(join(tmpdir(), "ggen-front-"));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, "t.tmpl");
    writeFileSync(file, "---\nto: out.txt\nunles_exists: true\n---\nbody\n");
    expect(validate("template-frontmatter/v1", { to: "out.txt", unles_exists: true }).ok).toBe(false);
    expect(() => loadTemplate(file, "t.tmpl")).toThrow(/unknown frontmatter key 'unles_exists'/);
  });
});
