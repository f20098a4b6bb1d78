// The generator: resolve → render → plan → decide → write → manifest. Everything up to the write step
// is computed in memory and checked (paths inside the output dir, one writer per file); only then is
// anything written, each file atomically. --dry-run and --check stop before the write step.
import { join, resolve } from "node:path";
import { writeFileAtomic } from "@ggen/support";
import pLimit from "p-limit";
import { buildManifest } from "./manifest.js";
import { checkPackContracts } from "./pack-contract.js";
import { trustedPacks } from "./packs.js";
import { decideActions, planOutputs } from "./plan.js";
import { renderTemplate, startClock } from "./render.js";
import { resolveTemplates } from "./resolve.js";
import { Run } from "./run.js";
import type { GenerateOptions, GenerateResult, HookResult } from "./types.js";
import { writeOutputs } from "./write.js";

export { redact } from "./manifest.js";
export type { FileResult, GenerateOptions, GenerateResult, HookResult } from "./types.js";

/** Render templates and write (or plan, or check) their outputs. */
export async function generate(opts: GenerateOptions): Promise<GenerateResult> {
  const started = new Date();
  startClock(started);
  const t0 = performance.now();
  const run = new Run(opts);
  const mode = opts.mode ?? "write";
  const units = await resolveTemplates(
    opts.templates,
    { cwd: run.cwd, ...(opts.packsDir ? { packsDir: opts.packsDir } : {}) },
    trustedPacks(run.cwd),
  );
  // A pack's contract (shapes, vars schema) is checked before anything is rendered.
  await checkPackContracts(run, units);
  const limit = pLimit(Math.max(1, opts.maxParallel ?? 8));
  const planned = (await Promise.all(units.map((u) => limit(() => renderTemplate(run, u))))).flat();
  const groups = planOutputs(run, planned);
  const decided = await decideActions(run, groups);
  const hooks: HookResult[] = mode === "write" ? await writeOutputs(run, decided) : [];
  const graphs = await Promise.all([...run.graphs.values()]);
  run.timings.totalMs = performance.now() - t0;
  const manifest = buildManifest(run, { units, files: decided.files, outputs: groups.size, graphs, started });
  let manifestPath: string | undefined;
  if (mode === "write" && opts.manifest !== false) {
    manifestPath = opts.manifest
      ? resolve(run.cwd, opts.manifest)
      : join(run.outRoot, ".ggen", "manifest.json");
    await writeFileAtomic(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
  }
  for (const g of graphs) g.free();
  return {
    files: decided.files,
    manifest,
    manifestPath,
    drift: decided.files.some((f) => f.differs),
    hooks,
    warnings: run.warnings,
  };
}
