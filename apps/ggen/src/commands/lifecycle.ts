// `ggen lifecycle …`: argument parsing and printing only; the work is in @ggen/lifecycle.
import { GgenError } from "@ggen/contract";
import { type CommandArgs, defineCommand, type OptionTable } from "@ggen/reporter";
import { type Output, output } from "../context.js";

const secs = (ms: number) => `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)}s`;

async function lib() {
  return import("@ggen/lifecycle");
}

async function config() {
  const { loadConfig } = await lib();
  return loadConfig(process.cwd());
}

/** Asks on the terminal; undefined when there is no terminal to ask on. */
function terminalConfirm(): ((q: string) => Promise<boolean>) | undefined {
  if (!process.stdin.isTTY || !process.stderr.isTTY) return undefined;
  return async (question) => {
    const { createInterface } = await import("node:readline/promises");
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    try {
      const answer = await rl.question(`${question} [y/N] `);
      return /^y(es)?$/i.test(answer.trim());
    } finally {
      rl.close();
    }
  };
}

const SYMBOL: Record<string, string> = {
  success: "✓",
  cached: "↷",
  skipped: "-",
  failed: "✗",
  "timed-out": "✗",
  blocked: "·",
  "not-run": "·",
};

/** The flags of `run` and `pipeline`. */
interface RunFlags {
  phases: string[];
  env?: string;
  profile?: string;
  "dry-run": boolean;
  jobs?: number;
  cache: boolean;
  yes: boolean;
}

async function runCommand(argv: CommandArgs<RunFlags>, sequential: boolean): Promise<void> {
  const out = output(argv);
  const { runPhases } = await lib();
  const { Progress, table } = await import("@ggen/reporter");
  const phases = (argv.phases ?? []).map(String);
  if (phases.length === 0) {
    throw new GgenError("USAGE", "name at least one phase, e.g. 'ggen lifecycle run build'", {
      kind: "usage",
    });
  }
  const cfg = await config();
  const abort = new AbortController();
  const onSigint = () => abort.abort();
  process.once("SIGINT", onSigint);
  const progress = new Progress({ enabled: !out.json && !out.options.quiet });
  const running = new Set<string>();
  const confirm = terminalConfirm();
  try {
    const result = await runPhases(cfg, phases, {
      sequential,
      ...(typeof argv.env === "string" ? { env: argv.env } : {}),
      ...(typeof argv.profile === "string" ? { profile: argv.profile } : {}),
      ...(typeof argv.jobs === "number" ? { jobs: argv.jobs } : {}),
      dryRun: argv["dry-run"] === true,
      noCache: argv.cache === false,
      yes: argv.yes === true,
      ...(confirm ? { confirm } : {}),
      signal: abort.signal,
      onEvent: (e) => {
        switch (e.type) {
          case "phase-start":
            running.add(e.phase);
            progress.start(`running ${[...running].join(", ")}`);
            out.verbose(`▶ ${e.phase}: ${e.commands.join(" && ") || "(no commands)"}`);
            break;
          case "phase-output":
            out.verbose(`  ${e.phase} | ${e.line}`);
            break;
          case "phase-finish":
            running.delete(e.phase);
            if (running.size) progress.update(`running ${[...running].join(", ")}`);
            else progress.stop();
            out.info(`${SYMBOL[e.status] ?? "?"} ${e.phase} ${e.status} in ${secs(e.durationMs)}`);
            break;
          case "phase-skip":
            if (e.reason === "cached") out.info(`${SYMBOL.cached} ${e.phase} cached (inputs unchanged)`);
            else if (e.reason === "profile") out.info(`- ${e.phase} skipped by the profile`);
            break;
          case "hook-finish":
            out.verbose(`  hook ${e.hook}: ${e.entry} ${e.ok ? "ok" : "failed"}`);
            break;
          case "gate":
            out.info(
              `${e.ok ? "✓" : "✗"} ${e.check} gate for ${e.environment}: ${e.errors} error(s), ${e.warnings} warning(s)`,
            );
            break;
          case "deploy-start":
            out.info(`  deploying ${e.releaseId ?? ""} to ${e.environment} (${e.provider})`);
            break;
          case "verify-attempt":
            out.verbose(`  verify ${e.url} attempt ${e.attempt}: ${e.detail}`);
            break;
          case "rollback":
            out.warn(`rolled back ${e.environment}${e.from ? ` from ${e.from}` : ""} to ${e.to}`);
            break;
          default:
            break;
        }
      },
    });
    progress.stop();
    if (abort.signal.aborted) {
      process.stderr.write("ggen: error: interrupted; running phases were stopped\n");
      process.exitCode = 130;
      return;
    }
    const data = { ...result, failure: result.failure ? result.failure.toLine() : undefined };
    out.data(data, () => {
      if (result.dryRun) {
        const lines = [`dry run: ${result.plan.order.length} phase(s) for environment ${result.environment}`];
        result.plan.waves.forEach((w, i) => {
          lines.push(`  wave ${i + 1}: ${w.join(", ")}`);
          for (const p of w) {
            for (const c of cfg.phases.get(p)?.commands ?? []) lines.push(`    ${p}: ${c}`);
          }
        });
        if (result.plan.skipped.length) lines.push(`  skipped by profile: ${result.plan.skipped.join(", ")}`);
        return lines.join("\n");
      }
      const rows = result.phases.map((p) => ({ ...p }));
      let text = table(rows, [
        { header: "PHASE", value: (r) => r.phase },
        { header: "STATUS", value: (r) => r.status },
        {
          header: "TIME",
          value: (r) => (r.durationMs > 0 ? secs(r.durationMs) : ""),
          align: "right",
        },
        { header: "EXIT", value: (r) => (r.exitCode === null ? "" : r.exitCode), align: "right" },
      ]);
      if (result.deployment) {
        const d = result.deployment;
        text += `\ndeployment ${d.releaseId ?? ""} to ${d.environment}: ${d.status}${d.rolledBackTo ? ` (restored ${d.rolledBackTo})` : ""}`;
      }
      return `${text}\n${result.ok ? "ok" : "failed"} in ${secs(result.durationMs)}`;
    });
    // A failed verify whose release was rolled back is a failure like any other: one line, exit 1.
    if (result.rolledBack && result.failure) {
      process.stderr.write(`ggen: error: ${result.failure.toLine()}\n`);
      process.exitCode = 1;
      return;
    }
    if (result.failure) throw result.failure;
  } finally {
    progress.stop();
    process.removeListener("SIGINT", onSigint);
  }
}

const runFlags: OptionTable<Omit<RunFlags, "phases">> = {
  env: { alias: "e", type: "string", describe: "Environment (default: default_env)" },
  profile: { alias: "p", type: "string", describe: "Deployment profile (fast, safe, …)" },
  "dry-run": {
    alias: "n",
    type: "boolean",
    default: false,
    describe: "Print the plan; run nothing",
  },
  jobs: { alias: "j", type: "number", describe: "Phases at once (default 2)" },
  cache: {
    type: "boolean",
    default: true,
    describe: "Skip phases whose inputs are unchanged (--no-cache)",
  },
  yes: {
    alias: "y",
    type: "boolean",
    default: false,
    describe: "Approve deployments that need approval",
  },
};

const phasesPositional = {
  phases: {
    type: "string",
    array: true,
    describe: "Phases to run (with their dependencies)",
  },
} as const;

function printFindings(out: Output, report: import("@ggen/lifecycle").ValidationReport): void {
  out.data(report, () => {
    const lines = report.findings.map(
      (f) => `${f.file ?? "-"}${f.line ? `:${f.line}` : ""}: ${f.severity}: [${f.check}] ${f.message}`,
    );
    lines.push(
      `${report.passed ? "passed" : "failed"}: ${report.errors} error(s), ${report.warnings} warning(s) (checks: ${report.checks.join(", ")})`,
    );
    return lines.join("\n");
  });
}

const init = defineCommand<{ name: string; force: boolean }>()({
  command: "init",
  describe: "Scaffold make.toml, .ggen/ and the production requirements",
  options: {
    name: { type: "string", required: true, describe: "Project name" },
    force: { type: "boolean", default: false, describe: "Overwrite existing files" },
  },
  examples: [["ggen lifecycle init --name shop", "Create make.toml and .ggen/"]],
  handler: async (argv) => {
    const out = output(argv);
    const { initProject } = await lib();
    const r = await initProject(process.cwd(), { name: String(argv.name), force: argv.force === true });
    out.data(r, () =>
      [
        ...r.created.map((f) => `created ${f}`),
        ...r.kept.map((f) => `kept ${f} (exists; --force to overwrite)`),
      ].join("\n"),
    );
  },
});

const list = defineCommand()({
  command: "list",
  describe: "List phases, environments and profiles",
  examples: [["ggen lifecycle list", "Show every phase with its dependencies"]],
  handler: async (argv) => {
    const out = output(argv);
    const cfg = await config();
    const { loadState } = await lib();
    const { table } = await import("@ggen/reporter");
    const state = await loadState(cfg.root);
    const phases = [...cfg.phases.values()].map((p) => ({
      name: p.name,
      description: p.description ?? "",
      dependsOn: p.dependsOn,
      commands: p.commands.length,
      cached: p.inputs.length > 0,
      last: state.phases[p.name]?.status ?? null,
    }));
    const data = {
      project: cfg.name,
      file: cfg.file,
      phases,
      environments: [...cfg.environments.values()].map((e) => ({
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
      profiles: [...cfg.profiles.values()].map((p) => ({
        name: p.name,
        description: p.description ?? "",
        skip: p.skip,
      })),
    };
    out.data(data, () => {
      const t = table(phases, [
        { header: "PHASE", value: (r) => r.name },
        { header: "DEPENDS ON", value: (r) => r.dependsOn.join(", ") },
        { header: "LAST", value: (r) => r.last ?? "" },
        { header: "DESCRIPTION", value: (r) => r.description, max: 50 },
      ]);
      const envs = data.environments
        .map((e) => `${e.name}${e.provider ? ` (${e.provider})` : ""}`)
        .join(", ");
      const profs = data.profiles.map((p) => p.name).join(", ");
      return `${t}\n\nenvironments: ${envs || "none"}\nprofiles: ${profs || "none"}`;
    });
  },
});

const show = defineCommand<{ phase: string }>()({
  command: "show <phase>",
  describe: "Show a phase: commands, dependencies, hooks, cache, last run",
  positionals: { phase: { type: "string", required: true, describe: null } },
  examples: [["ggen lifecycle show build", "What 'build' runs and when it last ran"]],
  handler: async (argv) => {
    const out = output(argv);
    const { describePhase } = await lib();
    const d = await describePhase(await config(), String(argv.phase));
    out.data(d, () => {
      const lines = [`phase ${d.name}${d.description ? ` — ${d.description}` : ""}`];
      lines.push(`  commands:   ${d.commands.length ? d.commands.join("\n              ") : "(none)"}`);
      lines.push(`  depends on: ${d.dependsOn.join(", ") || "-"}`);
      lines.push(`  needed by:  ${d.dependents.join(", ") || "-"}`);
      lines.push(`  run order:  ${d.order.join(" → ")}`);
      if (d.timeout) lines.push(`  timeout:    ${d.timeout}s`);
      if (d.inputs.length) lines.push(`  inputs:     ${d.inputs.join(", ")}`);
      if (d.outputs.length) lines.push(`  outputs:    ${d.outputs.join(", ")}`);
      for (const [h, e] of Object.entries(d.hooks)) lines.push(`  ${h}: ${e.join(", ")}`);
      if (d.lastRun) {
        lines.push(
          `  last run:   ${d.lastRun.status} at ${d.lastRun.startedAt} in ${secs(d.lastRun.durationMs)} (exit ${d.lastRun.exitCode ?? "-"})`,
        );
      } else lines.push("  last run:   never");
      return lines.join("\n");
    });
  },
});

const run = defineCommand<RunFlags>()({
  command: "run <phases..>",
  describe: "Run phases after their dependencies; independent phases run in parallel",
  positionals: phasesPositional,
  options: runFlags,
  examples: [
    ["ggen lifecycle run build test", "Build and test"],
    ["ggen lifecycle run deploy --env production --yes", "Deploy, verify, roll back on failure"],
    ["ggen lifecycle run deploy --profile fast --dry-run", "Show what a fast deploy would run"],
  ],
  handler: (argv) => runCommand(argv, false),
});

const pipeline = defineCommand<RunFlags>()({
  command: "pipeline <phases..>",
  describe: "Run phases one at a time, in the order given (each after its dependencies)",
  positionals: phasesPositional,
  options: runFlags,
  examples: [["ggen lifecycle pipeline build test package", "A strict sequence"]],
  handler: (argv) => runCommand(argv, true),
});

const readinessCmd = defineCommand<{ "show-unmet": boolean; requirements?: string }>()({
  command: "readiness",
  describe: "Score the production requirements",
  options: {
    "show-unmet": { type: "boolean", default: false, describe: "Only requirements not met" },
    requirements: {
      type: "string",
      describe: "Requirements file (default .ggen/production-requirements.yaml)",
    },
  },
  examples: [["ggen lifecycle readiness --show-unmet", "What is left before production"]],
  handler: async (argv) => {
    const out = output(argv);
    const { readiness } = await lib();
    const { table } = await import("@ggen/reporter");
    const r = await readiness(
      await config(),
      typeof argv.requirements === "string" ? argv.requirements : undefined,
    );
    const rows = argv["show-unmet"]
      ? r.requirements.filter((q) => q.status === "incomplete")
      : r.requirements;
    out.data({ ...r, requirements: rows }, () => {
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
    });
  },
});

interface ReadinessUpdateFlags {
  requirement: string;
  status: import("@ggen/lifecycle").RequirementStatus;
  requirements?: string;
}

const readinessUpdate = defineCommand<ReadinessUpdateFlags>()({
  command: "readiness-update <requirement> <status>",
  describe: "Record a requirement's status",
  positionals: {
    requirement: { type: "string", required: true, describe: null },
    status: {
      type: "string",
      choices: ["complete", "incomplete", "not-applicable"],
      required: true,
      describe: null,
    },
  },
  options: { requirements: { type: "string", describe: "Requirements file" } },
  examples: [["ggen lifecycle readiness-update logging complete", "Mark logging as done"]],
  handler: async (argv) => {
    const out = output(argv);
    const { updateRequirement } = await lib();
    const r = await updateRequirement(
      await config(),
      String(argv.requirement),
      argv.status,
      typeof argv.requirements === "string" ? argv.requirements : undefined,
    );
    out.data(r, () => `${r.id}: ${r.previous ?? "unset"} → ${r.status}`);
  },
});

interface ValidateFlags {
  env?: string;
  check?: import("@ggen/lifecycle").CheckName[];
  requirements?: string;
  "fail-on-warning": boolean;
}

const validateCmd = defineCommand<ValidateFlags>()({
  command: "validate",
  describe: "Check requirements, tests, security and the last build's errors and warnings",
  options: {
    env: { alias: "e", type: "string", describe: "Environment being validated for" },
    check: {
      type: "string",
      array: true,
      choices: ["requirements", "tests", "security", "errors", "warnings"],
      describe: "Run only these checks (repeatable)",
    },
    requirements: { type: "string", describe: "Requirements file" },
    "fail-on-warning": { type: "boolean", default: false, describe: "Warnings fail too" },
  },
  examples: [
    ["ggen lifecycle validate --env production", "Every check"],
    ["ggen lifecycle validate --check security --check errors --json", "Two checks, as JSON"],
  ],
  handler: async (argv) => {
    const out = output(argv);
    const { validate } = await lib();
    const cfg = await config();
    const checks = (argv.check ?? []).flatMap((c) => c.split(","));
    const env = typeof argv.env === "string" ? argv.env : undefined;
    if (env !== undefined && !cfg.environments.has(env)) {
      throw new GgenError("LIFECYCLE_UNKNOWN_ENV", `unknown environment '${env}'`, {
        kind: "usage",
        hint: `environments: ${[...cfg.environments.keys()].join(", ") || "none"}`,
      });
    }
    const report = await validate(cfg, {
      checks: checks as import("@ggen/lifecycle").CheckName[],
      ...(env ? { env } : {}),
      ...(typeof argv.requirements === "string" ? { requirements: argv.requirements } : {}),
      failOnWarning: argv["fail-on-warning"] === true,
    });
    printFindings(out, report);
    if (!report.passed) {
      throw new GgenError(
        "LIFECYCLE_VALIDATION_FAILED",
        `validation failed: ${report.errors} error(s), ${report.warnings} warning(s)`,
      );
    }
  },
});

const statusCmd = defineCommand<{ restore: boolean }>()({
  command: "status",
  describe: "Phases, current phase, interrupted runs and releases from the state",
  options: {
    restore: {
      type: "boolean",
      default: false,
      describe: "Replace a corrupt state with its newest valid backup",
    },
  },
  examples: [
    ["ggen lifecycle status", "Where the project stands"],
    ["ggen lifecycle status --restore", "Recover from a corrupt state file"],
  ],
  handler: async (argv) => {
    const out = output(argv);
    const { status, restoreBackup } = await lib();
    const { table } = await import("@ggen/reporter");
    if (argv.restore === true) {
      const used = await restoreBackup(process.cwd());
      out.info(`restored the state from ${used}`);
    }
    const s = await status(process.cwd());
    out.data(s, () => {
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
    });
  },
});

const rollbackCmd = defineCommand<{ env: string; to?: string }>()({
  command: "rollback",
  describe: "Switch an environment back to the previous (or a named) release",
  options: {
    env: { alias: "e", type: "string", required: true, describe: "Environment" },
    to: { type: "string", describe: "Release id (default: the one before the current)" },
  },
  examples: [["ggen lifecycle rollback --env production", "Back to the previous release"]],
  handler: async (argv) => {
    const out = output(argv);
    const { rollback } = await lib();
    const r = await rollback(
      await config(),
      String(argv.env),
      typeof argv.to === "string" ? { to: argv.to } : {},
    );
    out.data(r, () => `${r.environment}: ${r.from ?? "-"} → ${r.to}`);
  },
});

const stopCmd = defineCommand<{ env: string }>()({
  command: "stop",
  describe: "Stop the service a 'process' deployment started",
  options: { env: { alias: "e", type: "string", required: true, describe: "Environment" } },
  examples: [["ggen lifecycle stop --env staging", "Stop the staging service"]],
  handler: async (argv) => {
    const out = output(argv);
    const { stopService } = await lib();
    const stopped = await stopService(await config(), String(argv.env));
    out.data({ environment: argv.env, stopped }, () => (stopped ? "stopped" : "nothing was running"));
  },
});

const DEFAULT_HISTORY = ".ggen/deployments.jsonl";

function metricsPath(argv: { file?: string }): string {
  return typeof argv.file === "string" ? argv.file : DEFAULT_HISTORY;
}

async function readRecords(out: Output, file: string) {
  const { readMetricsFile } = await lib();
  const { resolve } = await import("node:path");
  const abs = resolve(process.cwd(), file);
  if (file === DEFAULT_HISTORY) {
    const { existsSync } = await import("node:fs");
    if (!existsSync(abs)) return [];
  }
  const r = await readMetricsFile(abs, file);
  for (const p of r.problems) out.warn(`${file}:${p.line}: skipped an invalid record: ${p.message}`);
  return r.records;
}

const metricsShow = defineCommand<{ breakdown: boolean; file?: string }>()({
  command: "$0",
  describe: "Summarise the deployment history",
  options: {
    breakdown: { type: "boolean", default: false, describe: "Mean time per phase" },
    file: { type: "string", describe: "History file (default .ggen/deployments.jsonl)" },
  },
  handler: async (argv) => {
    const out = output(argv);
    const { summarizeMetrics } = await lib();
    const { table } = await import("@ggen/reporter");
    const s = summarizeMetrics(await readRecords(out, metricsPath(argv)));
    out.data(argv.breakdown ? s : { ...s, breakdown: undefined }, () => {
      const lines = [
        `${s.deployments} deployment(s): ${s.success} ok, ${s.failed} failed, ${s.rolledBack} rolled back (success ${(s.successRate * 100).toFixed(0)}%)`,
        `total time: mean ${s.meanTotalSeconds}s, p95 ${s.p95TotalSeconds}s`,
      ];
      if (s.last) lines.push(`last: ${s.last.deploymentId} ${s.last.status} at ${s.last.timestamp}`);
      if (argv.breakdown) {
        lines.push(
          table(s.breakdown, [
            { header: "PHASE", value: (b) => b.phase },
            { header: "MEAN", value: (b) => `${b.meanSeconds}s`, align: "right" },
            { header: "SHARE", value: (b) => `${(b.share * 100).toFixed(1)}%`, align: "right" },
            { header: "RUNS", value: (b) => b.runs, align: "right" },
          ]),
        );
      }
      return lines.join("\n");
    });
  },
});

const metricsAnalyze = defineCommand<{ file: string; trends: boolean }>()({
  command: "analyze",
  describe: "Analyse a metrics file (JSON Lines, a JSON array or one record)",
  options: {
    file: { type: "string", required: true, describe: "Metrics file" },
    trends: { type: "boolean", default: false, describe: "Trends of total and per-phase time" },
  },
  examples: [["ggen lifecycle metrics analyze --file metrics.json --trends", "Getting faster or slower?"]],
  handler: async (argv) => {
    const out = output(argv);
    const { summarizeMetrics, metricsTrends } = await lib();
    const { table } = await import("@ggen/reporter");
    const records = await readRecords(out, String(argv.file));
    const summary = summarizeMetrics(records);
    const trends = argv.trends ? metricsTrends(records) : undefined;
    out.data({ summary, ...(trends ? { trends } : {}) }, () => {
      const lines = [
        `${summary.deployments} record(s); total time mean ${summary.meanTotalSeconds}s, p95 ${summary.p95TotalSeconds}s; success ${(summary.successRate * 100).toFixed(0)}%`,
        table(summary.breakdown, [
          { header: "PHASE", value: (b) => b.phase },
          { header: "MEAN", value: (b) => `${b.meanSeconds}s`, align: "right" },
          { header: "SHARE", value: (b) => `${(b.share * 100).toFixed(1)}%`, align: "right" },
        ]),
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
    });
  },
});

interface CompareFlags {
  baseline: string;
  file?: string;
  tolerance: number;
  "fail-on-regression": boolean;
}

const metricsCompare = defineCommand<CompareFlags>()({
  command: "compare",
  describe: "Compare the latest deployment with a baseline record",
  options: {
    baseline: { type: "string", required: true, describe: "Baseline metrics file" },
    file: { type: "string", describe: "Current metrics (default: the history's last record)" },
    tolerance: {
      type: "number",
      default: 10,
      describe: "Percent slower that counts as a regression",
    },
    "fail-on-regression": {
      type: "boolean",
      default: false,
      describe: "Exit 1 when anything regressed",
    },
  },
  examples: [["ggen lifecycle metrics compare --baseline baseline.json", "Slower than the baseline?"]],
  handler: async (argv) => {
    const out = output(argv);
    const { compareMetrics } = await lib();
    const { table } = await import("@ggen/reporter");
    const base = (await readRecords(out, String(argv.baseline))).at(-1);
    const cur = (await readRecords(out, metricsPath(argv))).at(-1);
    if (!base)
      throw new GgenError("LIFECYCLE_METRICS_EMPTY", `${argv.baseline} has no valid record`, {
        kind: "usage",
      });
    if (!cur)
      throw new GgenError("LIFECYCLE_METRICS_EMPTY", `${metricsPath(argv)} has no valid record`, {
        kind: "usage",
      });
    const c = compareMetrics(base, cur, Number(argv.tolerance));
    out.data({ baseline: base.deploymentId, current: cur.deploymentId, ...c }, () => {
      const t = table(c.deltas, [
        { header: "METRIC", value: (d) => d.metric },
        { header: "BASELINE", value: (d) => `${d.baseline}s`, align: "right" },
        { header: "CURRENT", value: (d) => `${d.current}s`, align: "right" },
        {
          header: "DELTA",
          value: (d) => `${d.deltaSeconds >= 0 ? "+" : ""}${d.deltaSeconds}s`,
          align: "right",
        },
        { header: "%", value: (d) => `${d.deltaPercent}%`, align: "right" },
        { header: "", value: (d) => (d.regression ? "REGRESSION" : "") },
      ]);
      return `${t}\n${c.regressions} regression(s) over ${argv.tolerance}%`;
    });
    if (argv["fail-on-regression"] === true && c.regressions > 0) {
      throw new GgenError(
        "LIFECYCLE_REGRESSION",
        `${c.regressions} metric(s) regressed more than ${argv.tolerance}% against ${argv.baseline}`,
      );
    }
  },
});

const metrics = defineCommand()({
  command: "metrics",
  describe: "Deployment metrics: summary, analyze, compare",
  subcommands: [metricsAnalyze, metricsCompare, metricsShow],
  examples: [
    ["ggen lifecycle metrics --breakdown", "Which phase takes the time"],
    ["ggen lifecycle metrics analyze --file .ggen/deployments.jsonl --trends", "Trends"],
  ],
});

const LIFECYCLE_COMMANDS = [
  "init",
  "list",
  "show",
  "run",
  "pipeline",
  "readiness",
  "readiness-update",
  "validate",
  "status",
  "rollback",
  "stop",
  "metrics",
];

export const lifecycleCommand = defineCommand<{ command: string }>()({
  command: "lifecycle <command>",
  describe: "Run project phases, readiness, validation, deploy and rollback",
  // The word in <command>, when no subcommand took it (the handler suggests one).
  positionals: { command: null },
  subcommands: [
    init,
    list,
    show,
    run,
    pipeline,
    readinessCmd,
    readinessUpdate,
    validateCmd,
    statusCmd,
    rollbackCmd,
    stopCmd,
    metrics,
  ],
  examples: [
    ["ggen lifecycle init --name shop", "Scaffold make.toml"],
    ["ggen lifecycle run build test", "Run phases"],
    ["ggen lifecycle readiness --show-unmet", "Production readiness"],
    ["ggen lifecycle run deploy --env production --yes", "Deploy with verify and rollback"],
  ],
  handler: async (argv) => {
    // Reached only when no subcommand matched.
    const { didYouMean } = await import("@ggen/reporter");
    const word = String(argv.command ?? "");
    if (!word) {
      throw new GgenError("USAGE", "name a lifecycle command; see 'ggen lifecycle --help'", {
        kind: "usage",
      });
    }
    throw new GgenError(
      "USAGE",
      `unknown lifecycle command '${word}'${didYouMean(word, LIFECYCLE_COMMANDS)}; see 'ggen lifecycle --help'`,
      { kind: "usage" },
    );
  },
});
