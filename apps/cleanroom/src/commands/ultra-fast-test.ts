import { existsSync, readFileSync } from "node:fs";
import { basename, dirname, isAbsolute, join, relative, resolve } from "node:path";
import { GgenError, type Reference } from "@ggen/contract";
import type { Argv, CommandModule } from "yargs";
import pkg from "../../package.json" with { type: "json" };
import {
  type BackendChoice,
  backendOption,
  loadBackend,
  output,
  projectRoot,
  secondsToMs,
  stateDir,
} from "../context.js";
import { readManifest } from "./report.js";
import { writeFileAtomic } from "./shared.js";

interface Args {
  manifest: string;
  timeout?: number;
  report?: string;
  backend: BackendChoice;
  host: boolean;
  parallel: boolean;
  [k: string]: unknown;
}

/** Where the generated files are: outputRoot from the project root, or next to the manifest. */
function findOutputRoot(manifestPath: string, outputRoot: string, firstFile: string | undefined): string {
  const candidates = [
    isAbsolute(outputRoot) ? outputRoot : resolve(projectRoot(), outputRoot),
    basename(dirname(manifestPath)) === ".ggen" ? dirname(dirname(resolve(manifestPath))) : undefined,
    dirname(resolve(manifestPath)),
  ].filter((c): c is string => c !== undefined);
  for (const c of candidates) if (existsSync(c) && (!firstFile || existsSync(join(c, firstFile)))) return c;
  throw new GgenError("OUTPUT_NOT_FOUND", `the generated output (${outputRoot}) is not there`, {
    kind: "usage",
    location: { file: manifestPath },
    hint: "run ggen again, or run from the directory the manifest's outputRoot is relative to",
  });
}

export const ultraFastTestCommand: CommandModule<object, Args> = {
  command: "ultra-fast-test",
  describe: "Test the output a generation manifest describes, in a fresh environment",
  builder: (y) =>
    backendOption(y)
      .option("manifest", {
        type: "string",
        demandOption: true,
        describe: "A generation-manifest/v1 (ggen writes it)",
      })
      .option("timeout", { type: "number", describe: "Seconds per runner invocation" })
      .option("report", { type: "string", describe: "Also write the cleanroom-run/v1 here" })
      .option("parallel", { type: "boolean", default: true, describe: "Run test files in parallel" })
      .option("host", {
        type: "boolean",
        default: false,
        describe: "Run on the host, no environment or services",
      })
      .option("isolated", {
        type: "boolean",
        default: false,
        describe: "No network but loopback (its services share it)",
      })
      .example("cleanroom ultra-fast-test --manifest out/.ggen/manifest.json", "Test generated output")
      .example(
        "cleanroom ultra-fast-test --manifest m.json --report run.json --timeout 60",
        "…and keep the run",
      ) as Argv<Args>,
  handler: async (argv) => {
    const out = output(argv);
    const timeoutMs = secondsToMs(argv.timeout, "--timeout");
    const { manifest, text } = await readManifest(argv.manifest);
    const run = await import("@ggen/testing");
    const { sha256 } = await import("@ggen/support");
    const root = projectRoot();
    const outRoot = findOutputRoot(argv.manifest, manifest.outputRoot, manifest.files[0]?.path);
    // Every file the manifest lists must be there; a changed one is tested as it is now, with a warning.
    const sourceRefs: Reference[] = [];
    for (const f of manifest.files) {
      if (f.action === "skipped") continue;
      const abs = join(outRoot, f.path);
      if (!existsSync(abs))
        throw new GgenError(
          "FILE_NOT_FOUND",
          `the manifest lists ${f.path} but it is not in ${relative(root, outRoot) || "."}`,
          {
            kind: "usage",
            location: { file: argv.manifest },
          },
        );
      const sha = sha256(readFileSync(abs));
      if (sha !== f.sha256) out.warn(`${f.path} changed since it was generated`);
      sourceRefs.push({ path: relative(root, abs), sha256: sha });
    }
    const needs = run.detectNeeds(
      outRoot,
      manifest.files.map((f) => f.path),
    );
    for (const n of needs) out.verbose(`needs ${n.service}: ${n.because}`);
    const files = await run.selectFiles(outRoot, {});
    const backend = argv.host ? undefined : await loadBackend(argv.backend, out);
    const { LiveSteps, renderRunText } = await import("@ggen/reporter");
    const live = new LiveSteps({ enabled: !out.json && !argv.quiet, verbose: argv.verbose === true });
    try {
      const result = await run.runSession({
        root: outRoot,
        stateDir: stateDir(),
        kind: "ultra-fast-test",
        ...(backend ? { backend } : {}),
        services: argv.host ? [] : needs.map((n) => ({ kind: n.service })),
        isolated: argv.isolated === true,
        caches: ["npm", "cargo"],
        sourceRefs,
        manifest: { path: relative(root, resolve(argv.manifest)), sha256: sha256(text) },
        tool: { name: "cleanroom", version: pkg.version },
        onNote: (t) => out.verbose(t),
        work: (ctx) =>
          run.testProject(outRoot, ctx, {
            files,
            parallel: argv.parallel,
            ...(timeoutMs ? { timeoutMs } : {}),
            ...(backend ? {} : { node: process.execPath }),
            onEvent: (e) => {
              if (e.type === "start") live.start(e.label);
              else {
                const bad =
                  e.tests?.filter((t) => t.status !== "passed" && t.status !== "skipped").length ?? 0;
                live.finish(e.label, bad ? "failed" : "passed", e.durationMs ?? 0);
              }
            },
          }),
      });
      live.stop();
      if (argv.report) {
        await writeFileAtomic(argv.report, `${JSON.stringify(result.run, null, 2)}\n`);
        out.info(`wrote ${argv.report}`);
      }
      out.data(result.run, () => `${renderRunText(result.run)}\nSaved ${relative(root, result.path)}`);
      if (!run.runPassed(result.run) && !process.exitCode) process.exitCode = 1;
    } finally {
      live.stop();
      await backend?.close();
    }
  },
};
