// Regeneration of the 1,000-file ontology project (bench/fixtures/ontology on a 100k-triple graph), whole
// process, as ratios measured in the same run:
// - after changing one class (its label): only the affected outputs are rendered, against a full
//   generation into an empty dir (target ≤ 0.3×);
// - a three-way regeneration of 1,000 unedited files (a var every output uses changed, the lock and base
//   store read), against a plain one (no lock, --force) (target ≤ 1.2×).
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ratio, record, repoRoot, summarize } from "@ggen/bench";
import { syntheticGraph } from "@ggen/rdf";
import { afterAll, beforeAll, expect, it } from "vitest";

const here = import.meta.dirname;
const ggen = join(repoRoot, "apps/ggen/dist/bin.js");
const work = mkdtempSync(join(tmpdir(), "ggen-bench-regen-"));
const fixture = join(work, "ontology");
// Its own copy of the graph (the class label changes between runs), not ontology.bench.ts's .work/; in
// the templates' folder, since a template reads graphs only inside its folder or the project.
const graph = join(fixture, "synthetic.nt");
const RUNS = 3;
// A GGEN_HOME of its own: ggen keeps a first generation's query results across projects, by the graph
// texts' digests, so the texts of an earlier run of this bench (the same every run) would be answered
// without a graph. The full generation is cleared of them before each run: the baseline is a generation
// of a graph no run has answered yet. Compiled templates stay warm (the unmeasured first round).
const home = join(work, "home");
const env = { ...process.env, GGEN_HOME: home };
const forgetResults = () =>
  rmSync(join(home, "cache", "templates", "results"), { recursive: true, force: true });
// Each case is a dozen whole-process generations of 1,000 files: minutes on a busy machine.
const LONG = { timeout: 3_600_000 };

beforeAll(() => {
  // The ontology templates with a banner var every output prints (what the three-way case changes).
  mkdirSync(fixture);
  writeFileSync(graph, syntheticGraph(100_000));
  for (const t of ["class", "index", "item"]) {
    const text = readFileSync(join(here, "fixtures/ontology", `${t}.tmpl`), "utf8")
      .replace("rdf: ../../.work/synthetic.nt", "rdf: synthetic.nt")
      .replace(/\n---\n/, '\nvars:\n  banner: "generated"\n---\n// {{banner}}\n');
    writeFileSync(join(fixture, `${t}.tmpl`), text);
  }
});
afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

const original = () => readFileSync(graph, "utf8");

it(
  "regenerating after one class changed renders only what it affects (target ≤ 0.3× a full generation)",
  LONG,
  () => {
    const out = join(work, "delta");
    const empty = join(work, "full");
    const nt = original();
    const label =
      '<http://example.org/bench#Class5> <http://www.w3.org/2000/01/rdf-schema#label> "Class 5"@en .';
    expect(nt).toContain(label);
    spawnSync(process.execPath, [ggen, "gen", fixture, "-o", out], { encoding: "utf8", env });
    // Interleaved, so the machine's noise hits both alike; each regeneration sees the class's label changed
    // since the last generation, each full generation starts from an empty dir.
    const fullRuns: number[] = [];
    const deltaRuns: number[] = [];
    for (let k = -1; k < RUNS; k++) {
      rmSync(empty, { recursive: true, force: true });
      forgetResults();
      const f = once(["gen", fixture, "-o", empty]);
      writeFileSync(graph, nt.replace(label, label.replace('"Class 5"', `"Class 5 (rev ${k + 2})"`)));
      const d = once(["gen", fixture, "-o", out, "--json"]);
      if (k >= 0) {
        fullRuns.push(f);
        deltaRuns.push(d);
      }
    }
    const full = summarize("full generation (empty output dir)", fullRuns);
    const delta = summarize("regeneration after one class changed", deltaRuns);
    writeFileSync(graph, nt);
    const check = spawnSync(process.execPath, [ggen, "gen", fixture, "-o", out, "--json"], {
      encoding: "utf8",
      env,
    });
    const r = JSON.parse(check.stdout) as { rendered: number; reused: number };
    expect(r.rendered).toBeLessThan(10); // only the changed class's file (and nothing else) is rendered
    record("generator-regenerate-delta", [ratio(delta, full, 0.3)]);
  },
);

it("three-way regeneration of 1,000 unedited files (target ≤ 1.2× a plain generation)", LONG, () => {
  const out = join(work, "merge");
  const plain = join(work, "plain");
  const banner = (i: number) => `banner=rev-${i + 2}`;
  spawnSync(process.execPath, [ggen, "gen", fixture, "-o", out], { encoding: "utf8", env });
  spawnSync(process.execPath, [ggen, "gen", fixture, "-o", plain, "--manifest", "none"], {
    encoding: "utf8",
    env,
  });
  // Interleaved, so the machine's noise hits both alike.
  const merged: number[] = [];
  const plainRuns: number[] = [];
  for (let k = -1; k < RUNS; k++) {
    const m = once(["gen", fixture, "-o", out, "--vars", banner(k)]);
    const p = once(["gen", fixture, "-o", plain, "--manifest", "none", "--force", "--vars", banner(k)]);
    if (k >= 0) {
      merged.push(m);
      plainRuns.push(p);
    }
  }
  const threeWay = summarize("three-way regeneration, 1,000 unedited files", merged);
  const baseline = summarize("plain regeneration (no lock, --force), 1,000 files", plainRuns);
  record("generator-regenerate-merge", [ratio(threeWay, baseline, 1.2)]);
});

/** One timed ggen run (ms); fails loudly when ggen fails. */
function once(args: string[]): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [ggen, ...args], { encoding: "utf8", maxBuffer: 64 << 20, env });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`ggen ${args.join(" ")}: exit ${r.status}: ${r.stderr.slice(-2000)}`);
  return ms;
}
