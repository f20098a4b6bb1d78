// The ultra-fast path end to end on the bundled registry with the local backend: a service generated
// from the domain ontology, its tests run against a real PostgreSQL, deployed to a local release
// directory, health-checked, reported; and a timeout that stops cleanly and leaves nothing running.
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createBackend, dockerUnavailable, environmentsRoot } from "@ggen/cleanroom-backends";
import { validate } from "@ggen/contract";
import { afterAll, describe, expect, it } from "vitest";
import {
  domainServiceVariant,
  FAILING_TEST,
  WRONG_PORT,
} from "../../../test/support/domain-service-variant.js";

const bin = join(import.meta.dirname, "..", "dist", "bin.js");
const fixtures = join(import.meta.dirname, "..", "..", "..", "fixtures");
const dir = mkdtempSync(join(tmpdir(), "ggen-ufd-"));
const ggenHome = join(dir, ".ggen-home");
const env = {
  ...process.env,
  GGEN_HOME: ggenHome,
  GGEN_CLEANROOM_NO_PULL: "1",
  NO_COLOR: "1",
};
const ggen = (cwd: string, ...args: string[]) =>
  spawnSync(process.execPath, [bin, ...args], { cwd, env, encoding: "utf8", timeout: 240_000 });
/** `ggen ultra-fast-deploy` of the bundled domain-service pack as `shop`, plus `args`. */
const shop = (cwd: string, ...args: string[]) =>
  ggen(cwd, "ultra-fast-deploy", "--template", "io.ggen.domain-service", "--name", "shop", ...args);

/** Processes still running from under `root` or from its environments' directories (the local backend
 * keeps those, a PostgreSQL's data dir say, under environmentsRoot in the temp dir), plus services
 * cleanroom's state still lists (a service that came up after its environment went would be there). */
function leftovers(root: string): string[] {
  const envs = environmentsRoot(join(root, ".cleanroom"));
  const r = spawnSync("ps", ["-eo", "pid=,args="], { encoding: "utf8" });
  const procs = r.stdout
    .split("\n")
    .filter((l) => (l.includes(root) || l.includes(envs)) && !l.includes("ps -eo"));
  const stateFile = join(root, ".cleanroom", "state.json");
  const state = existsSync(stateFile)
    ? JSON.parse(readFileSync(stateFile, "utf8"))
    : { services: {}, environments: {} };
  return [...procs, ...Object.keys(state.services ?? {}), ...Object.keys(state.environments ?? {})];
}

afterAll(() => rmSync(dir, { recursive: true, force: true }));

// As the testcontainers backend's own tests do: without a Docker engine the container path is skipped,
// and says so (scripts/ci/docker.sh starts one; .ci/run does it in CI).
const noDocker = await dockerUnavailable();
if (noDocker) {
  console.warn(
    `ultra-fast-deploy --backend testcontainers skipped: ${noDocker} (scripts/ci/docker.sh starts Docker; .ci/run does it in CI)`,
  );
}

/** Containers the testcontainers backend started for `cwd`'s state dir (label io.ggen.cleanroom=<scope>). */
function containersOf(cwd: string): string[] {
  const scope = createHash("sha256").update(resolve(cwd, ".cleanroom")).digest("hex").slice(0, 12);
  const r = spawnSync("docker", ["ps", "-aq", "--filter", `label=io.ggen.cleanroom=${scope}`], {
    encoding: "utf8",
  });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout.split("\n").filter(Boolean);
}

describe("ggen ultra-fast-deploy", () => {
  it("generates, tests against PostgreSQL, validates, deploys, verifies and reports", {
    timeout: 300_000,
  }, async () => {
    const cwd = mkdtempSync(join(dir, "ok-"));
    // A first run (an empty GGEN_HOME: the dependency install) on a loaded machine may pass the default
    // 60 s; speed is the bench's to measure, not this test's.
    const r = shop(cwd, "--keep-running", "--timeout", "300s", "--json");
    expect(r.status, r.stderr.slice(-2000)).toBe(0);
    const report = JSON.parse(r.stdout);
    const v = validate("pipeline-report/v1", report);
    expect(v.ok ? [] : v.errors).toEqual([]);
    expect(report.deploymentStatus).toBe("READY");
    for (const name of [
      "marketplace",
      "generation",
      "setup",
      "testing",
      "validation",
      "deployment",
      "reporting",
    ]) {
      expect(report.stages[name]?.status, name).toBe("success");
    }
    // Setup ran while generation did: it started before generation ended.
    expect(report.stages.setup.startedAtMs).toBeLessThan(
      report.stages.generation.startedAtMs + report.stages.generation.durationMs,
    );
    // Validation (build, lint, security) ran alongside the tests: it started before they ended.
    expect(report.stages.validation.startedAtMs).toBeLessThan(
      report.stages.testing.startedAtMs + report.stages.testing.durationMs,
    );
    expect(report.stages.setup.message).toMatch(/dependencies (installed|from the prepared tree)/);
    expect(report.metrics.testsExecuted).toBeGreaterThan(10);
    expect(report.metrics.testsFailed).toBe(0);
    expect(report.stages.testing.message).toMatch(/against postgres/);

    // The report's references and attestation point at real files with those digests.
    const saved = JSON.parse(readFileSync(join(cwd, "target/ultra-fast/shop/report.json"), "utf8"));
    expect(saved.sessionId).toBe(report.sessionId);
    const run = JSON.parse(readFileSync(join(cwd, report.references.run.path), "utf8"));
    expect(validate("cleanroom-run/v1", run).ok).toBe(true);
    expect(run.services.map((s: { name: string }) => s.name)).toContain("postgres");
    expect(existsSync(join(cwd, "target/ultra-fast/shop", report.attestation.statementPath))).toBe(true);
    const metrics = readFileSync(join(cwd, "target/generated/shop/.ggen/deployments.jsonl"), "utf8")
      .trim()
      .split("\n");
    expect(validate("deployment-metrics/v1", JSON.parse(metrics.at(-1)!)).ok).toBe(true);

    // The deployed service answers, until it is stopped.
    const health = spawnSync(
      "node",
      [
        "-e",
        `fetch(${JSON.stringify(report.deployment.url)}).then(r=>r.json()).then(j=>console.log(JSON.stringify(j)))`,
      ],
      {
        encoding: "utf8",
      },
    );
    // …with its database: the environment's PostgreSQL stays with --keep-running.
    expect(JSON.parse(health.stdout)).toMatchObject({ status: "ok", database: "up" });
    const stop = ggen(join(cwd, "target/generated/shop"), "lifecycle", "stop", "--env", "production");
    expect(stop.status, stop.stderr).toBe(0);
    const env = JSON.parse(readFileSync(join(cwd, ".cleanroom", "state.json"), "utf8")).environments;
    expect(Object.keys(env)).toHaveLength(1);
    // What `cleanroom environment delete --name <it> --force` (the rest of the stop hint) does.
    const backend = await createBackend("local", { stateDir: join(cwd, ".cleanroom") });
    await backend.deleteEnvironment(Object.keys(env)[0]!, { force: true });
    expect(leftovers(cwd)).toEqual([]);
    // (Checked after the clean-up above, so a failure here leaves nothing running.)
    // A first run (this file's GGEN_HOME starts empty): the dependency install started from package.json
    // as it was rendered, before generation wrote any file. The prepared tree's package.json is written
    // as its install starts; the project's, at generation's write step.
    expect(report.stages.setup.message).toMatch(/dependencies installed/);
    const prepared = join(ggenHome, "cache", "node-modules");
    const trees = readdirSync(prepared).filter((n) => !n.startsWith("."));
    expect(trees).toHaveLength(1);
    const installStarted = statSync(join(prepared, trees[0]!, "package.json")).mtimeMs;
    const generatedAt = statSync(join(cwd, "target/generated/shop/package.json")).mtimeMs;
    expect(installStarted).toBeLessThan(generatedAt);
  });

  it("a release that fails its health check is rolled back to the previous one", {
    timeout: 300_000,
  }, async () => {
    const cwd = mkdtempSync(join(dir, "rollback-"));
    // A registry with one pack: the domain service whose server listens one port off, so its own tests
    // (which use createApp) pass and only the deployed release fails verification.
    const { registry } = await domainServiceVariant(dir, {
      id: "io.example.wrong-port-service",
      name: "Wrong port domain service",
      edits: [WRONG_PORT],
    });

    const good = shop(cwd, "--json");
    expect(good.status, good.stderr.slice(-2000)).toBe(0);
    const first = JSON.parse(good.stdout).deployment.releaseId as string;

    // The query picks the best match (--first); the bundled registry still resolves the first pack.
    const bad = ggen(
      cwd,
      "ultra-fast-deploy",
      "--registry",
      registry,
      "--registry",
      join(fixtures, "registry"),
      "--template",
      "wrong port",
      "--first",
      "--name",
      "shop",
      "--json",
    );
    expect(bad.status, bad.stderr.slice(-2000)).toBe(1);
    expect(bad.stderr.trim().split("\n")).toEqual([
      expect.stringMatching(
        /^ggen: error: verify failed and the deployment was rolled back to \S+ \(details: /,
      ),
    ]);
    const report = JSON.parse(bad.stdout);
    expect(validate("pipeline-report/v1", report).ok).toBe(true);
    expect(report.stages.marketplace.message).toMatch(/^io\.example\.wrong-port-service@/);
    expect(report.stages.testing.status).toBe("success");
    expect(report.stages.deployment.status).toBe("rolled-back");
    expect(report.deploymentStatus).toBe("ROLLED_BACK");
    expect(report.deployment.rolledBackTo).toBe(first);
    expect(report.recommendation).toMatch(/previous release was restored/);
    const current = readlinkSync(join(cwd, "target/generated/shop/.ggen/deploy/production/current"));
    expect(current.split("/").pop()).toBe(first);
    // The failed deploy is recorded too.
    const metrics = readFileSync(join(cwd, "target/generated/shop/.ggen/deployments.jsonl"), "utf8")
      .trim()
      .split("\n");
    expect(metrics.length).toBe(2);
    expect(leftovers(cwd)).toEqual([]);
  });

  // Skipped only when no Docker engine answers (the warning above says why); CI starts one and runs it.
  it.skipIf(noDocker !== undefined)(
    "--backend testcontainers: the generated tests run in a container against a PostgreSQL container",
    { timeout: 300_000 },
    () => {
      const cwd = mkdtempSync(join(dir, "tc-"));
      const r = shop(cwd, "--backend", "testcontainers", "--timeout", "180s", "--json");
      expect(r.status, r.stderr.slice(-2000)).toBe(0);
      const report = JSON.parse(r.stdout);
      expect(validate("pipeline-report/v1", report).ok).toBe(true);
      expect(report.backend).toBe("testcontainers");
      expect(report.deploymentStatus).toBe("READY");
      expect(report.stages.setup.message).toMatch(/^testcontainers backend; postgres ready/);
      // The report states the engine's share; every command of the run went through one channel (the
      // one round trip left is the environment's own mkdir at creation).
      const engine = report.stages.reporting.message as string;
      expect(engine).toMatch(/^Docker engine: \d+\.\d s waited on it during the run's \d+\.\d s \(/);
      expect(engine).toMatch(/exec channel \d/);
      expect(engine).toMatch(/postgres until ready \d/);
      expect(engine).not.toMatch(/exec round trip ×/);
      const run = JSON.parse(readFileSync(join(cwd, report.references.run.path), "utf8"));
      expect(validate("cleanroom-run/v1", run).ok).toBe(true);
      expect(run.environment.backend).toBe("testcontainers");
      expect(run.environment.isolation.mechanism).toMatch(/^docker/);
      expect(run.services.map((s: { name: string }) => s.name)).toContain("postgres");
      expect(run.summary.total).toBeGreaterThan(10);
      expect(run.summary.passed).toBe(run.summary.total);
      // The environment and PostgreSQL containers are gone, and so is the deployed service.
      expect(containersOf(cwd)).toEqual([]);
      expect(leftovers(cwd)).toEqual([]);
    },
  );

  it("failing generated tests stop the pipeline: validation (running alongside) is cancelled, nothing is left", {
    timeout: 300_000,
  }, async () => {
    const cwd = mkdtempSync(join(dir, "failing-"));
    const { registry } = await domainServiceVariant(dir, {
      id: "io.example.failing-service",
      edits: [FAILING_TEST],
    });

    const r = ggen(
      cwd,
      "ultra-fast-deploy",
      "--registry",
      registry,
      "--template",
      "io.example.failing-service",
      "--name",
      "shop",
      "--json",
    );
    expect(r.status, r.stderr.slice(-2000)).toBe(1);
    expect(r.stderr.trim().split("\n")).toEqual([
      expect.stringMatching(/^ggen: error: 1 of \d+ generated tests failed \(details: /),
    ]);
    const report = JSON.parse(r.stdout);
    expect(validate("pipeline-report/v1", report).ok).toBe(true);
    expect(report.stages.testing.status).toBe("failed");
    // Named: the one failing test, in its own file, although every file ran in one process.
    const run = JSON.parse(readFileSync(join(cwd, report.references.run.path), "utf8"));
    const failed = run.tests.filter((t: { status: string }) => t.status !== "passed");
    expect(failed.map((t: { id: string; status: string }) => [t.id, t.status])).toEqual([
      [expect.stringMatching(/^test\/model\.test\.mjs#.+/), "failed"],
    ]);
    expect(run.tests.length).toBeGreaterThan(10);
    expect(report.stages.validation.status).toBe("skipped");
    expect(report.stages.deployment.status).toBe("skipped");
    expect(report.deploymentStatus).toBe("NOT_READY");
    expect(leftovers(cwd)).toEqual([]);
  });

  it("a timeout stops cleanly, names the stage, and leaves nothing running", { timeout: 120_000 }, () => {
    const cwd = mkdtempSync(join(dir, "timeout-"));
    const r = shop(cwd, "--timeout", "1200ms", "--json");
    expect(r.status).toBe(1);
    const report = JSON.parse(r.stdout);
    expect(validate("pipeline-report/v1", report).ok).toBe(true);
    expect(report.recommendation).toMatch(/timed out after 1\.2s in \S+/);
    expect(report.stages.deployment?.status).not.toBe("success");
    expect(report.deploymentStatus).toBe("NOT_READY");
    expect(leftovers(cwd)).toEqual([]);
  });

  it("profiles come from the generated make.toml: fast leaves the type check out; an unknown one stops before the tests", {
    timeout: 300_000,
  }, () => {
    const cwd = mkdtempSync(join(dir, "profile-"));
    const fast = shop(cwd, "--profile", "fast", "--json");
    expect(fast.status, fast.stderr.slice(-2000)).toBe(0);
    const report = JSON.parse(fast.stdout);
    expect(validate("pipeline-report/v1", report).ok).toBe(true);
    expect(report.deploymentStatus).toBe("READY");
    // Lint did not run: it neither passed nor failed, and the stage says why.
    expect(report.validation).not.toHaveProperty("lintPassed");
    expect(report.validation).toMatchObject({ packageValid: true, buildPassed: true, publishReady: true });
    expect(report.stages.validation.message).toMatch(/^build, bundle ok; lint skipped \(profile fast\);/);
    // With --json no stage lines go to stderr: the error is its one line.
    const bogus = shop(cwd, "--profile", "quick", "--json");
    expect(bogus.status).toBe(2);
    expect(bogus.stderr.trim().split("\n")).toEqual([
      "ggen: error: make.toml: the generated make.toml has no profile 'quick' (profiles: fast, safe)",
    ]);
    const saved = JSON.parse(readFileSync(join(cwd, "target/ultra-fast/shop/report.json"), "utf8"));
    expect(saved.stages.testing.status).toBe("skipped");
    expect(leftovers(cwd)).toEqual([]);
  });

  it("Ctrl-C while the environment and its database come up: exit 130, a report, nothing left", {
    timeout: 120_000,
  }, async () => {
    const cwd = mkdtempSync(join(dir, "sigint-"));
    const child = spawn(
      process.execPath,
      [bin, "ultra-fast-deploy", "--template", "io.ggen.domain-service", "--name", "shop"],
      { cwd, env, stdio: ["ignore", "ignore", "pipe"] },
    );
    let stderr = "";
    const exited = new Promise<number | null>((ok) => child.on("exit", (code) => ok(code)));
    // The marketplace stage is done: generation and setup (state locks, a PostgreSQL starting) run now.
    child.stderr.on("data", (d) => {
      stderr += d;
      if (/marketplace/.test(stderr) && !child.killed) child.kill("SIGINT");
    });
    expect(await exited, stderr).toBe(130);
    expect(stderr.trim().split("\n").at(-1)).toMatch(/^ggen: error: interrupted \(details: /);
    const report = JSON.parse(readFileSync(join(cwd, "target/ultra-fast/shop/report.json"), "utf8"));
    expect(report.deploymentStatus).toBe("NOT_READY");
    expect(leftovers(cwd)).toEqual([]);
  });

  it("bad input: an unknown pack, a bad duration, a bad var — one line, exit 2", { timeout: 60_000 }, () => {
    const cwd = mkdtempSync(join(dir, "bad-"));
    const unknown = ggen(cwd, "ultra-fast-deploy", "--template", "io.ggen.domain-servce", "--name", "x");
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(
      /no pack 'io\.ggen\.domain-servce' in the registry \(did you mean 'io\.ggen\.domain-service'/,
    );
    // Nothing was generated, so the output dir the run created is gone again.
    expect(existsSync(join(cwd, "target/generated/x"))).toBe(false);
    const duration = ggen(cwd, "ultra-fast-deploy", "--template", "x", "--name", "x", "--timeout", "soon");
    expect(duration.status).toBe(2);
    expect(duration.stderr.trim().split("\n")).toHaveLength(1);
    const vars = ggen(cwd, "ultra-fast-deploy", "--template", "x", "--name", "x", "--vars", "novalue");
    expect(vars.status).toBe(2);
    expect(vars.stderr).toMatch(/--vars 'novalue': expected key=value \(e\.g\. --vars name=shop\)/);
  });
});
