// Issue 17's "done when", through the built program: generate the shop service from pack 1.0, edit three
// files by hand (in a protected region, outside any region, a JSON key) and one line the upgrade also
// changes, add a property to the ontology, upgrade the pack to 1.1, plan, then regenerate: the edits are
// kept, the new column is everywhere, the overlap is a reported conflict, the file 1.1 dropped is an
// orphan pruned on --prune, and the plan printed before matches the result exactly.
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { sha256 } from "@ggen/support";
import { afterAll, describe, expect, it } from "vitest";
import { bin, repoRoot, sandbox } from "./market-helpers.js";

const s = sandbox();
afterAll(() => s.cleanup());
const twin = join(s.dir, "twin");

/** ggen in `cwd` with the sandbox's GGEN_HOME. */
function ggenIn(cwd: string, ...args: string[]) {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: "1", GGEN_HOME: s.home };
  delete env.GGEN_REGISTRY;
  const r = spawnSync(process.execPath, [bin, "--cwd", cwd, ...args], {
    encoding: "utf8",
    env,
    timeout: 120_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
const regenerate = (cwd: string, ...extra: string[]) =>
  ggenIn(
    cwd,
    "gen",
    "io.ggen.domain-service",
    "--graph",
    "shop.ttl",
    "--vars",
    "name=shop",
    "-o",
    "svc",
    ...extra,
  );

function tree(root: string, rel = ""): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of readdirSync(join(root, rel), { withFileTypes: true })) {
    if (e.name === ".ggen") continue;
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) Object.assign(out, tree(root, r));
    else out[r] = readFileSync(join(root, r), "utf8");
  }
  return out;
}

/** The per-file lines of a run's output as "action path" ("would be " dropped from a plan's). */
const actions = (stdout: string) =>
  stdout
    .split("\n")
    .map((l) =>
      /^(?:would be )?(created|overwritten|merged|conflict|injected|unchanged|skipped|deleted|kept)\s+(\S+)/.exec(
        l,
      ),
    )
    .filter((m) => m !== null)
    .map((m) => `${m[1]} ${m[2]}`);

const svc = (p: string, dir = s.project) => join(dir, "svc", p);
const read = (p: string, dir = s.project) => readFileSync(svc(p, dir), "utf8");
const edit = (p: string, f: (text: string) => string) => writeFileSync(svc(p), f(read(p)));

const notes = "Ops: page the shop team\tbefore deploys.  \n"; // a tab and trailing spaces, kept exactly
const weight = `
shop:weightGrams a owl:DatatypeProperty ;
  rdfs:label "weight in grams"@en ;
  rdfs:comment "Shipping weight."@en ;
  rdfs:range xsd:int .

shop:Product rdfs:subClassOf [ a owl:Restriction ; owl:onProperty shop:weightGrams ;
  owl:maxCardinality "1"^^xsd:nonNegativeInteger ] .
`;

describe("regenerating the shop service after edits, an ontology change and a pack upgrade", () => {
  it("keeps the edits, adds the column everywhere, reports the overlap, prunes the orphan, as planned", () => {
    expect(s.run("market", "add", "io.ggen.domain-service@1.0.0").status).toBe(0);
    cpSync(join(repoRoot, "fixtures/domain/shop.ttl"), join(s.project, "shop.ttl"));
    const first = regenerate(s.project);
    expect(first.status, first.stderr).toBe(0);
    expect(existsSync(svc("docs/NOTES.md"))).toBe(true);

    // Three hand edits, and one line pack 1.1 changes too.
    edit("README.md", (t) =>
      t.replace("Your notes: kept byte for byte when the service is regenerated.\n", notes),
    );
    edit("src/types.d.ts", (t) => `// Reviewed by the shop team.\n${t}`);
    edit("package.json", (t) =>
      t.replace(/"description": "[^"]*"/, '"description": "The shop, by the shop team"'),
    );
    edit("sql/schema.sql", (t) =>
      t.replace(/^-- shop: .*$/m, "-- shop: PostgreSQL schema, reviewed by Ana."),
    );
    writeFileSync(join(s.project, "shop.ttl"), readFileSync(join(s.project, "shop.ttl"), "utf8") + weight);
    const up = s.run("market", "update", "io.ggen.domain-service", "--latest");
    expect(up.status, up.stderr).toBe(0);
    expect(up.stdout).toContain("1.0.0 -> 1.1.0");

    // Without --prune the orphan is listed and kept (nothing written: a dry run).
    const listed = regenerate(s.project, "--dry-run");
    expect(listed.status, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(
      /kept\s+docs\/NOTES\.md\s+\(orphan: no template produces it; --prune deletes it\)/,
    );

    // The plan, printed first; a twin of the project then regenerates for real.
    cpSync(s.project, twin, { recursive: true });
    const planned = regenerate(s.project, "--prune", "--plan", "plan.json");
    expect(planned.status, planned.stderr).toBe(0);
    expect(planned.stdout).toMatch(/would be conflict\s+sql\/schema\.sql/);
    expect(planned.stdout).toMatch(/would be merged\s+src\/types\.d\.ts/);
    expect(planned.stdout).toMatch(/would be deleted\s+docs\/NOTES\.md\s+\(orphan/);
    const plan = JSON.parse(readFileSync(join(s.project, "plan.json"), "utf8"));
    const real = regenerate(twin, "--prune");
    expect(real.status).toBe(1);
    expect(real.stderr).toMatch(/1 file\(s\) with conflict markers: sql\/schema\.sql/);
    expect(real.stdout).toMatch(/deleted\s+docs\/NOTES\.md\s+\(orphan/);

    // The plan printed matches what the real run printed, file by file.
    expect(actions(planned.stdout)).toEqual(actions(real.stdout));
    expect(actions(real.stdout)).toEqual(
      expect.arrayContaining(["conflict sql/schema.sql", "merged src/types.d.ts", "deleted docs/NOTES.md"]),
    );
    // The plan matched the result exactly: every file's promised digest is what the real run left.
    for (const f of plan.files as { path: string; next: string | null }[]) {
      const p = svc(f.path, twin);
      expect([f.path, existsSync(p) ? sha256(readFileSync(p, "utf8")) : null]).toEqual([f.path, f.next]);
    }
    // And applying it gives the same tree as the real run.
    const applied = s.run("apply", "plan.json");
    expect(applied.status).toBe(1);
    expect(applied.stderr).toMatch(/conflict markers: sql\/schema\.sql/);
    expect(tree(join(s.project, "svc"))).toEqual(tree(join(twin, "svc")));

    // Edits kept: the region byte for byte, the line outside any region, the JSON key.
    expect(read("README.md", twin)).toContain(`<!-- ggen:manual notes -->\n${notes}<!-- ggen:end -->\n`);
    expect(read("src/types.d.ts", twin)).toMatch(/^\/\/ Reviewed by the shop team\.\n/);
    expect(JSON.parse(read("package.json", twin)).description).toBe("The shop, by the shop team");
    // The new column everywhere the columns are.
    expect(read("sql/schema.sql", twin)).toMatch(/^ {2}"weight_grams" INTEGER,?$/m);
    expect(read("src/types.d.ts", twin)).toMatch(/weightGrams\??: number/);
    expect(read("src/model.mjs", twin)).toContain('column: "weight_grams"');
    // The overlap is a conflict, marked in the file with both sides.
    expect(read("sql/schema.sql", twin)).toMatch(
      /^<<<<<<< yours \(on disk\)\n-- shop: PostgreSQL schema, reviewed by Ana\.\n\|\|\|\|\|\|\| generated before\n.*\n=======\n.*\n>>>>>>> generated now\n/,
    );
    // The orphan is gone, and the lock now speaks of pack 1.1.
    expect(existsSync(svc("docs/NOTES.md", twin))).toBe(false);
    const lock = JSON.parse(readFileSync(join(twin, "svc/.ggen/manifest.json"), "utf8"));
    expect(lock.inputs.packs).toEqual([
      expect.objectContaining({ id: "io.ggen.domain-service", version: "1.1.0" }),
    ]);
    expect(lock.orphans).toBeUndefined();
  });
});
