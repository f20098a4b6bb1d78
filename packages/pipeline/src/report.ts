// The pipeline-report/v1 of a run, from what the run produced: pure (no clock, no files), so every
// field is decided here and nowhere else.

import type { EngineTime } from "@ggen/cleanroom-backends";
import type {
  BackendName,
  CleanroomRun,
  DeploymentMetrics,
  GateResult,
  PipelineCoverage,
  PipelineReport,
  StageStatus,
} from "@ggen/contract";
import type { StageRecord } from "@ggen/reporter";

/** How a run ended, as the report and the caller see it. */
export interface Outcome {
  /** Every stage passed (the service answers its health check). */
  readonly ok: boolean;
  /** Why not, when not ok. */
  readonly failure?: unknown;
  /** The stages as recorded (the reporting stage left out). */
  readonly stages: readonly StageRecord[];
  /** A release was deployed (whatever happened to it afterwards). */
  readonly deployed?: {
    readonly provider: string;
    readonly releaseId?: string;
    readonly rolledBackTo?: string;
    readonly url?: string;
    /** A crate's registry (as the report shows it) and the published .crate. */
    readonly registry?: string;
    readonly artifact?: { readonly path: string; readonly sha256: string };
  };
}

export interface ReportInput {
  readonly sessionId: string;
  readonly name: string;
  readonly version?: string;
  readonly environment: string;
  readonly backend?: BackendName;
  readonly startedAt: Date;
  readonly outcome: Outcome;
  readonly filesGenerated: number;
  readonly run?: CleanroomRun;
  readonly validation: PipelineReport["validation"];
  /** The quality gates the pack declares, as they ended. */
  readonly gates?: readonly GateResult[];
  readonly coverage?: PipelineCoverage;
  /** Lint warnings when a parser counted them (else the validation's warnings are counted). */
  readonly lintWarnings?: number;
  readonly package?: PipelineReport["package"];
  /** The in-toto statement's digest and where it is, relative to the report; signed with keyId when signed. */
  readonly statement: { readonly digest: string; readonly path: string; readonly keyId?: string };
  readonly references: PipelineReport["references"];
  /** The reporting stage's own timing, and the run's total, in ms from the start. */
  readonly reporting: {
    readonly startedAtMs: number;
    readonly durationMs: number;
    readonly message?: string;
  };
  readonly totalDurationMs: number;
}

const firstLine = (e: unknown) => (e instanceof Error ? e.message : String(e)).split("\n")[0]!;

export function rolledBack(outcome: Outcome): boolean {
  return outcome.stages.some((s) => s.status === "rolled-back");
}

export function deploymentStatusOf(outcome: Outcome): PipelineReport["deploymentStatus"] {
  if (outcome.ok) return "READY";
  return rolledBack(outcome) ? "ROLLED_BACK" : outcome.deployed ? "FAILED" : "NOT_READY";
}

/** The report's deployment section: the release when ready, the release restored after a rollback. */
export function deploymentOf(outcome: Outcome): PipelineReport["deployment"] | undefined {
  const d = outcome.deployed;
  if (!d) return undefined;
  const where = {
    ...(d.registry ? { registry: d.registry } : {}),
    ...(d.artifact ? { artifact: { path: d.artifact.path, sha256: d.artifact.sha256 } } : {}),
  };
  if (outcome.ok)
    return {
      provider: d.provider,
      ...(d.releaseId ? { releaseId: d.releaseId } : {}),
      ...(d.url ? { url: d.url } : {}),
      ...where,
    };
  return d.rolledBackTo
    ? { provider: d.provider, rolledBackTo: d.rolledBackTo, ...(d.registry ? { registry: d.registry } : {}) }
    : undefined;
}

export function recommendationOf(outcome: Outcome): string {
  if (outcome.ok) {
    const d = outcome.deployed;
    if (d?.registry)
      return `Ready: every quality gate passed and ${d.releaseId ?? "the crate"} was published to ${d.registry}, where a crate depending on it compiles.`;
    return d
      ? `Ready: every stage passed and ${d.url ?? "the service"} answers its health check.`
      : "Ready: every quality gate passed.";
  }
  return rolledBack(outcome)
    ? "Not ready: the new release failed verification and the previous release was restored."
    : `Not ready: ${outcome.failure instanceof Error ? outcome.failure.message : String(outcome.failure)}`;
}

/** The one line to print for a failed run (the report, at `reportPath`, holds the detail). */
export function failureLine(outcome: Outcome, reportPath: string): string | undefined {
  if (outcome.ok) return undefined;
  if (rolledBack(outcome)) {
    const to = outcome.deployed?.rolledBackTo;
    return `verify failed and the deployment was rolled back${to ? ` to ${to}` : ""} (details: ${reportPath})`;
  }
  return `${firstLine(outcome.failure)} (details: ${reportPath})`;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/**
 * How much of a run its container engine took, as the report's reporting stage states it: the sum of
 * the waits on the engine (container starts, services until ready, command round trips, removals), each
 * part after it; parts overlap other work (a container starts while the marketplace stage runs), so the
 * sum is what the engine cost, not what it added to the wall time. Undefined without an engine.
 */
export function engineShare(time: EngineTime | undefined, wallMs: number): string | undefined {
  if (!time || Object.keys(time.parts).length === 0) return undefined;
  const parts = Object.entries(time.parts)
    .sort(([, a], [, b]) => b.ms - a.ms)
    .map(([name, p]) => `${name}${p.count > 1 ? ` ×${p.count}` : ""} ${seconds(p.ms)}`);
  return `Docker engine: ${seconds(time.totalMs)} waited on it during the run's ${seconds(wallMs)} (${parts.join(", ")})`;
}

/** A stage that never ended (cut off, never started) was skipped. */
function stageEntry(s: StageRecord): PipelineReport["stages"][string] {
  const status: StageStatus = s.status === "pending" || s.status === "running" ? "skipped" : s.status;
  return {
    durationMs: Math.round(s.durationMs ?? 0),
    status,
    ...(s.startedAtMs !== undefined && status !== "skipped"
      ? { startedAtMs: Math.round(s.startedAtMs) }
      : {}),
    ...(s.message ? { message: s.message.split("\n")[0]! } : {}),
  };
}

export function buildReport(input: ReportInput): PipelineReport {
  const { outcome, run } = input;
  const stages: PipelineReport["stages"] = {};
  for (const s of outcome.stages) stages[s.name] = stageEntry(s);
  stages.reporting = {
    durationMs: Math.round(input.reporting.durationMs),
    status: "success",
    startedAtMs: Math.round(input.reporting.startedAtMs),
    ...(input.reporting.message ? { message: input.reporting.message } : {}),
  };
  const deployment = deploymentOf(outcome);
  const r = input.references;
  const cov = input.coverage;
  const percent =
    cov?.status === "measured" ? cov.percent : cov === undefined ? run?.summary.coveragePercent : undefined;
  return {
    kind: "pipeline-report/v1",
    sessionId: input.sessionId,
    name: input.name,
    ...(input.version ? { version: input.version } : {}),
    environment: input.environment,
    ...(input.backend ? { backend: input.backend } : {}),
    startedAt: input.startedAt.toISOString(),
    totalDurationMs: Math.round(input.totalDurationMs),
    stages,
    metrics: {
      testsExecuted: run?.summary.total ?? 0,
      testsPassed: run?.summary.passed ?? 0,
      testsFailed: (run?.summary.failed ?? 0) + (run?.summary.errored ?? 0) + (run?.summary.timedOut ?? 0),
      ...(percent !== undefined ? { coveragePercentage: percent } : {}),
      ...(cov ? { coverage: cov } : {}),
      lintWarnings:
        input.lintWarnings ?? input.validation.findings?.filter((f) => f.severity === "warning").length ?? 0,
      filesGenerated: input.filesGenerated,
    },
    validation: input.validation,
    attestation: {
      hermeticExecution: run ? run.environment.isolation.filesystem : false,
      deterministic: true,
      reproducible: run !== undefined,
      digest: `sha256:${input.statement.digest}`,
      statementPath: input.statement.path,
      signed: input.statement.keyId !== undefined,
      ...(input.statement.keyId ? { keyId: input.statement.keyId } : {}),
    },
    deploymentStatus: deploymentStatusOf(outcome),
    ...(deployment ? { deployment } : {}),
    ...(input.package ? { package: input.package } : {}),
    ...(input.gates ? { gates: input.gates.map((g) => ({ ...g, stages: [...g.stages] })) } : {}),
    recommendation: recommendationOf(outcome),
    references: {
      ...(r.manifest ? { manifest: r.manifest } : {}),
      ...(r.run ? { run: r.run } : {}),
      ...(r.metrics ? { metrics: r.metrics } : {}),
    },
  };
}

/** Start offset and duration of every stage that ran, in seconds, from the stage records. */
export function stageTimes(stages: readonly StageRecord[]): NonNullable<DeploymentMetrics["stages"]> {
  const out: NonNullable<DeploymentMetrics["stages"]> = {};
  for (const s of stages) {
    if (s.startedAtMs === undefined || s.durationMs === undefined) continue;
    out[s.name] = {
      startSeconds: Math.round(s.startedAtMs) / 1000,
      durationSeconds: Math.round(s.durationMs) / 1000,
      status: s.status,
    };
  }
  return out;
}

export interface DeploymentRecordInput {
  readonly deploymentId: string;
  readonly at: Date;
  readonly name: string;
  readonly version?: string;
  readonly environment?: string;
  readonly status: DeploymentMetrics["status"];
  /** Wall time from the run's start to the end of the deployment. */
  readonly wallMs: number;
  readonly stages: readonly StageRecord[];
  readonly run?: CleanroomRun;
  readonly resources: DeploymentMetrics["resourceUsage"];
}

/**
 * The deployment-metrics/v1 record of a run: total = wall time (stages that ran side by side are not
 * added up), each stage with its start offset and duration; `phases` keeps seconds per stage. Pure.
 */
export function deploymentRecord(i: DeploymentRecordInput): DeploymentMetrics {
  const stages = stageTimes(i.stages);
  const s = i.run?.summary;
  return {
    kind: "deployment-metrics/v1",
    deploymentId: i.deploymentId,
    timestamp: i.at.toISOString(),
    ...(i.environment ? { environment: i.environment } : {}),
    name: i.name,
    ...(i.version ? { version: i.version } : {}),
    status: i.status,
    totalTimeSeconds: Math.round(i.wallMs) / 1000,
    phases: Object.fromEntries(Object.entries(stages).map(([k, v]) => [k, v.durationSeconds])),
    stages,
    testMetrics: {
      totalTests: s?.total ?? 0,
      passed: s?.passed ?? 0,
      failed: (s?.failed ?? 0) + (s?.errored ?? 0) + (s?.timedOut ?? 0),
      skipped: s?.skipped ?? 0,
      durationSeconds: Math.round(i.run?.timings.testMs ?? 0) / 1000,
    },
    resourceUsage: i.resources,
  };
}
