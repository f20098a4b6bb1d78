// Publishing to a local file registry for real (git index, .crate, cargo's own resolution): a crate a
// fresh consumer can build; a crate it cannot, and the index put back as it was. Also `cargo audit`
// through ggen's cargo home, where cargo-audit is not installed.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  buildConsumer,
  type CargoHome,
  ensureFileRegistry,
  indexPath,
  prepareCargoHome,
  publishCrate,
  restoreIndex,
} from "../src/index.js";
import { cargo, missing, type Scratch, scratch, toolchain, writeCrate } from "./helpers.js";

const skip = missing(["remove_dir_all"]);

// Skipped only without the Debian crate packages this needs (scripts/system-packages.txt); `npm test`
// refuses to start while one is missing and fails on any skip, so in CI it always runs.
describe.skipIf(skip)("a local file registry", () => {
  let s: Scratch;
  let home: CargoHome;
  beforeAll(async () => {
    s = scratch("ggen-registry-");
    home = await prepareCargoHome({ ggenHome: s.ggenHome, searchPath: "" });
  });
  afterAll(() => s.cleanup());

  const packaged = (name: string, files: Record<string, string>, extra = "") => {
    const dir = writeCrate(s.dir, name, files, { extra });
    const r = cargo(dir, ["package", "--no-verify", "--allow-dirty", "--quiet"], {
      ...home.env,
      CARGO_TARGET_DIR: join(dir, "target"),
    });
    expect(r.code, r.stderr).toBe(0);
    return {
      crate: join(dir, "target", "package", `${name}-0.1.0.crate`),
      manifest: readFileSync(join(dir, "Cargo.toml"), "utf8"),
    };
  };

  it("publishes a crate a fresh consumer builds through the registry; the same version replaces itself", {
    timeout: 300_000,
  }, async () => {
    const reg = await ensureFileRegistry(join(s.dir, "registry"));
    const p = packaged("greeter_lib", {
      "src/lib.rs": '//! Greets.\n\n/// Hello.\npub fn hello() -> &\'static str {\n    "hi"\n}\n',
    });
    const first = await publishCrate(reg, p.crate, p.manifest);
    expect(first).toMatchObject({ name: "greeter_lib", version: "0.1.0", replaced: false });
    expect(first.previousVersion).toBeUndefined();
    expect(existsSync(join(reg.cratesDir, "greeter_lib", "greeter_lib-0.1.0.crate"))).toBe(true);
    const built = await buildConsumer({
      registry: reg,
      crate: { name: "greeter_lib", version: "0.1.0", lib: "greeter_lib" },
      dir: join(s.dir, "consumer"),
      toolchain: toolchain!,
    });
    expect(built.code, built.stderr).toBe(0);
    const checked = await buildConsumer({
      registry: reg,
      crate: { name: "greeter_lib", version: "0.1.0", lib: "greeter_lib" },
      dir: join(s.dir, "consumer-check"),
      toolchain: toolchain!,
      check: true,
    });
    expect(checked.code, checked.stderr).toBe(0);
    const again = await publishCrate(reg, p.crate, p.manifest);
    expect(again).toMatchObject({ replaced: true, previousVersion: "0.1.0" });
    expect(
      readFileSync(join(reg.indexDir, indexPath("greeter_lib")), "utf8")
        .trim()
        .split("\n"),
    ).toHaveLength(1);
  });

  it("a crate its consumer cannot build: the index is restored, the new version gone", {
    timeout: 300_000,
  }, async () => {
    const reg = await ensureFileRegistry(join(s.dir, "registry-2"));
    // Builds where it was written, but its package leaves out a file it includes: nobody can build it
    // from the registry.
    const p = packaged(
      "broken_lib",
      { "src/lib.rs": '//! Broken.\npub const DATA: &str = include_str!("../data.txt");\n', "data.txt": "x" },
      'include = ["src/**/*.rs", "Cargo.toml"]',
    );
    const published = await publishCrate(reg, p.crate, p.manifest);
    // A check finds it as a build does: the missing file is read before any machine code is made.
    for (const check of [false, true]) {
      const built = await buildConsumer({
        registry: reg,
        crate: { name: "broken_lib", version: "0.1.0", lib: "broken_lib" },
        dir: join(s.dir, `consumer-2-${check ? "check" : "build"}`),
        toolchain: toolchain!,
        check,
      });
      expect(built.code).not.toBe(0);
      expect(built.stderr).toMatch(/data\.txt/);
    }
    await restoreIndex(reg, published.snapshot);
    expect(existsSync(join(reg.indexDir, indexPath("broken_lib")))).toBe(false);
    expect(existsSync(join(reg.cratesDir, "broken_lib", "broken_lib-0.1.0.crate"))).toBe(false);
  });

  it("`cargo audit` without cargo-audit runs the built-in audit and says so", { timeout: 300_000 }, () => {
    expect(home.auditShim).toBe(join(home.dir, "bin", "cargo-audit"));
    const risky = writeCrate(s.dir, "risky_audit", { "src/lib.rs": "" }, { deps: 'remove_dir_all = "0.7"' });
    const r = cargo(risky, ["audit", "--ignore-source"], home.env);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cargo-audit is not installed; ggen's built-in audit checks Cargo\.lock/);
    expect(r.stdout).toMatch(/ID: +RUSTSEC-2023-0018/);
    expect(r.stdout).toMatch(/error: 1 vulnerability found!/);
    const clean = writeCrate(s.dir, "clean_audit", { "src/lib.rs": "" });
    expect(cargo(clean, ["audit"], home.env).code).toBe(0);
  });
});
