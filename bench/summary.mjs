// Merges bench/results/*.json into bench/results.json and prints every benchmark that has a target (its
// median, ratio against the peer measured in the same run, and whether it meets the target), then the
// targets not met and the required rows no suite recorded (a bench that failed must not pass as "met").
import { existsSync, readdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { benchDir, readJson, resultsDir } from "./harness.mjs";

/** The rows an issue sets a target for, as `suite › name`: each must be recorded. */
const REQUIRED = [
  // issue 17: generation that lives with the user's edits
  "generator-regenerate-delta › regeneration after one class changed",
  "generator-regenerate-merge › three-way regeneration, 1,000 unedited files",
  // issue 16: concept → deployed crate (seed 001), cold and warm, both Rust packs
  "pipeline-crate › rust-cli: concept → deployed crate, cold",
  "pipeline-crate › rust-cli: concept → deployed crate, warm",
  "pipeline-crate › rust-lib: concept → deployed crate, cold",
  "pipeline-crate › rust-lib: concept → deployed crate, warm",
  // issue 18: a CLI that starts like Node
  "cli-cold-start › ggen --help",
  "cli-cold-start › cleanroom --help",
  "marketplace-search › ggen market search (10k packs)",
  "cleanroom-exec › exec true: local",
  "generator-vs-hygen › ggen gen (5 templates)",
  "generator-ontology › ggen gen: 100k-triple graph, 10 SPARQL queries, 1,000 files",
  // issue 18: idea → deployed in 5 s (the local backend)
  "pipeline › ultra-fast-deploy total (local, warm)",
  "pipeline › ultra-fast-deploy total (local, first run)",
  "pipeline › ultra-fast-deploy total (testcontainers)",
  "pipeline › testcontainers over local",
];

const suites = existsSync(resultsDir)
  ? readdirSync(resultsDir)
      .filter((f) => f.endsWith(".json"))
      .sort()
  : [];
const all = suites.map((f) => readJson(join(resultsDir, f)));
const benchmarks = all.flatMap((s) =>
  s.results.map((r) => ({ suite: s.suite, recordedAt: s.recordedAt, ...r })),
);
const out = join(benchDir, "results.json");
const tmp = `${out}.tmp`;
writeFileSync(
  tmp,
  `${JSON.stringify({ recordedAt: new Date().toISOString(), node: process.version, cpus: (await import("node:os")).cpus().length, benchmarks }, null, 2)}\n`,
);
renameSync(tmp, out);

const label = (b) => `${b.suite} › ${b.name}`;
// A row may carry a ratio to its peer and still have its target in ms (then the target is what decides).
const figure = (b) =>
  b.ratio !== undefined && b.ratio !== null
    ? `${b.ratio}× (${b.median} ms vs ${b.baseline.name} ${b.baseline.median} ms), target ≤ ${b.target !== undefined ? `${b.target}×` : `${b.targetMs} ms`}`
    : `${b.median} ms, target ≤ ${b.targetMs} ms`;
const targeted = benchmarks.filter((b) => b.meetsTarget !== undefined);
const missed = targeted.filter((b) => b.meetsTarget === false);
const recorded = new Set(benchmarks.map(label));
const missing = REQUIRED.filter((r) => !recorded.has(r));
console.log(
  `bench: ${benchmarks.length} benchmarks in ${suites.length} suites → bench/results.json; ${targeted.length} with a target, ${missed.length} not met, ${missing.length} missing`,
);
for (const b of targeted)
  console.log(`  ${b.meetsTarget ? "met    " : "NOT met"}  ${label(b)}: ${figure(b)}`);
for (const m of missing) console.log(`  missing  ${m}: no suite recorded it (did its bench fail?)`);
