import { readFile } from "node:fs/promises";
import { relative } from "node:path";
import { GgenError } from "@ggen/contract";
import { defineCommand } from "@ggen/reporter";
import pkg from "../../package.json" with { type: "json" };
import {
  type BackendChoice,
  backendFlag,
  backendFor,
  list,
  loadBackend,
  output,
  projectRoot,
  requireEnvironment,
  secondsToMs,
  stateDir,
} from "../context.js";
import { writeOutput } from "./shared.js";

interface RunArgs {
  backend: BackendChoice;
  env?: string;
  file?: string[];
  files?: string[];
  scenario?: string;
  parallel: boolean;
  "max-parallel"?: number;
  timeout?: number;
  shard?: string;
  "reset-between": boolean;
  "skip-slow": boolean;
  runner?: string;
  isolated: boolean;
  host: boolean;
}

const runCommand = defineCommand<RunArgs>()({
  command: "run",
  describe: "Run test files (or a scenario) in an environment and record the results",
  options: {
    ...backendFlag,
    env: {
      type: "string",
      describe: "Run in this existing environment (default: a throwaway one)",
    },
    file: { type: "string", array: true, describe: "A test file (repeatable)" },
    files: { type: "string", array: true, describe: "A glob of test files (repeatable)" },
    scenario: { type: "string", describe: "Run a scenario YAML as the test run" },
    parallel: { type: "boolean", default: false, describe: "Run test files in parallel" },
    "max-parallel": { type: "number", describe: "At most this many at once (default 4)" },
    timeout: { type: "number", describe: "Per runner invocation, in seconds" },
    shard: { type: "string", describe: "Only shard k of n (k/n)" },
    "reset-between": {
      type: "boolean",
      default: false,
      describe: "Reset services between test files",
    },
    "skip-slow": { type: "boolean", default: false, describe: "Skip files named *.slow.*" },
    runner: {
      type: "string",
      choices: ["node", "vitest", "shell", "cargo", "command"],
      describe: "Force a runner instead of choosing by file type",
    },
    isolated: {
      type: "boolean",
      default: false,
      describe: "Make the throwaway environment isolated",
    },
    host: {
      type: "boolean",
      default: false,
      describe: "Run straight on the host, no environment (fastest, not hermetic)",
    },
  },
  examples: [
    ["cleanroom test run --file test/api.test.mjs", "Run one file in a throwaway environment"],
    ["cleanroom test run --files 'test/**/*.test.mjs' --parallel --max-parallel 4", "Run many, 4 at once"],
    ["cleanroom test run --env ci --shard 1/2 --reset-between", "Half the tests in environment ci"],
  ],
  handler: async (argv) => {
    const out = output(argv);
    const run = await import("@ggen/testing");
    const root = projectRoot();
    const timeoutMs = secondsToMs(argv.timeout, "--timeout");
    if (argv["max-parallel"] !== undefined && !(argv["max-parallel"] >= 1))
      throw new GgenError("BAD_ARGUMENT", "--max-parallel must be at least 1", { kind: "usage" });
    // Everything is checked before anything starts.
    const shard = argv.shard ? run.parseShard(argv.shard) : undefined;
    let files: string[] = [];
    let scenario: import("@ggen/testing").Scenario | undefined;
    if (argv.scenario) {
      scenario = await loadScenario(argv.scenario);
    } else {
      files = await run.selectFiles(root, {
        files: list(argv.file),
        globs: list(argv.files),
        ...(argv.shard ? { shard: argv.shard } : {}),
        skipSlow: argv["skip-slow"],
      });
    }
    const backend = argv.host
      ? undefined
      : argv.env
        ? await backendFor(argv.backend, argv.env, out)
        : await loadBackend(argv.backend, out);
    if (backend && argv.env) await requireEnvironment(backend, argv.env);
    const { LiveSteps, renderRunText } = await import("@ggen/reporter");
    const live = new LiveSteps({ enabled: !out.json && !argv.quiet, verbose: argv.verbose === true });
    const sources = scenario ? [relative(root, scenario.file)] : files.map((f) => relative(root, f));
    try {
      const result = await run.runSession({
        root,
        stateDir: stateDir(),
        kind: scenario ? "scenario" : "test",
        ...(backend ? { backend } : {}),
        ...(argv.env ? { envName: argv.env } : {}),
        isolated: argv.isolated,
        resetBetween: argv["reset-between"],
        sources,
        tool: { name: "cleanroom", version: pkg.version },
        onNote: (t) => out.verbose(t),
        work: async (ctx) => {
          if (scenario) {
            const r = await run.runScenario(scenario, {
              exec: ctx.exec,
              cwd: ctx.workdir,
              env: ctx.env,
              ...(ctx.signal ? { signal: ctx.signal } : {}),
              ...(argv["max-parallel"] ? { maxParallel: argv["max-parallel"] } : {}),
              onEvent: (e) => {
                if (e.type === "start") live.start(e.step);
                else live.finish(e.step, e.result.status, e.result.durationMs, e.result.message);
              },
            });
            return { tests: run.scenarioTests(r), timeline: run.scenarioTimeline(r) };
          }
          const r = await run.runTests(files, {
            root,
            exec: ctx.exec,
            workdir: ctx.workdir,
            env: ctx.env,
            ...(ctx.signal ? { signal: ctx.signal } : {}),
            parallel: argv.parallel,
            ...(argv["max-parallel"] ? { maxParallel: argv["max-parallel"] } : {}),
            ...(timeoutMs ? { timeoutMs } : {}),
            ...(shard ? { shard } : {}),
            ...(argv.runner ? { runner: argv.runner as import("@ggen/testing").RunnerName } : {}),
            ...(backend ? {} : { node: process.execPath }),
            ...(ctx.resetBetween ? { resetBetween: ctx.resetBetween } : {}),
            onEvent: (e) => {
              if (e.type === "start") live.start(e.label);
              else {
                const bad =
                  e.tests?.filter((t) => t.status !== "passed" && t.status !== "skipped").length ?? 0;
                live.finish(
                  e.label,
                  bad ? "failed" : "passed",
                  e.durationMs ?? 0,
                  `${e.tests?.length ?? 0} tests${bad ? `, ${bad} failing` : ""}`,
                );
              }
            },
          });
          return { tests: r.tests, timeline: r.timeline };
        },
      });
      live.stop();
      out.data(result.run, () => `${renderRunText(result.run)}\nSaved ${relative(root, result.path)}`);
      if (!run.runPassed(result.run) && !process.exitCode) process.exitCode = 1;
    } finally {
      live.stop();
      await backend?.close();
    }
  },
});

export async function loadScenario(file: string) {
  const { parseScenario } = await import("@ggen/testing");
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch {
    throw new GgenError("FILE_NOT_FOUND", `scenario not found: ${file}`, {
      kind: "usage",
      location: { file },
    });
  }
  return parseScenario(text, file);
}

interface ResultsArgs {
  format: "text" | "json" | "junit" | "html";
  output?: string;
  run?: string;
}

const resultsCommand = defineCommand<ResultsArgs>()({
  command: "results",
  describe: "Show the last run's results (text, json, junit, html)",
  options: {
    format: { choices: ["text", "json", "junit", "html"], default: "text", describe: null },
    output: { type: "string", describe: "Write to this file instead of stdout" },
    run: { type: "string", describe: "A stored run file instead of the last one" },
  },
  examples: [
    ["cleanroom test results", "The last run as a table"],
    ["cleanroom test results --format junit --output junit.xml", "JUnit XML for CI"],
  ],
  handler: async (argv) => {
    const out = output(argv);
    const { lastRun, loadRun } = await import("@ggen/testing");
    const stored = argv.run ? await loadRun(argv.run) : await lastRun(stateDir());
    const { renderRun } = await import("@ggen/reporter");
    const format = out.json ? "json" : argv.format;
    const text = renderRun(stored.run, format, { timeline: stored.timeline });
    await writeOutput(out, text, argv.output);
  },
});

export const testCommand = defineCommand()({
  command: "test",
  describe: "Run tests and show results",
  subcommands: [runCommand, resultsCommand],
  requireSubcommand: "give a test command: run or results",
});
