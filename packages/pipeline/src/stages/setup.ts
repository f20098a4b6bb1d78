// Setup: the cleanroom environment (made while the marketplace stage runs: it needs nothing from the
// pack), the services the generated project will need (read off the pack's templates, so they start
// while generation runs), and the project's dependencies (the language's own step, handed in as it
// lands). The stage ends when all of them are there.

import { readdir } from "node:fs/promises";
import { join, relative } from "node:path";
import type { Backend, ChosenBackend, Service } from "@ggen/cleanroom-backends";
import type { PipelineContext } from "../context.js";
import { loadEngine, type Need } from "../engine.js";
import type { Stage } from "../stage.js";

export interface Environment {
  readonly backend: Backend;
  readonly name: string;
}

/** What a language's dependency step says it did, for the setup line ("" when it did nothing). */
export interface DependencySummary {
  readonly summary: string;
}

export interface SetupInput {
  readonly environment: Promise<Environment>;
  readonly needs: readonly Need[];
  readonly dependencies: Promise<DependencySummary>;
}

export interface Prepared {
  readonly backend: Backend["name"];
  readonly services: readonly Service[];
  readonly dependencies: DependencySummary;
}

export async function openBackend(ctx: PipelineContext): Promise<ChosenBackend> {
  const { createBackend } = await import("@ggen/cleanroom-backends");
  return createBackend(ctx.options.backend, { stateDir: ctx.paths.state });
}

/** The run's environment, with the output dir mounted as its workspace. */
export async function openEnvironment(ctx: PipelineContext, backend: Backend): Promise<Environment> {
  const { WORKSPACE } = await loadEngine();
  await backend.createEnvironment({
    name: ctx.environmentName,
    // Deleted when the run ends; if the run is killed, prune finds it by its dead owner. With
    // --keep-running it outlives the run (the deployed service uses its database): no owner then.
    throwaway: !ctx.options.keepRunning,
    ...(ctx.options.isolated ? { isolated: true } : {}),
    caches: ["npm"],
    mounts: [{ host: ctx.paths.output, target: WORKSPACE, writable: true }],
  });
  // Every test file, the install check and the coverage probe are commands in it: one channel for all
  // of them (on testcontainers one exec instead of one per command), opened while the marketplace runs.
  await backend.openExecChannel?.(ctx.environmentName);
  return { backend, name: ctx.environmentName };
}

/** The environment goes (unless `keep`), then whatever the backend holds in-process. */
export async function closeEnvironment(ctx: PipelineContext, backend: Backend, keep: boolean): Promise<void> {
  if (!keep) await backend.deleteEnvironment(ctx.environmentName, { force: true }).catch(() => {});
  await backend.close().catch(() => {});
}

/** The services the pack's output will need (PostgreSQL, Redis), from its installed files. */
export async function neededServices(packDir: string): Promise<Need[]> {
  const { detectNeeds } = await loadEngine();
  const files = (await readdir(packDir, { recursive: true, withFileTypes: true }))
    .filter((d) => d.isFile())
    .map((d) => relative(packDir, join(d.parentPath, d.name)));
  return detectNeeds(packDir, files);
}

export const setup: Stage<SetupInput, Prepared, "setup"> = {
  name: "setup",
  onAbort: "stop-waiting",
  async run(_ctx, input) {
    const [[backend, services], dependencies] = await Promise.all([
      input.environment.then(
        async ({ backend, name }) =>
          [
            backend.name,
            await Promise.all(input.needs.map((n) => backend.startService(name, { kind: n.service }))),
          ] as const,
      ),
      input.dependencies,
    ]);
    return { backend, services, dependencies };
  },
  describe: (p) =>
    `${p.backend} backend; ${p.services.map((s) => `${s.kind} ready in ${Math.round(s.readyMs)} ms`).join(", ") || "no services"}${p.dependencies.summary ? `; ${p.dependencies.summary}` : ""}`,
};
