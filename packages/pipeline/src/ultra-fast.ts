// The ultra-fast path of a Node service: marketplace → generation ∥ setup (environment, services,
// dependencies) → testing ∥ validation → deployment (verify, automatic rollback) → reporting. This file
// only wires stages together and decides when each may start; what a stage does is in its own file.

import { mkdir, rmdir } from "node:fs/promises";
import { relative } from "node:path";
import type { PipelineReport } from "@ggen/contract";
import type { StageView } from "@ggen/reporter";
import { GgenError } from "@ggen/support";
import { createContext, type PipelineContext, type UltraFastOptions } from "./context.js";
import { loadEngine } from "./engine.js";
import { loadProject } from "./project.js";
import { failureLine, type Outcome, rolledBack } from "./report.js";
import { RunSignal, StageRunner, settle } from "./stage.js";
import { type Deployed, deployment, planDeployment, stopDeployment } from "./stages/deployment.js";
import { type Generated, generation } from "./stages/generation.js";
import { marketplace, type ResolvedPack } from "./stages/marketplace.js";
import { nodeDependencies } from "./stages/node-dependencies.js";
import { reporting } from "./stages/reporting.js";
import {
  closeEnvironment,
  type Environment,
  neededServices,
  openBackend,
  openEnvironment,
  type Prepared,
  setup,
} from "./stages/setup.js";
import { generatedTarget, type Tested, testing } from "./stages/testing.js";
import { type Validated, validation } from "./stages/validation.js";

export const STAGES = [
  "marketplace",
  "generation",
  "setup",
  "testing",
  "validation",
  "deployment",
  "reporting",
] as const;

/** What each stage of the Node service path gives. */
export interface NodeServiceOutputs {
  marketplace: ResolvedPack;
  generation: Generated;
  setup: Prepared;
  testing: Tested;
  validation: Validated;
  deployment: Deployed;
}

export interface UltraFastResult {
  report: PipelineReport;
  reportPath: string;
  /** 0 ready and verified; 1 any failure (also a failed verify that was rolled back: see `rolledBack`). */
  exitCode: 0 | 1;
  /** The one line to print for a failure (the report holds the detail). */
  error?: string;
  /** The new release failed verify and the previous one was restored. */
  rolledBack?: boolean;
  url?: string;
  /** The deployed service's pid, with --keep-running. */
  pid?: number;
  stopHint?: string;
  /** The cleanroom environment left running with --keep-running (its services serve the deployment). */
  environment?: string;
  /** Where the releases are. */
  releasesDir?: string;
}

const ignore = () => undefined;

/**
 * The packages the stages load on first use, loaded before the first stage starts: their loading
 * would otherwise compete with the marketplace stage for the one JavaScript thread (and count in it).
 */
async function preload(): Promise<void> {
  await Promise.all([
    import("@ggen/marketplace"),
    import("@ggen/generator"),
    import("@ggen/lifecycle"),
    loadEngine(),
  ]);
}

/** Seconds per finished stage, for the deployment-metrics/v1 record. */
function stageSeconds(view: StageView): Record<string, number> {
  return Object.fromEntries(
    view
      .records()
      .filter((s) => s.durationMs !== undefined)
      .map((s) => [s.name, Math.round(s.durationMs ?? 0) / 1000]),
  );
}

/** The stages from the pack to a verified release; throws at the first failure. */
async function nodeService(
  ctx: PipelineContext,
  runner: StageRunner<NodeServiceOutputs>,
  environment: Promise<Environment>,
): Promise<void> {
  const pack = await runner.run(marketplace, ctx.options.pack);
  const needs = await neededServices(pack.dir);
  const generated = runner.run(generation, pack);
  // A failed generation is the generation stage's failure, not setup's.
  const dependencies = generated.then(
    (g) => nodeDependencies.run(ctx, g),
    () => ({ summary: "" }),
  );
  const prepared = runner.run(setup, { environment, needs, dependencies });
  // Awaited by the tests (below); a failure before then is theirs to report, never unhandled.
  prepared.catch(ignore);
  // Validation needs the generated files and their dependencies, not the services: it goes as soon as
  // those are there, while the services may still be coming up (a container start, say).
  const [gen] = await Promise.all([generated, runner.guard(dependencies)]);
  const project = await loadProject(ctx, gen.root);
  const target = await generatedTarget(gen);
  // The tests start once the services answer.
  const tested = runner.track(
    Promise.all([prepared, environment]).then(([p, env]) =>
      runner.run(testing, { target, environment: env, prepared: p }),
    ),
  );
  const validated = runner.run(validation, { project, testing: tested });
  // Settled here too, so a rejection while the tests still run is never unhandled.
  validated.catch(ignore);
  const t = await tested;
  await validated;
  const p = await prepared;
  const plan = await planDeployment(ctx, project);
  await runner.run(deployment, {
    project,
    plan,
    prepared: p,
    tested: t,
    stageSeconds: stageSeconds(ctx.options.view),
  });
}

export async function ultraFastDeploy(options: UltraFastOptions): Promise<UltraFastResult> {
  const view = options.view;
  const run = new RunSignal(options.timeoutMs, options.signal);
  const ctx = createContext(options, run.signal);
  const runner = new StageRunner<NodeServiceOutputs>(ctx, view);
  await preload();
  const made = runner.track(mkdir(ctx.paths.output, { recursive: true }));
  // The environment needs nothing from the pack: it is made while the marketplace stage runs (on
  // testcontainers that is a container start); its services follow in setup.
  const backend = runner.track(made.then(() => openBackend(ctx)));
  const environment = runner.track(backend.then((b) => openEnvironment(ctx, b)));
  let ok = false;
  let failure: unknown;
  try {
    await made;
    await nodeService(ctx, runner, environment);
    ok = true;
  } catch (e) {
    failure = e;
    // What still runs (validation alongside a failed test run, say) is cancelled, then awaited below.
    run.cancel(new GgenError("CANCELLED", "cancelled: an earlier stage failed"));
    if (run.timedOut) {
      const cutOff = [
        ...view.running(),
        ...view
          .records()
          .filter((s) => s.status === "timed-out")
          .map((s) => s.name),
      ];
      settle(view, "timed-out", `over --timeout ${options.timeoutMs / 1000}s`);
      failure = new GgenError(
        "TIMEOUT",
        `timed out after ${options.timeoutMs / 1000}s in ${cutOff.join(", ") || "a stage"}`,
      );
    } else {
      // Ctrl-C: whatever a stage made of being cut off (tests killed, say), the cause is the interrupt.
      if (options.signal?.aborted) failure = new GgenError("INTERRUPTED", "interrupted");
      settle(view, "skipped");
    }
  } finally {
    run.dispose();
    // Work cut off by a timeout may still be finishing (a service coming up): let it land first, so
    // what it started is in the environment when the environment goes.
    await runner.settled();
    // With --keep-running a ready service stays, and so does its database: the environment.
    const keep = options.keepRunning && ok;
    const b = await backend.catch(ignore);
    const deployed = runner.outputs.deployment;
    // Independent, so at once.
    await Promise.all([
      b ? closeEnvironment(ctx, b, keep) : undefined,
      deployed && !keep ? stopDeployment(ctx, deployed) : undefined,
    ]);
    // Nothing generated (a bad pack name, say): the output dir this run created goes too, if empty.
    if ((await made.catch(ignore)) !== undefined && !runner.outputs.generation)
      await rmdir(ctx.paths.output).catch(ignore);
  }

  const {
    deployment: deployed,
    generation: generated,
    testing: tested,
    validation: validated,
  } = runner.outputs;
  const outcome: Outcome = {
    ok,
    ...(ok ? {} : { failure }),
    stages: view.records().filter((s) => s.name !== "reporting"),
    ...(deployed
      ? {
          deployed: {
            provider: deployed.provider,
            ...(deployed.releaseId ? { releaseId: deployed.releaseId } : {}),
            ...(deployed.rolledBackTo ? { rolledBackTo: deployed.rolledBackTo } : {}),
            ...(deployed.plan.url ? { url: deployed.plan.url } : {}),
          },
        }
      : {}),
  };
  const b = await backend.catch(ignore);
  const report = await reporting(ctx, {
    outcome,
    ...(b ? { backend: b.name } : {}),
    ...(generated ? { generated } : {}),
    ...(tested ? { tested } : {}),
    ...(validated ? { validated } : {}),
    ...(deployed ? { deployed } : {}),
  });
  // Unexpected errors, and usage errors (a bad pack name, say), are the caller's to print and exit on.
  if (!ok && !run.timedOut && (!(failure instanceof GgenError) || failure.kind === "usage")) throw failure;
  const reportPath = ctx.paths.report;
  const error = failureLine(outcome, relative(options.cwd, reportPath) || reportPath);
  const url = ok ? deployed?.plan.url : undefined;
  return {
    report,
    reportPath,
    exitCode: ok ? 0 : 1,
    ...(error ? { error } : {}),
    ...(rolledBack(outcome) ? { rolledBack: true } : {}),
    ...(url ? { url } : {}),
    ...(ok && deployed?.pid ? { pid: deployed.pid } : {}),
    ...(deployed ? { releasesDir: deployed.plan.releasesDir } : {}),
    ...(options.keepRunning && ok
      ? {
          stopHint: `ggen --cwd ${ctx.paths.output} lifecycle stop --env ${options.env} && cleanroom --cwd ${options.cwd} environment delete --name ${ctx.environmentName} --force`,
          environment: ctx.environmentName,
        }
      : {}),
  };
}
