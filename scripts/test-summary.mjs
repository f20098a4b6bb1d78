#!/usr/bin/env node
// Adds up every vitest JSON report the check wrote (each package's .test-results/vitest.json, restored
// by turbo on a cache hit, plus the end-to-end suite) and prints one closing line for CI.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const reports = [];
for (const group of ["packages", "apps"]) {
  for (const name of readdirSync(join(root, group)))
    reports.push(join(root, group, name, ".test-results", "vitest.json"));
}
reports.push(join(root, "test", "e2e", ".test-results", "vitest.json"));

let passed = 0;
let failed = 0;
let skipped = 0;
let suites = 0;
for (const file of reports.filter(existsSync)) {
  const r = JSON.parse(readFileSync(file, "utf8"));
  suites++;
  passed += r.numPassedTests ?? 0;
  failed += (r.numFailedTests ?? 0) + ((r.numFailedTestSuites ?? 0) ? 0 : 0);
  skipped += (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
}
console.log(`\n${suites} test reports`);
console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 ? 1 : 0);
