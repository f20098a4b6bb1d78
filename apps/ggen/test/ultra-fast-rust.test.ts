// Seed 001 through the built programs: `ggen ultra-fast-deploy` of the Rust CLI pack runs the stages
// the pack declares (fmt, audit, clippy, doc, build, test with coverage, package, publish dry run),
// publishes the crate to the project's local registry and verifies it with a consumer build — READY,
// with real figures; its attestations verify from any directory, and a tampered generated file and
// test result are named. Three crates that each break one gate end NOT_READY with that gate named.
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { validate } from "@ggen/contract";
import { buildRegistry } from "@ggen/marketplace";
import { afterAll, describe, expect, it } from "vitest";

const bins = {
  ggen: join(import.meta.dirname, "..", "dist", "bin.js"),
  cleanroom: join(import.meta.dirname, "..", "..", "cleanroom", "dist", "bin.js"),
};
const packs = join(import.meta.dirname, "..", "..", "..", "fixtures", "registry", "packs");
const dir = mkdtempSync(join(tmpdir(), "ggen-ufd-rust-"));
// One GGEN_HOME for the file: its cargo home and target cache are shared, as a user's are.
const env = { ...process.env, GGEN_HOME: join(dir, ".ggen-home"), NO_COLOR: "1" };
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const run = (program: keyof typeof bins, cwd: string, ...args: string[]) =>
  spawnSync(process.execPath, [bins[program], ...args], { cwd, env, encoding: "utf8", timeout: 420_000 });
const deploy = (cwd: string, template: string, ...args: string[]) =>
  run(
    "ggen",
    cwd,
    "ultra-fast-deploy",
    "--template",
    template,
    "--name",
    "my_service",
    "--timeout",
    "400s",
    ...args,
  );

/** A copy of the Rust CLI pack as `id`, changed by `edit` (the template dir), in a registry of its own
 * (with the original pack too when `withOriginal`: a project whose ggen.lock names it can use it). */
async function variant(id: string, edit: (templates: string) => void, withOriginal = false): Promise<string> {
  const src = join(dir, "packs", id);
  cpSync(join(packs, "io.ggen.rust-cli"), src, { recursive: true });
  const manifest = join(src, "ggen.toml");
  writeFileSync(manifest, readFileSync(manifest, "utf8").replace('id = "io.ggen.rust-cli"', `id = "${id}"`));
  edit(join(src, "templates"));
  const out = join(dir, "registries", id);
  const packDirs = withOriginal ? [src, join(packs, "io.ggen.rust-cli")] : [src];
  await buildRegistry({ packDirs, outDir: out, published: "2026-01-01T00:00:00Z" });
  return out;
}
const append = (file: string, text: string) => writeFileSync(file, `${readFileSync(file, "utf8")}${text}`);
/** Adds an item to the crate's lib.rs before its test module (clippy's items_after_test_module). */
const beforeTests = (templates: string, item: string) => {
  const lib = join(templates, "lib.rs.tmpl");
  writeFileSync(lib, readFileSync(lib, "utf8").replace("#[cfg(test)]", `${item}\n\n#[cfg(test)]`));
};

const GATES = ["build", "tests", "lint", "format", "package", "docs", "audit", "publish"];

describe("ggen ultra-fast-deploy of a Rust crate (seed 001)", () => {
  const cwd = mkdtempSync(join(dir, "ready-"));

  it("io.ggen.rust-cli ends READY with real test, clippy, coverage, audit and publish figures; signed", {
    timeout: 450_000,
  }, () => {
    const r = deploy(
      cwd,
      "io.ggen.rust-cli",
      "--version",
      "0.1.0",
      "--report",
      "report.json",
      "--sign",
      "--json",
    );
    expect(r.status, r.stderr.slice(-3000)).toBe(0);
    const report = JSON.parse(r.stdout);
    const v = validate("pipeline-report/v1", report);
    expect(v.ok ? [] : v.errors).toEqual([]);
    expect(report.deploymentStatus).toBe("READY");
    expect(report.gates.map((g: { name: string; status: string }) => `${g.name}:${g.status}`)).toEqual(
      GATES.map((g) => `${g}:passed`),
    );
    expect(report.package).toEqual({ name: "my_service", version: "0.1.0", ecosystem: "cargo" });
    // libtest's own count: unit, integration and doc tests of the generated crate.
    expect(report.metrics.testsExecuted).toBeGreaterThanOrEqual(7);
    expect(report.metrics.testsFailed).toBe(0);
    expect(report.metrics.lintWarnings).toBe(0);
    const cov = report.metrics.coverage;
    if (cov.status === "measured") {
      expect(report.metrics.coveragePercentage).toBe(cov.percent);
      expect(cov.percent).toBeGreaterThan(50);
      expect(cov.tool).toMatch(/^llvm-cov \d+$/);
    } else expect(cov.reason).toMatch(/llvm/);
    expect(report.validation).toMatchObject({
      auditPassed: true,
      publishReady: true,
      formatValid: true,
      docsBuilt: true,
    });
    for (const stage of [
      "fmt",
      "audit",
      "clippy",
      "doc",
      "build",
      "test",
      "package",
      "publish",
      "deployment",
    ])
      expect(report.stages[stage]?.status, stage).toBe("success");
    expect(report.stages.publish.message).toMatch(/dry-run publish my_service 0\.1\.0.*verified/);
    // Published to the project's registry, where a fresh crate depending on it built.
    expect(report.deployment).toMatchObject({
      provider: "cargo-registry",
      releaseId: "my_service@0.1.0",
      registry: ".ggen/deploy/registry",
    });
    const index = readFileSync(join(cwd, ".ggen/deploy/registry/index/my/_s/my_service"), "utf8");
    expect(JSON.parse(index.trim().split("\n").pop()!)).toMatchObject({ name: "my_service", vers: "0.1.0" });
    expect(existsSync(join(cwd, report.deployment.artifact.path))).toBe(true);
    // Cold too, the consumer was verified while the checks ran (built in the dry run's lane, against a
    // staging copy of the registry); the target cache keeps none of its units.
    expect(report.stages.deployment.message).toMatch(
      /compiles \(verified against a staging copy while the checks ran\)$/,
    );
    const entries = join(env.GGEN_HOME, "cache", "cargo-target");
    const cached = readdirSync(entries).flatMap((key) =>
      readdirSync(join(entries, key, "target", "debug", "deps")),
    );
    expect(cached.some((f) => f.startsWith("libmy_service-"))).toBe(false);
    expect(cached.filter((f) => f.includes("consumer"))).toEqual([]);
    // The deployment record: wall time (never the sum of stages that overlapped), offsets per stage.
    const record = JSON.parse(
      readFileSync(join(cwd, "target/generated/my_service/.ggen/deployments.jsonl"), "utf8")
        .trim()
        .split("\n")
        .pop()!,
    );
    expect(validate("deployment-metrics/v1", record).ok).toBe(true);
    const sum = Object.values(record.phases as Record<string, number>).reduce((a, b) => a + b, 0);
    expect(record.totalTimeSeconds).toBeLessThan(sum);
    expect(record.totalTimeSeconds * 1000).toBeLessThanOrEqual(report.totalDurationMs);
    expect(record.stages.test.startSeconds).toBeGreaterThan(0);
    // Signed with the project key --sign made.
    expect(report.attestation).toMatchObject({ signed: true, keyId: expect.stringMatching(/^ed25519:/) });
    expect(existsSync(join(cwd, ".cleanroom/keys/attestation.key"))).toBe(true);
  });

  it("its attestations verify from any directory; a tampered generated file and test result are named", {
    timeout: 120_000,
  }, () => {
    const elsewhere = mkdtempSync(join(dir, "elsewhere-"));
    for (const file of ["attestation.intoto.json", "provenance.intoto.json"]) {
      const ok = run("cleanroom", elsewhere, "report", "--verify", join(cwd, file));
      expect(ok.status, ok.stdout + ok.stderr).toBe(0);
      expect(ok.stdout).toMatch(/^VERIFIED {2}(\d+)\/\1 files match/);
      expect(ok.stdout).toMatch(/signature valid/);
    }
    const lib = join(cwd, "target/generated/my_service/src/lib.rs");
    writeFileSync(lib, `${readFileSync(lib, "utf8")}// changed after the run\n`);
    const runFile = join(cwd, "target/generated/my_service/.ggen/cleanroom-run.json");
    writeFileSync(runFile, readFileSync(runFile, "utf8").replace(/"failed": 0/, '"failed": 1'));
    const bad = run("cleanroom", elsewhere, "report", "--verify", join(cwd, "attestation.intoto.json"));
    expect(bad.status).toBe(1);
    expect(bad.stdout).toMatch(/NOT VERIFIED/);
    expect(bad.stdout).toMatch(/changed: target\/generated\/my_service\/src\/lib\.rs \(subject\)/);
    expect(bad.stdout).toMatch(
      /changed: target\/generated\/my_service\/\.ggen\/cleanroom-run\.json \(configuration\)/,
    );
    expect(bad.stderr.trim().split("\n")).toEqual([
      "cleanroom: error: attestation does not verify: target/generated/my_service/src/lib.rs changed; target/generated/my_service/.ggen/cleanroom-run.json changed",
    ]);
  });

  it("with the dependency set cached, a new version's consumer is checked while the tests run, against a staging copy of the registry", {
    timeout: 450_000,
  }, () => {
    // A registry that has 0.1.0 already (a copy of the first run's), and a new project: every lane
    // starts from the target cache the first run filled.
    const at = mkdtempSync(join(dir, "warm-"));
    const registry = join(at, "registry");
    cpSync(join(cwd, ".ggen/deploy/registry"), registry, { recursive: true });
    const r = deploy(at, "io.ggen.rust-cli", "--version", "0.2.0", "--deploy-registry", registry, "--json");
    expect(r.status, r.stderr.slice(-3000)).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.deploymentStatus).toBe("READY");
    expect(report.stages.deployment).toMatchObject({
      status: "success",
      message: expect.stringMatching(/compiles \(verified against a staging copy while the checks ran\)$/),
    });
    const versions = readFileSync(join(registry, "index/my/_s/my_service"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l).vers);
    expect(versions).toEqual(["0.1.0", "0.2.0"]);
    expect(existsSync(join(registry, "crates/my_service/my_service-0.2.0.crate"))).toBe(true);
    // The staging copy is gone.
    const lanes = join(at, "target/generated/my_service/target/ggen-lanes");
    expect(existsSync(join(lanes, "package/tmp/ggen-deploy-trial"))).toBe(false);
  });

  it("a published crate its consumer cannot build is rolled back: the registry offers the previous build again", {
    timeout: 450_000,
  }, async () => {
    const before = readFileSync(join(cwd, ".ggen/deploy/registry/index/my/_s/my_service"), "utf8");
    const crate = join(cwd, ".ggen/deploy/registry/crates/my_service/my_service-0.1.0.crate");
    const previous = readFileSync(crate);
    // It builds where it was generated, but its package leaves out a file it includes; and this pack's
    // dry run skips the verifying build, so only the deploy's consumer build can find out.
    const registry = await variant(
      "io.example.rust-unpackaged-file",
      (t) => {
        beforeTests(t, '/// Bundled data.\npub const DATA: &str = include_str!("../data.txt");');
        writeFileSync(join(t, "data.txt.tmpl"), "---\nto: data.txt\n---\nsome data\n");
        const manifest = join(t, "..", "ggen.toml");
        writeFileSync(
          manifest,
          readFileSync(manifest, "utf8")
            .replace(
              'run = ["cargo", "publish", "--dry-run", "--allow-dirty"]',
              'run = ["cargo", "publish", "--dry-run", "--allow-dirty", "--no-verify"]',
            )
            .replace(
              "[pipeline]",
              '[[templates]]\nname = "data"\npath = "templates/data.txt.tmpl"\n\n[pipeline]',
            ),
        );
      },
      true,
    );
    const r = deploy(
      cwd,
      "io.example.rust-unpackaged-file",
      "--registry",
      registry,
      "--version",
      "0.1.0",
      "--json",
    );
    expect(r.status, r.stderr.slice(-3000)).toBe(1);
    const report = JSON.parse(r.stdout);
    expect(report.gates, `${r.stdout.slice(0, 3000)}\n${r.stderr.slice(-2000)}`).toBeDefined();
    expect(report.gates.filter((g: { status: string }) => g.status !== "passed")).toEqual([]);
    expect(report.deploymentStatus).toBe("ROLLED_BACK");
    expect(report.stages.deployment).toMatchObject({
      status: "rolled-back",
      message: expect.stringMatching(/does not build from the registry/),
    });
    expect(report.deployment).toMatchObject({ provider: "cargo-registry", rolledBackTo: "my_service@0.1.0" });
    expect(readFileSync(join(cwd, ".ggen/deploy/registry/index/my/_s/my_service"), "utf8")).toBe(before);
    expect(readFileSync(crate).equals(previous)).toBe(true);
  });

  const notReady = async (id: string, edit: (templates: string) => void, gate: string, why: RegExp) => {
    const registry = await variant(id, edit);
    const at = mkdtempSync(join(dir, `${id}-`));
    const r = deploy(at, id, "--registry", registry, "--json");
    expect(r.status, r.stderr.slice(-3000)).toBe(1);
    const report = JSON.parse(r.stdout);
    expect(validate("pipeline-report/v1", report).ok).toBe(true);
    expect(report.deploymentStatus).toBe("NOT_READY");
    const failed = report.gates.filter((g: { status: string }) => g.status === "failed");
    expect(failed.map((g: { name: string }) => g.name)).toEqual([gate]);
    expect(failed[0].message).toMatch(why);
    expect(report.stages.deployment.status).toBe("skipped");
    expect(report.recommendation).toMatch(new RegExp(`the ${gate} gate failed`));
    expect(r.stderr.trim().split("\n")).toEqual([
      expect.stringMatching(new RegExp(`^ggen: error: not ready: the ${gate} gate failed .*\\(details: `)),
    ]);
    // Nothing was published.
    expect(existsSync(join(at, ".ggen/deploy/registry"))).toBe(false);
    return report;
  };

  it("a crate with a failing test is NOT_READY: the tests gate, with the test's real count", {
    timeout: 450_000,
  }, async () => {
    const report = await notReady(
      "io.example.rust-failing-test",
      (t) =>
        append(
          join(t, "cli_test.rs.tmpl"),
          '\n#[test]\nfn fails_on_purpose() {\n    let out = bin().arg("--version").output().unwrap();\n    assert!(out.stdout.is_empty(), "this test fails on purpose");\n}\n',
        ),
      "tests",
      /test: \d+\/\d+ passed; failed: fails_on_purpose/,
    );
    expect(report.metrics.testsFailed).toBe(1);
    expect(report.metrics.testsExecuted).toBeGreaterThanOrEqual(8);
  });

  it("a crate with a clippy warning is NOT_READY: the lint gate, naming the lint", {
    timeout: 450_000,
  }, async () => {
    const report = await notReady(
      "io.example.rust-clippy-warning",
      (t) =>
        beforeTests(
          t,
          "/// How many words were given.\npub fn word_count(words: &Vec<String>) -> usize {\n    words.len()\n}",
        ),
      "lint",
      /clippy: 1 warning \(clippy::ptr_arg at src\/lib\.rs:\d+\)/,
    );
    expect(report.metrics.lintWarnings).toBe(1);
  });

  it("a crate on an advisory-listed crate version is NOT_READY: the audit gate, naming the advisory", {
    timeout: 450_000,
  }, async () => {
    const report = await notReady(
      "io.example.rust-advisory",
      (t) => append(join(t, "Cargo.toml.tmpl"), 'remove_dir_all = "0.7"\n'),
      "audit",
      /RUSTSEC-2023-0018 \(remove_dir_all 0\.7\.0\)/,
    );
    expect(report.validation.auditPassed).toBe(false);
  });
});
