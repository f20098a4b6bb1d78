import { randomBytes } from "node:crypto";
import { relative } from "node:path";
import { GgenError } from "@ggen/contract";
import { type CommandArgs, defineCommand } from "@ggen/reporter";
import pkg from "../../package.json" with { type: "json" };
import {
  type BackendChoice,
  backendFlag,
  currentEnvironment,
  durationFlag,
  ENV_RULE,
  engineSettings,
  envFlag,
  output,
  positiveFlag,
  projectRoot,
  stateDir,
} from "../context.js";
import { loadScenario } from "./test.js";

interface ExecFlags {
  backend: BackendChoice;
  "docker-host"?: string;
  env?: string;
  scenario?: string;
  timeout?: string;
  "max-parallel"?: string;
  host: boolean;
}

type ExecArgs = CommandArgs<ExecFlags>;

export const execCommand = defineCommand<ExecFlags>()({
  command: "exec",
  describe: "Run a command or scenario in an environment, in the project (mounted)",
  passthrough: true,
  options: {
    ...backendFlag,
    ...envFlag(`The environment (${ENV_RULE} a throwaway one, removed after)`),
    scenario: { type: "string", describe: "A scenario YAML: steps, depends, expect" },
    timeout: {
      type: "string",
      describe: "Kill the command after this long: 50s, 2m (a bare number is seconds)",
    },
    "max-parallel": { type: "string", describe: "Scenario steps at once (concurrent scenarios)" },
    host: { type: "boolean", default: false, describe: "Run a scenario straight on the host" },
  },
  examples: [
    ["cleanroom exec --env ci -- npm test", "Run a command in environment ci, in the project"],
    ["cleanroom exec --timeout 2m -- make check", "In a throwaway environment, killed after 2 minutes"],
    ["cleanroom exec --scenario test_pipeline.yaml", "Run a scenario's steps (a DAG)"],
  ],
  handler: async (argv) => {
    const out = output(argv);
    const cmd = (argv["--"] ?? []).map(String);
    if (argv.scenario && cmd.length > 0)
      throw new GgenError("BAD_ARGUMENT", "give either --scenario or a command after --, not both", {
        kind: "usage",
      });
    if (argv.scenario) return execScenario(argv, out);
    if (cmd.length === 0)
      throw new GgenError("BAD_ARGUMENT", "nothing to run", {
        kind: "usage",
        hint: "cleanroom exec --env <name> -- <command…>, or --scenario <file>",
      });
    const timeoutMs = await durationFlag(argv.timeout, "--timeout");
    const run = await import("@ggen/testing");
    const root = projectRoot();
    const { backend, choice } = await currentEnvironment(argv, out);
    // Without an environment: a throwaway one with the project mounted at workspace/, removed after.
    const throwaway = choice.name ? undefined : `exec-${randomBytes(4).toString("hex")}`;
    const name = choice.name ?? throwaway!;
    try {
      let env: Record<string, string> = {};
      let limits: { memoryMb?: number; pids?: number } = {};
      let cwd: string | undefined = run.WORKSPACE;
      if (throwaway) {
        await backend.createEnvironment({
          name: throwaway,
          // Killed before the finally below runs (SIGKILL), it is then reported stale and pruned.
          throwaway: true,
          mounts: [{ host: root, target: run.WORKSPACE, writable: true }],
        });
      } else {
        const status = (await backend.environmentStatus(name))!;
        env = Object.assign({}, ...status.services.map((s) => s.env)) as Record<string, string>;
        limits = { ...(status.spec.memoryMb ? { memoryMb: status.spec.memoryMb } : {}) };
        if (status.spec.pids) limits.pids = status.spec.pids;
        // A named environment runs commands in the project, like a throwaway one: where it is mounted.
        cwd = run.projectMount(status, root, backend.name);
        if (!cwd) out.info(`environment ${name} does not mount this project: running in its workdir`);
      }
      const exec = run.backendExec(backend, name);
      const r = await exec(cmd, {
        env,
        ...(cwd ? { cwd } : {}),
        ...(timeoutMs ? { timeoutMs } : {}),
        ...(out.json
          ? {}
          : {
              onOutput: (chunk: string, stream: "stdout" | "stderr") =>
                (stream === "stdout" ? out.stdout : out.stderr).write(chunk),
            }),
      });
      const killedBy = run.limitMessage(r, limits);
      if (out.json) out.data(killedBy ? { ...r, limitMessage: killedBy } : r, () => "");
      if (r.timedOut) out.warn(`timed out after ${argv.timeout}; killed`);
      else if (killedBy) out.warn(killedBy);
      process.exitCode = r.timedOut ? 124 : (r.exitCode ?? 1);
    } finally {
      if (throwaway) await backend.deleteEnvironment(throwaway, { force: true }).catch(() => {});
      await backend.close();
    }
  },
});

async function execScenario(argv: ExecArgs, out: ReturnType<typeof output>): Promise<void> {
  const scenario = await loadScenario(argv.scenario!);
  const maxParallel = positiveFlag(argv["max-parallel"], "--max-parallel", { integer: true });
  const run = await import("@ggen/testing");
  const { LiveSteps, renderRunText } = await import("@ggen/reporter");
  const root = projectRoot();
  const { store, testing } = await engineSettings();
  const current = argv.host ? undefined : await currentEnvironment(argv, out);
  const backend = current?.backend;
  // A crate's commands get ggen's cargo home (offline crates, `cargo audit` as the built-in audit).
  const toolchain = await (await import("@ggen/pipeline")).projectToolchain(root);
  for (const note of toolchain?.notes ?? []) out.info(note);
  const live = new LiveSteps({ enabled: !out.json && !argv.quiet, verbose: argv.verbose === true });
  try {
    const result = await run.runSession({
      root,
      stateDir: stateDir(),
      store,
      ...(testing.collectLogs === false ? { keepOutput: false } : {}),
      kind: "scenario",
      ...(backend ? { backend } : {}),
      ...(current?.choice.name ? { envName: current.choice.name } : {}),
      sources: [relative(root, scenario.file)],
      tool: { name: "cleanroom", version: pkg.version },
      work: async (ctx) => {
        const r = await run.runScenario(scenario, {
          exec: ctx.exec,
          cwd: ctx.workdir,
          env: { ...toolchain?.env, ...ctx.env },
          ...(ctx.signal ? { signal: ctx.signal } : {}),
          ...(maxParallel ? { maxParallel } : {}),
          onEvent: (e) => {
            if (e.type === "start") live.start(e.step);
            else
              live.finish(
                e.step,
                e.result.allowedFailure ? "passed" : e.result.status,
                e.result.durationMs,
                e.result.message,
              );
          },
        });
        return { tests: run.scenarioTests(r), timeline: run.scenarioTimeline(r) };
      },
    });
    live.stop();
    out.data(result.run, () => `${renderRunText(result.run)}\nSaved ${relative(root, result.path)}`);
    if (!run.runPassed(result.run) && !process.exitCode) process.exitCode = 1;
  } finally {
    live.stop();
    await backend?.close();
  }
}
