// A cold run's dependency build: the crate's dependency set compiled once, before its lanes start, so
// that every lane (build, checks, publish) starts from it as it would from the target cache — rather
// than one lane compiling everything and the others waiting for it, or each compiling the proc-macros
// and build scripts again. The dependencies compile for a stub of the crate: its manifests, lockfile and
// cargo configuration as they are, every Rust source an empty program. Cargo names a dependency's
// units after the dependency set (package, features, profile, rustc), never the crate's code, so the
// stub's dependency units are the crate's own.
import { existsSync } from "node:fs";
import { copyFile, mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { isTable, parseCargoManifest, parseToml } from "./manifest.js";

/** Under a crate's target dir: where a cold run's dependency build happens (target/tmp, never cached). */
export const DEPENDENCY_BUILD_DIR = join("tmp", "ggen-dependencies");

/** `fn main() {}` compiles as a library, a binary, a test, an example, a bench and a build script. */
const STUB = "fn main() {}\n";

/** Files copied as they are: they decide how cargo resolves and compiles (toolchain, config, lockfile). */
const KEPT = new Set(["Cargo.toml", "Cargo.lock", "rust-toolchain", "rust-toolchain.toml"]);

/**
 * Writes the stub of `crateDir` into `stubDir` (which should not exist yet): Cargo.toml files, the
 * lockfile, `.cargo/config(.toml)` and rust-toolchain files copied; every `.rs` file an empty program
 * (any target path, declared or found by convention, is there). Skips target/, hidden directories but
 * .cargo, and node_modules. The top manifest becomes a workspace root of its own, unless it is one:
 * the stub sits inside the crate's target dir, where cargo would otherwise take it for a stray member.
 */
export async function writeDependencyStub(crateDir: string, stubDir: string): Promise<void> {
  const walk = async (rel: string): Promise<void> => {
    const entries = await readdir(join(crateDir, rel), { withFileTypes: true });
    await Promise.all(
      entries.map(async (e) => {
        const path = rel ? join(rel, e.name) : e.name;
        if (e.isDirectory()) {
          if ((rel === "" && e.name === "target") || e.name === "node_modules") return;
          if (e.name.startsWith(".") && e.name !== ".cargo") return;
          return walk(path);
        }
        if (!e.isFile()) return;
        const inCargoDir = rel.split("/").at(-1) === ".cargo";
        const kept = KEPT.has(e.name) || (inCargoDir && /^config(\.toml)?$/.test(e.name));
        if (!kept && !e.name.endsWith(".rs")) return;
        await mkdir(join(stubDir, rel), { recursive: true });
        if (!kept) return writeFile(join(stubDir, path), STUB);
        if (path !== "Cargo.toml") return copyFile(join(crateDir, path), join(stubDir, path));
        const text = await readFile(join(crateDir, path), "utf8");
        const isRoot = parseToml(text, join(crateDir, path), "CARGO_MANIFEST").workspace !== undefined;
        await writeFile(join(stubDir, path), isRoot ? text : `${text}\n[workspace]\n`);
      }),
    );
  };
  await walk("");
}

/**
 * The cargo arguments that compile, for the stub, every dependency the crate's build, tests and
 * publish check need, built as they build: `test --no-run` when it has dev-dependencies, else a build
 * of its library (its dependencies are every target's) or of its binaries.
 */
export async function dependencyBuildArgs(stubDir: string): Promise<string[]> {
  const file = join(stubDir, "Cargo.toml");
  const text = await readFile(file, "utf8");
  if (parseCargoManifest(text, file).dependencies.some((d) => d.kind === "dev")) return ["test", "--no-run"];
  const lib = parseToml(text, file, "CARGO_MANIFEST").lib;
  const hasLib = existsSync(join(stubDir, "src", "lib.rs")) || (isTable(lib) && typeof lib.path === "string");
  return hasLib ? ["build", "--lib"] : ["build"];
}
