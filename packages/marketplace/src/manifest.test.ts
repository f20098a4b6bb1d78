import { describe, expect, it } from "vitest";
import { parsePackManifest } from "./manifest.js";

const good = `[pack]
id = "io.ggen.x"
version = "1.2.3"
description = "d"
tags = ["a"]

[[templates]]
name = "one"
path = "templates/one.tmpl"
description = "first"

[vars]
name = { default = "x", type = "string" }

[graphs]
files = ["graphs/a.ttl"]

[dependencies]
"io.ggen.y" = "^1.0"
`;

describe("parsePackManifest", () => {
  it("reads every section", () => {
    const m = parsePackManifest(good, "ggen.toml", "/tmp/pack");
    expect(m.pack).toMatchObject({
      id: "io.ggen.x",
      name: "io.ggen.x",
      version: "1.2.3",
      tags: ["a"],
      keywords: [],
    });
    expect(m.templates).toEqual([{ name: "one", path: "templates/one.tmpl", description: "first" }]);
    expect(m.vars).toEqual({ name: { default: "x", type: "string" } });
    expect(m.graphs.files).toEqual(["graphs/a.ttl"]);
    expect(m.dependencies).toEqual({ "io.ggen.y": "^1.0" });
  });

  it("points at the line of a TOML syntax error", () => {
    try {
      parsePackManifest('[pack]\nid = "x"\nversion = = 1\n', "p/ggen.toml");
      throw new Error("no error");
    } catch (e) {
      expect((e as Error).message).toMatch(/not valid TOML/);
      expect((e as { location?: { line?: number } }).location?.line).toBe(3);
    }
  });

  it("refuses bad ids, versions, escaping paths and bad ranges", () => {
    expect(() => parsePackManifest(good.replace('"io.ggen.x"', '"io..x"'), "g")).toThrow(/contains '..'/);
    expect(() => parsePackManifest(good.replace('"1.2.3"', '"one"'), "g")).toThrow(/version must be semver/);
    expect(() =>
      parsePackManifest(good.replace("templates/one.tmpl", "../../etc/passwd"), "g", "/tmp/p"),
    ).toThrow(/escapes the pack directory/);
    expect(() => parsePackManifest(good.replace('"^1.0"', '"banana"'), "g")).toThrow(/needs a semver range/);
    expect(() => parsePackManifest("[vars]\n", "g")).toThrow(/missing \[pack\]/);
  });
});
