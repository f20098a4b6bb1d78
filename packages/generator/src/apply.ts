// Plans and their application. A generation's decisions become a `generation-plan/v1` (per file: action,
// digest on disk, digest after, what the templates generated, a unified diff); `applyPlan` turns that
// document back into the very same writes — each file rebuilt from what is on disk and its diff, checked
// against the digest the plan promised — and refuses when any file changed since the plan was made.
import { existsSync, readFileSync, statSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { gunzipSync } from "node:zlib";
import {
  type GenerationManifest,
  type GenerationPlan,
  type MergeStrategy,
  type PlanAction,
  type PlanFile,
  parseJson,
  validate,
} from "@ggen/contract";
import { isoTime, sha256, staysInside } from "@ggen/support";
import pkg from "../package.json" with { type: "json" };
import { fail } from "./errors.js";
import { readLock } from "./lock.js";
import type { Orphan } from "./orphans.js";
import type { DecidedFile } from "./plan.js";
import { unifiedDiff } from "./plan.js";
import { BaseStore } from "./store.js";
import type { HookResult } from "./types.js";
import { executeWrites, type FileWrite, type HookToRun, type WriteSet } from "./write.js";

const digestOrNull = (s: string | undefined) => (s === undefined ? null : sha256(s));

/** Bases the old lock named that the new one does not (their blobs can go once the new lock is written). */
export function supersededBases(old: GenerationManifest | undefined, next: GenerationManifest): string[] {
  if (!old) return [];
  const keep = new Set<string>(next.inputs.graphs.map((g) => g.sha256));
  for (const f of next.files) if (f.generated) keep.add(f.generated);
  for (const o of next.orphans ?? []) keep.add(o.generated);
  const out = new Set<string>();
  for (const f of old.files) if (f.generated && !keep.has(f.generated)) out.add(f.generated);
  for (const o of old.orphans ?? []) if (!keep.has(o.generated)) out.add(o.generated);
  // The graph texts kept for the snapshot (snapshot.ts).
  for (const g of old.inputs.graphs) if (!keep.has(g.sha256)) out.add(g.sha256);
  return [...out];
}

export interface PlanInputs {
  outRoot: string;
  merge: MergeStrategy;
  prune: boolean;
  decided: readonly DecidedFile[];
  orphans: readonly Orphan[];
  ws: WriteSet;
  manifest: GenerationManifest | undefined;
  manifestPath: string | undefined;
  rendered: number;
  reused: number;
  warnings: readonly string[];
  /** Compute the diffs (a plan always has them; a run only with --diff). */
  diffs: boolean;
}

/** Each file's entry of the plan, in plan order (outputs, then orphans). */
export async function planFiles(p: PlanInputs): Promise<PlanFile[]> {
  const files: PlanFile[] = [];
  for (const d of p.decided) {
    const f: PlanFile = {
      path: d.path,
      action: d.action,
      current: d.diskDigest ?? digestOrNull(d.onDisk),
      next: d.diskDigest ?? digestOrNull(d.next),
      generated: d.generatedDigest ?? null,
    };
    if (p.diffs && d.next !== d.onDisk) f.diff = await unifiedDiff(d.path, d.onDisk, d.next);
    if (d.mode !== undefined) f.mode = d.mode;
    if (d.template !== undefined) f.template = d.template;
    if (d.reason !== undefined) f.reason = d.reason;
    if (d.conflicts !== undefined) f.conflicts = d.conflicts;
    if (d.regions?.length) f.regions = d.regions;
    if (d.backup) f.backup = true;
    files.push(f);
  }
  for (const o of p.orphans) {
    const action: PlanAction = o.pruned ? "delete-orphan" : "skip";
    const f: PlanFile = {
      path: o.path,
      action,
      current: digestOrNull(o.onDisk),
      next: o.pruned ? null : digestOrNull(o.onDisk),
      generated: o.generated,
      reason: o.pruned
        ? "orphan: no template produces it any more"
        : o.onDisk === undefined
          ? "orphan: already deleted"
          : o.edited
            ? "orphan: edited, kept"
            : "orphan: no template produces it any more (--prune deletes it)",
    };
    if (o.template !== undefined) f.template = o.template;
    if (p.diffs && o.pruned) f.diff = await unifiedDiff(o.path, o.onDisk, undefined);
    files.push(f);
  }
  return files;
}

export async function planDocument(p: PlanInputs): Promise<GenerationPlan> {
  const files = await planFiles({ ...p, diffs: true });
  const summary: Partial<Record<PlanAction, number>> = {};
  for (const f of files) summary[f.action] = (summary[f.action] ?? 0) + 1;
  const plan: GenerationPlan = {
    kind: "generation-plan/v1",
    tool: { name: "ggen", version: pkg.version },
    createdAt: isoTime(),
    outputRoot: p.outRoot,
    merge: p.merge,
    prune: p.prune,
    files,
    summary,
    rendered: p.rendered,
    reused: p.reused,
  };
  const hooks = p.ws.hooks.filter((h) => !h.reason);
  if (hooks.length)
    plan.hooks = hooks.map((h) => ({
      template: h.template,
      when: h.when,
      command: h.command,
      ...(h.env ? { env: h.env } : {}),
    }));
  if (p.manifest && p.manifestPath) plan.manifest = { path: p.manifestPath, document: p.manifest };
  // Bases a diff cannot rebuild (the file keeps edits the base does not have) travel in the plan.
  const nexts = new Set(files.map((f) => f.next).filter((x): x is string => x !== null));
  const blobs: Record<string, string> = {};
  for (const [digest, content] of p.ws.bases)
    if (!nexts.has(digest)) blobs[digest] = BaseStore.compress(content).toString("base64");
  if (Object.keys(blobs).length) plan.blobs = blobs;
  if (p.warnings.length) plan.warnings = [...p.warnings];
  return plan;
}

export interface ApplyResult {
  plan: GenerationPlan;
  files: PlanFile[];
  hooks: HookResult[];
  manifestPath: string | undefined;
}

/** Carries out a plan file exactly, or refuses (naming the files) when the disk changed since. */
export async function applyPlan(
  planFile: string,
  opts: {
    cwd?: string;
    allowHooks?: boolean;
    onWarn?: (m: string) => void;
    onInfo?: (m: string) => void;
  } = {},
): Promise<ApplyResult> {
  const cwd = resolve(opts.cwd ?? process.cwd());
  const abs = resolve(cwd, planFile);
  if (!existsSync(abs)) fail("PLAN_NOT_FOUND", `plan '${planFile}' not found`, undefined, { kind: "usage" });
  if (statSync(abs).isDirectory())
    fail("PLAN_INVALID", `plan '${planFile}' is a directory`, undefined, { kind: "usage" });
  const value = parseJson(readFileSync(abs, "utf8"), planFile, "PLAN_INVALID", "usage");
  const r = validate("generation-plan/v1", value);
  if (!r.ok) {
    const e = r.errors[0]!;
    fail("PLAN_INVALID", `'${planFile}' is not a generation-plan/v1: ${e.path} ${e.message}`, undefined, {
      kind: "usage",
    });
  }
  const plan = r.value;
  const outRoot = plan.outputRoot;
  if (!isAbsolute(outRoot))
    fail("PLAN_INVALID", `'${planFile}': outputRoot must be absolute`, undefined, { kind: "usage" });
  if (plan.merge === "fail-on-conflict" && plan.files.some((f) => f.action === "conflict"))
    fail(
      "MERGE_CONFLICT",
      `the plan has conflicts and was made with --merge fail-on-conflict: ${plan.files
        .filter((f) => f.action === "conflict")
        .map((f) => f.path)
        .join(", ")}`,
      undefined,
      { kind: "failure" },
    );
  const onDisk = new Map<string, string | undefined>();
  const changed: string[] = [];
  for (const f of plan.files) {
    const p = resolve(outRoot, f.path);
    if (!staysInside(outRoot, p))
      fail("PATH_ESCAPE", `plan path '${f.path}' escapes the output dir`, undefined, { kind: "usage" });
    const raw = existsSync(p) && statSync(p).isFile() ? readFileSync(p) : undefined;
    if (existsSync(p) && raw === undefined) changed.push(f.path);
    else if ((raw === undefined ? null : sha256(raw)) !== f.current) changed.push(f.path);
    onDisk.set(f.path, raw?.toString("utf8"));
  }
  if (changed.length)
    fail(
      "PLAN_STALE",
      `changed since the plan was made: ${changed.slice(0, 10).join(", ")}${
        changed.length > 10 ? ` and ${changed.length - 10} more` : ""
      }`,
      undefined,
      { kind: "failure", hint: "make the plan again" },
    );
  const { applyPatch } = await import("diff");
  const store = new BaseStore(outRoot);
  const ws: WriteSet = { outRoot, files: [], chmods: [], bases: new Map(), store, superseded: [], hooks: [] };
  const nextContent = new Map<string, string>();
  for (const f of plan.files) {
    const before = onDisk.get(f.path);
    const p = resolve(outRoot, f.path);
    if (f.next === null) {
      if (before !== undefined) ws.files.push({ abs: p, content: undefined, previous: before });
      continue;
    }
    let next = before;
    if (f.next !== f.current) {
      const patched = f.diff === undefined ? false : applyPatch(before ?? "", f.diff);
      if (patched === false || sha256(patched) !== f.next)
        fail(
          "PLAN_INVALID",
          `'${planFile}': the diff of ${f.path} does not give the promised content`,
          undefined,
          {
            kind: "usage",
          },
        );
      next = patched;
      const w: FileWrite = { abs: p, content: next, previous: before };
      if (f.mode !== undefined) w.mode = f.mode;
      // As a direct run: the old bytes as <file>.bak first, only when there are old bytes.
      if (f.backup && before !== undefined) w.backup = true;
      ws.files.push(w);
    } else if (f.mode !== undefined && before !== undefined) ws.chmods.push({ abs: p, mode: f.mode });
    if (next !== undefined) nextContent.set(f.next, next);
  }
  for (const f of plan.files) {
    if (!f.generated || f.action === "delete-orphan" || f.action === "skip") continue;
    let base = nextContent.get(f.generated);
    const blob = plan.blobs?.[f.generated];
    if (base === undefined && blob !== undefined)
      base = gunzipSync(Buffer.from(blob, "base64")).toString("utf8");
    if (base === undefined && store.has(f.generated)) continue;
    if (base === undefined || sha256(base) !== f.generated)
      fail("PLAN_INVALID", `'${planFile}': the generated content of ${f.path} is missing`, undefined, {
        kind: "usage",
      });
    ws.bases.set(f.generated, base);
  }
  let manifestPath: string | undefined;
  if (plan.manifest) {
    manifestPath = plan.manifest.path;
    const m = validate("generation-manifest/v1", plan.manifest.document);
    if (!m.ok || !isAbsolute(manifestPath))
      fail("PLAN_INVALID", `'${planFile}': its manifest is not a generation-manifest/v1`, undefined, {
        kind: "usage",
      });
    const old = readLock(manifestPath, cwd, outRoot, () => undefined);
    ws.superseded = supersededBases(old?.manifest, plan.manifest.document);
    ws.manifest = { path: manifestPath, text: `${JSON.stringify(plan.manifest.document, null, 2)}\n` };
  }
  ws.hooks = (plan.hooks ?? []).map(
    (h): HookToRun => ({
      ...h,
      ...(opts.allowHooks ? {} : { reason: "hooks need --allow-hooks" }),
    }),
  );
  const hooks = executeWrites(ws, {
    ...(opts.onInfo ? { onInfo: opts.onInfo } : {}),
    ...(opts.onWarn ? { onWarn: opts.onWarn } : {}),
  });
  return { plan, files: plan.files, hooks, manifestPath };
}
