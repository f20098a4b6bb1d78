// Plain text: a summary line, failures with their messages, a table of tests; and the same for a
// pipeline report (stages, metrics, validation, recommendation).

import type { CleanroomRun, PipelineReport, TestResult } from "@ggen/contract";
import { table } from "../terminal/table.js";
import { failuresFirst, formatMs, isFailure } from "./shared.js";

export interface RunTextOptions {
  /** Show every test (default: failures and at most `limit` others). */
  all?: boolean;
  limit?: number;
}

export function runSummaryLine(run: CleanroomRun): string {
  const s = run.summary;
  const bad = s.failed + s.errored + s.timedOut;
  const parts = [`${s.passed} passed`];
  if (s.failed) parts.push(`${s.failed} failed`);
  if (s.errored) parts.push(`${s.errored} errored`);
  if (s.timedOut) parts.push(`${s.timedOut} timed out`);
  if (s.skipped) parts.push(`${s.skipped} skipped`);
  return `${bad ? "FAILED" : "PASSED"}  ${s.total} tests: ${parts.join(", ")} in ${formatMs(run.timings.totalMs)} (${run.environment.backend}, ${run.runId})`;
}

export function renderRunText(run: CleanroomRun, options: RunTextOptions = {}): string {
  const lines = [runSummaryLine(run)];
  const failures = run.tests.filter(isFailure);
  if (failures.length > 0) {
    lines.push("", "Failures:");
    for (const t of failures) {
      lines.push(`  ✗ ${t.file} › ${t.suite ? `${t.suite} › ` : ""}${t.name} [${t.status}]`);
      if (t.failureMessage) lines.push(`      ${t.failureMessage.split("\n")[0]}`);
    }
  }
  const ordered = failuresFirst(run.tests);
  const limit = options.all ? ordered.length : Math.max(failures.length, options.limit ?? 50);
  const shown = ordered.slice(0, limit);
  if (shown.length > 0) {
    lines.push(
      "",
      table<TestResult>(shown, [
        { header: "STATUS", value: (t) => t.status },
        { header: "FILE", value: (t) => t.file, max: 40 },
        { header: "TEST", value: (t) => (t.suite ? `${t.suite} › ${t.name}` : t.name), max: 60 },
        { header: "TIME", value: (t) => formatMs(t.durationMs), align: "right" },
      ]),
    );
    if (shown.length < ordered.length)
      lines.push(`… ${ordered.length - shown.length} more (use --json or a report)`);
  }
  if (run.services.length > 0) {
    lines.push(
      "",
      `Services: ${run.services.map((s) => `${s.name} (ready in ${formatMs(s.readyMs)})`).join(", ")}`,
    );
  }
  const t = run.timings;
  lines.push(
    `Timings: setup ${formatMs(t.setupMs)}, tests ${formatMs(t.testMs)}, teardown ${formatMs(t.teardownMs)}`,
  );
  return lines.join("\n");
}

export function renderPipelineText(report: PipelineReport): string {
  const lines = [
    `${report.deploymentStatus}  ${report.name}${report.version ? ` ${report.version}` : ""} in ${formatMs(report.totalDurationMs)}${report.environment ? ` → ${report.environment}` : ""}`,
    "",
    table(
      Object.entries(report.stages).map(([name, s]) => ({ name, ...s })),
      [
        { header: "STAGE", value: (s) => s.name },
        { header: "STATUS", value: (s) => s.status },
        { header: "TIME", value: (s) => formatMs(s.durationMs), align: "right" },
        { header: "NOTE", value: (s) => s.message ?? "", max: 60 },
      ],
    ),
    "",
    `Tests: ${report.metrics.testsPassed}/${report.metrics.testsExecuted} passed${report.metrics.coveragePercentage !== undefined ? `, coverage ${report.metrics.coveragePercentage}%` : ""}`,
  ];
  const v = report.validation;
  // A check that never ran is neither passed nor failed (its boolean is only the default false).
  const skipped = new Set(v.skipped ?? []);
  const checks = Object.entries(v)
    .filter(([, val]) => typeof val === "boolean")
    .map(([k, val]) => `${skipped.has(k) ? "-" : val ? "✓" : "✗"} ${k}`);
  lines.push(`Validation: ${checks.join("  ")}`);
  for (const f of v.findings ?? [])
    lines.push(
      `  ${f.severity}: ${f.file ? `${f.file}${f.line ? `:${f.line}` : ""}: ` : ""}${f.message} [${f.check}]`,
    );
  const a = report.attestation;
  lines.push(
    `Attestation: ${a.digest}${a.signed ? " (signed)" : ""}${a.statementPath ? ` → ${a.statementPath}` : ""}; hermetic ${a.hermeticExecution ? "yes" : "no"}, deterministic ${a.deterministic ? "yes" : "no"}`,
  );
  if (report.deployment?.url) lines.push(`Deployed: ${report.deployment.url}`);
  lines.push(`Recommendation: ${report.recommendation}`);
  return lines.join("\n");
}
