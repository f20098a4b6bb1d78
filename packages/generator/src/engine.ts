// The generator: lock → resolve → render (only outputs whose inputs changed) → plan → decide (three-way
// against the last generation) → orphans → write → manifest. Everything up to the write step is computed
// in memory and checked (paths inside the output dir, one writer per file, the manifest path, parents
// that are files); only then is anything written, each file atomically, and a failure part way puts the
// files back. --dry-run, --check and --plan stop before the write step and report what it would do.

import { existsSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import type { MergeStrategy } from "@ggen/contract";
import { staysInside, writeFileAtomic } from "@ggen/support";
import pLimit from "p-limit";
import { planDocument, supersededBases } from "./apply.js";
import { clockMs } from "./clock.js";
import { Regeneration } from "./delta.js";
import { fail } from "./errors.js";
import { checkGraphRead, readsGraph } from "./graph-use.js";
import { rdf } from "./lazy.js";
import { manifestPathOf, readLock } from "./lock.js";
import { buildManifest } from "./manifest.js";
import { scanOrphans } from "./orphans.js";
import { checkPackContracts } from "./pack-contract.js";
import { trustedPacks } from "./packs.js";
import { decideActions, planOutputs } from "./plan.js";
import { renderTemplate, startClock } from "./render.js";
import { resolveTemplates, type TemplateUnit } from "./resolve.js";
import { Run } from "./run.js";
import { GraphSnapshots } from "./snapshot.js";
import { BaseStore } from "./store.js";
import type { GenerateOptions, GenerateResult, OrphanResult, Planned } from "./types.js";
import { executeWrites, hooksOf, type WriteSet } from "./write.js";

export { redact } from "./manifest.js";
export type { FileResult, GenerateOptions, GenerateResult, HookResult, OrphanResult } from "./types.js";

/** The merge strategy of a run: --merge, else generated-wins with --force, else three-way. */
export function mergeOf(opts: Pick<GenerateOptions, "merge" | "force">): MergeStrategy {
  return opts.merge ?? (opts.force ? "generated-wins" : "three-way");
}

/**
 * One template's outputs. A graph answered from the last generation's snapshot may be asked a query whose
 * answer is still being computed on a subgraph, or one it has no answer for: then the template is rendered
 * again once the answers are in, or once the whole graph is loaded (at most once for each).
 */
async function renderUnit(run: Run, unit: TemplateUnit): Promise<Planned[]> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await renderTemplate(run, unit);
    } catch (e) {
      const waiting = run.regen?.snapshots?.waiting() ?? [];
      const wanting = run.regen?.snapshots?.wanting() ?? [];
      // No snapshot graph fell short (or it was given what it asked): the failure is the template's own.
      if ((waiting.length === 0 && wanting.length === 0) || attempt === 2) throw e;
      const t0 = clockMs();
      await Promise.all([...waiting.map((g) => g.answered()), ...wanting.map((g) => g.loadWhole())]);
      run.timings.rdfLoadMs += clockMs() - t0;
      // The attempt's hooks are noted again by the next.
      for (let i = run.hooks.length - 1; i >= 0; i--) if (run.hooks[i]!.unit === unit) run.hooks.splice(i, 1);
    }
  }
}

/** Render templates and write (or plan, or check) their outputs. */
export async function generate(opts: GenerateOptions): Promise<GenerateResult> {
  const started = new Date();
  startClock(started);
  const t0 = clockMs();
  const run = new Run(opts);
  const mode = opts.mode ?? "write";
  const merge = mergeOf(opts);
  const manifestPath = manifestPathOf(run.cwd, run.outRoot, opts.manifest);
  if (
    manifestPath !== undefined &&
    !staysInside(run.cwd, manifestPath) &&
    !staysInside(run.outRoot, manifestPath)
  )
    fail(
      "MANIFEST_PATH",
      `manifest '${opts.manifest}' is outside the project and the output dir`,
      undefined,
      {
        kind: "usage",
      },
    );
  const planPath = opts.plan === undefined ? undefined : resolve(run.cwd, opts.plan);
  if (planPath !== undefined && existsSync(planPath) && statSync(planPath).isDirectory())
    fail("PLAN_PATH", `plan '${opts.plan}' is a directory`, undefined, { kind: "usage" });
  if (planPath !== undefined && !existsSync(dirname(planPath)))
    fail("PLAN_PATH", `the plan's directory '${dirname(planPath)}' does not exist`, undefined, {
      kind: "usage",
    });
  // The lock first: a manifest path that cannot be one stops the run before anything is rendered.
  const lock = readLock(manifestPath, run.cwd, run.outRoot, (w) => run.warn(w));
  const store = new BaseStore(run.outRoot);
  const snapshots =
    manifestPath === undefined
      ? undefined
      : new GraphSnapshots(store, lock, run.cwd, (w) => run.warn(w), opts.cacheDir);
  run.regen = new Regeneration(lock, store, opts.full === true || manifestPath === undefined, snapshots);
  // A graph changed since the last generation: the graph host starts now, beside the work before its queries.
  // Awaited: what it waits for (@ggen/rdf's import, the graph's digest) the run needs next anyway, and a
  // host started only when this run next yields would start later.
  if (snapshots) await snapshots.prepareHost(rdf, (abs) => run.graphFileDigest(abs));
  const units = await resolveTemplates(
    opts.templates,
    { cwd: run.cwd, ...(opts.packsDir ? { packsDir: opts.packsDir } : {}) },
    trustedPacks(run.cwd),
  );
  // A --graph no template reads is refused before it is parsed; then the packs' contracts (shapes, vars).
  checkGraphRead(run, units);
  // The templates render while the contracts are checked (both wait for the graph; the check's shapes
  // engine runs beside the queries), so an output a caller starts on early comes early. Nothing is
  // written before the check passed, and a broken contract is what the run reports.
  const limit = pLimit(Math.max(1, opts.maxParallel ?? 8));
  // A template that reads no graph renders as soon as it is loaded, before the next one is compiled (a
  // first run compiles every template): an output a caller starts on early is there after its own
  // template, not after all of them. Such a render is synchronous up to its hand-over, so it takes no
  // slot of the limit. Those that read a graph queue behind, in the declared order.
  const rendering: Promise<Planned[]>[] = [];
  const start = (i: number, r: Promise<Planned[]>) => {
    rendering[i] = r;
    r.catch(() => undefined);
  };
  const readers: number[] = [];
  let loaded: (failure?: unknown) => void = () => undefined;
  run.templatesLoaded = new Promise<void>((res, rej) => {
    loaded = (failure) => (failure === undefined ? res() : rej(failure));
  });
  run.templatesLoaded.catch(() => undefined);
  try {
    for (const [i, unit] of units.entries()) {
      if (readsGraph(run.template(unit))) readers.push(i);
      else start(i, renderUnit(run, unit));
    }
  } catch (e) {
    loaded(e);
    throw e;
  }
  loaded();
  for (const i of readers)
    start(
      i,
      limit(() => renderUnit(run, units[i]!)),
    );
  // The check's own work (a vars schema's compile, the shapes engine's load) after the graph readers
  // asked for their graphs, so the graph host parses beside it. Without readers there is nothing to
  // let go first (and a short run skips Node's timer code).
  if (readers.length > 0) await new Promise<void>((r) => setImmediate(r));
  await checkPackContracts(run, units);
  const planned = (await Promise.all(rendering)).flat();
  // Subgraph answers no template asked for are still counted (the run's snapshot figures).
  await snapshots?.settled();
  const groups = planOutputs(run, planned);
  if (manifestPath !== undefined && groups.has(manifestPath))
    fail("MANIFEST_PATH", `manifest '${opts.manifest ?? manifestPath}' is also an output`, undefined, {
      kind: "usage",
    });
  const decided = await decideActions(run, { lock, store, merge }, groups);
  const produced = new Set(decided.decided.map((d) => d.path));
  const scan = scanOrphans(run.cwd, run.outRoot, lock, units, produced, opts.prune === true);
  const reused = planned.filter((p) => p.content === undefined).length;
  const rendered = planned.length - reused;
  const graphs = await Promise.all([...run.graphs.values()]);
  const keptOrphans = scan.orphans
    .filter((o) => !o.pruned && o.onDisk !== undefined)
    .map((o) => ({
      path: o.path,
      generated: o.generated,
      ...(o.template !== undefined ? { template: o.template } : {}),
      ...(o.pack !== undefined ? { pack: o.pack } : {}),
    }));
  // The results' digests only in the lock the run writes next to them (a plan's apply does not keep them).
  const lockOf = (withResults: boolean) => {
    run.timings.totalMs = clockMs() - t0;
    return buildManifest(run, {
      ...(withResults && snapshots ? { results: snapshots.resultDigests() } : {}),
      units,
      files: [...decided.decided.map((d) => d.entry), ...scan.carried],
      orphans: [...keptOrphans, ...scan.carriedOrphans],
      outputs: groups.size,
      graphs,
      started,
    });
  };
  let manifest = lockOf(false);
  const before = new Map(decided.decided.map((d) => [d.abs, d.onDisk]));
  const ws: WriteSet = {
    outRoot: run.outRoot,
    files: [
      ...decided.writes.map((w) => ({ ...w, previous: before.get(w.abs) })),
      ...scan.orphans
        .filter((o) => o.pruned)
        .map((o) => ({ abs: o.abs, content: undefined, previous: o.onDisk })),
    ],
    chmods: decided.chmods,
    bases: new Map(),
    store,
    superseded: [],
    hooks: hooksOf(run),
  };
  if (manifestPath !== undefined) {
    for (const d of decided.decided)
      if (d.generated !== undefined && d.generatedDigest && !store.has(d.generatedDigest))
        ws.bases.set(d.generatedDigest, d.generated);
    // Made when written, so its timings include the write step.
    ws.manifest = {
      path: manifestPath,
      text: () => {
        run.timings.writeMs = clockMs() - w0;
        manifest = lockOf(true);
        return `${JSON.stringify(manifest, null, 2)}\n`;
      },
    };
    ws.superseded = supersededBases(lock?.manifest, manifest);
    if (snapshots) ws.snapshots = snapshots;
  }
  const conflicts = decided.decided.filter((d) => d.action === "conflict").map((d) => d.path);
  const planInputs = {
    outRoot: run.outRoot,
    merge,
    prune: opts.prune === true,
    decided: decided.decided,
    orphans: scan.orphans,
    ws,
    manifest: manifestPath === undefined ? undefined : manifest,
    manifestPath,
    rendered,
    reused,
    warnings: run.warnings,
    diffs: opts.diff === true,
  };
  const plan = planPath === undefined ? undefined : await planDocument(planInputs);
  if (plan && planPath) await writeFileAtomic(planPath, `${JSON.stringify(plan, null, 2)}\n`);
  const writing = mode === "write" && planPath === undefined;
  if (writing && merge === "fail-on-conflict" && conflicts.length)
    fail(
      "MERGE_CONFLICT",
      `${conflicts.length} file(s) conflict with your edits: ${conflicts.slice(0, 10).join(", ")}; nothing written`,
      undefined,
      { kind: "failure", hint: "resolve with --merge three-way (markers), generated-wins or manual-wins" },
    );
  const w0 = clockMs();
  const hooks = writing
    ? executeWrites(ws, {
        ...(opts.onInfo ? { onInfo: opts.onInfo } : {}),
        onWarn: (w) => run.warn(w),
      })
    : [];
  if (opts.diff) {
    // The diff of what the run does (--check: of what the templates want), on each file's results.
    const byPath = new Map(decided.decided.map((d) => [d.path, d]));
    const { unifiedDiff } = await import("./plan.js");
    for (const f of decided.files) {
      const d = byPath.get(f.path);
      if (!d) continue;
      const after = mode === "check" ? d.desired : d.next;
      if (after !== d.onDisk) f.diff = await unifiedDiff(d.path, d.onDisk, after);
    }
  }
  for (const g of graphs) g.free();
  const orphans: OrphanResult[] = scan.orphans.map((o) => ({
    path: o.path,
    ...(o.template !== undefined ? { template: o.template } : {}),
    edited: o.edited,
    status: o.onDisk === undefined ? "gone" : o.pruned ? "deleted" : "kept",
  }));
  return {
    files: decided.files,
    manifest,
    manifestPath: writing ? manifestPath : undefined,
    drift: decided.files.some((f) => f.differs) || scan.orphans.some((o) => o.onDisk !== undefined),
    conflicts,
    orphans,
    rendered,
    reused,
    snapshot: snapshots ? { ...snapshots.stats } : undefined,
    hooks,
    warnings: run.warnings,
    plan,
    planPath,
  };
}
