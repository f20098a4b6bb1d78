import { defineCommand } from "@ggen/reporter";
import { engineSettings, output, positiveFlag } from "../context.js";
import { writeOutput } from "./shared.js";

interface ShowArgs {
  detailed?: boolean;
  output?: "json" | "text";
  file?: string;
  last?: string;
}

const show = defineCommand<ShowArgs>()({
  command: "show",
  describe: "Durations across runs (p50 / p95), from .cleanroom/metrics.jsonl",
  options: {
    detailed: {
      type: "boolean",
      describe: "p50 / p95 per step (default: config.toml's [metrics] detailed)",
    },
    output: { choices: ["json", "text"], describe: "Format (--json works too)" },
    file: { type: "string", describe: "Write to this file" },
    last: { type: "string", describe: "Only the last N runs" },
  },
  examples: [
    ["cleanroom metrics show", "Totals across runs"],
    ["cleanroom metrics show --detailed --output json", "Per step, as JSON"],
  ],
  handler: async (argv) => {
    const out = output(argv);
    const { readMetrics } = await import("@ggen/testing");
    const { summarizeMetrics, table, formatMs } = await import("@ggen/reporter");
    const { store, metrics } = await engineSettings();
    const { entries, skipped } = await readMetrics(store);
    if (skipped) out.warn(`${skipped} unreadable line(s) in ${store.metricsFile} skipped`);
    const detailed = argv.detailed ?? metrics.detailed ?? false;
    const last = positiveFlag(argv.last, "--last", { integer: true });
    const lines = last ? entries.slice(-last) : entries;
    const summary = summarizeMetrics(lines);
    const data = detailed ? summary : { ...summary, steps: undefined };
    const json = out.json || argv.output === "json";
    const text = () => {
      if (summary.runs === 0) return "no runs recorded yet (.cleanroom/metrics.jsonl is empty)";
      const rows = [summary.total, ...summary.phases];
      const parts = [
        `${summary.runs} runs from ${summary.first} to ${summary.last}; ${summary.passRate}% passed`,
        "",
        table(rows, [
          { header: "PHASE", value: (r) => r.name },
          { header: "P50", value: (r) => formatMs(r.p50), align: "right" },
          { header: "P95", value: (r) => formatMs(r.p95), align: "right" },
          { header: "LAST", value: (r) => formatMs(r.last), align: "right" },
        ]),
      ];
      if (detailed && summary.steps.length > 0) {
        parts.push(
          "",
          table(summary.steps, [
            { header: "STEP", value: (r) => r.name, max: 60 },
            { header: "RUNS", value: (r) => r.runs, align: "right" },
            { header: "P50", value: (r) => formatMs(r.p50), align: "right" },
            { header: "P95", value: (r) => formatMs(r.p95), align: "right" },
            { header: "MIN", value: (r) => formatMs(r.min), align: "right" },
            { header: "MAX", value: (r) => formatMs(r.max), align: "right" },
          ]),
        );
      }
      return parts.join("\n");
    };
    if (argv.file)
      await writeOutput(out, json ? `${JSON.stringify(data, null, 2)}\n` : `${text()}\n`, argv.file);
    else if (json) out.stdout.write(`${JSON.stringify(data, null, 2)}\n`);
    else out.stdout.write(`${text()}\n`);
  },
});

export const metricsCommand = defineCommand()({
  command: "metrics",
  describe: "Show run metrics across runs",
  subcommands: [show],
  requireSubcommand: "give a metrics command: show",
});
