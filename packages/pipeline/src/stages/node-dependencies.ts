// A Node project's dependencies, part of setup: a copy of the tree prepared for its dependency set
// (installed first when there is none, which also warms npm's cache), as soon as the generated
// package.json exists.

import { type PreparedDependencies, prepareDependencies } from "../dependencies.js";
import type { Stage } from "../stage.js";
import type { Generated } from "./generation.js";
import type { DependencySummary } from "./setup.js";

export type NodeDependencies = PreparedDependencies & DependencySummary;

const SUMMARY: Record<PreparedDependencies["source"], string> = {
  cache: "dependencies from the prepared tree",
  install: "dependencies installed (and kept)",
  none: "",
};

export const nodeDependencies: Stage<Generated, NodeDependencies, "dependencies"> = {
  name: "dependencies",
  onAbort: "finish",
  async run(ctx, generated) {
    const prepared = await prepareDependencies(generated.root, {
      cacheDir: ctx.options.cache.nodeModules,
      signal: ctx.signal,
    });
    return { ...prepared, summary: SUMMARY[prepared.source] };
  },
};
