// `ggen graph validate --shapes`: SHACL through the built binary, violations at the focus node's line.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const bin = join(import.meta.dirname, "..", "dist", "bin.js");
const dir = mkdtempSync(join(tmpdir(), "ggen-shapes-cli-"));
const run = (...args: string[]) =>
  spawnSync(process.execPath, [bin, ...args], {
    cwd: dir,
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1" },
  });

beforeAll(() => {
  writeFileSync(
    join(dir, "library.ttl"),
    '@prefix ex: <http://example.org/> .\nex:b1 a ex:Book ; ex:title "A" .\n\n  ex:b2 a ex:Book .\nex:b3 a ex:Book ; ex:pages "many" .\n',
  );
  writeFileSync(
    join(dir, "good.ttl"),
    '@prefix ex: <http://example.org/> .\nex:b1 a ex:Book ; ex:title "A" .\n',
  );
  writeFileSync(
    join(dir, "book.ttl"),
    `@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix ex: <http://example.org/> .
ex:BookShape a sh:NodeShape ; sh:targetClass ex:Book ;
  sh:property [ sh:path ex:title ; sh:minCount 1 ] ;
  sh:property [ sh:path ex:pages ; sh:datatype xsd:integer ] .
`,
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("ggen graph validate --shapes", () => {
  it("reports each violation at file:line:col of its focus node and exits 1", () => {
    const r = run("graph", "validate", "--shapes", "book.ttl", "library.ttl");
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split("\n")).toEqual([
      "ggen: error: library.ttl:4:3: ex:b2 has no ex:title (shape ex:BookShape)",
      'ggen: error: library.ttl:5:1: ex:b3 ex:pages "many" is not a xsd:integer (shape ex:BookShape)',
      "ggen: error: library.ttl:5:1: ex:b3 has no ex:title (shape ex:BookShape)",
    ]);
  });

  it("--json lists the violations, and exits 1 too", () => {
    const r = run("graph", "validate", "--shapes", "book.ttl", "library.ttl", "--json");
    expect(r.status).toBe(1);
    const j = JSON.parse(r.stdout);
    expect(j.conforms).toBe(false);
    expect(j.violations.map((v: { component: string }) => v.component)).toEqual([
      "MinCount",
      "Datatype",
      "MinCount",
    ]);
    expect(j.violations[0].location).toEqual({ file: "library.ttl", line: 4, column: 3 });
  });

  it("conforming data exits 0", () => {
    const r = run("graph", "validate", "--shapes", "book.ttl", "good.ttl");
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("conforms to book.ttl");
  });
});
