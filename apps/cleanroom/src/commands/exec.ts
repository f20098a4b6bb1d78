import { randomBytes } from "node:crypto";
import { relative } from "node:path";
import { GgenError } from "@ggen/contract";
import { type CommandArgs, defineCommand } from "@ggen/reporter";
import pkg from "../../package.json" with { type: "json" };
import {
  type BackendChoice,
  backendFlag,
  backendFor,
  loadBackend,
  output,
  projectRoot,
  requireEnvironment,
  secondsToMs,
  stateDir,
} from "../context.js";
import { loadScenario } from "./test.js";

interface ExecFlags {
  backend: BackendChoice;
  env?: string;
  scenario?: string;
  timeout?: number;
  "max-parallel"?: number;
  host: boolean;
}

type ExecArgs = CommandArgs<ExecFlags>;

export const execCommand = defineCommand<ExecFlags>()({
  command: "exec",
  describe: "Run a command or scenario in an environment",
  passthrough: true,
  options: {
    ...backendFlag,
    env: {
      type: "string",
      describe: "The environment (default: a throwaway one, removed after)",
    },
    scenario: { type: "string", describe: "A scenario YAML: steps, depends, expect" },
    timeout: { type: "number", describe: "Seconds before the command is killed" },
    "max-parallel": { type: "number", describe: "Scenario steps at once (concurrent scenarios)" },
    host: { type: "boolean", default: false, describe: "Run a scenario straight on the host" },
  },
  examples: [
    ["cleanroom exec --env ci -- npm test", "Run a command in environment ci"],
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
    const timeoutMs = secondsToMs(argv.timeout, "--timeout");
    const run = await import("@ggen/testing");
    // Without --env: a throwaway environment with the project mounted at workspace/, removed after.
    const throwaway = argv.env ? undefined : `exec-${randomBytes(4).toString("hex")}`;
    const name = argv.env ?? throwaway!;
    const backend = argv.env
      ? await backendFor(argv.backend, argv.env, out)
      : await loadBackend(argv.backend, out);
    try {
      let env: Record<string, string> = {};
      let exec = (a: string[], o: import("@ggen/cleanroom-backends").ExecOptions) => backend.exec(name, a, o);
      if (throwaway) {
        await backend.createEnvironment({
          name: throwaway,
          // Killed before the finally below runs (SIGKILL), it is then reported stale and pruned.
          throwaway: true,
          mounts: [{ host: projectRoot(), target: run.WORKSPACE, writable: true }],
        });
        const inWorkspace = run.backendExec(backend, throwaway);
        exec = (a, o) => inWorkspace(a, { ...o, cwd: run.WORKSPACE });
      } else {
        const status = await requireEnvironment(backend, name);
        env = Object.assign({}, ...status.services.map((s) => s.env)) as Record<string, string>;
      }
      const r = await exec(cmd, {
        env,
        ...(timeoutMs ? { timeoutMs } : {}),
        ...(out.json
          ? {}
          : {
              onOutput: (chunk: string, stream: "stdout" | "stderr") =>
                (stream === "stdout" ? out.stdout : out.stderr).write(chunk),
            }),
      });
      if (out.json) out.data(r, () => "");
      if (r.timedOut) out.warn(`timed out after ${argv.timeout} s; killed`);
      process.exitCode = r.timedOut ? 124 : (r.exitCode ?? 1);
    } finally {
      if (throwaway) await backend.deleteEnvironment(throwaway, { force: true }).catch(() => {});
      await backend.close();
    }
  },
});

async function execScenario(argv: ExecArgs, out: ReturnType<typeof output>): Promise<void> {
  const scenario = await loadScenario(argv.scenario!);
  const run = await import("@ggen/testing");
  const { LiveSteps, renderRunText } = await import("@ggen/reporter");
  const root = projectRoot();
  let backend: Awaited<ReturnType<typeof backendFor>> | undefined;
  if (!argv.host) {
    backend = argv.env ? await backendFor(argv.backend, argv.env, out) : await loadBackend(argv.backend, out);
    if (argv.env) await requireEnvironment(backend, argv.env);
  }
  // A crate's commands get ggen's cargo home (offline crates, `cargo audit` as the built-in audit).
  const toolchain = await (await import("@ggen/pipeline")).projectToolchain(root);
  for (const note of toolchain?.notes ?? []) out.info(note);
  const live = new LiveSteps({ enabled: !out.json && !argv.quiet, verbose: argv.verbose === true });
  try {
    const result = await run.runSession({
      root,
      stateDir: stateDir(),
      kind: "scenario",
      ...(backend ? { backend } : {}),
      ...(argv.env ? { envName: argv.env } : {}),
      sources: [relative(root, scenario.file)],
      tool: { name: "cleanroom", version: pkg.version },
      work: async (ctx) => {
        const r = await run.runScenario(scenario, {
          exec: ctx.exec,
          cwd: ctx.workdir,
          env: { ...toolchain?.env, ...ctx.env },
          ...(ctx.signal ? { signal: ctx.signal } : {}),
          ...(argv["max-parallel"] ? { maxParallel: argv["max-parallel"] } : {}),
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
