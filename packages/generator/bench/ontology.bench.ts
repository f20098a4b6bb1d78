// Ontology generation, whole process: a generated 100k-triple graph (@ggen/rdf's syntheticGraph), three
// templates sharing it, 10 SPARQL queries, 1,000 output files, run again over its own output (the lock and
// the graph snapshot of the first run are there). Target ≤ 1.2 s on this 2-core machine (issue 18); `node -e 0`
// is measured interleaved as the floor, so a loaded machine shows in the same results.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { measureProcess, record, repoRoot, summarize, withTarget } from "@ggen/bench";
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

it("100k triples, 10 queries, 1,000 files in one ggen process (target ≤ 1.2 s)", () => {
  const out = join(work, "out");
  const gen = [ggen, "gen", join(here, "fixtures/ontology"), "-o", out, "--force"];
  const name = "ggen gen: 100k-triple graph, 10 SPARQL queries, 1,000 files";
  measureProcess(name, process.execPath, gen, { runs: 1, warmup: 1 });
  const runs: number[] = [];
  const floor: number[] = [];
  for (let i = 0; i < 5; i++) {
    floor.push(measureProcess("node -e 0", process.execPath, ["-e", "0"], { runs: 1, warmup: 0 }).median);
    runs.push(measureProcess(name, process.execPath, gen, { runs: 1, warmup: 0 }).median);
  }
  const result = withTarget(summarize(name, runs), 1200);
  record("generator-ontology", [result, summarize("node -e 0 (floor, same run)", floor)]);
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
