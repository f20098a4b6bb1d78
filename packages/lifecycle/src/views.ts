// What `ggen lifecycle …` shows: the text of each result (the JSON is the result itself), and the lines
// a run prints as it goes. Pure: the program passes them to its output.
import { table } from "@ggen/reporter";
import type { LifecycleConfig } from "./config.js";
import type { MetricDelta, MetricsSummary, Trend } from "./metrics.js";
import type { StatusReport } from "./project.js";
import type { Readiness } from "./requirements.js";
import type { LifecycleEvent, RunResult } from "./runner.js";
import type { LifecycleState } from "./state.js";
import type { ValidationReport } from "./validate.js";

export const secs = (ms: number) => `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)}s`;

const SYMBOL: Record<string, string> = {
  success: "✓",
  cached: "↷",
  skipped: "-",
  failed: "✗",
  "timed-out": "✗",
  blocked: "·",
  "not-run": "·",
};

/**
 * Where a run's progress goes: a line per phase (`info`: a program shows these on a terminal, and with
 * --verbose elsewhere — the result's table says the same on stdout), details (`verbose`), warnings, and a
 * live line of what is running.
 */
export interface RunPrinter {
  info(text: string): void;
  verbose(text: string): void;
  warn(text: string): void;
  progress: { start(label: string): unknown; update(label: string): void; stop(): void };
}

/** The `onEvent` of a run that prints its progress to `p`. */
export function printRunEvents(p: RunPrinter): (e: LifecycleEvent) => void {
  const running = new Set<string>();
  const label = () => `running ${[...running].join(", ")}`;
  return (e) => {
    switch (e.type) {
      case "phase-start":
        running.add(e.phase);
        p.progress.start(label());
        p.verbose(`▶ ${e.phase}: ${e.commands.join(" && ") || "(no commands)"}`);
        break;
      case "phase-output":
        p.verbose(`  ${e.phase} | ${e.line}`);
        break;
      case "phase-finish":
        running.delete(e.phase);
        if (running.size) p.progress.update(label());
        else p.progress.stop();
        p.info(`${SYMBOL[e.status] ?? "?"} ${e.phase} ${e.status} in ${secs(e.durationMs)}`);
        break;
      case "phase-skip":
        if (e.reason === "cached") p.info(`${SYMBOL.cached} ${e.phase} cached (inputs unchanged)`);
        else if (e.reason === "profile") p.info(`- ${e.phase} skipped by the profile`);
        break;
      case "hook-finish":
        p.verbose(`  hook ${e.hook}: ${e.entry} ${e.ok ? "ok" : "failed"}`);
        break;
      case "gate":
        p.info(
          `${e.ok ? "✓" : "✗"} ${e.check} gate for ${e.environment}: ${e.errors} error(s), ${e.warnings} warning(s)`,
        );
        break;
      case "deploy-start":
        p.info(`  deploying ${e.releaseId ?? ""} to ${e.environment} (${e.provider})`);
        break;
      case "verify-attempt":
        p.verbose(`  verify ${e.url} attempt ${e.attempt}: ${e.detail}`);
        break;
      case "rollback":
        p.warn(`rolled back ${e.environment}${e.from ? ` from ${e.from}` : ""} to ${e.to}`);
        break;
      default:
        break;
    }
  };
}

/** A run's result: the plan of a dry run, else each phase, the deployment and the verdict. */
export function runText(result: RunResult, config: LifecycleConfig): string {
  if (result.dryRun) {
    const lines = [`dry run: ${result.plan.order.length} phase(s) for environment ${result.environment}`];
    result.plan.waves.forEach((w, i) => {
      lines.push(`  wave ${i + 1}: ${w.join(", ")}`);
      for (const p of w) for (const c of config.phases.get(p)?.commands ?? []) lines.push(`    ${p}: ${c}`);
    });
    if (result.plan.skipped.length) lines.push(`  skipped by profile: ${result.plan.skipped.join(", ")}`);
    return lines.join("\n");
  }
  let text = table(result.phases, [
    { header: "PHASE", value: (r) => r.phase },
    { header: "STATUS", value: (r) => r.status },
    { header: "TIME", value: (r) => (r.durationMs > 0 ? secs(r.durationMs) : ""), align: "right" },
    { header: "EXIT", value: (r) => (r.exitCode === null ? "" : r.exitCode), align: "right" },
  ]);
  if (result.deployment) {
    const d = result.deployment;
    text += `\ndeployment ${d.releaseId ?? ""} to ${d.environment}: ${d.status}${d.rolledBackTo ? ` (restored ${d.rolledBackTo})` : ""}`;
  }
  return `${text}\n${result.ok ? "ok" : "failed"} in ${secs(result.durationMs)}`;
}

/** `list`: phases (with their last status), environments and profiles. */
export function listData(config: LifecycleConfig, state: LifecycleState) {
  return {
    project: config.name,
    file: config.file,
    phases: [...config.phases.values()].map((p) => ({
      name: p.name,
      description: p.description ?? "",
      dependsOn: p.dependsOn,
      commands: p.commands.length,
      cached: p.inputs.length > 0,
      last: state.phases[p.name]?.status ?? null,
    })),
    environments: [...config.environments.values()].map((e) => ({
      name: e.name,
      provider: e.deploy?.provider ?? null,
      verify: e.verify?.url ?? null,
      rules: {
        tests: e.requireTests,
        security: e.requireSecurity,
        approval: e.requireApproval,
        rollback: e.rollback,
      },
    })),
    profiles: [...config.profiles.values()].map((p) => ({
      name: p.name,
      description: p.description ?? "",
      skip: p.skip,
    })),
    ...(config.defaultProfile ? { defaultProfile: config.defaultProfile } : {}),
  };
}

export function listText(data: ReturnType<typeof listData>): string {
  const t = table(data.phases, [
    { header: "PHASE", value: (r) => r.name },
    { header: "DEPENDS ON", value: (r) => r.dependsOn.join(", ") },
    { header: "LAST", value: (r) => r.last ?? "" },
    { header: "DESCRIPTION", value: (r) => r.description, max: 50 },
  ]);
  const envs = data.environments.map((e) => `${e.name}${e.provider ? ` (${e.provider})` : ""}`).join(", ");
  const profs = data.profiles
    .map((p) => (p.name === data.defaultProfile ? `${p.name} (default)` : p.name))
    .join(", ");
  return `${t}\n\nenvironments: ${envs || "none"}\nprofiles: ${profs || "none"}`;
}

/** `show`: one phase. */
export function phaseText(d: Awaited<ReturnType<typeof import("./runner.js").describePhase>>): string {
  const lines = [`phase ${d.name}${d.description ? ` — ${d.description}` : ""}`];
  lines.push(`  commands:   ${d.commands.length ? d.commands.join("\n              ") : "(none)"}`);
  lines.push(`  depends on: ${d.dependsOn.join(", ") || "-"}`);
  lines.push(`  needed by:  ${d.dependents.join(", ") || "-"}`);
  lines.push(`  run order:  ${d.order.join(" → ")}`);
  if (d.timeoutMs) lines.push(`  timeout:    ${secs(d.timeoutMs)}`);
  if (d.inputs.length) lines.push(`  inputs:     ${d.inputs.join(", ")}`);
  if (d.outputs.length) lines.push(`  outputs:    ${d.outputs.join(", ")}`);
  for (const [h, e] of Object.entries(d.hooks)) lines.push(`  ${h}: ${e.join(", ")}`);
  if (d.lastRun) {
    lines.push(
      `  last run:   ${d.lastRun.status} at ${d.lastRun.startedAt} in ${secs(d.lastRun.durationMs)} (exit ${d.lastRun.exitCode ?? "-"})`,
    );
  } else lines.push("  last run:   never");
  return lines.join("\n");
}

/** `readiness`: each requirement, the score and the verdict. */
export function readinessText(r: Readiness, rows: Readiness["requirements"]): string {
  const t = table(rows, [
    { header: "ID", value: (q) => q.id },
    { header: "REQUIREMENT", value: (q) => q.name, max: 40 },
    { header: "CATEGORY", value: (q) => q.category },
    { header: "REQUIRED", value: (q) => (q.required ? "yes" : "no") },
    { header: "STATUS", value: (q) => `${q.status} (${q.source})` },
    { header: "DETAIL", value: (q) => q.detail ?? "", max: 50 },
  ]);
  const cats = r.categories.map((c) => `${c.category} ${c.met}/${c.total}`).join(", ");
  return `${t}\n\nscore ${r.score}/100 — ${r.ready ? "ready" : `not ready (${r.unmetRequired.join(", ")} unmet)`}\n${cats}`;
}

/**
 * Whether `readiness` ends in failure (exit 1): when the project is not ready and the caller asked for
 * a verdict — `--strict`, or in CI (CI=true, as CI services set it).
 */
export function readinessFails(r: Readiness, strict: boolean, env: NodeJS.ProcessEnv = process.env): boolean {
  const ci = /^(1|true|yes)$/i.test(env.CI ?? "");
  return !r.ready && (strict || ci);
}

/** `validate`: each finding, then the verdict. */
export function findingsText(report: ValidationReport): string {
  const lines = report.findings.map(
    (f) => `${f.file ?? "-"}${f.line ? `:${f.line}` : ""}: ${f.severity}: [${f.check}] ${f.message}`,
  );
  lines.push(
    `${report.passed ? "passed" : "failed"}: ${report.errors} error(s), ${report.warnings} warning(s) (checks: ${report.checks.join(", ")})`,
  );
  return lines.join("\n");
}

/** `status`: where the project stands. */
export function statusText(s: StatusReport): string {
  const lines = [`project ${s.project} (${s.configFile}), environment ${s.environment ?? "-"}`];
  if (s.currentPhase) lines.push(`current phase: ${s.currentPhase}`);
  for (const r of s.running)
    lines.push(`running: ${r.phases.join(", ")} (pid ${r.pid}, since ${r.startedAt})`);
  for (const r of s.interrupted) {
    lines.push(
      `interrupted: run ${r.id} (${r.phases.join(", ")})${r.phase ? ` in phase ${r.phase}` : ""} started ${r.startedAt}; its process ${r.pid} is gone`,
    );
  }
  lines.push(
    table(s.phases, [
      { header: "PHASE", value: (p) => p.name },
      { header: "STATUS", value: (p) => p.status },
      {
        header: "TIME",
        value: (p) => (p.durationMs !== undefined ? secs(p.durationMs) : ""),
        align: "right",
      },
      {
        header: "EXIT",
        value: (p) => (p.exitCode === undefined || p.exitCode === null ? "" : p.exitCode),
        align: "right",
      },
      { header: "AT", value: (p) => p.at ?? "" },
    ]),
  );
  for (const e of s.environments) {
    lines.push(
      `${e.name}: ${e.current ? `release ${e.current}` : "not deployed"} (${e.releases} release(s))`,
    );
  }
  lines.push(`${s.deployments} deployment(s) recorded`);
  return lines.join("\n");
}

const breakdownTable = (s: MetricsSummary, runs: boolean) =>
  table(s.breakdown, [
    { header: "PHASE", value: (b) => b.phase },
    { header: "MEAN", value: (b) => `${b.meanSeconds}s`, align: "right" },
    { header: "SHARE", value: (b) => `${(b.share * 100).toFixed(1)}%`, align: "right" },
    ...(runs
      ? [
          {
            header: "RUNS",
            value: (b: MetricsSummary["breakdown"][number]) => b.runs,
            align: "right" as const,
          },
        ]
      : []),
  ]);

/** `metrics`: the history in a few lines (wall time per deployment), with the per-phase breakdown. */
export function metricsText(s: MetricsSummary, breakdown: boolean): string {
  const lines = [
    `${s.deployments} deployment(s): ${s.success} ok, ${s.failed} failed, ${s.rolledBack} rolled back (success ${(s.successRate * 100).toFixed(0)}%)`,
    `wall time: mean ${s.meanTotalSeconds}s, p95 ${s.p95TotalSeconds}s`,
  ];
  if (s.last) lines.push(`last: ${s.last.deploymentId} ${s.last.status} at ${s.last.timestamp}`);
  if (breakdown) lines.push(breakdownTable(s, true));
  return lines.join("\n");
}

/** `metrics analyze`: the summary, the breakdown and, when asked, the trends. */
export function analyzeText(summary: MetricsSummary, trends: Trend[] | undefined): string {
  const lines = [
    `${summary.deployments} record(s); wall time mean ${summary.meanTotalSeconds}s, p95 ${summary.p95TotalSeconds}s; success ${(summary.successRate * 100).toFixed(0)}%`,
    breakdownTable(summary, false),
  ];
  if (trends) {
    lines.push(
      "",
      table(trends, [
        { header: "METRIC", value: (t) => t.metric },
        { header: "FIRST HALF", value: (t) => `${t.firstHalfMean}s`, align: "right" },
        { header: "SECOND HALF", value: (t) => `${t.secondHalfMean}s`, align: "right" },
        { header: "CHANGE", value: (t) => `${t.changePercent}%`, align: "right" },
        { header: "TREND", value: (t) => t.direction },
      ]),
    );
  }
  return lines.join("\n");
}

/** `metrics compare`: each metric against the baseline. */
export function compareText(c: { deltas: MetricDelta[]; regressions: number }, tolerance: number): string {
  const t = table(c.deltas, [
    { header: "METRIC", value: (d) => d.metric },
    { header: "BASELINE", value: (d) => `${d.baseline}s`, align: "right" },
    { header: "CURRENT", value: (d) => `${d.current}s`, align: "right" },
    { header: "DELTA", value: (d) => `${d.deltaSeconds >= 0 ? "+" : ""}${d.deltaSeconds}s`, align: "right" },
    { header: "%", value: (d) => `${d.deltaPercent}%`, align: "right" },
    { header: "", value: (d) => (d.regression ? "REGRESSION" : "") },
  ]);
  return `${t}\n${c.regressions} regression(s) over ${tolerance}%`;
}
