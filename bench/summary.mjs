// Merges bench/results/*.json into bench/results.json and prints one line per benchmark.
import { existsSync, readdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { benchDir, readJson, resultsDir } from "./harness.mjs";

const suites = existsSync(resultsDir)
  ? readdirSync(resultsDir)
      .filter((f) => f.endsWith(".json"))
      .sort()
  : [];
const all = suites.map((f) => readJson(join(resultsDir, f)));
const benchmarks = all.flatMap((s) => s.results.map((r) => ({ suite: s.suite, ...r })));
const out = join(benchDir, "results.json");
const tmp = `${out}.tmp`;
writeFileSync(
  tmp,
  `${JSON.stringify({ recordedAt: new Date().toISOString(), node: process.version, cpus: (await import("node:os")).cpus().length, benchmarks }, null, 2)}\n`,
);
renameSync(tmp, out);
const missed = benchmarks.filter((b) => b.meetsTarget === false);
console.log(
  `bench: ${benchmarks.length} benchmarks in ${suites.length} suites → bench/results.json; ${missed.length} target(s) not met`,
);
for (const m of missed)
  console.log(`  not met: ${m.suite} › ${m.name} (ratio ${m.ratio ?? "-"}, median ${m.median} ms)`);
