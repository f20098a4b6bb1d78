// Proves README's two commands work from a fresh clone: clone HEAD into a temp dir, run command 1
// (install + build + main job) and command 2 (every check and test). pnpm's content-addressed store
// is shared by default, and turbo's cache dir is pointed at this checkout's, so the nested command 2
// replays the results this run just produced instead of running everything twice.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const repo = join(import.meta.dirname, "..", "..");
const nested = process.env.GGEN_FRESH_CLONE_NESTED === "1";

function readmeCommands(): [string, string] {
  const readme = readFileSync(join(repo, "README.md"), "utf8");
  const block = /## Quick start[\s\S]*?```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? "";
  const cmds = block
    .split("\n")
    .map((l) => l.replace(/#.*$/, "").trim())
    .filter(Boolean);
  expect(cmds).toHaveLength(2);
  return [cmds[0]!, cmds[1]!];
}

describe.skipIf(nested)("README quick start from a fresh clone", () => {
  const dir = mkdtempSync(join(tmpdir(), "ggen-fresh-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const [install, test] = readmeCommands();
  const env = {
    ...process.env,
    GGEN_FRESH_CLONE_NESTED: "1",
    TURBO_CACHE_DIR: join(repo, ".turbo", "cache"),
    GGEN_HOME: join(dir, ".ggen-home"),
  };

  it("command 1 installs, builds and deploys the domain service", () => {
    execFileSync("git", ["clone", "--quiet", repo, join(dir, "x")]);
    const r = spawnSync("bash", ["-c", install], { cwd: join(dir, "x"), env, encoding: "utf8" });
    expect(r.status, r.stderr.slice(-3000)).toBe(0);
    expect(existsSync(join(dir, "x", "apps/ggen/dist/bin.js"))).toBe(true);
    expect(r.stdout).toMatch(/READY +shop/);
    expect(r.stdout).toMatch(/Tests: \d+\/\d+ passed/);
  });

  it("command 2 runs every check and passes", () => {
    const r = spawnSync("bash", ["-c", test], { cwd: join(dir, "x"), env, encoding: "utf8" });
    expect(r.status, (r.stdout + r.stderr).slice(-4000)).toBe(0);
    expect(r.stdout).toMatch(/Tasks:\s+\d+ successful, \d+ total/);
  });
});
