// A pack's declared pipeline as the run takes it: every stage with its parser and dependencies filled
// in, lanes known; and, once the stages have run, the quality gates they decide. Pure.

import type {
  GateResult,
  PackPipeline,
  PipelineGate,
  PipelineParser,
  PipelineStageDecl,
} from "@ggen/contract";
import { GgenError, parseDuration } from "@ggen/support";

/** Seed 001's quality gates, in the order the report lists them. */
export const GATES: readonly PipelineGate[] = [
  "build",
  "tests",
  "lint",
  "format",
  "package",
  "docs",
  "audit",
  "publish",
];

/** Names the run's own stages use: a declared stage may not take one. */
export const RESERVED_STAGES = [
  "marketplace",
  "generation",
  "setup",
  "dependencies",
  "deployment",
  "reporting",
] as const;

export interface PlannedStage {
  readonly name: string;
  readonly gate?: PipelineGate;
  readonly run?: readonly string[];
  readonly uses?: PipelineStageDecl["uses"];
  readonly parse: PipelineParser;
  readonly after: readonly string[];
  readonly lane?: string;
  readonly coverage?: PipelineStageDecl["coverage"];
  readonly timeoutMs?: number;
}

export interface PipelinePlan {
  readonly toolchain: NonNullable<PackPipeline["toolchain"]>;
  readonly stages: readonly PlannedStage[];
  /** Lanes in the order their first stage is declared (the first gets the main build directory). */
  readonly lanes: readonly string[];
  readonly deploy?: PackPipeline["deploy"];
}

/** The plan of a checked [pipeline] (parsePackManifest has checked names, after and cycles). */
export function planPipeline(decl: PackPipeline, file = "ggen.toml"): PipelinePlan {
  const lanes: string[] = [];
  const stages = decl.stages.map((s): PlannedStage => {
    if ((RESERVED_STAGES as readonly string[]).includes(s.name))
      throw new GgenError(
        "PIPELINE_INVALID",
        `[[pipeline.stages]] '${s.name}' is the name of one of the run's own stages`,
        {
          kind: "usage",
          location: { file },
          hint: `not one of: ${RESERVED_STAGES.join(", ")}`,
        },
      );
    if (s.lane && !lanes.includes(s.lane)) lanes.push(s.lane);
    const timeoutMs = s.timeout
      ? parseDuration(s.timeout, { flag: `[[pipeline.stages]] '${s.name}' timeout` })
      : undefined;
    return {
      name: s.name,
      ...(s.gate ? { gate: s.gate } : {}),
      ...(s.run ? { run: s.run } : {}),
      ...(s.uses ? { uses: s.uses } : {}),
      parse: s.parse ?? s.uses ?? "exit-code",
      after: s.after ?? [],
      ...(s.lane ? { lane: s.lane } : {}),
      ...(s.coverage ? { coverage: s.coverage } : {}),
      ...(timeoutMs ? { timeoutMs } : {}),
    };
  });
  return {
    toolchain: decl.toolchain ?? "none",
    stages,
    lanes,
    ...(decl.deploy ? { deploy: decl.deploy } : {}),
  };
}

/** How a declared stage ended. */
export type DeclaredStatus = "passed" | "failed" | "skipped" | "timed-out";

/** The gates the plan declares, from how their stages ended: failed if any failed (or timed out),
 * skipped if any never ran, passed when all passed. */
export function gatesOf(
  plan: PipelinePlan,
  outcome: ReadonlyMap<string, { status: DeclaredStatus; summary?: string }>,
): GateResult[] {
  const out: GateResult[] = [];
  for (const gate of GATES) {
    const stages = plan.stages.filter((s) => s.gate === gate);
    if (stages.length === 0) continue;
    const ended = stages.map((s) => ({ s, o: outcome.get(s.name) ?? { status: "skipped" as const } }));
    const bad = ended.find((e) => e.o.status === "failed" || e.o.status === "timed-out");
    const skipped = ended.find((e) => e.o.status === "skipped");
    const status = bad ? "failed" : skipped ? "skipped" : "passed";
    const why = bad ?? skipped;
    out.push({
      name: gate,
      status,
      stages: stages.map((s) => s.name),
      ...(why?.o.summary ? { message: `${why.s.name}: ${why.o.summary}` } : {}),
    });
  }
  return out;
}
