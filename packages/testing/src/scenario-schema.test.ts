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

describe("every key of scenario/v1 is one parseScenario reads", () => {
  // A value no key accepts (a list of maps) is refused at the key; `description` is for people only.
  const refused = (text: string, key: string) => {
    let message = "";
    try {
      parseScenario(text, "s.yaml");
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message, `${key} was not read`).toContain(key);
    expect(message, key).not.toMatch(/unknown key/);
  };
  const bad = "[{ a: 1 }]";
  const read = (pointer: string) => schemaKeys("scenario/v1", pointer).filter((k) => k !== "description");
  it("the scenario's keys", () => {
    for (const key of read("/$defs/scenario"))
      refused(key === "steps" ? "steps: 5\n" : `${key}: ${bad}\nsteps:\n  - { name: a, run: "true" }\n`, key);
  });
  it("a step's keys", () => {
    for (const key of read("/$defs/step").filter((k) => k !== "name"))
      refused(`steps:\n  - name: a\n    ${key === "run" ? "cmd" : "run"}: "true"\n    ${key}: ${bad}\n`, key);
  });
  it("an expectation's keys", () => {
    for (const key of read("/$defs/expect"))
      refused(`steps:\n  - name: a\n    run: "true"\n    expect: { ${key}: ${bad} }\n`, key);
  });
});
