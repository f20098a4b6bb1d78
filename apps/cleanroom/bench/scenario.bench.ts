// A 50-step scenario with 4-way parallelism (`cleanroom exec --scenario --max-parallel 4`, the whole
// program, on the host) against the same 50 commands run one by one by a plain shell script. Each step
// waits 60 ms, like a step waiting on a service or the network.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compareProcesses, record, repoRoot } from "@ggen/bench";
import { afterAll, expect, it } from "vitest";

const dir = mkdtempSync(join(tmpdir(), "cleanroom-bench-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it("50-step scenario, 4 at a time, against a sequential shell script", () => {
  const steps = Array.from({ length: 50 }, (_, i) => `step-${String(i).padStart(2, "0")}`);
  const cmd = (s: string) => `sleep 0.06; echo ${s}`;
  writeFileSync(
    join(dir, "scenario.yaml"),
    `name: bench\nconcurrent: true\nsteps:\n${steps.map((s) => `  - name: ${s}\n    run: "${cmd(s)}"\n`).join("")}`,
  );
  writeFileSync(
    join(dir, "steps.sh"),
    `#!/bin/sh\nset -e\n${steps.map((s) => `sh -c "${cmd(s)}"\n`).join("")}`,
  );
  const result = compareProcesses(
    {
      name: "cleanroom exec --scenario (50 steps, 4 parallel)",
      command: process.execPath,
      args: [
        join(repoRoot, "apps/cleanroom/dist/bin.js"),
        "exec",
        "--scenario",
        "scenario.yaml",
        "--host",
        "--max-parallel",
        "4",
        "-q",
      ],
    },
    { name: "sh steps.sh (50 steps, one by one)", command: "sh", args: ["steps.sh"] },
    { runs: 5, cwd: dir, target: 0.5 },
  );
  record("cleanroom-scenario", [result]);
  expect(result.ratio).toBeGreaterThan(0);
});
