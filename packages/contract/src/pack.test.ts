import { describe, expect, it } from "vitest";
import {
  type GgenError,
  isGgenError,
  parsePackManifest,
  parseTemplateRef,
  parseToml,
  tomlKeyLocation,
} from "./index.js";

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

/** The GgenError `fn` throws. */
function thrown(fn: () => unknown): GgenError {
  try {
    fn();
  } catch (e) {
    if (isGgenError(e)) return e;
    throw e;
  }
  throw new Error("no error");
}

describe("parsePackManifest", () => {
  it("reads every section and fills in the defaults", () => {
    const m = parsePackManifest(good, "ggen.toml", "/tmp/pack");
    expect(m.pack).toEqual({
      id: "io.ggen.x",
      name: "io.ggen.x",
      version: "1.2.3",
      description: "d",
      tags: ["a"],
      keywords: [],
    });
    expect(m.templates).toEqual([{ name: "one", path: "templates/one.tmpl", description: "first" }]);
    expect(m.vars).toEqual({ name: { default: "x", type: "string" } });
    expect(m.graphs.files).toEqual(["graphs/a.ttl"]);
    expect(m.dependencies).toEqual({ "io.ggen.y": "^1.0" });
  });

  it("keeps unknown keys readable (a newer pack's fields are not errors)", () => {
    const m = parsePackManifest(
      `${good}\n[future]\nx = 1\n`.replace("[pack]\n", "[pack]\ntrusted = true\n"),
      "g",
    );
    expect(m.pack.id).toBe("io.ggen.x");
  });

  it("points at the line and column of a TOML syntax error", () => {
    const e = thrown(() => parsePackManifest('[pack]\nid = "x"\nversion = = 1\n', "p/ggen.toml"));
    expect(e.message).toMatch(/^invalid TOML: /);
    expect(e.location).toMatchObject({ file: "p/ggen.toml", line: 3 });
    expect(e.location?.column).toBeGreaterThan(0);
    expect(e.exitCode).toBe(2);
  });

  it("refuses bad ids, versions, escaping paths and bad ranges, at the key's line", () => {
    const cases: [string, RegExp, number][] = [
      [good.replace('"io.ggen.x"', '"io..x"'), /^\[pack\] id 'io\.\.x' contains '\.\.'$/, 2],
      [good.replace('"1.2.3"', '"one"'), /^\[pack\] version must be semver, got "one"$/, 3],
      [good.replace('"1.2.3"', '"1.2.3.4"'), /version must be semver/, 3],
      [
        good.replace("templates/one.tmpl", "../../etc/passwd"),
        /template path '\.\.\/\.\.\/etc\/passwd' escapes the pack directory/,
        9,
      ],
      [
        good.replace("graphs/a.ttl", "/etc/passwd"),
        /graph file '\/etc\/passwd' escapes the pack directory/,
        16,
      ],
      [
        good.replace('"^1.0"', '"banana"'),
        /\[dependencies\] 'io\.ggen\.y' needs a semver range, got "banana"/,
        19,
      ],
      [good.replace('"io.ggen.y"', '"IO.Y"'), /\[dependencies\] 'IO\.Y' must match/, 19],
      [good.replace('path = "templates/one.tmpl"\n', ""), /^\[\[templates\]\] #1 path is required$/, 7],
      [good.replace('name = "one"', 'name = "a b"'), /\[\[templates\]\] #1 name must match pattern/, 8],
      [`${good}\n[[templates]]\nname = "one"\npath = "t.tmpl"\n`, /name 'one' is used twice/, 22],
      [good.replace('tags = ["a"]', "tags = 3"), /^\[pack\] tags must be array$/, 5],
    ];
    for (const [text, message, line] of cases) {
      const e = thrown(() => parsePackManifest(text, "g/ggen.toml", "/tmp/p"));
      expect(e.code, String(message)).toBe("MANIFEST_INVALID");
      expect(e.message).toMatch(message);
      expect(e.location, String(message)).toMatchObject({ file: "g/ggen.toml", line });
    }
    expect(() => parsePackManifest("[vars]\n", "g")).toThrow(/^missing \[pack\] table$/);
    expect(thrown(() => parsePackManifest('[pack]\nid = "x"\n', "g")).location).toMatchObject({ line: 1 });
  });
});

describe("parseTemplateRef", () => {
  it("splits pack:template at the last ':'", () => {
    expect(parseTemplateRef("io.ggen.x:sql-schema")).toEqual({ pack: "io.ggen.x", template: "sql-schema" });
    expect(parseTemplateRef("io.ggen.x")).toEqual({ pack: "io.ggen.x" });
    expect(parseTemplateRef("C:/packs/x:one")).toEqual({ pack: "C:/packs/x", template: "one" });
    expect(parseTemplateRef(":x")).toEqual({ pack: ":x" });
    expect(parseTemplateRef("io.x:")).toEqual({ pack: "io.x", template: "" });
  });
});

describe("TOML with places", () => {
  it("finds a key's line and column, or its table's", () => {
    const text =
      '[pack]\nid = "x"\n\n[[templates]]\nname = "a"\n[[templates]]\n  path = "b"\n[dependencies]\n"io.x.y" = "1"\n';
    expect(tomlKeyLocation(text, ["pack", "id"])).toEqual({ line: 2, column: 1 });
    expect(tomlKeyLocation(text, ["pack", "version"])).toEqual({ line: 1, column: 1 });
    expect(tomlKeyLocation(text, ["templates", 1, "path"])).toEqual({ line: 7, column: 3 });
    expect(tomlKeyLocation(text, ["templates", 1, "name"])).toEqual({ line: 6, column: 1 });
    expect(tomlKeyLocation(text, ["dependencies", "io.x.y"])).toEqual({ line: 9, column: 1 });
    expect(tomlKeyLocation(text, ["vars"])).toBeUndefined();
  });

  it("parseToml: data, or a usage error at file:line:col", () => {
    expect(parseToml('a = 1\n[b]\nc = "d"\n', "x.toml", "X", "usage")).toEqual({ a: 1, b: { c: "d" } });
    const e = thrown(() => parseToml('name = "a"\ncount = = 2\n', "v.toml", "VARS_SYNTAX", "usage"));
    expect(e.toLine()).toMatch(/^v\.toml:2:\d+: invalid TOML: /);
    expect(e.code).toBe("VARS_SYNTAX");
  });
});

describe("[pipeline] of a pack", () => {
  const withPipeline = (stages: string, head = 'version = 1\ntoolchain = "cargo"') =>
    `${good}\n[pipeline]\n${head}\n${stages}`;
  const stage = (body: string) => `\n[[pipeline.stages]]\n${body}\n`;

  it("is read as declared: stages with commands or built-ins, parsers, after, lanes, coverage, deploy", () => {
    const m = parsePackManifest(
      `${withPipeline(
        stage('name = "build"\ngate = "build"\nrun = ["cargo", "build"]\nlane = "main"') +
          stage(
            'name = "test"\ngate = "tests"\nrun = ["cargo", "test"]\nparse = "libtest"\nafter = ["build"]\nlane = "main"\ncoverage = "llvm-cov"\ntimeout = "30s"',
          ) +
          stage('name = "audit"\ngate = "audit"\nuses = "rustsec-audit"'),
      )}\n[pipeline.deploy]\nuses = "cargo-registry"\n`,
      "ggen.toml",
    );
    expect(m.pipeline?.toolchain).toBe("cargo");
    expect(m.pipeline?.stages.map((s) => s.name)).toEqual(["build", "test", "audit"]);
    expect(m.pipeline?.stages[1]).toMatchObject({ parse: "libtest", after: ["build"], coverage: "llvm-cov" });
    expect(m.pipeline?.deploy).toEqual({ uses: "cargo-registry" });
    expect(parsePackManifest(good, "ggen.toml").pipeline).toBeUndefined();
  });

  it("refuses what could never run, at the stage's line", () => {
    const cases: [string, RegExp, number][] = [
      [stage('name = "a"\nrun = ["x"]') + stage('name = "a"\nrun = ["y"]'), /name 'a' is used twice/, 0],
      [stage('name = "a"\nrun = ["x"]\nafter = ["b"]'), /runs after 'b', which is not a stage/, 0],
      [
        stage('name = "a"\nrun = ["x"]\nafter = ["b"]') + stage('name = "b"\nrun = ["x"]\nafter = ["a"]'),
        /after forms a cycle: a → b → a/,
        0,
      ],
      [stage('name = "a"\nuses = "rustsec-audit"\ncoverage = "llvm-cov"'), /coverage needs a command/, 0],
      [stage('name = "a"\nrun = ["x"]\nparse = "junit-xml"'), /\[\[pipeline\.stages\]\] #1 parse/, 0],
      [stage('name = "a"'), /#1 needs run \(a command\) or uses/, 0],
      [stage('name = "a"\nrun = ["x"]\ntimeout = "soon"'), /timeout/, 0],
    ];
    for (const [stages, message] of cases) {
      const text = withPipeline(stages);
      const e = thrown(() => parsePackManifest(text, "ggen.toml"));
      expect(e.code).toBe("MANIFEST_INVALID");
      expect(e.message).toMatch(message);
      expect(e.location?.line).toBeGreaterThan(good.split("\n").length);
    }
    const noVersion = thrown(() =>
      parsePackManifest(withPipeline(stage('name = "a"\nrun = ["x"]'), ""), "g"),
    );
    expect(noVersion.message).toMatch(/\[pipeline\]/);
  });
});
