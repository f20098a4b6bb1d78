// A cold run's dependency build: the crate's dependency set compiled once, before its lanes start, so
// that every lane (build, checks, publish) starts from it as it would from the target cache — rather
// than one lane compiling everything and the others waiting for it, or each compiling the proc-macros
// and build scripts again. The dependencies compile for a stub of the crate: its manifests, lockfile and
// cargo configuration as they are, every Rust source an empty program. Cargo names a dependency's
// units after the dependency set (package, features, profile, rustc), never the crate's code, so the
// stub's dependency units are the crate's own.
//
// The build and the tests link the dependencies (compiled in full); clippy and the docs read only
// their metadata, which cargo compiles apart ("check" units). Both kinds come out of ONE `cargo check`
// of the stub, whose manifest also declares the dependencies as build-dependencies: with no --target,
// a build-dependency compiles exactly as the same dependency does for the build (the same unit: cargo
// then finds it fresh there), and cargo schedules the metadata-only compiles in the same job queue —
// into the time a core would otherwise wait on the proc-macros' chain — instead of the check lane
// compiling them after the step, beside the build.
import { existsSync } from "node:fs";
import { copyFile, mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { stringify } from "smol-toml";
import { isTable, parseCargoManifest, parseToml, type TomlTable } from "./manifest.js";

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
 * Its dependencies are also its build-dependencies when a build-dependency compiles as they do under
 * `env` (the environment the stub and the crate build with): see sharesBuildScriptProfile.
 */
export async function writeDependencyStub(
  crateDir: string,
  stubDir: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
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
      }),
    );
  };
  await walk("");
  const file = join(crateDir, "Cargo.toml");
  const text = await readFile(file, "utf8");
  const doc = parseToml(text, file, "CARGO_MANIFEST");
  const isRoot = doc.workspace !== undefined;
  const mirrored = sharesBuildScriptProfile(doc, crateDir, env) ? mirrorDependencies(doc) : undefined;
  if (mirrored && !isRoot) mirrored.workspace = {};
  // A manifest smol-toml cannot write back (none cargo accepts should be) is kept as it is.
  const written = mirrored ? tryStringify(mirrored) : undefined;
  if (written === undefined) {
    await writeFile(join(stubDir, "Cargo.toml"), isRoot ? text : `${text}\n[workspace]\n`);
    return;
  }
  // A build script of the stub's own (the crate has none) also says when it runs: after every linked
  // dependency, which it depends on — the lanes that use only those may start then (LINKED_MARKER_ENV).
  if (isTable(mirrored!.package) && mirrored!.package.build === BUILD_SCRIPT)
    await writeFile(join(stubDir, BUILD_SCRIPT), LINKED_MARKER_SCRIPT, { flag: "wx" }).catch(() => undefined);
  await writeFile(join(stubDir, "Cargo.toml"), `${STUB_NOTE}${written}\n`);
}

function tryStringify(doc: TomlTable): string | undefined {
  try {
    return stringify(doc);
  } catch {
    return undefined;
  }
}

/** Values of CARGO_PROFILE_DEV_DEBUG that turn debuginfo off, as build scripts and proc-macros build by default. */
const NO_DEBUGINFO = new Set(["0", "false", "none"]);

/**
 * Whether a dependency compiled for a build script (the `build-override` profile, by default: no
 * debuginfo, opt-level 0) is the same unit as the same dependency compiled for the crate (the `dev`
 * profile): the dev profile has no debuginfo (`env` says so), nothing changes either profile (no
 * [profile] table, no cargo configuration file, no opt-level from the environment), and no --target
 * separates the host's units from the target's. Otherwise a mirror would compile everything twice.
 */
function sharesBuildScriptProfile(doc: TomlTable, crateDir: string, env: NodeJS.ProcessEnv): boolean {
  if (!NO_DEBUGINFO.has(env.CARGO_PROFILE_DEV_DEBUG ?? "")) return false;
  if (env.CARGO_BUILD_TARGET || (env.CARGO_PROFILE_DEV_OPT_LEVEL ?? "0") !== "0") return false;
  if (doc.profile !== undefined) return false;
  return ![".cargo/config", ".cargo/config.toml"].some((f) => existsSync(join(crateDir, f)));
}

/** The build script a stub runs when the crate names none. */
const BUILD_SCRIPT = "build.rs";

/**
 * Set for a stub's dependency build to a file path: the stub's own build script (when the crate has
 * none) creates that file as it runs, which cargo does only once every linked dependency is built —
 * while the metadata-only units may still compile. No file by the end: the crate has a build script.
 * It also lowers cargo's priority (`renice -n 10`, where there is one), so that what the step compiles
 * after that point yields to the builds that start from the linked units.
 */
export const LINKED_MARKER_ENV = "GGEN_DEPENDENCIES_LINKED";

const LINKED_MARKER_SCRIPT = `// ggen's dependency stub: cargo runs this once the linked dependencies are built.
fn main() {
    if let Some(path) = std::env::var_os("${LINKED_MARKER_ENV}") {
        let cargo = std::os::unix::process::parent_id().to_string();
        let _ = std::process::Command::new("renice")
            .args(["-n", "10", "-p", &cargo])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status();
        let _ = std::fs::write(path, "");
    }
}
`;

const STUB_NOTE =
  "# ggen's dependency stub: the crate's manifest, its dependencies also as build-dependencies\n";

/**
 * The top manifest with every dependency the build, the tests and the checks need — normal and dev,
 * not optional, not a path of the crate's own — also declared as a build-dependency (an existing one
 * of the same name stays), and a build script to make cargo compile them. Undefined when there is
 * nothing to mirror or no package (a virtual workspace): the stub then keeps the manifest as it is.
 */
function mirrorDependencies(doc: TomlTable): TomlTable | undefined {
  const pkg = doc.package;
  if (!isTable(pkg)) return undefined;
  const inherited =
    isTable(doc.workspace) && isTable(doc.workspace.dependencies) ? doc.workspace.dependencies : {};
  const local = (name: string, spec: unknown): boolean => {
    if (!isTable(spec)) return false;
    if (spec.path !== undefined) return true;
    const shared = inherited[name];
    return spec.workspace === true && isTable(shared) && shared.path !== undefined;
  };
  const build: TomlTable = isTable(doc["build-dependencies"]) ? { ...doc["build-dependencies"] } : {};
  let added = 0;
  for (const kind of ["dependencies", "dev-dependencies"]) {
    const table = doc[kind];
    if (!isTable(table)) continue;
    for (const [name, spec] of Object.entries(table)) {
      if (name in build || local(name, spec) || (isTable(spec) && spec.optional === true)) continue;
      build[name] = spec;
      added++;
    }
  }
  if (added === 0) return undefined;
  const script = typeof pkg.build === "string" ? pkg.build : BUILD_SCRIPT;
  return { ...doc, package: { ...pkg, build: script }, "build-dependencies": build };
}

/**
 * The cargo arguments that compile, for the stub, every dependency the crate's build, tests, checks and
 * publish check need: `check` of a stub whose dependencies are mirrored as build-dependencies (see
 * writeDependencyStub), over every target when it has dev-dependencies. Otherwise they are built as
 * they build: `test --no-run` when it has dev-dependencies, else a build of its library (its
 * dependencies are every target's) or of its binaries.
 */
export async function dependencyBuildArgs(stubDir: string): Promise<string[]> {
  const file = join(stubDir, "Cargo.toml");
  const text = await readFile(file, "utf8");
  const hasDev = parseCargoManifest(text, file).dependencies.some((d) => d.kind === "dev");
  if (text.startsWith(STUB_NOTE)) return hasDev ? ["check", "--all-targets"] : ["check"];
  if (hasDev) return ["test", "--no-run"];
  const lib = parseToml(text, file, "CARGO_MANIFEST").lib;
  const hasLib = existsSync(join(stubDir, "src", "lib.rs")) || (isTable(lib) && typeof lib.path === "string");
  return hasLib ? ["build", "--lib"] : ["build"];
}
