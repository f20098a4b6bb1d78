// The io.ggen.domain-service pack (fixtures/templates) on published vocabularies nobody here wrote, read
// from their npm packages (@vocabulary/*, N-Quads: every triple in a named graph): each generates a
// service whose own tests pass against a real PostgreSQL 15. A model with no class is one error line.
// The services' tests run as the ultra-fast path runs them (@ggen/testing's batch: one node process,
// four files at once): DBpedia's 763 files would take minutes as a process each.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { type PostgresHandle, startPostgres } from "@ggen/cleanroom-backends";
import { camelCase, kebabCase, pluralize, snakeCase } from "@ggen/generator";
import { runTests, selectFiles, spawnExec } from "@ggen/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bin, repoRoot as repo } from "./market-helpers.js";

const root = mkdtempSync(join(tmpdir(), "ggen-ontologies-"));
const require = createRequire(import.meta.url);

const ggen = (...args: string[]) =>
  spawnSync(process.execPath, [bin, ...args], {
    cwd: repo,
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1" },
    timeout: 240_000,
  });

// Each package named literally, so the dependency check sees them used.
const packageJson: Record<string, string> = {
  foaf: require.resolve("@vocabulary/foaf/package.json"),
  prov: require.resolve("@vocabulary/prov/package.json"),
  org: require.resolve("@vocabulary/org/package.json"),
  gs1: require.resolve("@vocabulary/gs1/package.json"),
  dbo: require.resolve("@vocabulary/dbo/package.json"),
};

/** The N-Quads file of an installed @vocabulary/<name> package. */
function vocabulary(name: string): string {
  const pj = packageJson[name];
  if (!pj) throw new Error(`no @vocabulary/${name} among the test's vocabularies`);
  const dir = dirname(pj);
  const nq = readdirSync(dir).find((f) => f === `${name}.nq`);
  if (!nq) throw new Error(`@vocabulary/${name} has no ${name}.nq`);
  return join(dir, nq);
}

let pg: PostgresHandle | undefined;
beforeAll(async () => {
  pg = await startPostgres();
}, 120_000);
afterAll(async () => {
  await pg?.stop();
  rmSync(root, { recursive: true, force: true });
}, 60_000);

// Classes each vocabulary declares (owl:Class IRIs, counted once; class expressions are blank nodes): one
// entity test file per class. Each entity test creates only its entity's table and the ones it references
// (DBpedia's 760 tables once per file would exhaust PostgreSQL's lock table, four files at once).
const vocabularies: [name: string, classes: number][] = [
  ["foaf", 13],
  ["prov", 51],
  ["org", 9],
  ["gs1", 55],
  ["dbo", 760],
];

// The prefixes of the test graphs below.
const PREFIXES = [
  "@prefix owl: <http://www.w3.org/2002/07/owl#> .",
  "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .",
  "@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .",
  "@prefix ex: <https://example.org/> .",
];

/** Runs a generated service's own tests against the PostgreSQL: every one passes; how many ran. */
async function serviceTests(out: string): Promise<number> {
  mkdirSync(join(out, "node_modules"), { recursive: true });
  symlinkSync(dirname(require.resolve("pg/package.json")), join(out, "node_modules", "pg"));
  const files = await selectFiles(out, {});
  const { tests } = await runTests(files, {
    root: out,
    exec: spawnExec,
    batch: true,
    env: { DATABASE_URL: pg!.url },
    timeoutMs: 600_000,
  });
  const failed = tests.filter((t) => t.status !== "passed");
  expect(failed.map((t) => `${t.id}: ${t.status} ${t.failureMessage ?? ""}\n${t.outputTail ?? ""}`)).toEqual(
    [],
  );
  // Every file reported tests (a file that loads nothing would pass unnoticed otherwise).
  expect(new Set(tests.map((t) => t.file)).size).toBe(files.length);
  return tests.length;
}

/** The pack's classes.rq on `graph`: one row per entity, as the templates see it. */
function classRows(graph: string): Record<string, string>[] {
  const r = ggen("graph", "query", graph, "--query", "@fixtures/templates/queries/classes.rq", "--json");
  expect(r.status, r.stderr).toBe(0);
  const bindings = (JSON.parse(r.stdout) as { results: { bindings: Record<string, { value: string }>[] } })
    .results.bindings;
  return bindings.map((b) => Object.fromEntries(Object.entries(b).map(([k, v]) => [k, v.value])));
}

/** Generates the pack from `graph` into two fresh directories: deterministic output compares equal. */
function generateTwice(graph: string, prefix: string): [string, string] {
  return (["x", "y"] as const).map((d) => {
    const out = join(root, `${prefix}-${d}`);
    const r = ggen("gen", "fixtures/templates", "-o", out, "--vars", "name=people", "--graph", graph);
    expect(r.status, r.stderr).toBe(0);
    return out;
  }) as [string, string];
}

interface ModelEntity {
  name: string;
  table: string;
  path: string;
  repository: string;
  fields: { name: string; column: string }[];
}

/** The entities of a generated service's src/model.mjs (plain data, no imports). */
async function generatedModel(out: string): Promise<ModelEntity[]> {
  const mod = (await import(pathToFileURL(join(out, "src", "model.mjs")).href)) as {
    entityList: ModelEntity[];
  };
  return mod.entityList;
}

/** Generates `graph` twice: the models compare equal (the names do not depend on the run). */
async function modelTwice(graph: string, prefix: string): Promise<[ModelEntity[], [string, string]]> {
  const outputs = generateTwice(graph, prefix);
  const [model, again] = await Promise.all(outputs.map((out) => generatedModel(out)));
  expect(again).toEqual(model);
  return [model!, outputs];
}

/** Every name a service derives from an entity or field is its own; no field takes the key column. */
function expectDistinctNames(model: ModelEntity[]): void {
  const distinct = (xs: string[]) => expect(new Set(xs).size, xs.join(" ")).toBe(xs.length);
  for (const key of ["name", "table", "path", "repository"] as const) distinct(model.map((e) => e[key]));
  for (const e of model) {
    distinct(["id", ...e.fields.map((f) => f.name)]);
    distinct(["id", ...e.fields.map((f) => f.column)]);
  }
}

describe("io.ggen.domain-service on published vocabularies", () => {
  it.each(vocabularies)(
    "@vocabulary/%s (%i classes) generates a service whose tests all pass against PostgreSQL",
    async (name, classes) => {
      const out = join(root, name);
      const r = ggen(
        "gen",
        "fixtures/templates",
        "-o",
        out,
        "--vars",
        `name=${name}`,
        "--graph",
        vocabulary(name),
        "--json",
      );
      expect(r.status, r.stderr).toBe(0);
      const entityTests = readdirSync(join(out, "test", "entities"));
      expect(entityTests).toHaveLength(classes);

      const model = readFileSync(join(out, "src", "model.mjs"), "utf8");
      expect(model).toContain("fields: [\n    ],"); // classes without properties: id-only tables
      const entities = await generatedModel(out);
      expectDistinctNames(entities);
      // No two plurals alike here: each is exactly what the `pluralize` helper gives (the templates used
      // it before the query numbered alike plurals), so the tables, paths and repositories are unchanged.
      const rows = classRows(vocabulary(name));
      expect(rows.filter((row) => row.pluralRenamed)).toEqual([]);
      expect(rows.map((row) => row.plural)).toEqual(rows.map((row) => pluralize(row.entity)));
      expect(entities.map((e) => [e.table, e.path, e.repository])).toEqual(
        rows.map((row) => {
          const plural = pluralize(row.entity);
          return [snakeCase(plural), kebabCase(plural), camelCase(plural)];
        }),
      );

      expect(await serviceTests(out)).toBeGreaterThan(classes);
    },
    900_000,
  );

  it("names tables, paths and repositories apart when two entities' plurals read alike, reported, the same way every run", async () => {
    const graph = join(root, "alike-plurals.ttl");
    const names = ["Axis", "Axe", "Person", "People", "Cat", "Cats", "Category"];
    writeFileSync(
      graph,
      [
        ...PREFIXES,
        ...names.map((c) => `ex:${c} a owl:Class .`),
        // A label reading like schema.sql's table marker: an entity test still finds its own table.
        'ex:Cat rdfs:label "table axes2" .',
        // References between the alike ones: each foreign key must reach its own table.
        "ex:Axe rdfs:subClassOf [ a owl:Restriction ; owl:onProperty ex:axis ; owl:onClass ex:Axis ; owl:qualifiedCardinality 1 ] .",
        "ex:People rdfs:subClassOf [ a owl:Restriction ; owl:onProperty ex:member ; owl:onClass ex:Person ; owl:maxQualifiedCardinality 1 ] .",
        "ex:Cats rdfs:subClassOf [ a owl:Restriction ; owl:onProperty ex:name ; owl:cardinality 1 ] .",
        "ex:axis a owl:ObjectProperty . ex:member a owl:ObjectProperty .",
        "ex:name a owl:DatatypeProperty ; rdfs:range xsd:string .",
      ].join("\n"),
    );
    const [model, outputs] = await modelTwice(graph, "plurals");
    expectDistinctNames(model);
    // IRIs sort Axe < Axis < Cat < Cats < Category < People < Person: the first of each alike pair keeps
    // the plural `pluralize` gives, the other is numbered.
    const tables = Object.fromEntries(model.map((e) => [e.name, [e.table, e.path, e.repository]]));
    expect(tables).toEqual({
      Axe: ["axes", "axes", "axes"],
      Axis: ["axes2", "axes2", "axes2"],
      Cat: ["cats", "cats", "cats"],
      Cats: ["cats2", "cats2", "cats2"],
      Category: ["categories", "categories", "categories"],
      People: ["people", "people", "people"],
      Person: ["people2", "people2", "people2"],
    });
    const schema = readFileSync(join(outputs[0], "sql", "schema.sql"), "utf8");
    expect(schema).toContain('ALTER TABLE "axes" ADD CONSTRAINT "axes_axis_id_fkey"');
    expect(schema).toContain('REFERENCES "axes2" (id)');
    expect(schema).toContain('REFERENCES "people2" (id)');
    const readme = readFileSync(join(outputs[0], "README.md"), "utf8");
    expect(readme).toContain("## Renamed plurals");
    expect(readme).toContain("- `axes2` (`/axes2`, `repos.axes2`) is `Axis`, https://example.org/Axis\n");
    expect(readme).toContain("- `cats2` (`/cats2`, `repos.cats2`) is `Cats`, https://example.org/Cats\n");
    expect(readme).toContain(
      "- `people2` (`/people2`, `repos.people2`) is `Person`, https://example.org/Person\n",
    );
    expect(readme).toContain("`GET/POST /axes2`");
    expect(readFileSync(join(outputs[1], "README.md"), "utf8")).toBe(readme);
    expect(readFileSync(join(outputs[1], "sql", "schema.sql"), "utf8")).toBe(schema);
    expect(await serviceTests(outputs[0])).toBeGreaterThan(model.length);
  }, 300_000);

  it("gives each entity the plural `pluralize` gives, numbering alike ones in IRI order (many random names, a fixed seed)", () => {
    // Words that reach every branch of inflect.ts: irregulars both ways, uncountables, each rule, words
    // that look plural, upper case, and names ending in a digit or "_".
    const parts = [
      ...["Axis", "axe", "Person", "people", "Cat", "cats", "Day", "city", "Knife", "wife", "Wolf", "half"],
      ...["Potato", "Hero", "Box", "Church", "Dish", "Quiz", "Octopus", "Criterion", "Basis", "Status"],
      ...["Class", "News", "series", "Data", "ID", "URL", "Mouse", "mice", "Leaf", "leaves", "Ox", "s"],
      ...["Y", "fe", "o", "_", "2", "10"],
    ];
    let seed = 7;
    const next = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    // Every word after a few heads (so alike pairs collide: BigAxis, BigAxe), and random joins of words.
    const heads = ["", "Big", "big_", "X2"];
    const names = [
      ...new Set([
        ...heads.flatMap((head) => parts.map((part) => head + part)),
        ...Array.from({ length: 200 }, () =>
          Array.from({ length: 1 + next(3) }, () => parts[next(parts.length)]).join(""),
        ),
      ]),
    ];
    const graph = join(root, "random-plurals.ttl");
    writeFileSync(
      graph,
      [...PREFIXES, ...names.map((n) => `<https://example.org/c/${n}> a owl:Class .`)].join("\n"),
    );
    const rows = classRows(graph);
    expect(rows).toHaveLength(names.length);
    // The rows come in IRI order; the first of each alike plural keeps it, the others are numbered 2, 3, …
    const key = (s: string) => s.replace(/[^A-Za-z0-9]/g, "").toLowerCase();
    const seen = new Map<string, number>();
    const expected = rows.map((row) => {
      const plural = pluralize(row.entity);
      const before = seen.get(key(plural)) ?? 0;
      seen.set(key(plural), before + 1);
      return before === 0 ? [plural, undefined] : [`${plural}${before + 1}`, "true"];
    });
    expect(rows.map((row) => [row.plural, row.pluralRenamed])).toEqual(expected);
    expect(expected.filter(([, renamed]) => renamed).length).toBeGreaterThan(10);
    expect(new Set(rows.map((row) => key(row.plural!))).size).toBe(rows.length);
  }, 60_000);

  it("names entities apart when two IRIs share a local name, the same way every run", async () => {
    const graph = join(root, "shared-names.ttl");
    writeFileSync(
      graph,
      [
        "@prefix owl: <http://www.w3.org/2002/07/owl#> .",
        "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .",
        '<https://a.example/Person> a owl:Class ; rdfs:label "Person" .',
        '<https://b.example/Person> a owl:Class, rdfs:Class ; rdfs:label "Person"@en, "Personne"@fr .',
        '<https://c.example/person> a owl:Class ; rdfs:label "person" .',
      ].join("\n"),
    );
    const outputs = generateTwice(graph, "shared");
    const tests = outputs.map((out) => readdirSync(join(out, "test", "entities")).sort());
    expect(tests[0]).toEqual(["person.test.mjs", "person2.test.mjs", "person3.test.mjs"]);
    expect(tests[1]).toEqual(tests[0]);
    // The renaming is reported where the service describes itself.
    const readme = readFileSync(join(outputs[0], "README.md"), "utf8");
    expect(readme).toContain("`Person2` is https://b.example/Person");
    expect(readme).toContain("`Person3` is https://c.example/person");
    expectDistinctNames(await generatedModel(outputs[0]));
  }, 120_000);

  it("names fields apart when two properties of one class share a local name, reported, the same way every run", async () => {
    const graph = join(root, "shared-fields.ttl");
    writeFileSync(
      graph,
      [
        ...PREFIXES,
        "@prefix foaf: <http://xmlns.com/foaf/0.1/> .",
        "ex:Person a owl:Class ; rdfs:subClassOf",
        "  [ a owl:Restriction ; owl:onProperty foaf:name ; owl:cardinality 1 ],",
        "  [ a owl:Restriction ; owl:onProperty ex:name ; owl:maxCardinality 1 ],",
        "  [ a owl:Restriction ; owl:onProperty ex:id ; owl:maxCardinality 1 ],",
        "  [ a owl:Restriction ; owl:onProperty ex:friend ; owl:onClass ex:Person ; owl:maxQualifiedCardinality 1 ],",
        "  [ a owl:Restriction ; owl:onProperty ex:friend_id ; owl:maxCardinality 1 ] .",
        "foaf:name a owl:DatatypeProperty ; rdfs:range xsd:string .",
        "ex:name a owl:DatatypeProperty ; rdfs:range xsd:integer .",
        "ex:id a owl:DatatypeProperty ; rdfs:range xsd:string .",
        "ex:friend a owl:ObjectProperty .",
        "ex:friend_id a owl:DatatypeProperty ; rdfs:range xsd:string .",
      ].join("\n"),
    );
    const outputs = generateTwice(graph, "fields");
    const schema = readFileSync(join(outputs[0], "sql", "schema.sql"), "utf8");
    expect(readFileSync(join(outputs[1], "sql", "schema.sql"), "utf8")).toBe(schema);
    const table = /CREATE TABLE IF NOT EXISTS "people" \(([^;]*)\);/.exec(schema)?.[1] ?? "";
    const columns = [...table.matchAll(/^\s*"?([a-z0-9_]+)"? /gm)].map((m) => m[1]);
    // foaf:name sorts first (http < https); the key column "id" and a reference's "…_id" count as taken.
    expect(columns).toEqual(["id", "name", "friend_id", "friend_id2", "id2", "name2"]);
    const readme = readFileSync(join(outputs[0], "README.md"), "utf8");
    expect(readme).toContain("## Renamed fields");
    expect(readme).toContain("- `Person.name2` is https://example.org/name");
    expect(readme).toContain("- `Person.id2` is https://example.org/id");
    expect(readme).toContain("- `Person.friendId2` is https://example.org/friend_id");
    expectDistinctNames(await generatedModel(outputs[0]));
    // The renamed fields work: the service's own tests (model, schema, data access, API) pass.
    expect(await serviceTests(outputs[0])).toBeGreaterThan(1);
  }, 300_000);

  it("numbers alike names so that no numbered name reads like another (chains, camel and snake), reported, the same way every run", async () => {
    const graph = join(root, "alike-names.ttl");
    const props = ["name", "Name", "name2", "name_2", "name22", "id", "owner_id"];
    const refs = ["owner", "Owner", "owner2"];
    writeFileSync(
      graph,
      [
        ...PREFIXES,
        "ex:Thing a owl:Class ; rdfs:subClassOf",
        ...props.map((p) => `  [ a owl:Restriction ; owl:onProperty ex:${p} ; owl:maxCardinality 1 ],`),
        ...refs.map(
          (p, i) =>
            `  [ a owl:Restriction ; owl:onProperty ex:${p} ; owl:onClass ex:Thing ; owl:maxQualifiedCardinality 1 ]${i === refs.length - 1 ? " ." : ","}`,
        ),
        ...props.map((p) => `ex:${p} a owl:DatatypeProperty ; rdfs:range xsd:string .`),
        ...refs.map((p) => `ex:${p} a owl:ObjectProperty .`),
        ...["Item", "item", "Item2", "item_2", "item22"].map((c) => `ex:${c} a owl:Class .`),
      ].join("\n"),
    );
    const [model, outputs] = await modelTwice(graph, "alike");
    // IRIs sort Name < id < name < name2 < name22 < name_2 (and Item < Item2 < item < item22 < item_2);
    // the longest run of digits ending a name is 2 ("name22"), so numbers have 3 digits.
    expect(model.map((e) => e.name)).toEqual(["Item", "Item2", "Thing", "Item002", "Item22", "Item2002"]);
    const thing = model.find((e) => e.name === "Thing")!;
    expect(thing.fields.map((f) => f.name)).toEqual([
      "name",
      "ownerId",
      "id002",
      "name002",
      "name2",
      "name22",
      "name2002",
      "owner002Id",
      "owner2Id",
      "ownerId003",
    ]);
    expectDistinctNames(model);
    const readme = readFileSync(join(outputs[0], "README.md"), "utf8");
    expect(readme).toContain("- `Item002` is https://example.org/item\n");
    expect(readme).toContain("- `Item2002` is https://example.org/item_2\n");
    expect(readme).toContain("- `Thing.name2002` is https://example.org/name_2\n");
    expect(readme).toContain("- `Thing.owner002Id` is https://example.org/owner\n");
    expect(readme).toContain("- `Thing.ownerId003` is https://example.org/owner_id\n");
    expect(await serviceTests(outputs[0])).toBeGreaterThan(model.length);
  }, 300_000);

  it("names a local name without ASCII letters or digits, or starting with a digit, validly and the same way every run, reported", async () => {
    const graph = join(root, "odd-names.ttl");
    writeFileSync(
      graph,
      [
        ...PREFIXES,
        "<https://example.org/名前> a owl:Class .",
        "<https://example.org/_> a owl:Class .",
        "<https://example.org/3DModel> a owl:Class ; rdfs:subClassOf",
        "  [ a owl:Restriction ; owl:onProperty <https://example.org/名前> ; owl:maxCardinality 1 ],",
        "  [ a owl:Restriction ; owl:onProperty <https://example.org/p/_> ; owl:maxCardinality 1 ],",
        "  [ a owl:Restriction ; owl:onProperty ex:2nd ; owl:onClass <https://example.org/名前> ; owl:maxQualifiedCardinality 1 ] .",
        "<https://example.org/名前> a owl:DatatypeProperty ; rdfs:range xsd:string .",
        "<https://example.org/p/_> a owl:DatatypeProperty ; rdfs:range xsd:string .",
        "ex:2nd a owl:ObjectProperty .",
      ].join("\n"),
    );
    const [model, outputs] = await modelTwice(graph, "odd");
    // No usable character: "entity"/"field" and the first 8 hex digits of the IRI's MD5 (stable);
    // a leading digit: the same word before it.
    const md5 = (s: string) => createHash("md5").update(s).digest("hex").slice(0, 8);
    expect(model.map((e) => e.name).sort()).toEqual(
      [
        "Entity3DModel",
        `Entity${md5("https://example.org/_")}`,
        `Entity${md5("https://example.org/名前")}`,
      ].sort(),
    );
    const model3d = model.find((e) => e.name === "Entity3DModel")!;
    expect(model3d.fields.map((f) => f.name).sort()).toEqual(
      [
        "field2ndId",
        `field${md5("https://example.org/名前")}`,
        `field${md5("https://example.org/p/_")}`,
      ].sort(),
    );
    const identifier = /^[A-Za-z][A-Za-z0-9_]*$/;
    for (const e of model) {
      for (const name of [e.name, e.table, e.repository, ...e.fields.flatMap((f) => [f.name, f.column])])
        expect(name).toMatch(identifier);
      expect(e.path).toMatch(/^[a-z][a-z0-9-]*$/);
    }
    expectDistinctNames(model);
    const readme = readFileSync(join(outputs[0], "README.md"), "utf8");
    expect(readme).toContain("- `Entity3DModel` is https://example.org/3DModel\n");
    expect(readme).toContain(`- \`Entity${md5("https://example.org/名前")}\` is https://example.org/名前\n`);
    expect(readme).toContain("- `Entity3DModel.field2ndId` is https://example.org/2nd\n");
    expect(readme).toContain(
      `- \`Entity3DModel.field${md5("https://example.org/p/_")}\` is https://example.org/p/_\n`,
    );
    expect(await serviceTests(outputs[0])).toBeGreaterThan(model.length);
  }, 300_000);

  it("keeps names distinct on many random alike names (a fixed seed)", async () => {
    // Names from a small alphabet collide often, in chains and only after camel/snake ("a_1", "A1").
    let seed = 20;
    const next = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const pick = () =>
      Array.from({ length: 1 + next(5) }, () => ["a", "A", "1", "2", "_", "id", "Id"][next(7)]).join("");
    // Names starting with a digit or "_", or with no letter or digit at all, are made names first.
    const alike = (n: number) => [...new Set(Array.from({ length: n }, pick))];
    const props = alike(120);
    const classes = alike(120);
    const lines = [
      ...PREFIXES,
      ...classes.map((c) => `<https://example.org/class/${c}> a owl:Class .`),
      `<https://example.org/class/${classes[0]}> rdfs:subClassOf ${props
        .map((p, i) =>
          i % 3 === 0
            ? `[ a owl:Restriction ; owl:onProperty ex:${p} ; owl:onClass <https://example.org/class/${classes[0]}> ]`
            : `[ a owl:Restriction ; owl:onProperty ex:${p} ]`,
        )
        .join(", ")} .`,
      ...props.map(
        (p, i) => `ex:${p} a owl:${i % 3 === 0 ? "Object" : "Datatype"}Property ; rdfs:range xsd:string .`,
      ),
    ];
    const graph = join(root, "random-names.ttl");
    writeFileSync(graph, lines.join("\n"));
    const [model] = await modelTwice(graph, "random");
    expect(model).toHaveLength(classes.length);
    expect(model.reduce((n, e) => n + e.fields.length, 0)).toBe(props.length);
    expectDistinctNames(model);
    for (const e of model)
      for (const name of [e.name, e.table, e.repository, ...e.fields.flatMap((f) => [f.name, f.column])])
        expect(name).toMatch(/^[A-Za-z][A-Za-z0-9_]*$/);
  }, 120_000);

  it("refuses a model without classes in one line", () => {
    const graph = join(root, "empty.nq");
    writeFileSync(
      graph,
      '<https://a.example/x> <https://a.example/p> "no classes" <https://a.example/g> .\n',
    );
    const out = join(root, "empty");
    const r = ggen("gen", "fixtures/templates", "-o", out, "--vars", "name=empty", "--graph", graph);
    expect(r.status).not.toBe(0);
    const lines = r.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    // A sentence about the user's file: what is wrong, and what to do.
    expect(lines[0]).toContain(`${graph}: this ontology declares no class (nothing is an owl:Class`);
    expect(lines[0]).toMatch(/declare each entity as `ex:Order a owl:Class \.`, or pass .* --graph/);
    expect(() => readdirSync(out)).toThrow();
  }, 60_000);
});
