// The bundled Rust packs, as a user gets them: the built ggen installs each from fixtures/registry and
// generates a crate named my_service; the six checks of seed 001 then run for real, offline, through
// ggen's cargo home (Debian's crates) and the target cache, and their output is read by this package's
// parsers: cargo fmt --check, cargo clippy --all-targets -D warnings, cargo test, cargo doc --no-deps,
// cargo package, cargo publish --dry-run. Also: the audit and coverage of each crate, a second crate of
// the same dependency set compiling only itself, and every `run:` step of io.ggen.ci-workflow:rust.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  auditCargoLock,
  type CargoHome,
  defaultAdvisoryDbDir,
  describeCoverage,
  loadAdvisoryDb,
  measureCoverage,
  parseClippyJson,
  parseFmtCheck,
  parsePackagingOutput,
  prepareCargoHome,
  prepareTarget,
  publishProblems,
  rustSources,
  storeTarget,
} from "../src/index.js";
import { cargo, compiledPackages, missing, type Scratch, scratch, toolchain } from "./helpers.js";

const repo = join(import.meta.dirname, "..", "..", "..");
const ggenBin = join(repo, "apps", "ggen", "dist", "bin.js");
const skip = missing(["serde", "serde_json", "anyhow"]) ?? (existsSync(ggenBin) ? undefined : missingGgen());

function missingGgen(): string {
  const reason = "apps/ggen is not built (pnpm build)";
  if (process.env.CI) throw new Error(reason);
  console.warn(`skipping: ${reason}`);
  return reason;
}

let s: Scratch;
let home: CargoHome;
const t = toolchain!;

function ggen(...args: string[]) {
  const env: NodeJS.ProcessEnv = { ...process.env, GGEN_HOME: s.ggenHome, NO_COLOR: "1" };
  delete env.GGEN_REGISTRY; // the bundled registry
  mkdirSync(join(s.dir, "project"), { recursive: true });
  const r = spawnSync(process.execPath, [ggenBin, "--cwd", join(s.dir, "project"), ...args], {
    env,
    encoding: "utf8",
    timeout: 120_000,
  });
  expect(r.status, `ggen ${args.join(" ")}: ${r.stderr}`).toBe(0);
  return r.stdout;
}

/** Installs the pack from the bundled registry and generates all its templates into <scratch>/<out>. */
function generate(pack: string, out: string, ...vars: string[]): string {
  ggen("market", "add", pack);
  const dir = join(s.dir, out);
  ggen("template", "generate", pack, "-o", dir, ...vars.flatMap((v) => ["--vars", v]));
  return dir;
}

const seconds = (since: number) => Math.round((performance.now() - since) / 100) / 10;

/** The six checks of seed 001 on a crate, each through its parser; returns what each took (s). */
async function sixChecks(dir: string, targetEnv: Record<string, string>) {
  const env = { ...home.env, ...targetEnv };
  const took: Record<string, number> = {};
  const step = (name: string, args: string[]) => {
    const since = performance.now();
    const r = cargo(dir, args, env);
    took[name] = seconds(since);
    return r;
  };

  const fmt = step("fmt", ["fmt", "--check"]);
  const f = parseFmtCheck(fmt.stdout + fmt.stderr, fmt.code, { root: dir, files: await rustSources(dir) });
  expect(f.unformatted, fmt.stdout).toEqual([]);
  expect(f.formatted).toBe(true);
  expect(f.files.map((x) => x.file)).toContain("src/lib.rs");

  const lint = step("clippy", ["clippy", "--all-targets", "--message-format=json", "--", "-D", "warnings"]);
  const c = parseClippyJson(lint.stdout);
  expect(
    c.lints.map((l) => l.rendered),
    lint.stderr,
  ).toEqual([]);
  expect(c).toMatchObject({ warnings: 0, errors: 0, success: true });
  expect(lint.code).toBe(0);

  const test = step("test", ["test"]);
  expect(test.code, test.stdout + test.stderr).toBe(0);
  const results = [...test.stdout.matchAll(/^test result: ok\. (\d+) passed; 0 failed/gm)].map((m) =>
    Number(m[1]),
  );
  expect(results.length).toBeGreaterThanOrEqual(3); // lib, integration and doc tests (and a bin with unit tests)
  expect(results.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(7);

  const doc = step("doc", ["doc", "--no-deps"]);
  expect(doc.code, doc.stderr).toBe(0);
  const name = JSON.parse(cargo(dir, ["metadata", "--no-deps", "--format-version", "1"], env).stdout)
    .packages[0].targets[0].name as string;
  expect(existsSync(join(targetEnv.CARGO_TARGET_DIR!, "doc", name.replace(/-/g, "_"), "index.html"))).toBe(
    true,
  );

  const pkg = step("package", ["package", "--allow-dirty"]);
  expect(parsePackagingOutput(pkg.stderr, pkg.code), pkg.stderr).toMatchObject({ ok: true, verified: true });

  const pub = step("publish", ["publish", "--dry-run", "--allow-dirty"]);
  const p = parsePackagingOutput(pub.stderr, pub.code);
  expect(p, pub.stderr).toMatchObject({
    ok: true,
    command: "publish-dry-run",
    verified: true,
    uploadSkipped: true,
  });
  expect(p.files).toBeGreaterThanOrEqual(6);

  expect(publishProblems(readFileSync(join(dir, "Cargo.toml"), "utf8"), { crateDir: dir })).toEqual({
    errors: [],
    warnings: [],
  });
  return took;
}

// Skipped only without cargo or the Debian crate packages (scripts/system-packages.txt); `npm test`
// refuses to start while one is missing and fails on any skip, so in CI it always runs.
describe.skipIf(skip)("the Rust packs pass seed 001's checks offline", { timeout: 1_800_000 }, () => {
  beforeAll(async () => {
    s = scratch("ggen-rust-packs-");
    home = await prepareCargoHome({ ggenHome: s.ggenHome });
  });
  afterAll(() => s.cleanup());

  for (const pack of ["io.ggen.rust-cli", "io.ggen.rust-lib"]) {
    it(`${pack} --name my_service: fmt, clippy, test, doc, package, publish --dry-run, audit, coverage`, async () => {
      const dir = generate(pack, `${pack}-my_service`, "name=my_service", "version=0.1.0");
      const since = performance.now();
      const target = await prepareTarget({
        crateDir: dir,
        toolchain: t,
        env: home.env,
        ggenHome: s.ggenHome,
      });
      expect(target.source).toBe("cold");
      expect(target.entry).toBe(join(s.ggenHome, "cache", "cargo-target", target.key));
      const took = await sixChecks(dir, target.env);
      await storeTarget(target, { crateDir: dir, toolchain: t, env: home.env });
      console.info(`${pack} cold (empty target cache): ${seconds(since)} s`, took);

      const audit = auditCargoLock(
        readFileSync(join(dir, "Cargo.lock"), "utf8"),
        await loadAdvisoryDb(defaultAdvisoryDbDir()),
      );
      expect(audit.audit_passed).toBe(true);
      expect(audit.vulnerabilities).toEqual([]);

      const coverage = await measureCoverage({
        crateDir: dir,
        toolchain: t,
        env: { ...home.env, ...target.env },
      });
      console.info(`${pack} coverage: ${describeCoverage(coverage)}`);
      if (coverage.status === "measured") {
        expect(coverage.tests.exitCode).toBe(0);
        expect(coverage.percent).toBeGreaterThan(80); // seed 001's distribution readiness
        expect(coverage.files.map((f) => f.file)).toEqual(
          expect.arrayContaining(["src/lib.rs", "src/main.rs"]),
        );
      } else expect(coverage.reason).toMatch(/LLVM/);
    });
  }

  it("a second io.ggen.rust-lib crate (other_service) reuses the cache and compiles only itself", async () => {
    const dir = generate("io.ggen.rust-lib", "other_service", "name=other_service");
    const since = performance.now();
    const target = await prepareTarget({ crateDir: dir, toolchain: t, env: home.env, ggenHome: s.ggenHome });
    expect(target.source).toBe("cache");
    const build = cargo(dir, ["test", "--no-run", "--message-format=json"], { ...home.env, ...target.env });
    expect(build.code, build.stderr).toBe(0);
    expect(compiledPackages(build.stdout)).toEqual(["other_service"]);
    const took = await sixChecks(dir, target.env);
    console.info(`io.ggen.rust-lib warm (dependency set cached): ${seconds(since)} s`, took);
  });

  it("every `run:` step of io.ggen.ci-workflow:rust passes on the generated crates", () => {
    const ci = generate("io.ggen.ci-workflow", "ci");
    const steps = [
      ...readFileSync(join(ci, ".github/workflows/rust.yml"), "utf8").matchAll(/^\s+- run: (.+)$/gm),
    ].map((m) => m[1]!);
    expect(steps).toContain("cargo fmt --check");
    for (const dir of ["io.ggen.rust-cli-my_service", "io.ggen.rust-lib-my_service"]) {
      for (const step of steps) {
        const r = cargo(join(s.dir, dir), step.split(" ").slice(1), {
          ...home.env,
          RUSTDOCFLAGS: "-D warnings",
        });
        expect(r.code, `${dir}: ${step}\n${r.stderr}`).toBe(0);
      }
    }
  });
});
