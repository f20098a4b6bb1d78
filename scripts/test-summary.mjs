#!/usr/bin/env node
// Adds up every vitest JSON report the check wrote (each package's .test-results/vitest.json, restored
// by turbo on a cache hit, plus the end-to-end suite) and prints one closing line for CI. With --no-skips
// a skipped test fails the run too (npm test's preflight made sure nothing the tests need is missing).
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const reports = [];
for (const group of ["packages", "apps"]) {
  for (const name of readdirSync(join(root, group)))
    reports.push(join(root, group, name, ".test-results", "vitest.json"));
}
reports.push(join(root, "test", "e2e", ".test-results", "vitest.json"));
reports.push(join(root, "test", "hostile", ".test-results", "vitest.json"));

let passed = 0;
let failed = 0;
let skipped = 0;
let suites = 0;
// What failed, by name, at the end of the log: CI may keep only the log's tail.
const failures = [];
const skips = [];
const noSkips = process.argv.includes("--no-skips");
const firstLine = (text) =>
  String(text ?? "")
    .replace(/\x1b\[[0-9;]*m/g, "")
    .trim()
    .split("\n")[0]
    .slice(0, 300);
for (const file of reports.filter(existsSync)) {
  const r = JSON.parse(readFileSync(file, "utf8"));
  suites++;
  passed += r.numPassedTests ?? 0;
  failed += r.numFailedTests ?? 0;
  skipped += (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  for (const suite of r.testResults ?? []) {
    const where = relative(root, suite.name);
    const bad = (suite.assertionResults ?? []).filter((a) => a.status === "failed");
    for (const a of bad) failures.push(`${where} > ${a.fullName}: ${firstLine(a.failureMessages?.[0])}`);
    for (const a of suite.assertionResults ?? [])
      if (a.status === "pending" || a.status === "skipped" || a.status === "todo")
        skips.push(`${where} > ${a.fullName}`);
    // A file that failed to load or whose hook failed has no failed test of its own: it counts as one.
    if (suite.status === "failed" && bad.length === 0) {
      failed++;
      failures.push(`${where}: ${firstLine(suite.message)}`);
    }
  }
}
console.log(`\n${suites} test reports`);
for (const f of failures) console.log(`FAILED ${f}`);
if (noSkips) for (const s of skips) console.log(`SKIPPED ${s}: a prerequisite npm test's preflight missed`);
// Last, alone on its line: what CI reads.
console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 || (noSkips && skipped > 0) ? 1 : 0);
