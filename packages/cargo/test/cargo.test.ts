// The package against the real toolchain and Debian's crates: the target cache makes a second crate
// of the same dependency set compile only itself; clippy, rustfmt, cargo package/publish and llvm-cov
// output read by the parsers; the audit on a lockfile cargo resolved from Debian's crates.
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  auditCargoLock,
  type CargoHome,
  copyTarget,
  DEPENDENCY_BUILD_DIR,
  defaultAdvisoryDbDir,
  dependencyBuildArgs,
  ensureLockfile,
  loadAdvisoryDb,
  measureCoverage,
  parseClippyJson,
  parseFmtCheck,
  parsePackagingOutput,
  prepareCargoHome,
  prepareTarget,
  pruneCrateUnits,
  rustSources,
  storeTarget,
  writeDependencyStub,
} from "../src/index.js";
import { cargo, compiledPackages, missing, type Scratch, scratch, toolchain, writeCrate } from "./helpers.js";

const skip = missing(["itoa", "ryu"]);

const lib = `//! Formats numbers.

/// \`n\` in decimal.
///
/// \`\`\`
/// assert_eq!(NAME::decimal(42), "42");
/// \`\`\`
pub fn decimal(n: u64) -> String {
    itoa::Buffer::new().format(n).to_string()
}

/// Whether \`n\` is even.
pub fn even(n: u64) -> bool {
    n % 2 == 0
}

#[cfg(test)]
mod tests {
    #[test]
    fn formats() {
        assert_eq!(super::decimal(7), "7");
    }
}
`;
const numbers = (dir: string, name: string) =>
  writeCrate(dir, name, { "src/lib.rs": lib.replace("NAME", name) }, { deps: 'itoa = "1"' });

// Skipped only without cargo (scripts/system-packages.txt); `npm test` refuses to start while it is
// missing and fails on any skip, so in CI it always runs.
describe.skipIf(skip)("with the real toolchain", { timeout: 600_000 }, () => {
  let s: Scratch;
  let home: CargoHome;
  const t = toolchain!;
  const env = () => ({ ...home.env });
  beforeAll(async () => {
    s = scratch("ggen-cargo-real-");
    home = await prepareCargoHome({ ggenHome: s.ggenHome });
  });
  afterAll(() => s.cleanup());

  it("a second crate of the same dependency set compiles only its own code", async () => {
    const cacheDir = join(s.dir, "cache");
    const alpha = numbers(s.dir, "alpha");
    const first = await prepareTarget({ crateDir: alpha, toolchain: t, env: env(), cacheDir });
    expect(first.source).toBe("cold");
    expect(first.targetDir).toBe(join(alpha, "target"));
    const cold = cargo(alpha, ["build", "--message-format=json"], { ...env(), ...first.env });
    expect(cold.code, cold.stderr).toBe(0);
    expect(compiledPackages(cold.stdout)).toEqual(["alpha", "itoa"]);
    expect(await storeTarget(first, { crateDir: alpha, toolchain: t, env: env() })).toEqual({
      outcome: "stored",
      entry: join(cacheDir, first.key),
    });
    const deps = readdirSync(join(first.entry, "target", "debug", "deps"));
    expect(deps.some((f) => f.startsWith("libitoa-"))).toBe(true);
    expect(deps.filter((f) => /^(lib)?alpha-/.test(f))).toEqual([]);
    expect(existsSync(join(first.entry, "target", "debug", "incremental"))).toBe(false);

    const beta = numbers(s.dir, "beta");
    const second = await prepareTarget({ crateDir: beta, toolchain: t, env: env(), cacheDir });
    expect(second).toMatchObject({ source: "cache", key: first.key });
    const warm = cargo(beta, ["build", "--message-format=json"], { ...env(), ...second.env });
    expect(warm.code, warm.stderr).toBe(0);
    expect(compiledPackages(warm.stdout)).toEqual(["beta"]);
    // The entry is untouched by beta's build, and a crate keeps a target dir it already has.
    expect(await storeTarget(second, { crateDir: beta, toolchain: t, env: env() })).toMatchObject({
      outcome: "kept",
    });
    expect((await prepareTarget({ crateDir: beta, toolchain: t, env: env(), cacheDir })).source).toBe(
      "present",
    );
  });

  it("remembers a resolution, and fills the lanes' target dirs from the entry beside the main one", async () => {
    const cacheDir = join(s.dir, "cache-lanes");
    const lockCache = join(s.dir, "lock-cache");
    const opts = { env: env(), cacheDir, lockCache, crateSource: home.crateDir };
    const gamma = numbers(s.dir, "gamma");
    const first = await prepareTarget({ crateDir: gamma, toolchain: t, ...opts });
    const lockText = readFileSync(join(gamma, "Cargo.lock"), "utf8");
    expect(readdirSync(lockCache)).toHaveLength(1);
    expect(cargo(gamma, ["build"], { ...env(), ...first.env }).code).toBe(0);
    await storeTarget(first, { crateDir: gamma, toolchain: t, env: env() });

    // The same Cargo.toml elsewhere: its Cargo.lock is the remembered one (a cargo that cannot run is never asked).
    const again = numbers(join(s.dir, "again"), "gamma");
    const lanes = [join(again, "target", "ggen-lanes", "check"), join(s.dir, "again", "publish-target")];
    const second = await prepareTarget({
      crateDir: again,
      toolchain: { ...t, cargo: join(s.dir, "no-such-cargo") },
      ...opts,
      alongside: lanes,
    });
    expect(readFileSync(join(again, "Cargo.lock"), "utf8")).toBe(lockText);
    expect(second.source).toBe("cache");
    await Promise.all(second.alongside.values());
    for (const lane of lanes) {
      const built = cargo(again, ["build", "--message-format=json"], { ...env(), CARGO_TARGET_DIR: lane });
      expect(built.code, built.stderr).toBe(0);
      expect(compiledPackages(built.stdout)).toEqual(["gamma"]);
    }
    // Another Cargo.toml is resolved by cargo, and remembered on its own.
    const delta = writeCrate(s.dir, "delta", { "src/lib.rs": "" }, { deps: 'itoa = "1"\nryu = "1"' });
    await prepareTarget({ crateDir: delta, toolchain: t, ...opts });
    expect(readFileSync(join(delta, "Cargo.lock"), "utf8")).toMatch(/name = "ryu"/);
    expect(readdirSync(lockCache)).toHaveLength(2);
  });

  it("a cold run's dependency build: the crate's stub compiles its dependencies, the crate then only itself", async () => {
    const eta = writeCrate(
      s.dir,
      "eta",
      {
        "src/lib.rs": lib.replace("NAME", "eta"),
        "src/main.rs": 'fn main() { println!("{}", eta::decimal(1)); }\n',
      },
      { deps: 'itoa = "1"', extra: '[dev-dependencies]\nryu = "1"\n' },
    );
    const prepared = await prepareTarget({
      crateDir: eta,
      toolchain: t,
      env: env(),
      cacheDir: join(s.dir, "cache-eta"),
    });
    expect(prepared.source).toBe("cold");
    const stub = join(eta, "target", DEPENDENCY_BUILD_DIR, "crate");
    const out = join(eta, "target", DEPENDENCY_BUILD_DIR, "target");
    await writeDependencyStub(eta, stub);
    const args = await dependencyBuildArgs(stub);
    expect(args).toEqual(["test", "--no-run"]);
    const step = cargo(stub, [...args, "--message-format=json"], { ...env(), CARGO_TARGET_DIR: out });
    expect(step.code, step.stderr).toBe(0);
    expect(compiledPackages(step.stdout)).toEqual(["eta", "itoa", "ryu"]);
    // The stub's own units go: under the crate's name (the same unit names), they would pass for its own.
    await pruneCrateUnits(out, stub, { toolchain: t, env: env() });
    expect(existsSync(join(out, "debug", "eta"))).toBe(false);
    expect(readdirSync(join(out, "debug", "deps")).filter((f) => /^(lib)?eta-/.test(f))).toEqual([]);
    for (const lane of [prepared.targetDir, join(s.dir, "eta-lane")]) {
      await copyTarget(out, lane, "link", true);
      const built = cargo(eta, ["test", "--no-run", "--message-format=json"], {
        ...env(),
        CARGO_TARGET_DIR: lane,
      });
      expect(built.code, built.stderr).toBe(0);
      expect(compiledPackages(built.stdout)).toEqual(["eta"]);
    }
  });

  it("clippy's lints and rustfmt's diffs, read from the real tools", async () => {
    const sloppy = writeCrate(s.dir, "sloppy", {
      "src/lib.rs":
        "//! Sloppy.\n\n/// Adds.\npub fn add(a: i32, b: i32) -> i32 {\n    return a + b;\n}\n\n/// Ok.\npub fn ok() -> bool { true }\n",
    });
    const lint = cargo(sloppy, ["clippy", "--all-targets", "--message-format=json"], env());
    const clippy = parseClippyJson(lint.stdout);
    expect(clippy).toMatchObject({
      warnings: 1,
      errors: 0,
      success: true,
      byLint: { "clippy::needless_return": 1 },
    });
    expect(clippy.lints[0]).toMatchObject({ file: "src/lib.rs", line: 5 });
    const fmt = cargo(sloppy, ["fmt", "--check"], env());
    const r = parseFmtCheck(fmt.stdout + fmt.stderr, fmt.code, {
      root: sloppy,
      files: await rustSources(sloppy),
    });
    expect(r.formatted).toBe(false);
    expect(r.unformatted).toEqual(["src/lib.rs"]);
    expect(r.files[0]?.hunks[0]?.removed).toEqual(["pub fn ok() -> bool { true }"]);
    cargo(sloppy, ["fmt"], env());
    const again = cargo(sloppy, ["fmt", "--check"], env());
    expect(parseFmtCheck(again.stdout, again.code, { root: sloppy }).formatted).toBe(true);
  });

  it("cargo publish --dry-run works offline against the local registry, and says why it refuses", async () => {
    const gamma = numbers(s.dir, "gamma");
    const ok = cargo(gamma, ["publish", "--dry-run", "--allow-dirty"], env());
    const r = parsePackagingOutput(ok.stderr, ok.code);
    expect(r, ok.stderr).toMatchObject({
      ok: true,
      verified: true,
      uploadSkipped: true,
      crate: { name: "gamma" },
    });
    const manifest = join(gamma, "Cargo.toml");
    writeFileSync(
      manifest,
      readFileSync(manifest, "utf8").replace('license = "MIT"', 'license = "MIT"\npublish = false'),
    );
    const no = cargo(gamma, ["publish", "--dry-run", "--allow-dirty"], env());
    expect(parsePackagingOutput(no.stderr, no.code)).toMatchObject({ ok: false, uploadSkipped: false });
    expect(parsePackagingOutput(no.stderr, no.code).errors[0]).toMatch(/`gamma` cannot be published/);
  });

  it("a dependency Debian does not have is a readable error naming where crates come from", async () => {
    const wants = writeCrate(s.dir, "wants", { "src/lib.rs": "" }, { deps: 'itoa = "99"' });
    await expect(ensureLockfile(wants, { toolchain: t, env: env() })).rejects.toMatchObject({
      code: "CARGO_LOCK",
      hint: expect.stringMatching(/system-packages\.txt/),
    });
  });

  it("coverage is measured with a matching LLVM, and unavailable with the reason otherwise", async () => {
    const delta = numbers(s.dir, "delta");
    const missingTool = await measureCoverage({
      crateDir: delta,
      toolchain: t,
      env: env(),
      tools: { profdata: join(s.dir, "no", "llvm-profdata"), cov: join(s.dir, "no", "llvm-cov") },
    });
    expect(missingTool).toEqual({
      status: "unavailable",
      reason: expect.stringMatching(
        /^no llvm-profdata\/llvm-cov of LLVM \d+ .*no\/llvm-profdata does not exist/,
      ),
    });
    const r = await measureCoverage({ crateDir: delta, toolchain: t, env: env() });
    if (r.status === "unavailable")
      return void console.warn(`coverage tools not installed here: ${r.reason}`);
    expect(r.tests.exitCode).toBe(0);
    expect(r.tests.stdout).toMatch(/test result: ok\. 1 passed/);
    // decimal() runs in the unit test, even() never: the file is partly covered.
    expect(r.files.map((f) => f.file)).toEqual(["src/lib.rs"]);
    expect(r.covered).toBeGreaterThan(0);
    expect(r.covered).toBeLessThan(r.lines);
    expect(r.percent).toBe(Math.round((10000 * r.covered) / r.lines) / 100);
  });
});

// Skipped only without Debian's remove_dir_all crate (librust-remove-dir-all-dev); as above, CI runs it.
describe.skipIf(missing(["remove_dir_all"]))(
  "the audit on a lockfile cargo resolved from Debian",
  { timeout: 300_000 },
  () => {
    it("fails a crate on remove_dir_all 0.7 (RUSTSEC-2023-0018) and passes one without it", async () => {
      const s = scratch("ggen-cargo-audit-");
      try {
        const home = await prepareCargoHome({ ggenHome: s.ggenHome });
        const db = await loadAdvisoryDb(defaultAdvisoryDbDir());
        const risky = writeCrate(s.dir, "risky", { "src/lib.rs": "" }, { deps: 'remove_dir_all = "0.7"' });
        const lockText = await ensureLockfile(risky, { toolchain: toolchain!, env: home.env });
        const r = auditCargoLock(lockText, db);
        expect(r.audit_passed).toBe(false);
        expect(r.vulnerabilities.map((v) => [v.id, v.package, v.version])).toEqual([
          ["RUSTSEC-2023-0018", "remove_dir_all", "0.7.0"],
        ]);
        const fine = writeCrate(s.dir, "fine", { "src/lib.rs": "" }, { deps: 'itoa = "1"' });
        expect(
          auditCargoLock(await ensureLockfile(fine, { toolchain: toolchain!, env: home.env }), db)
            .audit_passed,
        ).toBe(true);
      } finally {
        s.cleanup();
      }
    });
  },
);
