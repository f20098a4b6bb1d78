// Runners: which program runs a test file, the command it gets, and how its machine-readable output
// becomes per-test results. Chosen by file type, or forced with `runner`:
//   *.test|spec.{js,mjs,cjs,ts,mts,cts}  vitest when the nearest package.json uses vitest, else node's test
//                                         runner in the file's own process (node --test-reporter=tap <file>),
//                                         or, asked for (`batch`), the ES module files in one process
//                                         (node-batch.ts)
//   *.sh                                  sh/bash; TAP on stdout gives per-test results, else one result per file
//   *.rs, Cargo.toml, a crate dir         cargo test (libtest output); tests/<x>.rs runs `--test <x>`
//   anything else                         run as a command; its exit code is its one result

import { existsSync, readFileSync, statSync } from "node:fs";
import { basename, dirname, join, relative, sep } from "node:path";
import type { ExecResult } from "@ggen/cleanroom-backends";
import type { TestResult } from "@ggen/contract";
import { tail } from "../exec.js";
import { parseLibtest } from "./libtest.js";
import { BATCH_FLAGS, BATCH_SOURCE, batchResults, isEsmFile } from "./node-batch.js";
import { type ParsedTest, parseTap } from "./tap.js";
import { parseVitestJson } from "./vitest-json.js";

export { parseLibtest } from "./libtest.js";
export type { ParsedTest } from "./tap.js";
export { parseTap } from "./tap.js";
export { parseVitestJson } from "./vitest-json.js";

export const runnerNames = ["node", "vitest", "shell", "cargo", "command"] as const;
export type RunnerName = (typeof runnerNames)[number];

/** One invocation of a runner: the files it covers, relative to the run's root (posix separators). */
export interface TestUnit {
  runner: RunnerName;
  /** Directory the runner starts in, relative to the root ("." for the root). */
  dir: string;
  files: string[];
  /** For cargo: `--test <name>` when a single integration test file was asked for. */
  cargoTest?: string;
}

const JS_TEST = /\.(test|spec)\.(c|m)?(j|t)s$/;
const toPosix = (p: string) => p.split(sep).join("/");

function nearest(root: string, fromDir: string, name: string): string | undefined {
  let dir = fromDir;
  for (;;) {
    if (existsSync(join(dir, name))) return dir;
    if (dir === root || !dir.startsWith(root)) return undefined;
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

function usesVitest(pkgDir: string | undefined): boolean {
  if (!pkgDir) return false;
  try {
    const pkg = JSON.parse(readFileSync(join(pkgDir, "package.json"), "utf8")) as Record<string, unknown>;
    const deps = { ...(pkg.dependencies as object), ...(pkg.devDependencies as object) };
    const scripts = (pkg.scripts ?? {}) as Record<string, string>;
    return "vitest" in deps || /\bvitest\b/.test(scripts.test ?? "");
  } catch {
    return false;
  }
}

/** The runner for one file (absolute path) under root. */
export function detectRunner(root: string, file: string): RunnerName {
  const name = basename(file);
  if (name.endsWith(".sh")) return "shell";
  if (name === "Cargo.toml" || name.endsWith(".rs")) return "cargo";
  try {
    if (statSync(file).isDirectory()) return existsSync(join(file, "Cargo.toml")) ? "cargo" : "command";
  } catch {
    // a missing file is reported by the caller
  }
  if (JS_TEST.test(name)) return usesVitest(nearest(root, dirname(file), "package.json")) ? "vitest" : "node";
  return "command";
}

export interface PlanOptions {
  /** node's ES module test files in one process (node-batch.ts), not one process each. */
  batch?: boolean;
}

/**
 * Groups files into runner invocations: one per file, but one per project for vitest, per crate for
 * cargo, and (with `batch`) one for node's ES module files.
 */
export function planUnits(
  root: string,
  files: readonly string[],
  force?: RunnerName,
  options: PlanOptions = {},
): TestUnit[] {
  const units: TestUnit[] = [];
  let batch: TestUnit | undefined;
  const vitest = new Map<string, TestUnit>();
  const cargo = new Map<string, TestUnit>();
  for (const abs of files) {
    const rel = toPosix(relative(root, abs)) || ".";
    const runner = force ?? detectRunner(root, abs);
    if (runner === "vitest") {
      const dir = toPosix(relative(root, nearest(root, dirname(abs), "package.json") ?? root)) || ".";
      const u = vitest.get(dir) ?? { runner, dir, files: [] };
      if (!vitest.has(dir)) units.push(u);
      vitest.set(dir, u);
      u.files.push(rel);
    } else if (runner === "cargo") {
      const start = statSync(abs, { throwIfNoEntry: false })?.isDirectory() ? abs : dirname(abs);
      const crate = nearest(root, start, "Cargo.toml") ?? start;
      const dir = toPosix(relative(root, crate)) || ".";
      const inTests = /(^|\/)tests\/[^/]+\.rs$/.test(toPosix(relative(crate, abs)));
      const key = inTests ? `${dir}\0${rel}` : dir;
      if (cargo.has(key)) {
        cargo.get(key)!.files.push(rel);
        continue;
      }
      const u: TestUnit = { runner, dir, files: [rel] };
      if (inTests) u.cargoTest = basename(abs, ".rs");
      cargo.set(key, u);
      units.push(u);
    } else if (runner === "node" && options.batch && isEsmFile(root, abs)) {
      if (!batch) {
        batch = { runner, dir: ".", files: [] };
        units.push(batch);
      }
      batch.files.push(rel);
    } else units.push({ runner, dir: ".", files: [rel] });
  }
  return units;
}

export interface CommandContext {
  /** The node binary inside the environment ("node" on its PATH by default). */
  node?: string;
  /** Host root, to find local tool binaries (vitest). */
  root: string;
}

const rel = (from: string, to: string) => toPosix(relative(from, to)) || ".";

/** The argv for a unit, to run with cwd = the unit's dir. */
export function unitCommand(unit: TestUnit, ctx: CommandContext): string[] {
  const node = ctx.node ?? "node";
  const inDir = (f: string) => rel(unit.dir, f);
  switch (unit.runner) {
    case "node": {
      if (unit.files.length > 1)
        return [
          node,
          ...BATCH_FLAGS,
          "--test-reporter=tap",
          "--input-type=module",
          "-e",
          BATCH_SOURCE,
          ...unit.files.map(inDir),
        ];
      const f = unit.files[0]!;
      const strip = /\.(c|m)?ts$/.test(f) ? ["--experimental-strip-types"] : [];
      // The file runs in the reporting process itself: `node --test <file>` would start a second
      // process just to run it (twice the start-up cost per file, ~40% of a small file's CPU).
      return [node, ...strip, "--test-reporter=tap", inDir(f)];
    }
    case "vitest": {
      const abs = join(ctx.root, unit.dir);
      // The project's own vitest, found the way node would (upwards, past the root).
      const bin = nearest("/", abs, join("node_modules", "vitest", "vitest.mjs"));
      const entry = bin ? rel(abs, join(bin, "node_modules", "vitest", "vitest.mjs")) : undefined;
      const head = entry ? [node, entry] : ["npx", "--no-install", "vitest"];
      // Environments live under .cleanroom/ and may link back to the project: never collect from there.
      const exclude = ["--exclude", "**/.cleanroom/**"];
      return [...head, "run", "--reporter=json", "--passWithNoTests", ...exclude, ...unit.files.map(inDir)];
    }
    case "shell": {
      const f = unit.files[0]!;
      let shell = "sh";
      try {
        const first = readFileSync(join(ctx.root, f), "utf8").split("\n", 1)[0] ?? "";
        if (/bash/.test(first)) shell = "bash";
      } catch {
        // missing files are caught before this
      }
      return [shell, inDir(f)];
    }
    case "cargo":
      return ["cargo", "test", "--no-fail-fast", ...(unit.cargoTest ? ["--test", unit.cargoTest] : [])];
    case "command":
      return [`./${inDir(unit.files[0]!)}`.replace(/^\.\/\.\.\//, "../")];
  }
}

function toResult(file: string, t: ParsedTest): TestResult {
  const r: TestResult = {
    id: `${file}#${t.suite ? `${t.suite} > ` : ""}${t.name}`,
    file,
    name: t.name,
    status: t.status,
    durationMs: Math.round(t.durationMs * 1000) / 1000,
  };
  if (t.suite) r.suite = t.suite;
  if (t.failureMessage) r.failureMessage = t.failureMessage;
  if (t.outputTail) r.outputTail = t.outputTail;
  // A line only when the location is in this file (the environment may see it under another root).
  const loc = t.location;
  if (loc && loc.line >= 1 && (loc.file === file || loc.file.endsWith(`/${file}`))) r.line = loc.line;
  return r;
}

/**
 * Per-test results of a unit from its runner's output; a whole-file result when there are none.
 * `killedBy` names the resource limit that stopped the runner ("memory limit 512 MiB reached: killed").
 */
export function parseUnit(unit: TestUnit, result: ExecResult, root: string, killedBy?: string): TestResult[] {
  const file0 = unit.files[0]!;
  let tests: TestResult[] = [];
  const output = `${result.stdout}\n${result.stderr}`;
  if (unit.runner === "node" && unit.files.length > 1) {
    // Every file has its results, or one saying why it has none; the checks below are the process's.
    tests = batchResults(unit.files, parseTap(result.stdout, { node: true }), result, toResult);
  } else if (unit.runner === "node") {
    tests = parseTap(result.stdout, { node: true }).map((t) => toResult(file0, t));
    // A file that failed to load (or threw before any test) printed no test: one errored result, with
    // node's error line as the message.
    if (tests.length === 0 && result.exitCode !== 0 && !result.timedOut) {
      const err = result.stderr.split("\n").find((l) => /^\w*(Error|Exception)\b/.test(l));
      tests.push({
        id: `${file0}#(file)`,
        file: file0,
        name: "(file)",
        status: "errored",
        durationMs: Math.round(result.durationMs),
        failureMessage:
          err ?? `node exited with ${result.exitCode ?? `signal ${result.signal}`} before any test`,
        outputTail: tail(output),
      });
    }
  } else if (unit.runner === "shell" || unit.runner === "command") {
    // Scripts speak TAP only when they say so (a version line or a plan).
    if (/^(TAP version \d+|1\.\.\d+)\s*$/m.test(result.stdout))
      tests = parseTap(result.stdout).map((t) => toResult(file0, t));
  } else if (unit.runner === "vitest") {
    for (const f of parseVitestJson(result.stdout)) {
      // vitest names files by absolute path as the environment sees them; map back to ours.
      const file =
        unit.files.find((u) => f.file === u || f.file.endsWith(`/${u}`)) ??
        (f.file.startsWith("/") ? toPosix(relative(root, f.file)) : f.file);
      tests.push(...f.tests.map((t) => toResult(file, t)));
    }
  } else if (unit.runner === "cargo") {
    tests = parseLibtest(output).map((t) => toResult(file0, t));
  }
  const failedTests = tests.some(
    (t) => t.status === "failed" || t.status === "errored" || t.status === "timed-out",
  );
  const label = unit.runner === "cargo" ? unit.dir : file0;
  if (killedBy && !result.timedOut) {
    // A limit stopped the runner: that is the failure, whatever it printed before.
    tests.push({
      id: `${label}#(limit)`,
      file: file0,
      name: "(limit)",
      status: "errored",
      durationMs: Math.round(result.durationMs),
      failureMessage: killedBy,
      outputTail: tail(output),
    });
  } else if (result.timedOut) {
    tests.push({
      id: `${label}#(timed out)`,
      file: file0,
      name: "(timed out)",
      status: "timed-out",
      durationMs: Math.round(result.durationMs),
      failureMessage: `${unit.runner} run timed out after ${Math.round(result.durationMs)} ms`,
      outputTail: tail(output),
    });
  } else if (tests.length === 0) {
    const ok = result.exitCode === 0;
    const t: TestResult = {
      id: `${label}#${basename(label)}`,
      file: file0,
      name: basename(label),
      status: ok ? "passed" : "failed",
      durationMs: Math.round(result.durationMs),
    };
    if (!ok) {
      t.failureMessage = `exit code ${result.exitCode ?? `signal ${result.signal}`}`;
      t.outputTail = tail(output);
    }
    tests.push(t);
  } else if (result.exitCode !== 0 && !failedTests) {
    // The runner failed although every test it reported passed (a crash after the tests, a bad exit).
    tests.push({
      id: `${label}#(runner)`,
      file: file0,
      name: "(runner)",
      status: "errored",
      durationMs: 0,
      failureMessage: `${unit.runner} exited with ${result.exitCode ?? `signal ${result.signal}`}`,
      outputTail: tail(output),
    });
  }
  return tests;
}

/** Makes test ids and names unique (GitLab keeps only the first of duplicates). */
export function uniqueIds(tests: TestResult[]): TestResult[] {
  const seen = new Map<string, number>();
  return tests.map((t) => {
    const n = (seen.get(t.id) ?? 0) + 1;
    seen.set(t.id, n);
    return n === 1 ? t : { ...t, id: `${t.id} [${n}]`, name: `${t.name} [${n}]` };
  });
}
