// Ontology generation, whole process: a generated 100k-triple graph (@ggen/rdf's syntheticGraph), three
// templates sharing it, 10 SPARQL queries, 1,000 output files. Target ≤ 1.5 s on this 2-core machine.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { measureProcess, record, repoRoot, withTarget } from "@ggen/bench";
import { syntheticGraph } from "@ggen/rdf";
import { afterAll, beforeAll, expect, it } from "vitest";

const here = import.meta.dirname;
const ggen = join(repoRoot, "apps/ggen/dist/bin.js");
const work = mkdtempSync(join(tmpdir(), "ggen-bench-onto-"));
beforeAll(() => {
  // The templates read ../../.work/synthetic.nt (bench/.work, ignored by git).
  mkdirSync(join(here, ".work"), { recursive: true });
  writeFileSync(join(here, ".work", "synthetic.nt"), syntheticGraph(100_000));
});
afterAll(() => {
  rmSync(work, { recursive: true, force: true });
  rmSync(join(here, ".work"), { recursive: true, force: true });
});

it("100k triples, 10 queries, 1,000 files in one ggen process (target ≤ 1.5 s)", () => {
  const out = join(work, "out");
  const r = measureProcess(
    "ggen gen: 100k-triple graph, 10 SPARQL queries, 1,000 files",
    process.execPath,
    [ggen, "gen", join(here, "fixtures/ontology"), "-o", out, "--force"],
    { runs: 5, warmup: 1 },
  );
  const result = withTarget(r, 1500);
  record("generator-ontology", [result]);
  const check = measureProcess(
    "check",
    process.execPath,
    [ggen, "gen", join(here, "fixtures/ontology"), "-o", out, "--check"],
    {
      runs: 1,
      warmup: 0,
    },
  );
  expect(check.median).toBeGreaterThan(0);
});
