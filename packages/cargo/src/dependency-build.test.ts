import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { dependencyBuildArgs, writeDependencyStub } from "./dependency-build.js";

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
    await writeDependencyStub(dir, stub);
    for (const rel of ["src/lib.rs", "src/cli/main.rs", "tests/it.rs"])
      expect(readFileSync(join(stub, rel), "utf8")).toBe("fn main() {}\n");
    for (const rel of ["Cargo.lock", "rust-toolchain.toml", ".cargo/config.toml"])
      expect(readFileSync(join(stub, rel), "utf8")).toBe(readFileSync(join(dir, rel), "utf8"));
    // A workspace root of its own: it sits inside the crate's target dir.
    expect(readFileSync(join(stub, "Cargo.toml"), "utf8")).toBe(`${manifest()}\n[workspace]\n`);
    for (const rel of ["README.md", "target", ".git"]) expect(existsSync(join(stub, rel))).toBe(false);
    expect(await dependencyBuildArgs(stub)).toEqual(["build", "--lib"]);
  });

  it("leaves a workspace root's manifest as it is; dev-dependencies build with the tests", async () => {
    const text = manifest('\n[dev-dependencies]\nryu = "1"\n\n[workspace]\nmembers = ["."]\n');
    const dir = crate("b", { "Cargo.toml": text, "src/cli/main.rs": "fn main() {}\n" });
    const stub = join(root, "b-stub");
    await writeDependencyStub(dir, stub);
    expect(readFileSync(join(stub, "Cargo.toml"), "utf8")).toBe(text);
    expect(await dependencyBuildArgs(stub)).toEqual(["test", "--no-run"]);
    const binOnly = crate("c", { "Cargo.toml": manifest(), "src/cli/main.rs": "fn main() {}\n" });
    await writeDependencyStub(binOnly, join(root, "c-stub"));
    expect(await dependencyBuildArgs(join(root, "c-stub"))).toEqual(["build"]);
  });
});
