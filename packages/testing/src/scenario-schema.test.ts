// The scenario files the bundled packs generate name the scenario/v1 schema on their first line (for the
// YAML language server), validate against it, and are read by parseScenario: the schema and the parser
// agree on what they wrote. Their goldens are what the templates render (`ggen pack test` checks that).
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { schemaKeys, schemaUrl, validate } from "@ggen/contract";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { parseScenario } from "./scenario.js";

const packs = join(import.meta.dirname, "..", "..", "..", "fixtures", "registry", "packs");
const LINE = `# yaml-language-server: $schema=${schemaUrl("scenario/v1")}`;

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

describe("scenario files the packs write", () => {
  const written = filesUnder(packs).filter(
    (f) =>
      /\/expected\//.test(f) &&
      /\.ya?ml$/.test(f) &&
      /^scenario:|\nscenario:|\nsteps:/.test(readFileSync(f, "utf8")),
  );
  it("there are some (rust-cli and rust-lib write two each)", () => {
    expect(written.length).toBeGreaterThanOrEqual(4);
  });
  for (const file of written) {
    it(`${relative(packs, file)}: names its schema, validates, parses`, () => {
      const text = readFileSync(file, "utf8");
      expect(text.split("\n")[0]).toBe(LINE);
      const r = validate("scenario/v1", parse(text));
      expect(r.ok ? [] : r.errors).toEqual([]);
      expect(parseScenario(text, file).steps.length).toBeGreaterThan(0);
    });
  }
});

describe("parseScenario and the scenario/v1 schema", () => {
  it("refuse the same unknown key (the key lists are the schema's)", () => {
    expect(schemaKeys("scenario/v1", "/$defs/step")).toContain("continue_on_error");
    const text = "steps:\n  - name: a\n    run: 'true'\n    retry: 2\n";
    expect(validate("scenario/v1", parse(text)).ok).toBe(false);
    expect(() => parseScenario(text, "s.yaml")).toThrow(/unknown key 'retry'/);
  });
});
