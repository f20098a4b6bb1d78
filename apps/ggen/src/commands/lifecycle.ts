// `ggen lifecycle …`: argument tables and composition only; the work and the views are @ggen/lifecycle's.
import { GgenError } from "@ggen/contract";
import { type CommandArgs, defineCommand, type OptionTable } from "@ggen/reporter";
import { output } from "../context.js";

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
      return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim());
    } finally {
      rl.close();
    }
  };
}

/** The flags of `run` and `pipeline`. */
interface RunFlags {
  phases: string[];
  env?: string;
  profile?: string;
  "dry-run": boolean;
  jobs?: string;
  cache: boolean;
  yes: boolean;
}

async function runCommand(argv: CommandArgs<RunFlags>, sequential: boolean): Promise<void> {
  const out = output(argv);
  const { runPhases, parseJobs, printRunEvents, runText } = await lib();
  const { Progress } = await import("@ggen/reporter");
  const jobs = parseJobs(argv.jobs);
  const cfg = await config();
  const abort = new AbortController();
  const onSigint = () => abort.abort();
  process.once("SIGINT", onSigint);
  const progress = new Progress({ enabled: !out.json && !out.options.quiet });
  const confirm = terminalConfirm();
  try {
    const result = await runPhases(cfg, argv.phases.map(String), {
      sequential,
      ...(argv.env !== undefined ? { env: argv.env } : {}),
      ...(argv.profile !== undefined ? { profile: argv.profile } : {}),
      ...(jobs !== undefined ? { jobs } : {}),
      dryRun: argv["dry-run"],
      noCache: !argv.cache,
      yes: argv.yes,
      ...(confirm ? { confirm } : {}),
      signal: abort.signal,
      onEvent: printRunEvents({
        // A line per phase on a terminal; piped, the result's table (stdout) says it, and stderr keeps
        // to what went wrong.
        info: (t) => (process.stderr.isTTY ? out.info(t) : out.verbose(t)),
        verbose: (t) => out.verbose(t),
        warn: (t) => out.warn(t),
        progress,
      }),
    });
    progress.stop();
    if (abort.signal.aborted) {
      process.stderr.write("ggen: error: interrupted; running phases were stopped\n");
      process.exitCode = 130;
      return;
    }
    out.data({ ...result, failure: result.failure?.toLine() }, () => runText(result, cfg));
    // A failed phase (a failed verify whose release was rolled back too) is one line, exit 1.
    if (result.failure) throw result.failure;
  } finally {
    progress.stop();
    process.removeListener("SIGINT", onSigint);
  }
}

const runFlags: OptionTable<Omit<RunFlags, "phases">> = {
  env: { alias: "e", type: "string", describe: "Environment (default: default_env)" },
  profile: {
    alias: "p",
    type: "string",
    describe:
      "Profile from make.toml or .ggen/deployment-profiles.toml (default: [deployment] default_profile)",
  },
  "dry-run": { alias: "n", type: "boolean", default: false, describe: "Print the plan; run nothing" },
  jobs: {
    alias: "j",
    type: "string",
    describe: "Phases at once, a whole number >= 1 (default: the profile's, else 2)",
  },
  cache: { type: "boolean", default: true, describe: "Skip phases whose inputs are unchanged (--no-cache)" },
  yes: { alias: "y", type: "boolean", default: false, describe: "Approve deployments that need approval" },
};

const phasesPositional = {
  phases: { type: "string", array: true, describe: "Phases to run (with their dependencies)" },
} as const;

// What --help says a run guarantees (README's security section says it at length): what a timeout or
// Ctrl-C reaches, and how much output is held.
const RUN_EXAMPLES = [
  ["ggen lifecycle run test", "Timeout/Ctrl-C: as root on cgroup v2, all the phase started dies"],
  ["ggen lifecycle run test -v", "Elsewhere: its group, /proc descendants, GGEN_PHASE_RUN carriers"],
  ["ggen lifecycle run build -v", "Lines over [limits] line (64K) are cut; a log keeps [limits] log"],
] as const;

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
    const r = await initProject(process.cwd(), { name: argv.name, force: argv.force });
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
    const { loadState, listData, listText } = await lib();
    const data = listData(cfg, await loadState(cfg.root));
    out.data(data, () => listText(data));
  },
});

const show = defineCommand<{ phase: string }>()({
  command: "show <phase>",
  describe: "Show a phase: commands, dependencies, hooks, cache, last run",
  positionals: { phase: { type: "string", required: true, describe: null } },
  examples: [["ggen lifecycle show build", "What 'build' runs and when it last ran"]],
  handler: async (argv) => {
    const out = output(argv);
    const { describePhase, phaseText } = await lib();
    const d = await describePhase(await config(), argv.phase);
    out.data(d, () => phaseText(d));
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
    ...RUN_EXAMPLES,
  ],
  handler: (argv) => runCommand(argv, false),
});

const pipeline = defineCommand<RunFlags>()({
  command: "pipeline <phases..>",
  describe: "Run phases one at a time, in the order given (each after its dependencies)",
  positionals: phasesPositional,
  options: runFlags,
  examples: [["ggen lifecycle pipeline build test package", "A strict sequence"], ...RUN_EXAMPLES],
  handler: (argv) => runCommand(argv, true),
});

const readinessCmd = defineCommand<{ "show-unmet": boolean; strict: boolean; requirements?: string }>()({
  command: "readiness",
  describe: "Score the production requirements",
  options: {
    "show-unmet": { type: "boolean", default: false, describe: "Only requirements not met" },
    strict: {
      type: "boolean",
      default: false,
      describe:
        "Exit 1 when not ready (also with --json); CI=true does the same. Otherwise exit 0 with the score",
    },
    requirements: {
      type: "string",
      describe: "Requirements file (default .ggen/production-requirements.yaml)",
    },
  },
  examples: [
    ["ggen lifecycle readiness --show-unmet", "What is left before production"],
    ["ggen lifecycle readiness --strict --json", "A verdict for a script: exit 1 unless ready"],
  ],
  handler: async (argv) => {
    const out = output(argv);
    const { readiness, readinessText, readinessFails } = await lib();
    const r = await readiness(await config(), argv.requirements);
    const rows = argv["show-unmet"]
      ? r.requirements.filter((q) => q.status === "incomplete")
      : r.requirements;
    out.data({ ...r, requirements: rows }, () => readinessText(r, rows));
    if (readinessFails(r, argv.strict)) {
      throw new GgenError(
        "LIFECYCLE_NOT_READY",
        `not ready for production: ${r.unmetRequired.join(", ")} unmet (score ${r.score}/100)`,
      );
    }
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
    const r = await updateRequirement(await config(), argv.requirement, argv.status, argv.requirements);
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
    ["ggen lifecycle validate --env production", "Every check; exit 1 when one fails (also with --json)"],
    ["ggen lifecycle validate --check security --check errors --json", "Two checks, as JSON"],
  ],
  handler: async (argv) => {
    const out = output(argv);
    const { validate, environmentOf, findingsText } = await lib();
    const cfg = await config();
    if (argv.env !== undefined) environmentOf(cfg, argv.env);
    const report = await validate(cfg, {
      checks: argv.check ?? [],
      ...(argv.env !== undefined ? { env: argv.env } : {}),
      ...(argv.requirements !== undefined ? { requirements: argv.requirements } : {}),
      failOnWarning: argv["fail-on-warning"],
    });
    out.data(report, () => findingsText(report));
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
    const { status, restoreBackup, statusText } = await lib();
    if (argv.restore) out.info(`restored the state from ${await restoreBackup(process.cwd())}`);
    const s = await status(process.cwd());
    out.data(s, () => statusText(s));
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
    const r = await rollback(await config(), argv.env, argv.to !== undefined ? { to: argv.to } : {});
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
    const stopped = await stopService(await config(), argv.env);
    out.data({ environment: argv.env, stopped }, () => (stopped ? "stopped" : "nothing was running"));
  },
});

const HISTORY = "History file (default $GGEN_METRICS_FILE, else .ggen/deployments.jsonl)";

const metricsShow = defineCommand<{ breakdown: boolean; file?: string }>()({
  command: "$0",
  describe: "Summarise the deployment history",
  options: {
    breakdown: { type: "boolean", default: false, describe: "Mean time per phase" },
    file: { type: "string", describe: HISTORY },
  },
  handler: async (argv) => {
    const out = output(argv);
    const { summarizeMetrics, readMetricsRecords, metricsText } = await lib();
    const s = summarizeMetrics(await readMetricsRecords(process.cwd(), argv.file, (n) => out.warn(n)));
    out.data(argv.breakdown ? s : { ...s, breakdown: undefined }, () => metricsText(s, argv.breakdown));
  },
});

const metricsAnalyze = defineCommand<{ file?: string; trends: boolean }>()({
  command: "analyze",
  describe: "Analyse a metrics file (JSON Lines, a JSON array or one record)",
  options: {
    file: { type: "string", describe: `Metrics file; a bad record is an error (exit 2). ${HISTORY}` },
    trends: { type: "boolean", default: false, describe: "Trends of wall time and per-phase time" },
  },
  examples: [
    [
      "ggen lifecycle metrics analyze --file metrics.json --trends",
      "Getting faster or slower? Totals are wall time: stages that ran in parallel count once",
    ],
  ],
  handler: async (argv) => {
    const out = output(argv);
    const { summarizeMetrics, metricsTrends, readMetricsRecords, analyzeText } = await lib();
    const records = await readMetricsRecords(process.cwd(), argv.file, (n) => out.warn(n));
    const summary = summarizeMetrics(records);
    const trends = argv.trends ? metricsTrends(records) : undefined;
    out.data({ summary, ...(trends ? { trends } : {}) }, () => analyzeText(summary, trends));
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
    file: { type: "string", describe: `Current metrics (default: the history's last record). ${HISTORY}` },
    tolerance: { type: "number", default: 10, describe: "Percent slower that counts as a regression" },
    "fail-on-regression": { type: "boolean", default: false, describe: "Exit 1 when anything regressed" },
  },
  examples: [["ggen lifecycle metrics compare --baseline baseline.json", "Slower than the baseline?"]],
  handler: async (argv) => {
    const out = output(argv);
    const { compareMetrics, readMetricsRecords, compareText } = await lib();
    const base = (await readMetricsRecords(process.cwd(), argv.baseline)).at(-1)!;
    const cur = (await readMetricsRecords(process.cwd(), argv.file, (n) => out.warn(n))).at(-1);
    if (!cur) {
      throw new GgenError("LIFECYCLE_METRICS_EMPTY", "no deployment recorded yet to compare", {
        kind: "usage",
        hint: "deploy first, or pass --file",
      });
    }
    const c = compareMetrics(base, cur, argv.tolerance);
    out.data({ baseline: base.deploymentId, current: cur.deploymentId, ...c }, () =>
      compareText(c, argv.tolerance),
    );
    if (argv["fail-on-regression"] && c.regressions > 0) {
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

const SUBCOMMANDS = [
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
];

export const lifecycleCommand = defineCommand<{ command: string }>()({
  command: "lifecycle <command>",
  describe: "Run project phases, readiness, validation, deploy and rollback",
  // The word in <command>, when no subcommand took it (the handler suggests one).
  positionals: { command: null },
  subcommands: SUBCOMMANDS,
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
    const names = SUBCOMMANDS.map((c) => c.command.split(" ")[0]!);
    throw new GgenError(
      "USAGE",
      `unknown lifecycle command '${word}'${didYouMean(word, names)}; see 'ggen lifecycle --help'`,
      { kind: "usage" },
    );
  },
});
