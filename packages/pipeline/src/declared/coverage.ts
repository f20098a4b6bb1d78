// Coverage while a stage runs: llvm-cov for Rust (`-C instrument-coverage`; one instrumented test run
// gives both the test results and the figure) and V8 for Node (NODE_V8_COVERAGE of the generated
// tests). Each provider says how to run the stage and then reads the figure — or why there is none,
// never a made-up number.

import { mkdir, readdir, readFile, rm } from "node:fs/promises";
import { join, posix } from "node:path";
import type { PipelineCoverage } from "@ggen/contract";
import type { CommandOutput } from "./parsers.js";

/** Runs argv where the stages run (an environment, or the host). */
export type Exec = (
  argv: string[],
  options?: { env?: Record<string, string>; timeoutMs?: number },
) => Promise<CommandOutput>;

export interface CoverageSetup {
  /** Added to the stage's environment. */
  readonly env: Record<string, string>;
  /** The stage's command as it must run for the figure. */
  argv(argv: readonly string[]): string[];
  /** The figure after the stage ran, and the output its parser should read. */
  collect(output: CommandOutput, exec: Exec): Promise<{ coverage: PipelineCoverage; output: CommandOutput }>;
}

export interface CoverageTarget {
  /** The generated output on this machine, and as the commands see it. */
  readonly root: string;
  readonly visibleRoot: string;
  /** The target dir of the stage's lane, here and as seen (cargo). */
  readonly targetDir?: string;
  readonly visibleTargetDir?: string;
  readonly env?: Record<string, string>;
  /** llvm tools found already (the toolchain's setup looks while it prepares). */
  readonly tools?: import("@ggen/cargo").CoverageTools;
}

// ---- V8 ----------------------------------------------------------------------------------------

interface V8Range {
  startOffset: number;
  endOffset: number;
  count: number;
}
interface V8Script {
  url: string;
  functions: { ranges: V8Range[] }[];
}

/**
 * Lines of `source` run at least once, from V8's block coverage of one script (several processes'
 * dumps of it merged: a line counts as covered if any covered it). A line takes the count of the
 * innermost range that spans it whole (V8 lists outer ranges first); blank lines do not count. Pure.
 */
export function v8LineCoverage(
  source: string,
  dumps: readonly V8Script["functions"][],
): { lines: number; covered: number } {
  const lines: { start: number; end: number; blank: boolean }[] = [];
  let at = 0;
  for (const text of source.split("\n")) {
    lines.push({ start: at, end: at + text.length, blank: text.trim() === "" });
    at += text.length + 1;
  }
  const covered = new Array<boolean>(lines.length).fill(false);
  for (const functions of dumps) {
    const count = new Array<number>(lines.length).fill(0);
    for (const fn of functions)
      for (const r of fn.ranges) {
        // The lines a range spans whole are consecutive: from the first starting inside it.
        let lo = 0;
        let hi = lines.length;
        while (lo < hi) {
          const mid = (lo + hi) >> 1;
          if (lines[mid]!.start < r.startOffset) lo = mid + 1;
          else hi = mid;
        }
        for (let i = lo; i < lines.length && lines[i]!.end <= r.endOffset; i++) count[i] = r.count;
      }
    for (let i = 0; i < lines.length; i++) if (count[i]! > 0) covered[i] = true;
  }
  let n = 0;
  let c = 0;
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]!.blank) continue;
    n++;
    if (covered[i]) c++;
  }
  return { lines: n, covered: c };
}

/** A generated file the tests exercise (not a test, not a dependency). */
const isSource = (rel: string) =>
  /\.(m|c)?(j|t)s$/.test(rel) &&
  !rel.split("/").includes("node_modules") &&
  !/(^|\/)(test|tests|__tests__)\//.test(rel) &&
  !/\.(test|spec)\.(m|c)?(j|t)s$/.test(rel) &&
  !rel.startsWith(".ggen/") &&
  !rel.startsWith(".cleanroom/");

/**
 * Line coverage of the generated sources from the V8 dumps in `dir` (NODE_V8_COVERAGE): scripts under
 * `visibleRoot` (the output as the tests saw it), read from `root`.
 */
export async function readV8Coverage(
  dir: string,
  root: string,
  visibleRoot: string,
): Promise<PipelineCoverage> {
  const files = (await readdir(dir).catch(() => [] as string[])).filter((f) => f.endsWith(".json"));
  if (files.length === 0)
    return { status: "unavailable", reason: "the tests wrote no V8 coverage (NODE_V8_COVERAGE)" };
  const byFile = new Map<string, V8Script["functions"][]>();
  const prefix = `file://${visibleRoot.endsWith("/") ? visibleRoot : `${visibleRoot}/`}`;
  for (const f of files) {
    const dump = JSON.parse(await readFile(join(dir, f), "utf8")) as { result?: V8Script[] };
    for (const s of dump.result ?? []) {
      if (!s.url.startsWith(prefix)) continue;
      const rel = decodeURIComponent(s.url.slice(prefix.length));
      if (!isSource(rel)) continue;
      byFile.set(rel, [...(byFile.get(rel) ?? []), s.functions]);
    }
  }
  let lines = 0;
  let covered = 0;
  for (const [rel, dumps] of byFile) {
    const source = await readFile(join(root, ...rel.split("/")), "utf8").catch(() => undefined);
    if (source === undefined) continue;
    const c = v8LineCoverage(source, dumps);
    lines += c.lines;
    covered += c.covered;
  }
  if (lines === 0) return { status: "unavailable", reason: "the tests loaded none of the generated sources" };
  return {
    status: "measured",
    percent: Math.round((10000 * covered) / lines) / 100,
    lines,
    covered,
    tool: "v8",
  };
}

/** The V8 provider: NODE_V8_COVERAGE into the output's .ggen/coverage-v8 (emptied first). */
export async function v8Coverage(
  t: CoverageTarget,
): Promise<CoverageSetup & { read(): Promise<PipelineCoverage> }> {
  const dir = join(t.root, ".ggen", "coverage-v8");
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const read = () => readV8Coverage(dir, t.root, t.visibleRoot);
  return {
    env: { NODE_V8_COVERAGE: posix.join(t.visibleRoot, ".ggen", "coverage-v8") },
    argv: (argv) => [...argv],
    collect: async (output) => ({ coverage: await read(), output }),
    read,
  };
}

// ---- llvm-cov ------------------------------------------------------------------------------------

/** The llvm-cov provider: the stage's lane builds instrumented; the stage's `cargo test` names its executables. */
export async function llvmCoverage(
  t: CoverageTarget,
): Promise<CoverageSetup & { laneEnv: Record<string, string> }> {
  const cargo = await import("@ggen/cargo");
  const targetDir = t.targetDir ?? join(t.root, "target");
  const visibleTarget = t.visibleTargetDir ?? posix.join(t.visibleRoot, "target");
  const found =
    t.tools ??
    (await cargo.findCoverageTools({
      toolchain: cargo.requireToolchain(),
      ...(t.env ? { env: t.env } : {}),
    }));
  if (!found.available) {
    const reason = found.reason;
    return {
      env: {},
      laneEnv: {},
      argv: (argv) => [...argv],
      collect: async (output) => ({ coverage: { status: "unavailable", reason }, output }),
    };
  }
  const inst = await cargo.prepareInstrumentation(
    join(targetDir, "ggen-coverage"),
    posix.join(visibleTarget, "ggen-coverage"),
  );
  return {
    env: inst.env,
    laneEnv: inst.env,
    argv: (argv) => cargo.withJsonMessages(argv),
    collect: async (output, exec) => {
      const { objects, text } = cargo.splitTestOutput(output.stdout);
      const c = await cargo.collectCoverage({
        tools: found.tools,
        instrumentation: inst,
        objects,
        root: t.visibleRoot,
        targetDir: visibleTarget,
        run: async (argv) => {
          const r = await exec(argv);
          return { code: r.exitCode, stdout: r.stdout, stderr: r.stderr };
        },
        testRun: { code: output.exitCode, stdout: text, stderr: output.stderr },
      });
      const coverage: PipelineCoverage =
        c.status === "measured"
          ? {
              status: "measured",
              percent: c.coverage.percent,
              lines: c.coverage.lines,
              covered: c.coverage.covered,
              tool: `llvm-cov ${found.tools.llvmMajor}`,
            }
          : { status: "unavailable", reason: c.reason };
      return { coverage, output: { ...output, stdout: text } };
    },
  };
}
