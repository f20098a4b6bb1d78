// The stages a pack declares, run in the run's cleanroom environment as one recorded test session: the
// tests its parsers read become the cleanroom-run/v1 (written into the output, as the Node service's
// testing stage does), every stage shows as its own line, and the gates they decide come out of it.

import { join, relative } from "node:path";
import type { CleanroomRun, GateResult, PipelineCoverage, Reference } from "@ggen/contract";
import { sha256, writeFileAtomic } from "@ggen/support";
import type { PipelineContext } from "../context.js";
import { gatesOf, type PipelinePlan } from "../declared/plan.js";
import { type DeclaredStageResult, runDeclared } from "../declared/run.js";
import { loadEngine } from "../engine.js";
import { type ConsumerTrial, planConsumerTrial } from "./crate-deployment.js";
import type { Generated } from "./generation.js";
import type { ToolchainReady } from "./toolchain-setup.js";

export interface ChecksInput {
  readonly plan: PipelinePlan;
  readonly generated: Generated;
  readonly ready: ToolchainReady;
}

export interface Checked {
  readonly plan: PipelinePlan;
  readonly run: CleanroomRun;
  /** The run as written into the output (.ggen/cleanroom-run.json), relative to cwd. */
  readonly runRef: Reference;
  readonly results: ReadonlyMap<string, DeclaredStageResult>;
  readonly gates: readonly GateResult[];
  readonly coverage?: PipelineCoverage;
  /** Every declared stage passed. */
  readonly passed: boolean;
  /** The deployment's consumer check, made while the stages ran (a crate deployed to a cargo registry). */
  readonly consumerTrial?: ConsumerTrial;
}

export interface ChecksHooks {
  onStart(stage: string): void;
  onEnd(stage: string, result: DeclaredStageResult): void;
}

/** The generated files as the run's sources: relative to the output, as the Node service's run names them. */
export function sourceRefsOf(generated: Generated): Reference[] {
  return generated.manifest.files
    .filter((f) => f.action !== "skipped")
    .map((f) => ({ path: f.path, sha256: f.sha256 }));
}

export async function runChecks(
  ctx: PipelineContext,
  input: ChecksInput,
  hooks: ChecksHooks,
): Promise<Checked> {
  const { plan, generated, ready } = input;
  const { runSession } = await loadEngine();
  let results: ReadonlyMap<string, DeclaredStageResult> = new Map();
  let coverage: PipelineCoverage | undefined;
  const trial = planConsumerTrial(ctx, plan, generated, ready);
  const session = await runSession({
    root: generated.root,
    stateDir: ctx.paths.state,
    kind: "ultra-fast-test",
    backend: ready.environment.backend,
    envName: ready.environment.name,
    sourceRefs: sourceRefsOf(generated),
    ...(generated.manifestRef ? { manifest: generated.manifestRef } : {}),
    tool: { name: "ggen", version: ctx.options.ggenVersion },
    signal: ctx.signal,
    onNote: ctx.options.onNote,
    work: async (w) => {
      const r = await runDeclared({
        plan,
        root: generated.root,
        visibleRoot: ready.visibleRoot,
        workdir: w.workdir,
        exec: w.exec,
        toolchain: ready.toolchain,
        env: w.env,
        signal: ctx.signal,
        onStart: hooks.onStart,
        onEnd: (name, r) => {
          trial?.onEnd(name, r.status);
          hooks.onEnd(name, r);
        },
      });
      results = r.stages;
      coverage = r.coverage;
      return {
        tests: [...r.tests],
        timeline: [...r.stages].map(([name, s]) => ({
          name,
          lane: "step" as const,
          startMs: Math.round(s.startMs),
          durationMs: Math.round(s.durationMs),
          status: s.status,
        })),
        ...(coverage?.status === "measured" ? { coveragePercent: coverage.percent } : {}),
      };
    },
  });
  const text = `${JSON.stringify(session.run, null, 2)}\n`;
  const file = join(generated.root, ".ggen", "cleanroom-run.json");
  await writeFileAtomic(file, text);
  const passed = [...results.values()].every((r) => r.status === "passed");
  // Settled before the run goes on: the trial builds in a lane's target dir, which the cache may store.
  const consumerTrial = await trial?.settled();
  return {
    plan,
    run: session.run,
    runRef: { path: relative(ctx.paths.cwd, file), sha256: sha256(text) },
    results,
    gates: gatesOf(plan, results),
    ...(coverage ? { coverage } : {}),
    passed,
    ...(consumerTrial ? { consumerTrial } : {}),
  };
}
