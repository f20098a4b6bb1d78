// Running the built program in a scratch project directory, and cleaning up after it.
import { type SpawnSyncReturns, spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { environmentsRoot } from "@ggen/cleanroom-backends";

export const bin = join(import.meta.dirname, "..", "dist", "bin.js");

export interface Project {
  dir: string;
  write(rel: string, text: string): string;
  run(...args: string[]): SpawnSyncReturns<string>;
  /** The program with more environment variables (CLEANROOM_ENV, GITHUB_ACTIONS…). */
  runWith(env: NodeJS.ProcessEnv, ...args: string[]): SpawnSyncReturns<string>;
  json<T = unknown>(...args: string[]): T;
  /** Where the local backend keeps this project's environment directories (outside the project). */
  envRoot: string;
  /** The environment directories there now. */
  envDirs(): string[];
  cleanup(): void;
}

export function project(prefix = "cleanroom-cli-"): Project {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), prefix)));
  const runWith = (env: NodeJS.ProcessEnv, ...args: string[]) =>
    spawnSync(process.execPath, [bin, ...args], {
      cwd: dir,
      encoding: "utf8",
      // What the machine running the tests has set must not choose for them.
      env: { ...process.env, NO_COLOR: "1", CLEANROOM_ENV: "", GITHUB_ACTIONS: "", ...env },
      timeout: 120_000,
    });
  const run = (...args: string[]) => runWith({}, ...args);
  const envRoot = environmentsRoot(join(dir, ".cleanroom"));
  return {
    dir,
    envRoot,
    envDirs: () => (existsSync(envRoot) ? readdirSync(envRoot) : []),
    write(rel, text) {
      const p = join(dir, rel);
      mkdirSync(dirname(p), { recursive: true });
      writeFileSync(p, text);
      return p;
    },
    run,
    runWith,
    json<T>(...args: string[]): T {
      const r = run("--json", ...args);
      if (r.stdout.trim() === "") throw new Error(`no JSON from ${args.join(" ")}: ${r.stderr}`);
      return JSON.parse(r.stdout) as T;
    },
    cleanup() {
      // Anything a test left behind in the local backend goes with the project.
      run("container", "prune", "--backend", "local", "--all");
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// A fixture, not a skipped test of ours: its test.skip is there so the runner's parser must report a skipped test.
export const NODE_TESTS = `import { test, describe } from "node:test";
import assert from "node:assert";
test("adds", () => assert.equal(1 + 1, 2));
test("fails", () => assert.equal(1 + 1, 3));
describe("group", () => { test("inner ok", () => {}); test.skip("skipped one", () => {}); });
`;

/** One line on stderr, no stack, the program's prefix. */
export function oneLine(r: SpawnSyncReturns<string>): string {
  const lines = r.stderr.trim().split("\n");
  if (lines.length !== 1) throw new Error(`expected one line on stderr, got:\n${r.stderr}`);
  return lines[0]!;
}
