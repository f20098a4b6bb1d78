// Deployment: the generated project deployed to its make.toml environment on a free port, with its
// services' variables (the database), verified, and rolled back automatically when verify fails.

import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { LifecycleConfig } from "@ggen/lifecycle";
import { freePort, GgenError } from "@ggen/support";
import type { PipelineContext } from "../context.js";
import type { Project } from "../project.js";
import type { Stage } from "../stage.js";
import { releaseVerdict } from "./release-verdict.js";
import type { Prepared } from "./setup.js";
import type { Tested } from "./testing.js";

/** Where and how the release goes: the environment's deploy on a free port, verify pointed at it. */
export interface DeploymentPlan {
  /** The project's config with the environment moved to the port (the loaded one is left as it was). */
  readonly config: LifecycleConfig;
  readonly releasesDir: string;
  readonly url?: string;
}

export async function planDeployment(ctx: PipelineContext, project: Project): Promise<DeploymentPlan> {
  const port = await freePort();
  const name = ctx.options.env;
  const env = project.config.environments.get(name);
  if (!env?.deploy) {
    throw new GgenError("NO_DEPLOY", `the generated make.toml has no [environments.${name}.deploy]`, {
      kind: "usage",
    });
  }
  const verify = env.verify && { ...env.verify, url: env.verify.url.replace(/:\d+\//, `:${port}/`) };
  const environments = new Map(project.config.environments);
  environments.set(name, { ...env, deploy: { ...env.deploy, port }, ...(verify ? { verify } : {}) });
  return {
    config: { ...project.config, environments },
    releasesDir: join(project.config.root, env.deploy.dir),
    ...(verify ? { url: verify.url } : {}),
  };
}

export interface DeploymentInput {
  readonly project: Project;
  readonly plan: DeploymentPlan;
  readonly prepared: Prepared;
  readonly tested: Tested;
}

export interface Deployed {
  readonly plan: DeploymentPlan;
  readonly provider: string;
  readonly status: "success" | "failed" | "rolled-back";
  readonly releaseId?: string;
  readonly rolledBackTo?: string;
  readonly message?: string;
  /** Where the run's deployment-metrics/v1 record goes: the generated project. */
  readonly metricsDir: string;
  /** The service's pid, when it stays running (--keep-running). */
  readonly pid?: number;
}

export const deployment: Stage<DeploymentInput, Deployed, "deployment"> = {
  name: "deployment",
  // The deploy itself cannot be cut off half-way; over --timeout it is undone afterwards.
  onAbort: "finish",
  async run(ctx, { project, plan, prepared }) {
    const lifecycle = await import("@ggen/lifecycle");
    const o = ctx.options;
    const env: Record<string, string> = { HOST: "127.0.0.1" };
    for (const s of prepared.services) Object.assign(env, s.env);
    const r = await lifecycle.deploy(plan.config, o.env, {
      env,
      // A failed verify rolls back, as the ultra-fast path promises — unless the profile itself says
      // rollback = false.
      rollback: project.profile?.rollback ?? true,
      ...(project.profile?.verifyRetries !== undefined
        ? { verifyRetries: project.profile.verifyRetries }
        : {}),
      version: o.version ?? "0.1.0",
      // The run writes its own record afterwards: its wall time and every stage's offset, which the
      // deploy alone cannot know.
      recordMetrics: false,
    });
    const pid =
      r.status === "success" && o.keepRunning
        ? Number.parseInt(await readFile(join(plan.releasesDir, "service.pid"), "utf8").catch(() => ""), 10)
        : 0;
    return {
      plan,
      provider: r.provider,
      status: r.status,
      ...(r.releaseId ? { releaseId: r.releaseId } : {}),
      ...(r.rolledBackTo ? { rolledBackTo: r.rolledBackTo } : {}),
      ...(r.message ? { message: r.message } : {}),
      metricsDir: project.config.root,
      ...(pid > 0 ? { pid } : {}),
    };
  },
  // Deployed, but over --timeout (or interrupted) meanwhile: the run fails and teardown stops it.
  verdict: releaseVerdict,
  describe: (d) => `release ${d.releaseId} answers ${d.plan.url ?? ""}`,
};

/** Stops the service a deployment started. */
export async function stopDeployment(ctx: PipelineContext, deployed: Deployed): Promise<void> {
  const lifecycle = await import("@ggen/lifecycle");
  await lifecycle.stopService(deployed.plan.config, ctx.options.env).catch(() => false);
}
