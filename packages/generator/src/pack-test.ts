// Golden tests of a pack: each `tests/<case>/` holds the inputs of one generation (vars file, graph
// files) and `expected/`, the output tree it must produce byte for byte — or `error.txt`, the one
// line the generation must fail with (a contract violation, a missing var). The pack is rendered into
// a temporary directory with a fixed seed and clock, compared, and with `update` the expectations are
// rewritten (the new tree is written beside the old one, then swapped in).
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { extname, join, resolve } from "node:path";
import { GgenError, isGgenError } from "@ggen/contract";
import { writeFileAtomicSync } from "@ggen/support";
import { generate } from "./engine.js";
import { ContractViolations } from "./pack-contract.js";

export interface PackTestOptions {
  /** Rewrite each case's expected/ (or error.txt) from what the pack generates now. */
  update?: boolean;
  /** Only these cases (by directory name). */
  cases?: string[];
  /** Where packs are found for dependencies (as `generate`'s packsDir). */
  packsDir?: string;
}

export interface PackTestCase {
  name: string;
  ok: boolean;
  /** Set with `update` when the expectations were rewritten. */
  updated?: boolean;
  /** With `update`: the error line recorded in error.txt. */
  error?: string;
  /** Files that differ (unified diffs), are missing, or are extra — relative to the case's expected/. */
  problems: { path: string; kind: "differs" | "missing" | "extra" | "error"; diff?: string }[];
  files: number;
}

export interface PackTestResult {
  pack: string;
  cases: PackTestCase[];
  ok: boolean;
}

const VARS_FILES = ["vars.yaml", "vars.yml", "vars.json", "vars.toml"];
const GRAPH_EXTENSIONS = new Set([".ttl", ".trig", ".nt", ".nq", ".n3", ".rdf", ".owl", ".jsonld"]);
const FIXED_NOW = "2000-01-01T00:00:00.000Z";

/** Every file under `dir` (relative, `/`-separated, sorted), without the run's own .ggen/. */
function tree(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const name of readdirSync(join(dir, rel)).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      if (r === ".ggen") continue;
      if (statSync(join(dir, r)).isDirectory()) walk(r);
      else out.push(r);
    }
  };
  walk("");
  return out;
}

async function unified(path: string, expected: string, actual: string): Promise<string> {
  const { createTwoFilesPatch } = await import("diff");
  return createTwoFilesPatch(`expected/${path}`, `actual/${path}`, expected, actual, undefined, undefined, {
    context: 3,
  });
}

/** Runs (or with `update`, rewrites) the golden tests of the pack in `packDir`. */
export async function testPack(dir: string, opts: PackTestOptions = {}): Promise<PackTestResult> {
  const packDir = resolve(dir);
  const testsDir = join(packDir, "tests");
  if (!existsSync(join(packDir, "ggen.toml")))
    throw new GgenError("PACK_TEST", `'${dir}' is not a pack (no ggen.toml)`, { kind: "usage" });
  const names = existsSync(testsDir)
    ? readdirSync(testsDir)
        .filter((n) => !n.startsWith(".") && statSync(join(testsDir, n)).isDirectory())
        .sort()
    : [];
  for (const c of opts.cases ?? [])
    if (!names.includes(c))
      throw new GgenError("PACK_TEST", `no test case '${c}' in ${join(dir, "tests")}`, {
        kind: "usage",
        hint: names.length ? `cases: ${names.join(", ")}` : "add tests/<case>/expected/",
      });
  const chosen = opts.cases?.length ? names.filter((n) => opts.cases!.includes(n)) : names;
  if (chosen.length === 0)
    throw new GgenError("PACK_TEST", `${dir} has no test cases`, {
      kind: "failure",
      hint: "add tests/<case>/ with vars.yaml, graph files and expected/ (then ggen pack test --update)",
    });
  const cases: PackTestCase[] = [];
  for (const name of chosen) cases.push(await runCase(packDir, join(testsDir, name), name, opts));
  return { pack: dir, cases, ok: cases.every((c) => c.ok) };
}

async function runCase(
  packDir: string,
  caseDir: string,
  name: string,
  opts: PackTestOptions,
): Promise<PackTestCase> {
  const out = mkdtempSync(join(tmpdir(), "ggen-pack-test-"));
  try {
    const varsFiles = VARS_FILES.filter((f) => existsSync(join(caseDir, f)));
    const graphs = readdirSync(caseDir)
      .filter((f) => GRAPH_EXTENSIONS.has(extname(f).toLowerCase()) && statSync(join(caseDir, f)).isFile())
      .sort();
    let error: string | undefined;
    try {
      await generate({
        templates: [packDir],
        cwd: caseDir,
        outputDir: out,
        varsFiles,
        ...(graphs.length ? { graphs } : {}),
        ...(opts.packsDir ? { packsDir: opts.packsDir } : {}),
        seed: "ggen-pack-test",
        now: FIXED_NOW,
        manifest: false,
        maxParallel: 4,
      });
    } catch (e) {
      if (!isGgenError(e)) throw e;
      // A contract's violations, one line each, as `ggen gen` prints them.
      error = e instanceof ContractViolations ? e.violations.map((v) => v.toLine()).join("\n") : e.toLine();
    }
    const expectedDir = join(caseDir, "expected");
    const errorFile = join(caseDir, "error.txt");
    if (opts.update) {
      if (error !== undefined) {
        writeFileAtomicSync(errorFile, `${error}\n`);
        rmSync(expectedDir, { recursive: true, force: true });
      } else {
        replaceTree(out, expectedDir);
        rmSync(errorFile, { force: true });
      }
      return {
        name,
        ok: true,
        updated: true,
        problems: [],
        files: tree(out).length,
        ...(error !== undefined ? { error } : {}),
      };
    }
    const problems: PackTestCase["problems"] = [];
    if (existsSync(errorFile)) {
      const want = readFileSync(errorFile, "utf8").trim();
      if (error !== want)
        problems.push({
          path: "error.txt",
          kind: "error",
          diff: await unified(
            "error.txt",
            `${want}\n`,
            error === undefined ? "(generated without an error)\n" : `${error}\n`,
          ),
        });
      return { name, ok: problems.length === 0, problems, files: 0 };
    }
    if (error !== undefined) {
      problems.push({ path: "", kind: "error", diff: error });
      return { name, ok: false, problems, files: 0 };
    }
    const want = tree(expectedDir);
    const got = tree(out);
    for (const p of want) {
      if (!got.includes(p)) {
        problems.push({ path: p, kind: "missing" });
        continue;
      }
      const a = readFileSync(join(expectedDir, p));
      const b = readFileSync(join(out, p));
      if (!a.equals(b))
        problems.push({
          path: p,
          kind: "differs",
          diff: await unified(p, a.toString("utf8"), b.toString("utf8")),
        });
    }
    for (const p of got) if (!want.includes(p)) problems.push({ path: p, kind: "extra" });
    return { name, ok: problems.length === 0, problems, files: got.length };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

/** `from`'s files become `to` (written next to it, then swapped in, so `to` is never half-written). */
function replaceTree(from: string, to: string): void {
  const fresh = `${to}.new-${process.pid}`;
  const old = `${to}.old-${process.pid}`;
  rmSync(fresh, { recursive: true, force: true });
  for (const p of tree(from))
    writeFileAtomicSync(join(fresh, p), readFileSync(join(from, p)), { fsync: false });
  mkdirSync(fresh, { recursive: true });
  if (existsSync(to)) renameSync(to, old);
  renameSync(fresh, to);
  rmSync(old, { recursive: true, force: true });
}

/** For messages: a case's problems as lines, diffs included. */
export function describeCase(c: PackTestCase): string[] {
  const lines: string[] = [];
  for (const p of c.problems) {
    if (p.kind === "missing") lines.push(`  missing: ${p.path} (expected, not generated)`);
    else if (p.kind === "extra") lines.push(`  extra: ${p.path} (generated, not expected)`);
    else if (p.kind === "error" && p.path === "") lines.push(`  generation failed: ${p.diff}`);
    else lines.push(p.diff!.trimEnd());
  }
  return lines;
}
