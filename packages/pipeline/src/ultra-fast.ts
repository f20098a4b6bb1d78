// The ultra-fast path: marketplace → generation → (the pack's own pipeline | the Node service's) →
// deployment → reporting. A pack that declares [pipeline] gets its stages run as declared (a Rust
// crate: fmt, build, test with coverage, clippy, doc, audit, package, publish dry run, then a verified
// publish to a local registry); one that does not is a Node service driven by its generated make.toml:
// generation ∥ setup (environment, services, dependencies) → testing ∥ validation → deployment
// (verify, automatic rollback). This file only wires stages together and decides when each may start;
// what a stage does is in its own file.

import { mkdir, readFile, rmdir } from "node:fs/promises";
import { join, relative } from "node:path";
import { setFlagsFromString } from "node:v8";
import type { DeploymentMetrics, PipelineReport } from "@ggen/contract";
import type { StageRecord, StageView } from "@ggen/reporter";
import { GgenError } from "@ggen/support";
import { createContext, type PipelineContext, pipelinePaths, type UltraFastOptions } from "./context.js";
import { planPipeline } from "./declared/plan.js";
import type { DeclaredStageResult } from "./declared/run.js";
import { probeToolchain } from "./declared/toolchains.js";
import { prefetchDependencies } from "./dependencies.js";
import { loadEngine } from "./engine.js";
import { loadProject } from "./project.js";
import { deploymentRecord, engineShare, failureLine, type Outcome, rolledBack } from "./report.js";
import { RunSignal, StageRunner, settle } from "./stage.js";
import { type CrateDeployed, crateDeployment, shownPath } from "./stages/crate-deployment.js";
import { type Checked, runChecks } from "./stages/declared-checks.js";
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
import { type ToolchainReady, toolchainSetup } from "./stages/toolchain-setup.js";
import { nodeGates, type Validated, validation } from "./stages/validation.js";

/** The stages every run shows from the start; each path adds its own as they begin. */
export const STAGES = ["marketplace", "generation", "setup"] as const;

/** The stages of a Node service after the common ones (listed as skipped when they never ran). */
export const NODE_STAGES = ["testing", "validation", "deployment", "reporting"] as const;

/** What each stage of either path gives. */
export interface PipelineOutputs {
  marketplace: ResolvedPack;
  generation: Generated;
  setup: Prepared | ToolchainReady;
  testing: Tested;
  validation: Validated;
  deployment: Deployed | CrateDeployed;
  /** The declared stages, as one result (each is its own line on the terminal). */
  checks: Checked;
}

/** @deprecated the Node service's outputs: see PipelineOutputs. */
export type NodeServiceOutputs = PipelineOutputs;

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
  /** Where the releases are (a service) or the registry (a crate). */
  releasesDir?: string;
}

const ignore = () => undefined;

/**
 * The packages the stages load on first use, loaded before the first stage starts: their loading
 * would otherwise compete with the marketplace stage for the one JavaScript thread (and count in it).
 */
async function preload(): Promise<void> {
  tuneWasmTiering();
  await Promise.all([
    import("@ggen/marketplace"),
    import("@ggen/generator"),
    import("@ggen/lifecycle"),
    loadEngine(),
  ]);
}

/**
 * The graph engine (oxigraph, WebAssembly) runs a handful of queries in this process and ends with it:
 * V8's default tier-up recompiles its hot functions with TurboFan on background threads, which costs
 * more CPU than the optimized code saves in so short a life (the domain-service pack's two queries:
 * ≈ 1.4 s of CPU by default, ≈ 0.75 s with a 100× budget; DBpedia's 5 MB: 2.5 s → 1.45 s, and faster
 * in wall time too). A query that runs long still earns its optimized code. Set before the graph host
 * compiles the module (V8 reads the budget then); process-wide, and only this command's process.
 */
const WASM_TIERING_BUDGET = 180_000_000;
let tuned = false;
function tuneWasmTiering(): void {
  if (tuned) return;
  tuned = true;
  setFlagsFromString(`--wasm-tiering-budget=${WASM_TIERING_BUDGET}`);
}

/** The Node service's stages, from the resolved pack to a verified release; throws at the first failure. */
async function nodeService(
  ctx: PipelineContext,
  runner: StageRunner<PipelineOutputs>,
  pack: ResolvedPack,
  environment: Promise<Environment>,
): Promise<void> {
  const needs = await neededServices(pack.dir);
  // The dependency install starts from package.json as it is rendered, while the other templates still
  // render and the contract is checked (on a first run it is setup's longest part).
  const packageJson = join(ctx.paths.output, "package.json");
  let prefetch: Promise<void> | undefined;
  const generated = runner.run(generation, {
    ...pack,
    onRendered: ({ path, content }) => {
      if (path !== packageJson || prefetch) return;
      prefetch = runner.track(
        prefetchDependencies(content, { cacheDir: ctx.options.cache.nodeModules, signal: ctx.signal }),
      );
      // Its failure is the dependency step's to report (it waits for this install).
      prefetch.catch(ignore);
    },
  });
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
  const [gen, deps] = await Promise.all([generated, runner.guard(dependencies)]);
  const project = await loadProject(ctx, gen.root);
  const target = await generatedTarget(gen);
  // The tests start once the services answer.
  const tested = runner.track(
    Promise.all([prepared, environment]).then(([p, env]) =>
      runner.run(testing, { target, environment: env, prepared: p }),
    ),
  );
  const validated = runner.run(validation, {
    project,
    testing: tested,
    dependencies: {
      cacheDir: ctx.options.cache.nodeModules,
      ...("key" in deps && deps.key ? { key: deps.key } : {}),
    },
  });
  // Settled here too, so a rejection while the tests still run is never unhandled.
  validated.catch(ignore);
  const t = await tested;
  await validated;
  const p = await prepared;
  const plan = await planDeployment(ctx, project);
  await runner.run(deployment, { project, plan, prepared: p, tested: t });
}

/** How a declared stage's end shows on the terminal and in the report. */
function showDeclared(ctx: PipelineContext, view: StageView, name: string, r: DeclaredStageResult): void {
  const cutOff = r.status === "skipped" && ctx.signal.aborted && r.durationMs > 0;
  const timedOut = (ctx.signal.reason as { code?: string } | undefined)?.code === "TIMEOUT";
  const status =
    r.status === "passed"
      ? "success"
      : r.status === "skipped"
        ? cutOff && timedOut
          ? "timed-out"
          : "skipped"
        : r.status;
  view.end(name, status, r.summary);
}

/** A pack that declares its pipeline: its stages as declared, then its deploy when every gate passed. */
async function declaredPipeline(
  ctx: PipelineContext,
  runner: StageRunner<PipelineOutputs>,
  pack: ResolvedPack,
  environment: Promise<Environment>,
): Promise<void> {
  const plan = planPipeline(pack.installed.manifest.pipeline!, join(pack.dir, "ggen.toml"));
  probeToolchain(
    plan.toolchain,
    plan.stages.some((s) => s.coverage === "llvm-cov"),
  );
  // The container images carry Node and the services, not a Rust toolchain: said now, not as a failed build.
  const env = await runner.guard(environment);
  if (plan.toolchain === "cargo" && env.backend.name !== "local")
    throw new GgenError(
      "BACKEND_UNSUPPORTED",
      `${pack.ref.pack} builds with cargo, which runs on the local backend only`,
      {
        kind: "usage",
        hint: "pass --backend local",
      },
    );
  const generated = await runner.run(generation, pack);
  // The setup line of this path is the toolchain's (the Node service's is its services').
  const ready = (await runner.run(toolchainSetup, { plan, generated, environment })) as ToolchainReady;
  const view = ctx.options.view;
  const checked = await runner.track(
    runChecks(
      ctx,
      { plan, generated, ready },
      {
        onStart: (name) => view.begin(name),
        onEnd: (name, r) => showDeclared(ctx, view, name, r),
      },
    ),
  );
  runner.outputs.checks = checked;
  // The dependency set's compiled artifacts are kept once every build ran to its end.
  const note = await ready.toolchain
    .finish([...checked.results.values()].every((r) => r.status !== "skipped" && r.status !== "timed-out"))
    .catch((e: unknown) => `the target cache was not stored: ${(e as Error).message}`);
  if (note) ctx.options.onNote(note);
  if (ctx.signal.aborted) throw ctx.signal.reason;
  if (!checked.passed) {
    const failedGates = checked.gates.filter((g) => g.status === "failed");
    const ungated = [...checked.results].filter(
      ([name, r]) => r.status !== "passed" && !checked.plan.stages.find((s) => s.name === name)?.gate,
    );
    const parts = [
      ...failedGates.map((g) => `the ${g.name} gate failed${g.message ? ` (${g.message})` : ""}`),
      ...ungated.map(([name, r]) => `stage ${name} ${r.status}: ${r.summary}`),
    ];
    throw new GgenError("GATES_FAILED", `not ready: ${parts.join("; ") || "a stage did not pass"}`);
  }
  if (plan.deploy) await runner.run(crateDeployment, { generated, ready, checked });
}

/** Appends the run's deployment-metrics/v1 record (wall time, every stage's offset) where the deploy went. */
async function recordDeployment(
  ctx: PipelineContext,
  dir: string,
  status: DeploymentMetrics["status"],
  deploymentId: string,
  stages: readonly StageRecord[],
  wallMs: number,
  run: Tested["run"] | undefined,
): Promise<{ file: string; text: string } | undefined> {
  const lifecycle = await import("@ggen/lifecycle");
  const usage = process.resourceUsage();
  const cpuSeconds = (usage.userCPUTime + usage.systemCPUTime) / 1e6;
  const record = deploymentRecord({
    deploymentId,
    at: new Date(),
    name: ctx.options.name,
    ...(ctx.options.version ? { version: ctx.options.version } : {}),
    environment: ctx.options.env,
    status,
    wallMs,
    stages,
    ...(run ? { run } : {}),
    resources: {
      peakMemoryMb: Math.round((usage.maxRSS / 1024) * 10) / 10,
      cpuPercent: Math.round((cpuSeconds / Math.max(wallMs / 1000, 0.001)) * 1000) / 10,
    },
  });
  await lifecycle.appendDeploymentMetrics(dir, record);
  const file = join(dir, lifecycle.METRICS_FILE);
  const text = await readFile(file, "utf8").catch(() => undefined);
  return text === undefined ? undefined : { file, text };
}

export async function ultraFastDeploy(options: UltraFastOptions): Promise<UltraFastResult> {
  // A bad name, an output outside the project or a signing key that is no key is refused before
  // anything runs (with --sign, the project's key is made now, as `cleanroom report --sign` makes it).
  const paths = pipelinePaths(options);
  const { projectSigningKey } = await import("@ggen/reporter");
  const key = await projectSigningKey(paths.state, { create: options.sign === true });
  if (key?.created) options.onNote(`made a signing key: ${relative(paths.cwd, key.privateKeyFile)}`);
  const view = options.view;
  const run = new RunSignal(options.timeoutMs, options.signal);
  const ctx = createContext(options, run.signal);
  const runner = new StageRunner<PipelineOutputs>(ctx, view);
  await preload();
  const made = runner.track(mkdir(ctx.paths.output, { recursive: true }));
  // The environment needs nothing from the pack: it is made while the marketplace stage runs (on
  // testcontainers that is a container start); its services follow in setup.
  const backend = runner.track(made.then(() => openBackend(ctx)));
  const environment = runner.track(backend.then((b) => openEnvironment(ctx, b)));
  environment.catch(ignore);
  let ok = false;
  let failure: unknown;
  let expected: readonly string[] = NODE_STAGES;
  let metrics: { file: string; text: string } | undefined;
  let teardown: Promise<unknown> = Promise.resolve();
  try {
    await made;
    const pack = await runner.run(marketplace, ctx.options.pack);
    if (pack.installed.manifest.pipeline) {
      expected = [
        ...pack.installed.manifest.pipeline.stages.map((s) => s.name),
        ...(pack.installed.manifest.pipeline.deploy ? ["deployment"] : []),
        "reporting",
      ];
      await declaredPipeline(ctx, runner, pack, environment);
    } else await nodeService(ctx, runner, pack, environment);
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
    // Stages of the path that never began are listed as skipped.
    const seen = new Set(view.records().map((s) => s.name));
    for (const name of expected) if (name !== "reporting" && !seen.has(name)) view.end(name, "skipped");
    // With --keep-running a ready service stays, and so does its database: the environment.
    const keep = options.keepRunning && ok;
    const b = await backend.catch(ignore);
    const deployed = runner.outputs.deployment;
    // Independent, so at once.
    teardown = Promise.all([
      b ? closeEnvironment(ctx, b, keep) : undefined,
      deployed && "plan" in deployed && !keep ? stopDeployment(ctx, deployed) : undefined,
      // Nothing generated (a bad pack name, say): the output dir this run created goes too, if empty.
      made
        .catch(ignore)
        .then((m) =>
          m !== undefined && !runner.outputs.generation ? rmdir(ctx.paths.output).catch(ignore) : undefined,
        ),
    ]);
    // A container engine's share of the run is measured once its environment went (the report states
    // it); without an engine nothing in the report waits for the teardown: it goes while the report is
    // written, and the run returns once both are done.
    if (b?.engineTime) await teardown;
  }

  try {
    const {
      deployment: deployed,
      generation: generated,
      testing: tested,
      validation: validated,
      checks,
    } = runner.outputs;
    const stages = view.records().filter((s) => s.name !== "reporting");
    // The deployment-metrics/v1 record of a run that deployed: its wall time, not a sum of stages.
    if (deployed) {
      const wallMs = Math.max(...stages.map((s) => (s.startedAtMs ?? 0) + (s.durationMs ?? 0)), 0);
      const dir = "plan" in deployed ? deployed.metricsDir : (generated?.root ?? ctx.paths.output);
      metrics = await recordDeployment(
        ctx,
        dir,
        deployed.status,
        deployed.releaseId ?? ctx.sessionId,
        stages,
        wallMs,
        (checks ?? tested)?.run,
      ).catch((e: unknown) => {
        options.onNote(`no deployment metrics recorded: ${(e as Error).message}`);
        return undefined;
      });
    }
    const crate = deployed && !("plan" in deployed) ? deployed : undefined;
    const service = deployed && "plan" in deployed ? deployed : undefined;
    const outcome: Outcome = {
      ok,
      ...(ok ? {} : { failure }),
      stages,
      ...(deployed
        ? {
            deployed: {
              provider: deployed.provider,
              ...(deployed.releaseId ? { releaseId: deployed.releaseId } : {}),
              ...(deployed.rolledBackTo ? { rolledBackTo: deployed.rolledBackTo } : {}),
              ...(service?.plan.url ? { url: service.plan.url } : {}),
              ...(crate ? { registry: shownPath(ctx, crate.registry) } : {}),
              ...(crate?.artifact ? { artifact: crate.artifact } : {}),
            },
          }
        : {}),
    };
    const b = await backend.catch(ignore);
    // Measured after the environment went: its removal is the engine's too.
    const engine = engineShare(b?.engineTime?.(), view.elapsedMs());
    const ready =
      runner.outputs.setup && "toolchain" in runner.outputs.setup ? runner.outputs.setup : undefined;
    const report = await reporting(ctx, {
      outcome,
      ...(b ? { backend: b.name } : {}),
      ...(generated ? { generated } : {}),
      ...(checks
        ? {
            tested: { run: checks.run, runRef: checks.runRef },
            validation: declaredValidation(checks),
            gates: checks.gates,
            ...(checks.coverage ? { coverage: checks.coverage } : {}),
            lintWarnings: [...checks.results.values()].reduce((n, r) => n + (r.facts?.lintWarnings ?? 0), 0),
          }
        : {
            ...(tested ? { tested } : {}),
            ...(validated
              ? { validation: validated.validation }
              : tested
                ? { validation: nodeValidationWithoutChecks(tested.passed) }
                : {}),
            ...(runner.outputs.marketplace && !ready
              ? {
                  gates: nodeGates(validated, { ran: tested !== undefined, passed: tested?.passed ?? false }),
                }
              : {}),
            ...(tested?.coverage ? { coverage: tested.coverage } : {}),
          }),
      ...(ready?.toolchain.package ? { package: ready.toolchain.package } : {}),
      ...(metrics ? { metrics } : {}),
      ...(engine ? { engine } : {}),
    });
    // Unexpected errors, and usage errors (a bad pack name, say), are the caller's to print and exit on.
    if (!ok && !run.timedOut && (!(failure instanceof GgenError) || failure.kind === "usage")) throw failure;
    const reportPath = ctx.paths.report;
    const error = failureLine(outcome, relative(options.cwd, reportPath) || reportPath);
    const url = ok ? service?.plan.url : undefined;
    return {
      report,
      reportPath,
      exitCode: ok ? 0 : 1,
      ...(error ? { error } : {}),
      ...(rolledBack(outcome) ? { rolledBack: true } : {}),
      ...(url ? { url } : {}),
      ...(ok && service?.pid ? { pid: service.pid } : {}),
      ...(service ? { releasesDir: service.plan.releasesDir } : crate ? { releasesDir: crate.registry } : {}),
      ...(options.keepRunning && ok && service
        ? {
            stopHint: `ggen --cwd ${ctx.paths.output} lifecycle stop --env ${options.env} && cleanroom --cwd ${options.cwd} environment delete --name ${ctx.environmentName} --force`,
            environment: ctx.environmentName,
          }
        : {}),
    };
  } finally {
    await teardown;
  }
}

/** The validation section of a Node run whose validation never finished: only the tests are known. */
function nodeValidationWithoutChecks(testsPassed: boolean): PipelineReport["validation"] {
  return {
    packageValid: false,
    testsPassed,
    securityPassed: false,
    publishReady: false,
    skipped: ["packageValid", "securityPassed", "publishReady"],
  };
}

/** The report's validation section from the declared gates (a gate not declared is left out). */
function declaredValidation(checks: Checked): PipelineReport["validation"] {
  const gate = (name: string) => checks.gates.find((g) => g.name === name);
  const skipped: string[] = [];
  const field = (key: string, name: string) => {
    const g = gate(name);
    if (!g) return {};
    if (g.status === "skipped") skipped.push(key);
    return { [key]: g.status === "passed" };
  };
  const findings = [...checks.results.values()].flatMap((r) => [...(r.facts?.findings ?? [])]).slice(0, 50);
  const required = (key: string, name: string) => {
    const g = gate(name);
    if (!g || g.status === "skipped") skipped.push(key);
    return g?.status === "passed";
  };
  return {
    packageValid: required("packageValid", "package"),
    ...field("buildPassed", "build"),
    ...field("lintPassed", "lint"),
    testsPassed: required("testsPassed", "tests"),
    securityPassed: required("securityPassed", "audit"),
    ...field("docsBuilt", "docs"),
    ...field("formatValid", "format"),
    ...field("auditPassed", "audit"),
    publishReady: required("publishReady", "publish") && checks.passed,
    findings,
    ...(skipped.length ? { skipped: [...new Set(skipped)] } : {}),
  } as PipelineReport["validation"];
}
