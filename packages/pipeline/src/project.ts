// The generated project as the lifecycle sees it: its make.toml, and the profile the run asked for
// (checked before anything runs under it).

import type { LifecycleConfig, ProfileConfig } from "@ggen/lifecycle";
import { GgenError } from "@ggen/support";
import type { PipelineContext } from "./context.js";

export interface Project {
  readonly config: LifecycleConfig;
  readonly profile?: ProfileConfig;
}

export async function loadProject(ctx: PipelineContext, root: string): Promise<Project> {
  const lifecycle = await import("@ggen/lifecycle");
  const config = await lifecycle.loadConfig(root);
  const asked = ctx.options.profile;
  if (!asked) return { config };
  const profile = config.profiles.get(asked);
  if (!profile) {
    const names = [...config.profiles.keys()];
    throw new GgenError("UNKNOWN_PROFILE", `the generated make.toml has no profile '${asked}'`, {
      kind: "usage",
      location: { file: config.file },
      hint: names.length ? `profiles: ${names.join(", ")}` : "the pack declares no [profiles.<name>]",
    });
  }
  return { config, profile };
}
