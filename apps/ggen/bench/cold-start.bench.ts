// Cold start (issue 18: ≤ 1.6× `node -e 0`): --help and --version are answered from the table the build
// renders (@ggen/help-table), so neither yargs nor a command module loads; other plain lines skip yargs too
// (quickParse in @ggen/reporter).
import { join } from "node:path";
import { compareProcesses, record, repoRoot } from "@ggen/bench";
import { expect, it } from "vitest";

const floor = { name: "node -e 0", command: process.execPath, args: ["-e", "0"] };

it("cold start of ggen --help and cleanroom --help against node -e 0", () => {
  const ggen = compareProcesses(
    {
      name: "ggen --help",
      command: process.execPath,
      args: [join(repoRoot, "apps/ggen/dist/bin.js"), "--help"],
    },
    floor,
    { runs: 15, target: 1.6 },
  );
  const cleanroom = compareProcesses(
    {
      name: "cleanroom --help",
      command: process.execPath,
      args: [join(repoRoot, "apps/cleanroom/dist/bin.js"), "--help"],
    },
    floor,
    { runs: 15, target: 1.6 },
  );
  record("cli-cold-start", [ggen, cleanroom]);
  expect(ggen.ratio).toBeGreaterThan(0);
  expect(cleanroom.ratio).toBeGreaterThan(0);
});
