import { relative } from "node:path";
import { GgenError } from "@ggen/contract";
import { defineCommand } from "@ggen/reporter";
import { writeFileAtomic } from "@ggen/support";
import pkg from "../../package.json" with { type: "json" };
import {
  type BackendChoice,
  backendFlag,
  currentEnvironment,
  durationFlag,
  ENV_RULE,
  engineSettings,
  envFlag,
  list,
  output,
  positiveFlag,
  projectRoot,
  stateDir,
} from "../context.js";
import { annotate, writeOutput } from "./shared.js";

interface RunArgs {
  backend: BackendChoice;
  "docker-host"?: string;
  env?: string;
  file?: string[];
  files?: string[];
  scenario?: string;
  parallel?: boolean;
  "max-parallel"?: string;
  timeout?: string;
  shard?: string;
  report?: string;
  "reset-between": boolean;
  "skip-slow": boolean;
  runner?: string;
  isolated?: boolean;
  host: boolean;
}

const runCommand = defineCommand<RunArgs>()({
  command: "run",
  describe:
    "Run test files (or a scenario) in an environment and record the results; exit 1 when a test fails",
  options: {
    ...backendFlag,
    ...envFlag(`The environment (${ENV_RULE} a throwaway one)`),
    file: { type: "string", array: true, describe: "A test file (repeatable)" },
    files: { type: "string", array: true, describe: "A glob of test files (repeatable)" },
    scenario: { type: "string", describe: "Run a scenario YAML as the test run" },
    parallel: {
      type: "boolean",
      describe: "Run test files in parallel (default: config.toml's [testing] default_parallel, else no)",
    },
    "max-parallel": {
      type: "string",
      describe: "At most this many at once (default: [testing] max_parallel_tests, else 4)",
    },
    timeout: {
      type: "string",
      describe:
        "Per runner invocation: 60s, 2m; a bare number is seconds (default: [testing] test_timeout_seconds)",
    },
    shard: {
      type: "string",
      describe: "Only shard k of n (k/n), balanced by the durations in .cleanroom/metrics.jsonl",
    },
    report: {
      type: "string",
      describe: "Also write the cleanroom-run/v1 here (a shard's, for report merge)",
    },
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
      describe: "Make the throwaway environment isolated",
    },
    host: {
      type: "boolean",
      default: false,
      describe: "Run straight on the host, no environment (fastest, not hermetic)",
    },
  },
  examples: [
    [
      "cleanroom test run --file test/api.test.mjs",
      "Run one file in the current (or a throwaway) environment",
    ],
    ["cleanroom test run --files 'test/**/*.test.mjs' --parallel --max-parallel 4", "Run many, 4 at once"],
    ["cleanroom test run --env ci --timeout 2m --reset-between", "In environment ci, 2 minutes per runner"],
    [
      "cleanroom test run --shard 2/3 --report shard-2.json --docker-host tcp://ci-2:2375",
      "One shard of three, on another Docker engine",
    ],
  ],
  handler: async (argv) => {
    const out = output(argv);
    const run = await import("@ggen/testing");
    const root = projectRoot();
    // Everything is checked before anything starts.
    const { store, testing } = await engineSettings();
    const timeoutMs =
      (await durationFlag(argv.timeout, "--timeout")) ??
      (testing.testTimeoutSeconds ? testing.testTimeoutSeconds * 1000 : undefined);
    const maxParallel =
      positiveFlag(argv["max-parallel"], "--max-parallel", { integer: true }) ?? testing.maxParallelTests;
    const parallel = argv.parallel ?? testing.defaultParallel ?? false;
    const shardSpec = argv.shard !== undefined ? run.parseShard(argv.shard) : undefined;
    if (shardSpec && argv.scenario)
      throw new GgenError("BAD_ARGUMENT", "--shard splits test files, not a scenario", { kind: "usage" });
    let files: string[] = [];
    let shard: { index: number; total: number; plan: string } | undefined;
    let scenario: import("@ggen/testing").Scenario | undefined;
    if (argv.scenario) {
      scenario = await loadScenario(argv.scenario);
    } else {
      files = await run.selectFiles(root, {
        files: list(argv.file),
        globs: list(argv.files),
        skipSlow: argv["skip-slow"],
      });
      if (shardSpec) {
        const { entries } = await run.readMetrics(store);
        const mine = run.shardFiles(root, files, shardSpec, run.fileDurations(entries));
        out.info(
          `shard ${shardSpec.index}/${shardSpec.total}: ${mine.files.length} of ${files.length} files (balanced by ${mine.plan.by === "durations" ? "recorded durations" : "file count"})`,
        );
        files = mine.files;
        shard = { ...shardSpec, plan: mine.plan.plan };
      }
    }
    const current = argv.host ? undefined : await currentEnvironment(argv, out);
    const backend = current?.backend;
    const envName = current?.choice.name;
    const { LiveSteps, renderRunText } = await import("@ggen/reporter");
    const live = new LiveSteps({ enabled: !out.json && !argv.quiet, verbose: argv.verbose === true });
    const sources = scenario ? [relative(root, scenario.file)] : files.map((f) => relative(root, f));
    try {
      const result = await run.runSession({
        root,
        stateDir: stateDir(),
        store,
        ...(testing.collectLogs === false ? { keepOutput: false } : {}),
        kind: scenario ? "scenario" : "test",
        ...(backend ? { backend } : {}),
        ...(envName ? { envName } : {}),
        ...(argv.isolated !== undefined ? { isolated: argv.isolated } : {}),
        resetBetween: argv["reset-between"],
        sources,
        ...(shard ? { shard } : {}),
        tool: { name: "cleanroom", version: pkg.version },
        onNote: (t) => out.verbose(t),
        work: async (ctx) => {
          if (scenario) {
            const r = await run.runScenario(scenario, {
              exec: ctx.exec,
              cwd: ctx.workdir,
              env: ctx.env,
              ...(ctx.signal ? { signal: ctx.signal } : {}),
              ...(maxParallel ? { maxParallel } : {}),
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
            limits: ctx.limits,
            ...(ctx.signal ? { signal: ctx.signal } : {}),
            parallel,
            ...(maxParallel ? { maxParallel } : {}),
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
          return { tests: r.tests, timeline: r.timeline, files: r.files };
        },
      });
      live.stop();
      if (argv.report) {
        await writeFileAtomic(argv.report, `${JSON.stringify(result.run, null, 2)}\n`);
        out.info(`wrote ${argv.report}`);
      }
      out.data(result.run, () => `${renderRunText(result.run)}\nSaved ${relative(root, result.path)}`);
      await annotate(out, result.run);
      if (!run.runPassed(result.run) && !process.exitCode) process.exitCode = 1;
    } finally {
      live.stop();
      await backend?.close();
    }
  },
});

export async function loadScenario(file: string) {
  const { parseScenario, readInputFile } = await import("@ggen/testing");
  return parseScenario(await readInputFile(file, "scenario"), file);
}

interface ResultsArgs {
  format: "text" | "json" | "junit" | "html" | "tap";
  output?: string;
  run?: string;
}

const resultsCommand = defineCommand<ResultsArgs>()({
  command: "results",
  describe: "Show the last run's results (text, json, junit, html, tap); exit 1 when that run failed",
  options: {
    format: {
      choices: ["text", "json", "junit", "html", "tap"],
      default: "text",
      describe: "text, json, junit (JUnit XML), html, or tap (TAP 14)",
    },
    output: { type: "string", describe: "Write to this file instead of stdout" },
    run: { type: "string", describe: "A stored run file instead of the last one" },
  },
  examples: [
    ["cleanroom test results", "The last run as a table"],
    ["cleanroom test results --format junit --output junit.xml", "JUnit XML for CI"],
    ["cleanroom test results --format tap", "TAP for tools that read it"],
  ],
  handler: async (argv) => {
    const out = output(argv);
    const { lastRun, loadRun, runPassed } = await import("@ggen/testing");
    const stored = argv.run ? await loadRun(argv.run) : await lastRun((await engineSettings()).store);
    const { renderRun } = await import("@ggen/reporter");
    const format = out.json ? "json" : argv.format;
    const text = renderRun(stored.run, format, { timeline: stored.timeline });
    await writeOutput(out, text, argv.output);
    await annotate(out, stored.run);
    // The outcome decides the exit code, whatever the format: a failed run is a failure to report.
    if (!runPassed(stored.run)) process.exitCode = 1;
  },
});

export const testCommand = defineCommand()({
  command: "test",
  describe: "Run tests and show results",
  subcommands: [runCommand, resultsCommand],
  requireSubcommand: "give a test command: run or results",
});
