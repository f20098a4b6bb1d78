import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { expect, it } from "vitest";

const repo = join(import.meta.dirname, "..", "..");

it("README's command reference matches the programs' --help", () => {
  const r = spawnSync(process.execPath, [join(repo, "scripts/command-reference.mjs"), "--check"], {
    encoding: "utf8",
  });
  expect(r.stderr).toBe("");
  expect(r.status).toBe(0);
});
