import { relative } from "node:path";
import type { BackendChoice } from "@ggen/cleanroom-backends";
import { defineCommand } from "@ggen/reporter";
import { GgenError, parseDuration, parseKeyValues } from "@ggen/support";
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
  sign: boolean;
  "deploy-registry"?: string;
}

// The choices as data for --help (the type is the backends' own; importing their values would load them).
const backendChoices = ["auto", "local", "testcontainers"] as const satisfies readonly BackendChoice[];

export const ultraFastDeployCommand = defineCommand<UltraFastDeployFlags>()({
  command: "ultra-fast-deploy",
  describe:
    "From a template pack to a deployed, verified service or crate, with a report (exit 1 unless READY)",
  options: {
    template: { type: "string", required: true, describe: "pack[:template], or a search query with --first" },
    name: { type: "string", required: true, describe: "The project's name (a name, not a path)" },
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
    sign: {
      type: "boolean",
      default: false,
      describe:
        "Sign the attestations with the project's ed25519 key (made if missing; used anyway when present)",
    },
    "deploy-registry": {
      type: "string",
      describe: "Where a crate is published (default .ggen/deploy/registry)",
    },
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
    [
      "ggen ultra-fast-deploy --template io.ggen.rust-cli --name my_service --version 0.1.0 --report report.json",
      "A Rust crate: the pack's own stages, then a verified publish to .ggen/deploy/registry",
    ],
  ],
  handler: async (argv) => {
    const out = output(argv);
    const timeoutMs = parseDuration(argv.timeout, { flag: "--timeout" });
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
        sign: argv.sign,
        ...(argv["deploy-registry"] ? { deployRegistry: argv["deploy-registry"] } : {}),
        cwd: process.cwd(),
        ggenVersion: pkg.version,
        cache: { templates: cacheDir("templates"), nodeModules: cacheDir("node-modules") },
        view,
        onNote: (t) => out.verbose(t),
        signal: ctrl.signal,
      });
      view.close();
      out.data(r.report, () => {
        const lines = [renderPipeline(r.report, "text").trimEnd()];
        const rep = r.report;
        if (rep.gates?.length)
          lines.push(
            `Gates: ${rep.gates.map((g) => `${g.status === "passed" ? "✓" : g.status === "failed" ? "✗" : "-"} ${g.name}`).join("  ")}`,
          );
        const cov = rep.metrics.coverage;
        if (cov && cov.status === "unavailable") lines.push(`Coverage: unavailable (${cov.reason})`);
        if (rep.validation.skipped?.length)
          lines.push(`Not checked (skipped): ${rep.validation.skipped.join(", ")}`);
        lines.push(`Report: ${relative(process.cwd(), r.reportPath)}`);
        if (r.releasesDir)
          lines.push(
            `${rep.package?.ecosystem === "cargo" ? "Registry" : "Releases"}: ${relative(process.cwd(), r.releasesDir) || "."}`,
          );
        if (r.stopHint)
          lines.push(
            `Running at ${r.url}${r.pid ? ` (pid ${r.pid})` : ""}${r.environment ? `, its services in cleanroom environment ${r.environment}` : ""}; stop them with: ${r.stopHint}`,
          );
        else if (r.exitCode === 0 && rep.package?.ecosystem !== "cargo")
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
