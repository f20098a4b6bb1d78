// Lifecycle runs as a user meets them (the built ggen binary), each against a baseline from the same run:
// 8 independent 0.2 s phases with 2 jobs against the same sleeps run one after another (the parallel
// speed-up), and a fully cached build against `node -e 0` (the cost of deciding nothing needs to run).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compareProcesses, record, repoRoot } from "@ggen/bench";
import { afterAll, expect, it } from "vitest";

const bin = join(repoRoot, "apps/ggen/dist/bin.js");
const dir = mkdtempSync(join(tmpdir(), "ggen-lifecycle-bench-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const phases = Array.from({ length: 8 }, (_, i) => `p${i}`);
writeFileSync(
  join(dir, "make.toml"),
  [
    ...phases.map((p) => `[phases.${p}]\ncommand = "sleep 0.2"\n`),
    `[phases.all]\ndepends_on = [${phases.map((p) => `"${p}"`).join(", ")}]\n`,
    `[phases.build]\ncommand = "mkdir -p out && cp src/a.txt out/a.txt"\ninputs = ["src/**"]\noutputs = ["out/**"]\n`,
  ].join("\n"),
);
mkdirSync(join(dir, "src"), { recursive: true });
writeFileSync(join(dir, "src/a.txt"), "a");

it("parallel phases against the same work in sequence; a cached build against node -e 0", () => {
  const parallel = compareProcesses(
    {
      name: "lifecycle run all (8 × 0.2 s, jobs 2)",
      command: process.execPath,
      args: [bin, "--cwd", dir, "lifecycle", "run", "all", "--jobs", "2"],
    },
    {
      name: "8 × sleep 0.2 in sequence",
      command: "/bin/sh",
      args: ["-c", phases.map(() => "sleep 0.2").join("; ")],
    },
    { runs: 5, target: 0.85 },
  );
  const cached = compareProcesses(
    {
      name: "lifecycle run build (cached)",
      command: process.execPath,
      args: [bin, "--cwd", dir, "lifecycle", "run", "build"],
    },
    { name: "node -e 0", command: process.execPath, args: ["-e", "0"] },
    { runs: 10 },
  );
  record("lifecycle-run", [parallel, cached]);
  expect(parallel.ratio).toBeGreaterThan(0);
  expect(cached.ratio).toBeGreaterThan(0);
});
