// Line coverage of a crate's tests: `cargo test` with the crate's own code compiled with
// `-C instrument-coverage` (a RUSTC_WORKSPACE_WRAPPER adds the flag to the workspace's crates only, so
// the dependencies' compiled artifacts — the target cache — stay valid), then `llvm-profdata merge`
// and `llvm-cov export`. The profiles rustc writes can only be read by the LLVM it was built with, so
// the tools must be of rustc's LLVM major version; where none is found the result says
// "unavailable" and why — never a number.
import { existsSync } from "node:fs";
import { chmod, mkdir, readdir, rm, writeFile } from "node:fs/promises";
import { isAbsolute, join, posix, relative, resolve } from "node:path";
import { GgenError, which } from "@ggen/support";
import { firstLine, type RunResult, run } from "./exec.js";
import { rustcVersion, type Toolchain } from "./toolchain.js";

export interface LlvmTools {
  profdata: string;
  cov: string;
  llvmMajor: number;
}

export type CoverageTools = { available: true; tools: LlvmTools } | { available: false; reason: string };

/** The major version in `llvm-profdata --version` output ("Debian LLVM version 22.1.8" → 22). */
export function parseLlvmVersion(text: string): number | undefined {
  const m = /LLVM version (\d+)\./.exec(text);
  return m ? Number(m[1]) : undefined;
}

export interface FindToolsOptions {
  toolchain: Toolchain;
  env?: NodeJS.ProcessEnv;
  /** Use exactly these (no search): how a caller pins its tools, and how tests point at a missing one. */
  tools?: { profdata: string; cov: string };
}

async function llvmMajorOf(
  tool: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<number | undefined> {
  const r = await run(tool, args, { env }).catch(() => undefined);
  return r ? parseLlvmVersion(r.stdout + r.stderr) : undefined;
}

/**
 * llvm-profdata and llvm-cov of rustc's LLVM major version: given ones only, else $LLVM_PROFDATA and
 * $LLVM_COV, rustup's llvm-tools component, /usr/lib/llvm-<major>/bin (Debian's llvm-<major>), then
 * llvm-profdata-<major> and llvm-profdata on PATH.
 */
export function findCoverageTools(opts: FindToolsOptions): Promise<CoverageTools> {
  const env = { ...process.env, ...opts.env, ...opts.toolchain.env };
  const key = [
    opts.toolchain.rustc,
    opts.tools?.profdata ?? "",
    opts.tools?.cov ?? "",
    ...["RUSTUP_TOOLCHAIN", "LLVM_PROFDATA", "LLVM_COV", "PATH"].map((k) => env[k] ?? ""),
  ].join("\0");
  let found = toolLookups.get(key);
  if (!found) {
    found = lookUpCoverageTools(opts, env);
    toolLookups.set(key, found);
    found.catch(() => toolLookups.delete(key));
  }
  return found;
}

// One lookup per rustc and search path per process (like `rustc -vV`): a run's setup may start it early,
// while the pack's output is still being generated, and use the answer when it needs it.
const toolLookups = new Map<string, Promise<CoverageTools>>();

async function lookUpCoverageTools(opts: FindToolsOptions, env: NodeJS.ProcessEnv): Promise<CoverageTools> {
  // The sysroot is asked for alongside the version: each probe is a process start.
  const sysrootRun = opts.tools
    ? undefined
    : run(opts.toolchain.rustc, ["--print", "sysroot"], { env }).catch(() => undefined);
  const rustc = await rustcVersion(opts.toolchain, env);
  const major = rustc.version.llvmMajor;
  if (major === undefined)
    return { available: false, reason: `rustc ${rustc.version.release} does not report its LLVM version` };
  const candidates: { profdata: string; cov: string }[] = [];
  if (opts.tools) candidates.push(opts.tools);
  else {
    if (env.LLVM_PROFDATA && env.LLVM_COV)
      candidates.push({ profdata: env.LLVM_PROFDATA, cov: env.LLVM_COV });
    const sysroot = await sysrootRun;
    if (sysroot?.code === 0) {
      const bin = join(sysroot.stdout.trim(), "lib", "rustlib", rustc.version.host, "bin");
      candidates.push({ profdata: join(bin, "llvm-profdata"), cov: join(bin, "llvm-cov") });
    }
    const debian = `/usr/lib/llvm-${major}/bin`;
    candidates.push({ profdata: join(debian, "llvm-profdata"), cov: join(debian, "llvm-cov") });
    for (const suffix of [`-${major}`, ""]) {
      const profdata = which(`llvm-profdata${suffix}`, env);
      const cov = which(`llvm-cov${suffix}`, env);
      if (profdata && cov) candidates.push({ profdata, cov });
    }
  }
  const rejected: string[] = [];
  for (const c of candidates) {
    if (!existsSync(c.profdata) || !existsSync(c.cov)) {
      if (opts.tools) rejected.push(`${existsSync(c.profdata) ? c.cov : c.profdata} does not exist`);
      continue;
    }
    // Older llvm-profdata answers --version only under a subcommand.
    const [profdata, cov] = await Promise.all([
      llvmMajorOf(c.profdata, ["merge", "--version"], env),
      llvmMajorOf(c.cov, ["--version"], env),
    ]);
    if (profdata === major && cov === major) return { available: true, tools: { ...c, llvmMajor: major } };
    const [tool, found] = profdata === major ? [c.cov, cov] : [c.profdata, profdata];
    const what = `${tool} is ${found === undefined ? "of an unknown LLVM" : `LLVM ${found}`}`;
    if (!rejected.includes(what)) rejected.push(what);
  }
  const why = rejected.length > 0 ? `: ${rejected.join("; ")}` : "";
  return {
    available: false,
    reason: `no llvm-profdata/llvm-cov of LLVM ${major} (rustc ${rustc.version.release}'s)${why}; install llvm-${major} or rustup's llvm-tools`,
  };
}

export interface FileCoverage {
  /** Relative to the crate. */
  file: string;
  lines: number;
  covered: number;
  percent: number;
}

export interface LineCoverage {
  /** Percent of the crate's lines run by its tests, two decimals. */
  percent: number;
  lines: number;
  covered: number;
  files: FileCoverage[];
}

const round2 = (n: number) => Math.round(n * 100) / 100;

interface LlvmCovExport {
  data?: { files?: { filename: string; summary: { lines: { count: number; covered: number } } }[] }[];
}

/** Line coverage of the crate's own files (under `root`, not under `target`) from `llvm-cov export` JSON. Pure. */
export function parseLlvmCovExport(
  json: string,
  opts: { root: string; exclude?: readonly string[] },
): LineCoverage {
  const doc = JSON.parse(json) as LlvmCovExport;
  const root = resolve(opts.root);
  const exclude = (opts.exclude ?? [join(root, "target")]).map((d) => resolve(d));
  const files: FileCoverage[] = [];
  for (const f of doc.data?.[0]?.files ?? []) {
    const abs = isAbsolute(f.filename) ? f.filename : resolve(root, f.filename);
    const rel = relative(root, abs);
    if (rel.startsWith("..") || isAbsolute(rel) || exclude.some((d) => abs === d || abs.startsWith(`${d}/`)))
      continue;
    const { count, covered } = f.summary.lines;
    files.push({
      file: rel,
      lines: count,
      covered,
      percent: count === 0 ? 100 : round2((100 * covered) / count),
    });
  }
  files.sort((a, b) => a.file.localeCompare(b.file));
  const lines = files.reduce((n, f) => n + f.lines, 0);
  const covered = files.reduce((n, f) => n + f.covered, 0);
  if (lines === 0) throw new GgenError("COVERAGE", `llvm-cov reported no line of ${root}`);
  return { percent: round2((100 * covered) / lines), lines, covered, files };
}

export interface CoverageOptions {
  crateDir: string;
  toolchain: Toolchain;
  /** The cargo run's environment additions: CARGO_HOME (cargo home), CARGO_TARGET_DIR (target cache). */
  env?: NodeJS.ProcessEnv;
  tools?: { profdata: string; cov: string };
  /** Arguments after `cargo test` (e.g. ["--", "--test-threads=2"]). */
  testArgs?: string[];
  signal?: AbortSignal;
  timeoutMs?: number;
}

export interface TestRun {
  exitCode: number | null;
  /** libtest's output (cargo's JSON messages taken out) and cargo's stderr: what a libtest parser reads. */
  stdout: string;
  stderr: string;
}

export type CoverageResult =
  | ({ status: "measured"; tools: LlvmTools; tests: TestRun } & LineCoverage)
  | { status: "unavailable"; reason: string; tests?: TestRun };

/** "87.5 %" or "unavailable (reason)": the report's coverage line. */
export function describeCoverage(r: CoverageResult): string {
  return r.status === "measured" ? `${r.percent} %` : `unavailable (${r.reason})`;
}

/** Runs a command somewhere (the host, or an environment) and keeps its output. */
export type ToolRunner = (argv: string[]) => Promise<RunResult>;

export interface Instrumentation {
  /** Merge into the environment of every cargo run that should build instrumented (one target dir). */
  env: { RUSTC_WORKSPACE_WRAPPER: string; LLVM_PROFILE_FILE: string };
  /** Where the profiles land, on this machine. */
  profilesDir: string;
  /** The same, as the commands see it. */
  visibleProfilesDir: string;
  /** The merged profile, as the commands see it. */
  visibleMerged: string;
}

/**
 * Sets up instrumented builds of a crate's own code: a RUSTC_WORKSPACE_WRAPPER that adds
 * `-C instrument-coverage` (to the workspace's crates only, so the dependencies' cached artifacts stay
 * valid) and a fresh profiles dir. `dir` is a directory of this machine; `visibleDir` is the same
 * directory as the commands see it (they may run in an environment that mounts it elsewhere).
 */
export async function prepareInstrumentation(
  dir: string,
  visibleDir: string = dir,
): Promise<Instrumentation> {
  const profilesDir = join(dir, "profiles");
  await rm(profilesDir, { recursive: true, force: true });
  await mkdir(profilesDir, { recursive: true });
  const wrapper = join(dir, "instrument-rustc.sh");
  await writeFile(
    wrapper,
    '#!/bin/sh\n# cargo runs: <wrapper> <rustc> <args…>\nexec "$@" -C instrument-coverage\n',
  );
  await chmod(wrapper, 0o755);
  const visibleProfilesDir = posix.join(visibleDir, "profiles");
  return {
    env: {
      RUSTC_WORKSPACE_WRAPPER: posix.join(visibleDir, "instrument-rustc.sh"),
      LLVM_PROFILE_FILE: posix.join(visibleProfilesDir, "%p-%m.profraw"),
    },
    profilesDir,
    visibleProfilesDir,
    visibleMerged: posix.join(visibleDir, "merged.profdata"),
  };
}

/** `cargo test …` with `--message-format=json` added (before any `--`), so the test executables are named. */
export function withJsonMessages(argv: readonly string[]): string[] {
  if (argv.some((a) => a.startsWith("--message-format"))) return [...argv];
  const end = argv.indexOf("--");
  const at = end < 0 ? argv.length : end;
  return [...argv.slice(0, at), "--message-format=json", ...argv.slice(at)];
}

/** Splits `cargo test --message-format=json` stdout into the executables built and libtest's own text. */
export function splitTestOutput(stdout: string): { objects: string[]; text: string } {
  const objects = new Set<string>();
  const text: string[] = [];
  for (const line of stdout.split("\n")) {
    if (line.startsWith('{"reason":')) {
      try {
        const msg = JSON.parse(line) as { reason: string; executable?: string | null };
        if (msg.reason === "compiler-artifact" && msg.executable) objects.add(msg.executable);
      } catch {
        text.push(line);
      }
    } else text.push(line);
  }
  return { objects: [...objects], text: text.join("\n") };
}

/** Why no coverage came out of a test run that produced no profile. */
function noProfileReason(r: RunResult): string {
  return r.code !== 0
    ? `cargo test failed: ${firstLine(
        r.stderr
          .split("\n")
          .filter((l) => l.startsWith("error"))
          .join("\n") || r.stderr,
      )}`
    : "the tests wrote no profile";
}

export interface CollectOptions {
  tools: LlvmTools;
  instrumentation: Instrumentation;
  /** The executables the instrumented test run built, as the commands see them. */
  objects: readonly string[];
  /** The crate, and its target dir, as the commands see them. */
  root: string;
  targetDir: string;
  /** Runs llvm-profdata / llvm-cov where the profiles and objects are (default: here). */
  run?: ToolRunner;
  /** The test run's result, to say why there is no profile. */
  testRun?: RunResult;
}

/** Merges the profiles an instrumented run wrote and measures the crate's line coverage. */
export async function collectCoverage(
  o: CollectOptions,
): Promise<{ status: "measured"; coverage: LineCoverage } | { status: "unavailable"; reason: string }> {
  const exec: ToolRunner = o.run ?? (([cmd, ...args]) => run(cmd!, args));
  const raw = (await readdir(o.instrumentation.profilesDir).catch(() => [] as string[]))
    .filter((f) => f.endsWith(".profraw"))
    .sort()
    .map((f) => posix.join(o.instrumentation.visibleProfilesDir, f));
  if (raw.length === 0 || o.objects.length === 0)
    return {
      status: "unavailable",
      reason: o.testRun ? noProfileReason(o.testRun) : "the tests wrote no profile",
    };
  const merged = o.instrumentation.visibleMerged;
  const merge = await exec([o.tools.profdata, "merge", "-sparse", "-o", merged, ...raw]);
  if (merge.code !== 0)
    return { status: "unavailable", reason: `llvm-profdata merge failed: ${firstLine(merge.stderr)}` };
  const [first, ...rest] = o.objects;
  const exp = await exec([
    o.tools.cov,
    "export",
    "-format=text",
    "-summary-only",
    `-instr-profile=${merged}`,
    first!,
    ...rest.flatMap((obj) => ["-object", obj]),
  ]);
  if (exp.code !== 0)
    return { status: "unavailable", reason: `llvm-cov export failed: ${firstLine(exp.stderr)}` };
  try {
    return {
      status: "measured",
      coverage: parseLlvmCovExport(exp.stdout, { root: o.root, exclude: [o.targetDir] }),
    };
  } catch (e) {
    return { status: "unavailable", reason: (e as Error).message };
  }
}

/**
 * Runs the crate's tests instrumented and measures their line coverage. The tests' own result comes
 * back too (`tests`), so one run can serve both the test stage and coverage. When no matching LLVM is
 * found the tests are not run and the result is "unavailable".
 */
export async function measureCoverage(opts: CoverageOptions): Promise<CoverageResult> {
  const found = await findCoverageTools(opts);
  if (!found.available) return { status: "unavailable", reason: found.reason };
  const { tools } = found;
  const crateDir = resolve(opts.crateDir);
  const env: NodeJS.ProcessEnv = { ...process.env, ...opts.env, ...opts.toolchain.env };
  const targetDir = resolve(env.CARGO_TARGET_DIR ?? join(crateDir, "target"));
  const instrumentation = await prepareInstrumentation(join(targetDir, "ggen-coverage"));
  const r = await run(opts.toolchain.cargo, withJsonMessages(["test", ...(opts.testArgs ?? [])]), {
    cwd: crateDir,
    env: { ...env, ...instrumentation.env, CARGO_TARGET_DIR: targetDir },
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}),
  });
  const { objects, text } = splitTestOutput(r.stdout);
  const tests: TestRun = { exitCode: r.code, stdout: text, stderr: r.stderr };
  const c = await collectCoverage({
    tools,
    instrumentation,
    objects,
    root: crateDir,
    targetDir,
    run: ([cmd, ...args]) => run(cmd!, args, { env }),
    testRun: r,
  });
  if (c.status === "unavailable") return { status: "unavailable", reason: c.reason, tests };
  return { status: "measured", tools, tests, ...c.coverage };
}
