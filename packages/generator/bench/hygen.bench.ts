// ggen against Hygen with the same 5 small templates (fixtures/hygen ≙ fixtures/ggen-one / ggen-many):
// (a) one invocation rendering 5 files; (b) 500 files — 5 templates over 100 names — one ggen call
// (for_each over a list var) against Hygen's 100 calls. Whole-process times, ratios from the same run.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { compareProcesses, record, repoRoot } from "@ggen/bench";
import { afterAll, expect, it } from "vitest";

const here = import.meta.dirname;
const ggen = join(repoRoot, "apps/ggen/dist/bin.js");
const require = createRequire(import.meta.url);
const hygen = join(dirname(require.resolve("hygen/package.json")), "dist", "bin.js");
const hygenEnv = {
  ...process.env,
  HYGEN_TMPLS: join(here, "fixtures/hygen/_templates"),
  HYGEN_OVERWRITE: "1",
};
const work = mkdtempSync(join(tmpdir(), "ggen-bench-hygen-"));
mkdirSync(join(work, "hy-a"));
mkdirSync(join(work, "hy-b"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const names = Array.from({ length: 100 }, (_, i) => `widget ${i}`);

it("(a) one invocation, 5 files: ggen vs Hygen (target ≤ 0.5×, issue 18)", () => {
  const out = join(work, "a");
  // Same output first (the fixtures are equivalent templates).
  spawnSync(process.execPath, [hygen, "component", "new", "--name", "OrderLine"], {
    cwd: join(work, "."),
    env: hygenEnv,
  });
  spawnSync(process.execPath, [
    ggen,
    "gen",
    join(here, "fixtures/ggen-one"),
    "--vars",
    "name=OrderLine",
    "-o",
    out,
    "--manifest",
    "none",
  ]);
  const file = "src/components/OrderLine.tsx";
  expect(readFileSync(join(out, file), "utf8")).toBe(readFileSync(join(work, file), "utf8"));
  const r = compareProcesses(
    {
      name: "ggen gen (5 templates)",
      command: process.execPath,
      args: [
        ggen,
        "gen",
        join(here, "fixtures/ggen-one"),
        "--vars",
        "name=OrderLine",
        "-o",
        out,
        "--force",
        "--manifest",
        "none",
      ],
    },
    {
      name: "hygen component new (5 templates)",
      command: process.execPath,
      args: [hygen, "component", "new", "--name", "OrderLine"],
      opts: { cwd: join(work, "hy-a"), env: hygenEnv },
    },
    { runs: 15, target: 0.5 },
  );
  // The floor of any program run by node, against the same peer: Node's own start with nothing to do.
  const floor = compareProcesses(
    { name: "node -e 0 (the floor of a node program)", command: process.execPath, args: ["-e", "0"] },
    {
      name: "hygen component new (5 templates)",
      command: process.execPath,
      args: [hygen, "component", "new", "--name", "OrderLine"],
      opts: { cwd: join(work, "hy-a"), env: hygenEnv },
    },
    { runs: 15 },
  );
  record("generator-vs-hygen", [r, floor]);
  expect(r.ratio).toBeGreaterThan(0);
  expect(floor.ratio).toBeGreaterThan(0);
});

it("(b) 500 files: one ggen call vs 100 Hygen calls (target ≤ 0.05×)", () => {
  const out = join(work, "b");
  const script = names
    .map((n) => `"${process.execPath}" "${hygen}" component new --name "${n}" >/dev/null`)
    .join("\n");
  const r = compareProcesses(
    {
      name: "ggen gen for_each over 100 names (500 files)",
      command: process.execPath,
      args: [
        ggen,
        "gen",
        join(here, "fixtures/ggen-many"),
        "--vars",
        `names=${names.join(",")}`,
        "-o",
        out,
        "--force",
        "--manifest",
        "none",
      ],
    },
    {
      name: "hygen × 100 (500 files)",
      command: "sh",
      args: ["-c", script],
      opts: { cwd: join(work, "hy-b"), env: hygenEnv },
    },
    { runs: 3, target: 0.05 },
  );
  record("generator-vs-hygen-500", [r]);
  expect(readdirSync(join(out, "src/components")).length).toBe(500); // 4 files + 1 folder per name
  expect(r.ratio).toBeGreaterThan(0);
});
