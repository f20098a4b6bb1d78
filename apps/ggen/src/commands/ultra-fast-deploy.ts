import { relative } from "node:path";
import type { BackendChoice } from "@ggen/cleanroom-backends";
import { defineCommand } from "@ggen/reporter";
import { GgenError, parseKeyValues } from "@ggen/support";
import pkg from "../../package.json" with { type: "json" };
import { cacheDir, output } from "../context.js";

interface UltraFastDeployFlags {
  template: string;
  name: string;
  version?: string;
  vars?: string[];
  env: string;
  backend: BackendChoice;
  timeout: string;
  report?: string;
  profile?: string;
  output?: string;
  first: boolean;
  "keep-running": boolean;
  isolated: boolean;
  registry?: string[];
  offline: boolean;
}

// The choices as data for --help (the type is the backends' own; importing their values would load them).
const backendChoices = ["auto", "local", "testcontainers"] as const satisfies readonly BackendChoice[];

/** "60s", "2m", "1500ms" or plain seconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (!m)
    throw new GgenError("USAGE", `--timeout ${text}: give a duration such as 60s, 2m or 1500ms`, {
      kind: "usage",
    });
  const n = Number(m[1]);
  return m[2] === "ms" ? n : m[2] === "m" ? n * 60_000 : n * 1000;
}

export const ultraFastDeployCommand = defineCommand<UltraFastDeployFlags>()({
  command: "ultra-fast-deploy",
  describe: "From a template pack to a deployed, verified service, with a report",
  options: {
    template: { type: "string", required: true, describe: "pack[:template], or a search query with --first" },
    name: { type: "string", required: true, describe: "The project's name" },
    // --version here is the release's version, not the program's.
    version: { type: "string", describe: "The release version" },
    vars: { type: "string", array: true, describe: "Template variables, key=value (repeatable)" },
    env: { type: "string", default: "production", describe: "Environment to deploy to" },
    backend: { choices: backendChoices, default: "local", describe: "Where the generated tests run" },
    timeout: { type: "string", default: "60s", describe: "Stop cleanly after this long" },
    report: { type: "string", describe: "Where the pipeline-report/v1 goes" },
    profile: { type: "string", describe: "Deployment profile (fast, safe…) from the generated make.toml" },
    output: { alias: "o", type: "string", describe: "Output dir (default target/generated/<name>)" },
    first: { type: "boolean", default: false, describe: "Treat --template as a query; take the best match" },
    "keep-running": { type: "boolean", default: false, describe: "Leave the deployed service running" },
    isolated: { type: "boolean", default: false, describe: "Run the tests with no network but loopback" },
    registry: {
      type: "string",
      array: true,
      describe: "Registry (dir, file:, http(s):), highest priority first",
    },
    offline: { type: "boolean", default: false, describe: "Use the cached registry index only" },
  },
  examples: [
    [
      "ggen ultra-fast-deploy --template io.ggen.domain-service --name shop",
      "The whole path on the bundled registry",
    ],
    [
      "ggen ultra-fast-deploy --template 'domain service' --first --name shop --keep-running",
      "Pick the pack by search; keep it running",
    ],
    [
      "ggen ultra-fast-deploy --template io.ggen.domain-service --name shop --backend testcontainers --timeout 90s",
      "Test in Docker",
    ],
  ],
  handler: async (argv) => {
    const out = output(argv);
    const timeoutMs = parseDuration(argv.timeout);
    const vars = parseKeyValues(argv.vars ?? [], { flag: "--vars", example: "name=shop" });
    const { StageView, renderPipeline } = await import("@ggen/reporter");
    const { STAGES, ultraFastDeploy } = await import("@ggen/pipeline");
    const { parseTemplateRef } = await import("@ggen/contract");
    const view = new StageView(STAGES, { enabled: !out.json && !argv.quiet });
    const ctrl = new AbortController();
    const onSigint = () => ctrl.abort(new GgenError("INTERRUPTED", "interrupted"));
    process.once("SIGINT", onSigint);
    try {
      const r = await ultraFastDeploy({
        pack: parseTemplateRef(argv.template),
        name: argv.name,
        ...(argv.version ? { version: argv.version } : {}),
        vars,
        env: argv.env,
        backend: argv.backend,
        timeoutMs,
        ...(argv.report ? { report: argv.report } : {}),
        ...(argv.profile ? { profile: argv.profile } : {}),
        ...(argv.output ? { output: argv.output } : {}),
        first: argv.first,
        keepRunning: argv["keep-running"],
        isolated: argv.isolated,
        ...(argv.registry ? { registries: argv.registry } : {}),
        offline: argv.offline,
        cwd: process.cwd(),
        ggenVersion: pkg.version,
        cache: { templates: cacheDir("templates"), nodeModules: cacheDir("node-modules") },
        view,
        onNote: (t) => out.verbose(t),
        signal: ctrl.signal,
      });
      view.close();
      out.data(r.report, () => {
        const lines = [
          renderPipeline(r.report, "text").trimEnd(),
          `Report: ${relative(process.cwd(), r.reportPath)}`,
        ];
        if (r.releasesDir) lines.push(`Releases: ${relative(process.cwd(), r.releasesDir)}`);
        if (r.stopHint)
          lines.push(
            `Running at ${r.url}${r.pid ? ` (pid ${r.pid})` : ""}${r.environment ? `, its services in cleanroom environment ${r.environment}` : ""}; stop them with: ${r.stopHint}`,
          );
        else if (r.exitCode === 0)
          lines.push("The service was verified and stopped; pass --keep-running to leave it up.");
        return lines.join("\n");
      });
      if (r.exitCode !== 0) {
        // One line (also with --json, on stderr); the report holds the detail. A rolled-back
        // deployment is a failure like any other: exit 1 (130 after Ctrl-C, once cleaned up).
        process.stderr.write(`ggen: error: ${r.error ?? r.report.recommendation}\n`);
        process.exitCode = ctrl.signal.aborted ? 130 : 1;
      }
    } finally {
      view.close();
      process.off("SIGINT", onSigint);
    }
  },
});
