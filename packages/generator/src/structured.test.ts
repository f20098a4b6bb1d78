import { describe, expect, it } from "vitest";
import {
  type EditFormat,
  editStructured,
  loadStructured,
  parseKeyPath,
  type StructuredEdit,
} from "./structured.js";

const edit = (
  format: EditFormat,
  text: string,
  path: string,
  value: unknown,
  more: Partial<StructuredEdit> = {},
) => {
  const p = parseKeyPath(path);
  if (typeof p === "string") throw new Error(p);
  const r = editStructured(text, "", { format, path: p, value, ...more });
  return r.changed ? r.content : text;
};

describe("parseKeyPath", () => {
  it("reads dots, quoted keys and list indexes", () => {
    expect(parseKeyPath("dependencies.pg")).toEqual(["dependencies", "pg"]);
    expect(parseKeyPath('dependencies."@types/node"')).toEqual(["dependencies", "@types/node"]);
    expect(parseKeyPath("'io.ggen.x'.version")).toEqual(["io.ggen.x", "version"]);
    expect(parseKeyPath("services.web.ports[0]")).toEqual(["services", "web", "ports", 0]);
    expect(parseKeyPath("a[1][2].b")).toEqual(["a", 1, 2, "b"]);
    for (const bad of ["", "a.", "a..b", "a[x]", '"a', "a[0]b"])
      expect(typeof parseKeyPath(bad)).toBe("string");
  });
});

const pkg = `{
  "name": "shop",
  // comments survive (JSONC)
  "dependencies": {
    "express": "^4.18.0"
  },
  "scripts": { "test": "node --test" }
}
`;

describe("JSON", () => {
  it("adds a key, keeping every other byte", () => {
    expect(edit("json", pkg, "dependencies.pg", "^8.11")).toBe(
      pkg.replace('"^4.18.0"\n', '"^4.18.0",\n    "pg": "^8.11"\n'),
    );
  });
  it("is idempotent: the same value again changes nothing", () => {
    const once = edit("json", pkg, "dependencies.pg", "^8.11");
    expect(
      editStructured(once, "", { format: "json", path: ["dependencies", "pg"], value: "^8.11" }),
    ).toEqual({ changed: false });
  });
  it("replaces a value, creates missing tables, adds to lists once, follows tab indentation", () => {
    expect(edit("json", pkg, "name", "store")).toBe(pkg.replace('"shop"', '"store"'));
    expect(edit("json", '{\n\t"a": 1\n}\n', "b.c", true)).toBe(
      '{\n\t"a": 1,\n\t"b": {\n\t\t"c": true\n\t}\n}\n',
    );
    const l = '{\n  "files": [\n    "dist"\n  ]\n}\n';
    expect(edit("json", l, "files", "src", { add: true })).toBe(
      '{\n  "files": [\n    "dist",\n    "src"\n  ]\n}\n',
    );
    expect(edit("json", l, "files", "dist", { add: true })).toBe(l);
    expect(edit("json", "{}", "files", "a", { add: true })).toBe('{\n  "files": [\n    "a"\n  ]\n}');
  });
  it("refuses a path through a scalar, a non-list with add, and broken JSON", () => {
    expect(() => edit("json", pkg, "name.first", "x", { target: "package.json" })).toThrow(
      /package.json: name is not a table or list, so name.first cannot be set/,
    );
    expect(() => edit("json", pkg, "name", "x", { add: true })).toThrow(/name is not a list/);
    expect(() => edit("json", "{ nope", "a", 1)).toThrow(/not valid JSON/);
  });
});

const compose = `# compose
services:
  db:
    image: postgres:15   # pinned
    ports:
    - "5432:5432"
  web:
    build: .
    command: >
      node server.mjs
      --port 3000
    ports:
      - '3000:3000'
volumes: {}
`;

describe("YAML (minimal text edits: comments, quotes, folding and indentation kept)", () => {
  it("replaces a scalar in place, keeping its comment", () => {
    expect(edit("yaml", compose, "services.db.image", "postgres:16")).toBe(
      compose.replace("postgres:15", "postgres:16"),
    );
  });
  it("adds a key at the map's indentation, after its last entry", () => {
    expect(edit("yaml", compose, "services.web.environment.PG_URL", "postgres://db/shop")).toBe(
      compose.replace(
        "      - '3000:3000'\n",
        "      - '3000:3000'\n    environment:\n      PG_URL: postgres://db/shop\n",
      ),
    );
    expect(edit("yaml", compose, "services.cache", { image: "redis:7" })).toBe(
      compose.replace("volumes: {}", "  cache:\n    image: redis:7\nvolumes: {}"),
    );
  });
  it("adds to block and flow lists once, at their own indentation", () => {
    expect(edit("yaml", compose, "services.db.ports", "5433:5432", { add: true })).toBe(
      compose.replace('    - "5432:5432"\n', '    - "5432:5432"\n    - 5433:5432\n'),
    );
    expect(edit("yaml", compose, "services.web.ports", "3000:3000", { add: true })).toBe(compose);
    expect(edit("yaml", "a: [1, 2]\n", "a", 3, { add: true })).toBe("a: [ 1, 2, 3 ]\n");
  });
  it("fills a flow map, an empty key and an empty document", () => {
    expect(edit("yaml", compose, "volumes.data", {})).toBe(
      compose.replace("volumes: {}", "volumes: { data: {} }"),
    );
    expect(edit("yaml", "a:\nb: 1\n", "a.x", 1)).toBe("a:\n  x: 1\nb: 1\n");
    expect(edit("yaml", "", "a.b", "c")).toBe("a:\n  b: c\n");
    expect(edit("yaml", "# only a comment\n", "a", 1)).toBe("# only a comment\na: 1\n");
  });
  it("is idempotent and refuses broken YAML", () => {
    const once = edit("yaml", compose, "services.web.environment.PG_URL", "x");
    expect(edit("yaml", once, "services.web.environment.PG_URL", "x")).toBe(once);
    expect(() => edit("yaml", "a: [\n", "a", 1)).toThrow(/not valid YAML/);
  });
});

const cargo = `# The crate
[package]
name = "demo"   # the name
version = "0.1.0"

[dependencies]
# JSON
serde_json = "1"
anyhow = { version = "1.0", default-features = false }
`;

describe("TOML (toml-patch: comments and formatting kept)", () => {
  it("adds a dependency, replaces an inline table's key, adds a table", async () => {
    await loadStructured("toml");
    expect(edit("toml", cargo, "dependencies.serde", "1.0.200")).toBe(`${cargo}serde = "1.0.200"\n`);
    expect(edit("toml", cargo, "dependencies.anyhow.version", "1.1")).toBe(cargo.replace('"1.0"', '"1.1"'));
    expect(edit("toml", cargo, 'features."default"', ["std"])).toBe(
      `${cargo}\n[features]\ndefault = [ "std" ]\n`,
    );
    expect(edit("toml", cargo, "package.name", "demo")).toBe(cargo);
    expect(() => edit("toml", cargo, "package.name.x", 1)).toThrow(/package.name is not a table/);
    expect(() => edit("toml", "a = ", "b", 1)).toThrow(/not valid TOML/);
  });
});

describe("value from the body", () => {
  it("parses the rendered body as YAML (JSON included) when there is no value", () => {
    const r = editStructured('{\n  "a": 1\n}\n', '{ "x": [1, 2] }', { format: "json", path: ["b"] });
    expect(r.changed && JSON.parse(r.content)).toEqual({ a: 1, b: { x: [1, 2] } });
    expect(() => editStructured("{}", "", { format: "json", path: ["b"] })).toThrow(/needs a value/);
  });
});
