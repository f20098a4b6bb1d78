import { relative } from "node:path";
import { defineCommand } from "@ggen/reporter";
import { writeFileAtomic } from "@ggen/support";
import pkg from "../../package.json" with { type: "json" };
import {
  type BackendChoice,
  backendFlag,
  durationFlag,
  loadBackend,
  output,
  projectRoot,
  stateDir,
} from "../context.js";
import { readManifest } from "./report.js";
import { annotate } from "./shared.js";

interface UltraFastTestFlags {
  backend: BackendChoice;
  "docker-host"?: string;
  manifest: string;
  timeout?: string;
  report?: string;
  parallel: boolean;
  host: boolean;
  isolated: boolean;
}

export const ultraFastTestCommand = defineCommand<UltraFastTestFlags>()({
  command: "ultra-fast-test",
  describe: "Test the output a generation manifest describes, in a fresh environment",
  options: {
    ...backendFlag,
    manifest: { type: "string", required: true, describe: "A generation-manifest/v1 (ggen writes it)" },
    timeout: { type: "string", describe: "Per runner invocation: 60s, 2m (a bare number is seconds)" },
    report: { type: "string", describe: "Also write the cleanroom-run/v1 here" },
    parallel: { type: "boolean", default: true, describe: "Run test files in parallel" },
    host: { type: "boolean", default: false, describe: "Run on the host, no environment or services" },
    isolated: {
      type: "boolean",
      default: false,
      describe: "No network but loopback (its services share it)",
    },
  },
  examples: [
    ["cleanroom ultra-fast-test --manifest out/.ggen/manifest.json", "Test generated output"],
    ["cleanroom ultra-fast-test --manifest m.json --report run.json --timeout 60s", "…and keep the run"],
  ],
  handler: async (argv) => {
    const out = output(argv);
    const timeoutMs = await durationFlag(argv.timeout, "--timeout");
    const { manifest, text } = await readManifest(argv.manifest);
    const pipeline = await import("@ggen/pipeline");
    const root = projectRoot();
    // The pipeline's testing stage, from the manifest: its files checked against the disk.
    const target = await pipeline.manifestTarget({
      manifestPath: argv.manifest,
      manifest,
      manifestText: text,
      cwd: root,
      onChanged: (path) => out.warn(`${path} changed since it was generated`),
    });
    for (const n of target.needs) out.verbose(`needs ${n.service}: ${n.because}`);
    const backend = argv.host ? undefined : await loadBackend(argv, out);
    const { LiveSteps, renderRunText } = await import("@ggen/reporter");
    const live = new LiveSteps({ enabled: !out.json && !argv.quiet, verbose: argv.verbose === true });
    try {
      const result = await pipeline.testGenerated(target, {
        stateDir: stateDir(),
        tool: { name: "cleanroom", version: pkg.version },
        ...(backend ? { backend } : {}),
        services: argv.host ? [] : target.needs.map((n) => ({ kind: n.service })),
        isolated: argv.isolated === true,
        caches: ["npm", "cargo"],
        parallel: argv.parallel,
        ...(timeoutMs ? { timeoutMs } : {}),
        ...(backend ? {} : { node: process.execPath }),
        onNote: (t) => out.verbose(t),
        onEvent: (e) => {
          if (e.type === "start") live.start(e.label);
          else {
            const bad = e.tests?.filter((t) => t.status !== "passed" && t.status !== "skipped").length ?? 0;
            live.finish(e.label, bad ? "failed" : "passed", e.durationMs ?? 0);
          }
        },
      });
      live.stop();
      if (argv.report) {
        await writeFileAtomic(argv.report, `${JSON.stringify(result.run, null, 2)}\n`);
        out.info(`wrote ${argv.report}`);
      }
      out.data(result.run, () => `${renderRunText(result.run)}\nSaved ${relative(root, result.path)}`);
      await annotate(out, result.run);
      if (!result.passed && !process.exitCode) process.exitCode = 1;
    } finally {
      live.stop();
      await backend?.close();
    }
  },
});
