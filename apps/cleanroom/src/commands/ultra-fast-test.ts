import { basename, relative } from "node:path";
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
  describe:
    "Test generated output (a generation manifest, or a crate's Cargo.toml) in a fresh environment (exit 1 when a test fails)",
  options: {
    ...backendFlag,
    manifest: {
      type: "string",
      required: true,
      describe: "A generation-manifest/v1 (ggen writes it), or a crate's Cargo.toml",
    },
    timeout: {
      type: "string",
      describe: "Per runner invocation: 60s, 2m, 1500ms (a bare number is seconds)",
    },
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
    [
      "cleanroom ultra-fast-test --manifest target/generated/Cargo.toml --timeout 50s",
      "A crate: cargo test, per test",
    ],
  ],
  handler: async (argv) => {
    const out = output(argv);
    const timeoutMs = await durationFlag(argv.timeout, "--timeout");
    const pipeline = await import("@ggen/pipeline");
    const root = projectRoot();
    const crate = basename(argv.manifest) === "Cargo.toml";
    // The pipeline's testing stage, from the manifest (its files checked against the disk), or from a
    // crate's Cargo.toml as seed 001 gives it.
    const target = crate
      ? await pipeline.crateTarget({ manifestPath: argv.manifest, cwd: root })
      : await (async () => {
          const { manifest, text } = await readManifest(argv.manifest);
          return pipeline.manifestTarget({
            manifestPath: argv.manifest,
            manifest,
            manifestText: text,
            cwd: root,
            onChanged: (path) => out.warn(`${path} changed since it was generated`),
          });
        })();
    // A crate's tests get ggen's cargo home (Debian's crates offline) and its cached target dir.
    const toolchain = await pipeline.projectToolchain(target.root);
    for (const note of toolchain?.notes ?? []) out.verbose(note);
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
        ...(toolchain ? { env: toolchain.env } : {}),
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
