// Both programs on one project, the way the seeds chain them: `ggen gen` renders the domain service from
// the bundled templates, then `cleanroom ultra-fast-test --backend testcontainers` tests that output in a
// container — its dependencies installed inside it, offline, from the host's npm cache (copy-on-write),
// its tests against a PostgreSQL container — and leaves no container and no cache layer behind.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const repo = join(import.meta.dirname, "..", "..");
const node = (cwd: string, bin: string, ...args: string[]) =>
  spawnSync(process.execPath, [join(repo, "apps", bin, "dist", "bin.js"), ...args], {
    cwd,
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1", GGEN_CLEANROOM_NO_PULL: "1" },
    timeout: 300_000,
  });

const docker = spawnSync("docker", ["info"], { stdio: "ignore", timeout: 10_000 }).status === 0;
if (!docker) {
  console.warn(
    "generated output in a container skipped: no Docker engine answers (npm test starts one through scripts/ci/docker.sh)",
  );
}

const dir = realpathSync(mkdtempSync(join(tmpdir(), "ggen-in-container-")));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("ggen gen, then cleanroom ultra-fast-test --backend testcontainers", () => {
  // Skipped only when no Docker engine answers (the warning above says why); CI starts one and runs it.
  it.skipIf(!docker)(
    "installs the generated service's dependencies in the container and passes its tests against PostgreSQL",
    { timeout: 600_000 },
    () => {
      const gen = node(
        dir,
        "ggen",
        "gen",
        join(repo, "fixtures", "templates"),
        "-o",
        "gen/shop",
        "--vars",
        "name=shop",
      );
      expect(gen.status, gen.stderr).toBe(0);
      const out = join(dir, "gen", "shop");
      expect(existsSync(join(out, "node_modules"))).toBe(false);
      // What the container installs from must be in the host's npm cache: an install on the host puts it
      // there (what ultra-fast-deploy's dependency stage does too), in a scratch copy of the manifest.
      const scratch = mkdtempSync(join(dir, "warm-"));
      const pkg = JSON.parse(readFileSync(join(out, "package.json"), "utf8"));
      const deps = { dependencies: pkg.dependencies, devDependencies: pkg.devDependencies };
      writeFileSync(join(scratch, "package.json"), JSON.stringify({ name: "warm", private: true, ...deps }));
      const warm = spawnSync(
        "npm",
        ["install", "--prefer-offline", "--no-audit", "--no-fund", "--ignore-scripts", "--no-package-lock"],
        { cwd: scratch, encoding: "utf8", timeout: 300_000 },
      );
      expect(warm.status, warm.stderr).toBe(0);

      const r = node(
        dir,
        "cleanroom",
        "--json",
        "ultra-fast-test",
        "--manifest",
        "gen/shop/.ggen/manifest.json",
        "--backend",
        "testcontainers",
      );
      expect(r.status, `${r.stderr}\n${r.stdout.slice(-3000)}`).toBe(0);
      const run = JSON.parse(r.stdout);
      expect(run.environment.backend).toBe("testcontainers");
      expect(run.services.map((s: { name: string }) => s.name)).toEqual(["postgres"]);
      expect(run.summary.total).toBeGreaterThan(10);
      expect(run.summary.passed).toBe(run.summary.total);
      // The install ran inside the container (the host's tree was never there) and is in the timeline.
      const timeline = JSON.parse(
        readFileSync(join(dir, ".cleanroom", "runs", `${run.runId}.timeline.json`), "utf8"),
      );
      const steps = (timeline.timeline ?? timeline) as { name: string; status: string }[];
      expect(steps.find((s) => s.name === "npm install")?.status).toBe("passed");
      // Nothing is left: no container labelled for this project's state dir, no copy-on-write layers.
      const scope = createHash("sha256").update(join(dir, ".cleanroom")).digest("hex").slice(0, 12);
      const ps = spawnSync("docker", ["ps", "-aq", "--filter", `label=io.ggen.cleanroom=${scope}`], {
        encoding: "utf8",
      });
      expect(ps.stdout.trim()).toBe("");
      const layers = join(tmpdir(), `ggen-cleanroom-${process.getuid?.() ?? "user"}`, `tc-cow-${scope}`);
      expect(existsSync(layers) ? readdirSync(layers) : []).toEqual([]);
    },
  );
});
