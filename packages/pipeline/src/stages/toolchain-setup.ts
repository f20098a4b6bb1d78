// Setup of a pack that declares its pipeline: the run's environment (made while the marketplace stage
// ran), where the output appears inside it, and the toolchain the pack names prepared for its stages.

import type { PipelineContext } from "../context.js";
import type { PipelinePlan } from "../declared/plan.js";
import { type PreparedToolchain, TOOLCHAINS } from "../declared/toolchains.js";
import { loadEngine } from "../engine.js";
import type { Stage } from "../stage.js";
import type { Generated } from "./generation.js";
import type { Environment } from "./setup.js";

export interface ToolchainSetupInput {
  readonly plan: PipelinePlan;
  readonly generated: Generated;
  readonly environment: Promise<Environment>;
}

export interface ToolchainReady {
  readonly environment: Environment;
  readonly toolchain: PreparedToolchain;
  /** The output as the environment's commands see it. */
  readonly visibleRoot: string;
}

export const toolchainSetup: Stage<ToolchainSetupInput, ToolchainReady, "setup"> = {
  name: "setup",
  onAbort: "stop-waiting",
  async run(ctx: PipelineContext, { plan, generated, environment }) {
    const env = await environment;
    const { backendExec, WORKSPACE } = await loadEngine();
    // Paths the commands are given (target dirs, coverage files) are paths as they see them: asked of
    // the environment while the toolchain is prepared.
    const visible = backendExec(env.backend, env.name)(["pwd"], { cwd: WORKSPACE, signal: ctx.signal }).then(
      (pwd) => (pwd.exitCode === 0 ? pwd.stdout.trim() : generated.root),
    );
    const [toolchain, visibleRoot] = await Promise.all([
      TOOLCHAINS[plan.toolchain]({
        root: generated.root,
        visibleRoot: visible,
        lanes: plan.lanes,
        signal: ctx.signal,
        nodeModulesCache: ctx.options.cache.nodeModules,
        llvmCoverage: plan.stages.some((s) => s.coverage === "llvm-cov"),
      }),
      visible,
    ]);
    return { environment: env, toolchain, visibleRoot };
  },
  describe: (r) =>
    [
      `${r.environment.backend.name} backend`,
      r.toolchain.name !== "none" ? r.toolchain.name : "",
      r.toolchain.summary,
    ]
      .filter(Boolean)
      .join("; "),
};
