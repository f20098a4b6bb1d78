// How a deploy stage's result decides the run, the same for every deploy (a Node service's release, a
// crate's verified publish): anything but success fails the stage — a rolled-back release shows as
// such — and a release that landed while the run was cut off (--timeout, Ctrl-C) fails it all the same.

import { GgenError } from "@ggen/support";
import type { PipelineContext } from "../context.js";
import type { StageFailure } from "../stage.js";

export interface ReleaseOutcome {
  readonly status: "success" | "failed" | "rolled-back";
  readonly message?: string;
}

export function releaseVerdict(d: ReleaseOutcome, ctx: PipelineContext): StageFailure | undefined {
  if (d.status !== "success")
    return {
      error: new GgenError("DEPLOY_FAILED", d.message ?? `deploy ${d.status}`),
      status: d.status === "rolled-back" ? "rolled-back" : "failed",
      message: d.message ?? d.status,
    };
  return ctx.signal.aborted ? { error: ctx.signal.reason } : undefined;
}
