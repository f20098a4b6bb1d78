import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseToml, schemaUrl, validate } from "@ggen/contract";
import { describe, expect, it, onTestFinished } from "vitest";
import { loadConfig, parseConfig } from "./config.js";
import { initProject } from "./project.js";

describe("ggen lifecycle init", () => {
  it("writes a make.toml that names its schema on the first line and validates against it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ggen-init-"));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const r = await initProject(dir, { name: "shop" });
    expect(r.created).toContain("make.toml");
    const text = readFileSync(join(dir, "make.toml"), "utf8");
    expect(text.split("\n")[0]).toBe(`#:schema ${schemaUrl("make-toml/v1")}`);
    const result = validate("make-toml/v1", parseToml(text, "make.toml", "X", "usage"));
    expect(result.ok ? [] : result.errors).toEqual([]);
    // …and the program reads the same file.
    const config = await loadConfig(dir);
    expect(config.name).toBe("shop");
    expect([...config.phases.keys()]).toContain("deploy");
  });
  it("a key the schema does not have is refused by both", () => {
    const text = "[phases.build]\ncomand = 'make'\n";
    expect(validate("make-toml/v1", parseToml(text, "make.toml", "X", "usage")).ok).toBe(false);
    expect(() => parseConfig(text, "make.toml", "/p")).toThrow(/unknown key 'comand'/);
  });
});
