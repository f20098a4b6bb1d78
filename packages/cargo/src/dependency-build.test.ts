import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { parse } from "smol-toml";
import { afterAll, describe, expect, it } from "vitest";
import { dependencyBuildArgs, LINKED_MARKER_ENV, writeDependencyStub } from "./dependency-build.js";

const root = mkdtempSync(join(tmpdir(), "ggen-dependency-stub-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function crate(name: string, files: Record<string, string>): string {
  const dir = join(root, name);
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), text);
  }
  return dir;
}

/** How ggen's runs build (CARGO_CODEGEN_ENV): no debuginfo, as build scripts' dependencies build. */
const SHARED = { CARGO_PROFILE_DEV_DEBUG: "0" };

const manifest = (more = "") =>
  `[package]\nname = "svc"\nversion = "0.1.0"\n\n[[bin]]\nname = "svc"\npath = "src/cli/main.rs"\n\n[dependencies]\nitoa = "1"\n${more}`;

describe("writeDependencyStub", () => {
  it("keeps what decides the build and empties every Rust source, wherever a target points", async () => {
    const dir = crate("a", {
      "Cargo.toml": manifest(),
      "Cargo.lock": "version = 4\n",
      "rust-toolchain.toml": '[toolchain]\nchannel = "stable"\n',
      ".cargo/config.toml": "[build]\nrustflags = []\n",
      "src/lib.rs": "pub fn real() {}\n",
      "src/cli/main.rs": "fn main() { svc::real() }\n",
      "tests/it.rs": "#[test] fn t() {}\n",
      "README.md": "# svc\n",
      "target/debug/junk.rs": "junk\n",
      ".git/x.rs": "x\n",
    });
    const stub = join(root, "a-stub");
    await writeDependencyStub(dir, stub, SHARED);
    for (const rel of ["src/lib.rs", "src/cli/main.rs", "tests/it.rs"])
      expect(readFileSync(join(stub, rel), "utf8")).toBe("fn main() {}\n");
    for (const rel of ["Cargo.lock", "rust-toolchain.toml", ".cargo/config.toml"])
      expect(readFileSync(join(stub, rel), "utf8")).toBe(readFileSync(join(dir, rel), "utf8"));
    // A workspace root of its own: it sits inside the crate's target dir. Its cargo configuration may
    // change how dependencies compile: they are not mirrored (see the next test).
    expect(readFileSync(join(stub, "Cargo.toml"), "utf8")).toBe(`${manifest()}\n[workspace]\n`);
    for (const rel of ["README.md", "target", ".git"]) expect(existsSync(join(stub, rel))).toBe(false);
    expect(await dependencyBuildArgs(stub)).toEqual(["build", "--lib"]);
  });

  it("mirrors the dependencies as build-dependencies when those build as the crate's: one check builds both kinds", async () => {
    const dir = crate("m", { "Cargo.toml": manifest(), "src/lib.rs": "", "src/cli/main.rs": "" });
    const stub = join(root, "m-stub");
    await writeDependencyStub(dir, stub, SHARED);
    expect(parse(readFileSync(join(stub, "Cargo.toml"), "utf8"))).toEqual({
      ...parse(manifest()),
      package: { name: "svc", version: "0.1.0", build: "build.rs" },
      "build-dependencies": { itoa: "1" },
      workspace: {},
    });
    // The stub's own build script says when the linked dependencies are built.
    expect(readFileSync(join(stub, "build.rs"), "utf8")).toContain(
      `std::env::var_os("${LINKED_MARKER_ENV}")`,
    );
    expect(await dependencyBuildArgs(stub)).toEqual(["check"]);
    // With debuginfo (cargo's default dev profile), or a profile of the crate's, they would not share units.
    const withProfile = crate("p", {
      "Cargo.toml": manifest("\n[profile.dev]\nopt-level = 1\n"),
      "src/lib.rs": "",
      "src/cli/main.rs": "",
    });
    for (const [src, env, name] of [
      [dir, {}, "m-debug"],
      [withProfile, SHARED, "p-stub"],
    ] as const) {
      await writeDependencyStub(src, join(root, name), env);
      expect(await dependencyBuildArgs(join(root, name))).toEqual(["build", "--lib"]);
    }
  });

  it("keeps a workspace root's table and build script; dev-dependencies join, checked over every target", async () => {
    const text = manifest(
      '\n[dev-dependencies]\nryu = "1"\n\n[build-dependencies]\nitoa = { version = "1", features = [] }\n\n[workspace]\nmembers = ["."]\n',
    ).replace('version = "0.1.0"', 'version = "0.1.0"\nbuild = "tools/gen.rs"');
    const dir = crate("b", {
      "Cargo.toml": text,
      "src/cli/main.rs": "fn main() {}\n",
      "tools/gen.rs": 'fn main() { println!("cargo::rerun-if-changed=x"); }\n',
    });
    const stub = join(root, "b-stub");
    await writeDependencyStub(dir, stub, SHARED);
    const doc = parse(readFileSync(join(stub, "Cargo.toml"), "utf8")) as Record<string, unknown>;
    expect(doc.workspace).toEqual({ members: ["."] });
    expect(doc.package).toMatchObject({ build: "tools/gen.rs" });
    // The crate's own build-dependency of the same name stays as it is.
    expect(doc["build-dependencies"]).toEqual({ itoa: { version: "1", features: [] }, ryu: "1" });
    expect(readFileSync(join(stub, "tools/gen.rs"), "utf8")).toBe("fn main() {}\n");
    expect(existsSync(join(stub, "build.rs"))).toBe(false);
    expect(await dependencyBuildArgs(stub)).toEqual(["check", "--all-targets"]);
  });

  it("mirrors no path or optional dependency; with nothing to mirror the manifest stays, built as it builds", async () => {
    const local = manifest('helper = { path = "helper" }\nryu = { version = "1", optional = true }\n');
    const dir = crate("c", { "Cargo.toml": local, "src/cli/main.rs": "fn main() {}\n" });
    await writeDependencyStub(dir, join(root, "c-stub"), SHARED);
    const doc = parse(readFileSync(join(root, "c-stub", "Cargo.toml"), "utf8")) as Record<string, unknown>;
    expect(doc["build-dependencies"]).toEqual({ itoa: "1" });
    const bare = '[package]\nname = "bare"\nversion = "0.1.0"\n';
    for (const [name, files, args] of [
      [
        "d",
        {
          "src/cli/main.rs": "",
          "Cargo.toml": `${bare}\n[[bin]]\nname = "bare"\npath = "src/cli/main.rs"\n`,
        },
        ["build"],
      ],
      ["e", { "src/lib.rs": "", "Cargo.toml": bare }, ["build", "--lib"]],
      [
        "f",
        { "src/lib.rs": "", "Cargo.toml": `${bare}\n[dev-dependencies]\nhelper = { path = "h" }\n` },
        ["test", "--no-run"],
      ],
    ] as const) {
      const src = crate(name, files);
      await writeDependencyStub(src, join(root, `${name}-stub`), SHARED);
      const text = readFileSync(join(root, `${name}-stub`, "Cargo.toml"), "utf8");
      expect(text).toBe(`${files["Cargo.toml"]}\n[workspace]\n`);
      expect(await dependencyBuildArgs(join(root, `${name}-stub`))).toEqual(args);
    }
  });
});
