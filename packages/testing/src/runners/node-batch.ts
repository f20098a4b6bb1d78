// Several node test files in ONE runner process (node 20 has no `--test-isolation=none`): the process
// imports each file under its own `describe`, named by the file, so its tests, hooks and a failure to
// load stay that file's. Registration needs the describe's synchronous scope (node finds the parent
// suite by async id), so each file is linked first as a vm.SourceTextModule — its imports are the real
// modules, loaded by node's own loader — and evaluated inside the describe. What one process saves: a
// node start-up, node:test and the project's modules (pg, the model) per file, ~70% of the CPU of a
// small generated file. Only ES module files go in a batch; the rest keep a process each.

import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { ExecResult } from "@ggen/cleanroom-backends";
import type { TestResult } from "@ggen/contract";
import type { ParsedTest } from "./tap.js";

/** The stderr line that says a file did not load: this, then JSON { file, message }. */
const LOAD_ERROR = "ggen-batch: not loaded: ";

/** The suite every file's suite sits in (it runs FILE_CONCURRENCY files at once). */
export const BATCH_SUITE = "(test files)";
const FILE_CONCURRENCY = 4;

/**
 * The batch process's program (`node --input-type=module -e`; the files follow as arguments, relative
 * to the cwd). Dependencies are kept referenced: node 20 crashes when a linked module is collected.
 * An import binding is a snapshot taken at link time (a `let` the dependency reassigns later is not
 * seen), which no generated test relies on.
 */
export const BATCH_SOURCE = `import { describe } from "node:test";
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import vm from "node:vm";
const keep = [];
async function load(file) {
  const path = resolve(file);
  const url = pathToFileURL(path).href;
  const mod = new vm.SourceTextModule(readFileSync(path, "utf8"), {
    identifier: url,
    initializeImportMeta(meta) {
      meta.url = url;
      meta.filename = path;
      meta.dirname = dirname(path);
      meta.resolve = (s) => import.meta.resolve(s, url);
    },
    importModuleDynamically: (s) => import(import.meta.resolve(s, url)),
  });
  keep.push(mod);
  await mod.link(async (specifier) => {
    const target = import.meta.resolve(specifier, url);
    const ns = await import(target);
    const names = Object.keys(ns);
    const dep = new vm.SyntheticModule(names, function () {
      for (const n of names) this.setExport(n, ns[n]);
    }, { identifier: target });
    keep.push(dep);
    return dep;
  });
  return mod;
}
const files = process.argv.slice(1);
const loaded = [];
for (const file of files)
  loaded.push(
    await load(file).then(
      (mod) => ({ file, mod }),
      (error) => {
        // Said at once too: a crash of another file may end the process before this is reported.
        process.stderr.write(${JSON.stringify(LOAD_ERROR)} + JSON.stringify({ file, message: String(error?.message ?? error) }) + "\\n");
        return { file, error };
      },
    ),
  );
describe(${JSON.stringify(BATCH_SUITE)}, { concurrency: ${FILE_CONCURRENCY} }, () => {
  for (const { file, mod, error } of loaded)
    // One test at a time within a file, as in a process of its own (a suite inherits its parent's concurrency).
    describe(file, { concurrency: 1 }, () => {
      if (error) throw error;
      return mod.evaluate();
    });
});
`;

/** The node flags of a batch process (vm modules; `import.meta.resolve` with a parent). */
export const BATCH_FLAGS = ["--experimental-vm-modules", "--experimental-import-meta-resolve"];

/** Whether node loads `file` (absolute) as an ES module: .mjs, or .js under `"type": "module"`. */
export function isEsmFile(root: string, file: string): boolean {
  if (file.endsWith(".mjs")) return true;
  if (!file.endsWith(".js")) return false;
  for (let dir = dirname(file); dir.startsWith(root); dir = dirname(dir)) {
    const pkg = join(dir, "package.json");
    if (existsSync(pkg)) {
      try {
        return (JSON.parse(readFileSync(pkg, "utf8")) as { type?: string }).type === "module";
      } catch {
        return false;
      }
    }
    if (dir === dirname(dir)) break;
  }
  return false;
}

/**
 * A batch's results per file: each test under its file's suite is that file's (the file's suite is
 * taken off its suite path, so ids are what a process per file gives); a file that failed to load, or
 * reported nothing because the process ended (a crash, a timeout, `process.exit`), gets an errored or
 * timed-out result of its own, named.
 */
export function batchResults(
  files: readonly string[],
  parsed: readonly ParsedTest[],
  result: ExecResult,
  toResult: (file: string, t: ParsedTest) => TestResult,
): TestResult[] {
  const byFile = new Map<string, TestResult[]>(files.map((f) => [f, []]));
  const prefix = `${BATCH_SUITE} > `;
  const fileOf = (path: string) =>
    files.find((f) => path === f || path.startsWith(`${f} > `)) ??
    // Registered outside its describe (after a top-level await): by its declared location.
    undefined;
  for (const t of parsed) {
    if (t.suite === BATCH_SUITE && byFile.has(t.name)) {
      // The file's own suite failed with no failing test under it: it did not load, or threw.
      byFile.get(t.name)!.push({
        ...toResult(t.name, { ...t, name: "(file)" }),
        id: `${t.name}#(file)`,
        status: "errored",
      });
      continue;
    }
    const path = t.suite?.startsWith(prefix) ? t.suite.slice(prefix.length) : undefined;
    const file =
      (path !== undefined ? fileOf(path) : undefined) ??
      files.find((f) => t.location && (t.location.file === f || t.location.file.endsWith(`/${f}`))) ??
      files[0]!;
    const suite = path === undefined ? t.suite : path === file ? undefined : path.slice(file.length + 3);
    const own: ParsedTest = { ...t };
    if (suite) own.suite = suite;
    else delete own.suite;
    byFile.get(file)!.push(toResult(file, own));
  }
  // node prints its summary when every test ran: without it the process was cut off.
  const completed = /^# tests \d+\s*$/m.test(result.stdout);
  const ended = result.timedOut
    ? "the runner timed out"
    : completed
      ? undefined
      : `the runner ended (${result.exitCode === null ? `signal ${result.signal}` : `exit code ${result.exitCode}`})`;
  const notLoaded = new Map<string, string>();
  for (const line of result.stderr.split("\n")) {
    if (!line.startsWith(LOAD_ERROR)) continue;
    try {
      const { file, message } = JSON.parse(line.slice(LOAD_ERROR.length)) as {
        file: string;
        message: string;
      };
      notLoaded.set(file, message);
    } catch {
      // a line cut short: the file still gets its result below
    }
  }
  for (const [file, tests] of byFile) {
    if (tests.length > 0) continue;
    const name = file.split("/").pop()!;
    if (!ended && !notLoaded.has(file)) {
      // A file that declares no test passes, as it does in a process of its own.
      tests.push({ id: `${file}#${name}`, file, name, status: "passed", durationMs: 0 });
      continue;
    }
    const load = notLoaded.get(file);
    tests.push({
      id: `${file}#(file)`,
      file,
      name: "(file)",
      status: load || !result.timedOut ? "errored" : "timed-out",
      durationMs: 0,
      failureMessage: load ?? `${ended} before this file reported a test`,
    });
  }
  return files.flatMap((f) => byFile.get(f)!);
}
