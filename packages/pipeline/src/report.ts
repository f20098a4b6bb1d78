// The pipeline-report/v1 of a run, from what the run produced: pure (no clock, no files), so every
// field is decided here and nowhere else.

import type { BackendName, CleanroomRun, PipelineReport, StageStatus } from "@ggen/contract";
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
  /** The in-toto statement's digest and where it is, relative to the report. */
  readonly statement: { readonly digest: string; readonly path: string };
  readonly references: PipelineReport["references"];
  /** The reporting stage's own timing, and the run's total, in ms from the start. */
  readonly reporting: { readonly startedAtMs: number; readonly durationMs: number };
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
  if (outcome.ok)
    return {
      provider: d.provider,
      ...(d.releaseId ? { releaseId: d.releaseId } : {}),
      ...(d.url ? { url: d.url } : {}),
    };
  return d.rolledBackTo ? { provider: d.provider, rolledBackTo: d.rolledBackTo } : undefined;
}

export function recommendationOf(outcome: Outcome): string {
  if (outcome.ok)
    return `Ready: every stage passed and ${outcome.deployed?.url ?? "the service"} answers its health check.`;
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
  };
  const deployment = deploymentOf(outcome);
  const r = input.references;
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
      ...(run?.summary.coveragePercent !== undefined
        ? { coveragePercentage: run.summary.coveragePercent }
        : {}),
      lintWarnings: input.validation.findings?.filter((f) => f.severity === "warning").length ?? 0,
      filesGenerated: input.filesGenerated,
    },
    validation: input.validation,
    attestation: {
      hermeticExecution: run ? run.environment.isolation.filesystem : false,
      deterministic: true,
      reproducible: run !== undefined,
      digest: `sha256:${input.statement.digest}`,
      statementPath: input.statement.path,
      signed: false,
    },
    deploymentStatus: deploymentStatusOf(outcome),
    ...(deployment ? { deployment } : {}),
    recommendation: recommendationOf(outcome),
    references: {
      ...(r.manifest ? { manifest: r.manifest } : {}),
      ...(r.run ? { run: r.run } : {}),
      ...(r.metrics ? { metrics: r.metrics } : {}),
    },
  };
}
