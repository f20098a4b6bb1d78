#!/usr/bin/env node
// README's second command: lint, typecheck and every test (turbo, cached), the repository-wide checks
// (root scripts' lint, README sync, fresh clone), then one closing summary line. Runs every step even
// after a failure so the summary tells the whole story; exits non-zero if any step failed.
import { spawnSync } from "node:child_process";
import { rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const bin = (name) => join(root, "node_modules", ".bin", name);
const steps = [
  ["packages", bin("turbo"), ["run", "lint", "typecheck", "test", "--continue", "--output-logs=new-only"]],
  ["root lint", bin("biome"), ["check", "scripts", "bench", "test", ".ci"]],
  [
    "repository tests",
    bin("vitest"),
    [
      "run",
      "--config",
      "test/e2e/vitest.config.ts",
      "--reporter=default",
      "--reporter=json",
      "--outputFile.json=.test-results/vitest.json",
    ],
  ],
];
rmSync(join(root, "test", "e2e", ".test-results"), { recursive: true, force: true });
const failed = [];
for (const [label, cmd, args] of steps) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: "inherit" });
  if (r.status !== 0) failed.push(label);
}
const summary = spawnSync(process.execPath, [join(root, "scripts", "test-summary.mjs")], {
  cwd: root,
  stdio: "inherit",
});
if (failed.length > 0) console.error(`check: failed: ${failed.join(", ")}`);
process.exit(failed.length > 0 || summary.status !== 0 ? 1 : 0);
