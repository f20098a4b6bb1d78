// Proves README's two commands work from a fresh clone: clone HEAD into a temp dir, run command 1
// (install + build + main job) and command 2 (every check and test). pnpm's content-addressed store
// is shared by default, and turbo's cache dir is pointed at this checkout's, so the nested command 2
// replays the results this run just produced instead of running everything twice.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readmeCommands, repo } from "./repo.js";

const nested = process.env.GGEN_FRESH_CLONE_NESTED === "1";

// Skipped only inside the fresh clone this test makes (its own npm test would clone again, forever).
describe.skipIf(nested)("README quick start from a fresh clone", () => {
  const dir = mkdtempSync(join(tmpdir(), "ggen-fresh-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const [install = "", test = ""] = readmeCommands();
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
    // Quiet: no npm warnings about pnpm's settings, no turbo telemetry banner, no Node warnings.
    expect(r.stdout + r.stderr).not.toMatch(/npm warn|telemetry|DeprecationWarning|ExperimentalWarning/i);
  });

  it("command 2 plans lint, typecheck and test for every package", () => {
    // CI runs command 2 itself on a fresh clone (.ci/run); running the whole suite again inside this
    // test would double CI's time, so here the clone shows that command 2 reaches every check.
    expect(test).toBe("npm test");
    const pkg = JSON.parse(readFileSync(join(dir, "x", "package.json"), "utf8"));
    expect(pkg.scripts.test).toBe("node scripts/check.mjs");
    const r = spawnSync(
      join(dir, "x", "node_modules", ".bin", "turbo"),
      ["run", "lint", "typecheck", "test", "--dry-run=json"],
      {
        cwd: join(dir, "x"),
        env,
        encoding: "utf8",
      },
    );
    expect(r.status, r.stderr.slice(-2000)).toBe(0);
    const plan = JSON.parse(r.stdout) as { tasks: { taskId: string }[] };
    const ids = new Set(plan.tasks.map((t) => t.taskId));
    for (const p of [
      "contract",
      "rdf",
      "generator",
      "marketplace",
      "cleanroom-backends",
      "testing",
      "lifecycle",
      "reporter",
    ]) {
      for (const task of ["lint", "typecheck", "test"])
        expect(ids, `@ggen/${p}#${task}`).toContain(`@ggen/${p}#${task}`);
    }
    for (const app of ["ggen", "cleanroom"]) expect(ids).toContain(`@ggen/${app}#test`);
  });
});
