// The Rust toolchain as this machine has it: rustup puts cargo, rustc, clippy and rustfmt in
// ~/.cargo/bin, which a CI shell or a cleaned environment may not have on PATH. We find cargo there
// too and hand every run an environment that reaches the same toolchain whatever CARGO_HOME says.
import { accessSync, constants, existsSync } from "node:fs";
import { homedir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { GgenError, which } from "@ggen/support";
import { firstLine, run } from "./exec.js";

export interface Toolchain {
  cargo: string;
  rustc: string;
  /** The directory cargo was found in (rustup's proxies live there). */
  binDir: string;
  /** PATH with binDir first, and RUSTUP_HOME when rustup's default exists: merge into a run's env. */
  env: Record<string, string>;
}

const executable = (file: string) => {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

/** cargo on PATH, else in $CARGO_HOME/bin, else in ~/.cargo/bin (rustup's default); undefined if none. */
export function findToolchain(env: NodeJS.ProcessEnv = process.env): Toolchain | undefined {
  const home = env.HOME ?? homedir();
  const candidates = [
    which("cargo", env),
    env.CARGO_HOME ? join(env.CARGO_HOME, "bin", "cargo") : undefined,
    join(home, ".cargo", "bin", "cargo"),
  ];
  const cargo = candidates.find((c): c is string => c !== undefined && executable(c));
  if (!cargo) return undefined;
  const binDir = dirname(cargo);
  const rustc = executable(join(binDir, "rustc")) ? join(binDir, "rustc") : (which("rustc", env) ?? "rustc");
  const out: Record<string, string> = { PATH: [binDir, env.PATH ?? ""].filter(Boolean).join(delimiter) };
  // rustup finds its toolchains through RUSTUP_HOME (default ~/.rustup); pin it so a run with another
  // HOME or CARGO_HOME still reaches them.
  const rustupHome = env.RUSTUP_HOME ?? join(home, ".rustup");
  if (existsSync(rustupHome)) out.RUSTUP_HOME = rustupHome;
  return { cargo, rustc, binDir, env: out };
}

/** Like findToolchain, but a missing cargo is an error saying what to install. */
export function requireToolchain(env: NodeJS.ProcessEnv = process.env): Toolchain {
  const t = findToolchain(env);
  if (!t)
    throw new GgenError("CARGO_NOT_FOUND", "cargo was not found on PATH nor in ~/.cargo/bin", {
      hint: "install Rust with rustup (cargo, rustc, clippy, rustfmt)",
    });
  return t;
}

export interface RustcVersion {
  /** "1.95.0" */
  release: string;
  host: string;
  commitHash?: string;
  /** "22.1.2", when rustc reports its LLVM. */
  llvmVersion?: string;
  llvmMajor?: number;
}

/** Reads `rustc -vV`. */
export function parseRustcVersion(text: string): RustcVersion {
  const field = (name: string) => new RegExp(`^${name}: (.+)$`, "m").exec(text)?.[1]?.trim();
  const release = field("release");
  const host = field("host");
  if (!release || !host)
    throw new GgenError("RUSTC_VERSION", `unexpected 'rustc -vV' output: ${firstLine(text) || "(empty)"}`);
  const out: RustcVersion = { release, host };
  const commit = field("commit-hash");
  if (commit) out.commitHash = commit;
  const llvm = field("LLVM version");
  if (llvm) {
    out.llvmVersion = llvm;
    out.llvmMajor = Number(llvm.split(".")[0]);
  }
  return out;
}

/** `rustc -vV` of the toolchain, raw (it feeds cache keys) and parsed. */
// One `rustc -vV` per rustc (and rustup toolchain override) per process: every cache key and coverage
// lookup of a run asks for it, and a rustc does not change under a running program.
const versions = new Map<string, Promise<{ text: string; version: RustcVersion }>>();

export function rustcVersion(
  toolchain: Toolchain,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ text: string; version: RustcVersion }> {
  const key = [toolchain.rustc, env.RUSTUP_TOOLCHAIN ?? "", env.RUSTC ?? ""].join("\0");
  let p = versions.get(key);
  if (!p) {
    p = run(toolchain.rustc, ["-vV"], { env: { ...env, ...toolchain.env } }).then((r) => {
      if (r.code !== 0)
        throw new GgenError(
          "RUSTC_VERSION",
          `'rustc -vV' failed: ${firstLine(r.stderr) || `exit ${r.code}`}`,
        );
      return { text: r.stdout, version: parseRustcVersion(r.stdout) };
    });
    versions.set(key, p);
    p.catch(() => versions.delete(key));
  }
  return p;
}
