// The write step, shared by a generation and by `ggen apply`: everything that can fail is checked first
// (parents that are files, a manifest path that is a directory or would need directories made outside
// the output dir); then sh_before hooks, every file written atomically, orphans deleted, modes set, the
// bases and the manifest (the lock) written last. A failure part way puts back every file it changed.
import { execFileSync } from "node:child_process";
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { dirname, relative } from "node:path";
import { isInside, staysInside, writeFileAtomicSync } from "@ggen/support";
import { at, fail } from "./errors.js";
import type { Run } from "./run.js";
import type { GraphSnapshots } from "./snapshot.js";
import { BaseStore } from "./store.js";
import type { HookResult } from "./types.js";

export interface FileWrite {
  abs: string;
  /** undefined: delete the file (a pruned orphan). */
  content: string | undefined;
  mode?: number | undefined;
  /** What was there before (undefined: nothing), put back if the write step fails. */
  previous: string | undefined;
  /** Keep the old bytes as `<file>.bak` first (the template's `backup: true`). */
  backup?: true;
}

export interface HookToRun {
  template: string;
  /** The template file (GGEN_TEMPLATE), when known. */
  file?: string;
  when: "before" | "after";
  command: string;
  /** Why it does not run (not allowed, pack not trusted); undefined: it runs. */
  reason?: string;
  /** The values the command refers to (GGEN_HOOK_VALUE_<n>), never spliced into it. */
  env?: Record<string, string>;
}

export interface WriteSet {
  outRoot: string;
  files: FileWrite[];
  chmods: { abs: string; mode: number }[];
  /** Generated contents to keep as bases, by sha256. */
  bases: Map<string, string>;
  store: BaseStore;
  /** The lock, written last (`text` may be made then, to include the write step's timing). */
  manifest?: { path: string; text: string | (() => string) };
  /** Bases the previous lock named and the new one does not: removed after the lock is written. */
  superseded: string[];
  /** Graph texts and query results for the next run's snapshot (see snapshot.ts). */
  snapshots?: GraphSnapshots;
  hooks: HookToRun[];
}

/** The hooks of a run, each with why it does not run (--allow-hooks, a pack the project trusts). */
export function hooksOf(run: Run): HookToRun[] {
  const out: HookToRun[] = [];
  for (const h of run.hooks) {
    for (const command of h.commands) {
      const hook: HookToRun = { template: h.unit.display, file: h.unit.file, when: h.when, command };
      if (h.env && Object.keys(h.env).length) hook.env = h.env;
      if (!run.opts.allowHooks) hook.reason = "hooks need --allow-hooks";
      else if (h.unit.pack && !h.unit.pack.trusted)
        hook.reason = `pack '${h.unit.pack.id}' is not trusted by this project`;
      out.push(hook);
    }
  }
  return out;
}

function runHooks(
  ws: WriteSet,
  when: "before" | "after",
  results: HookResult[],
  notes: { onInfo?: (m: string) => void; onWarn?: (m: string) => void },
): void {
  for (const h of ws.hooks.filter((x) => x.when === when)) {
    const res: HookResult = { template: h.template, when, command: h.command, ran: false };
    if (h.reason) {
      res.reason = h.reason;
      notes.onWarn?.(`${h.template}: sh_${when} not run: ${h.reason}`);
    } else {
      try {
        const out = execFileSync("sh", ["-c", h.command], {
          cwd: ws.outRoot,
          encoding: "utf8",
          stdio: ["ignore", "pipe", "pipe"],
          env: { ...process.env, ...h.env, GGEN_OUTPUT_DIR: ws.outRoot, GGEN_TEMPLATE: h.file ?? h.template },
        });
        if (out.trim()) notes.onInfo?.(out.trimEnd());
        res.ran = true;
      } catch (e) {
        const err = e as { status?: number; stderr?: string };
        fail(
          "HOOK_FAILED",
          `sh_${when} '${h.command}' exited ${err.status ?? "?"}: ${
            String(err.stderr ?? "")
              .trim()
              .split("\n")[0] ?? ""
          }`,
          at(h.template),
          {},
        );
      }
    }
    results.push(res);
  }
}

const shown = (root: string, p: string) => relative(root, p) || p;

/** The nearest existing ancestor of `p` must be a directory (nothing in the way of mkdir). */
function checkParents(root: string, p: string): void {
  let d = dirname(p);
  while (!existsSync(d)) {
    const up = dirname(d);
    if (up === d) return;
    d = up;
  }
  if (!statSync(d, { bigint: true }).isDirectory())
    fail(
      "OUTPUT_PARENT",
      `'${shown(root, d)}' is a file, so '${shown(root, p)}' cannot be written`,
      undefined,
      {
        kind: "failure",
      },
    );
}

/** Everything that can be known to fail before the first write. */
export function preflight(ws: WriteSet): void {
  if (existsSync(ws.outRoot) && !statSync(ws.outRoot, { bigint: true }).isDirectory())
    fail("OUTPUT_DIR", `output dir '${ws.outRoot}' is a file`, undefined, { kind: "usage" });
  const contained = (p: string, what: string) => {
    if (!staysInside(ws.outRoot, p))
      fail("PATH_ESCAPE", `${what} '${shown(ws.outRoot, p)}' leads outside the output dir`, undefined, {
        kind: "usage",
      });
  };
  for (const f of ws.files) {
    contained(f.abs, "output");
    checkParents(ws.outRoot, f.abs);
    if (existsSync(f.abs) && lstatSync(f.abs).isDirectory())
      fail("OUTPUT_IS_DIR", `output '${shown(ws.outRoot, f.abs)}' is a directory`, undefined, {
        kind: "usage",
      });
  }
  if (ws.bases.size) {
    contained(ws.store.blobPath("0".repeat(64)), "the base store");
    checkParents(ws.outRoot, ws.store.blobPath("0".repeat(64)));
  }
  const m = ws.manifest;
  if (m) {
    if (existsSync(m.path) && statSync(m.path).isDirectory())
      fail("MANIFEST_PATH", `manifest '${m.path}' is a directory`, undefined, {
        kind: "usage",
        hint: "pass --manifest a file path",
      });
    if (ws.files.some((f) => f.abs === m.path))
      fail("MANIFEST_PATH", `manifest '${m.path}' is also an output`, undefined, { kind: "usage" });
    // Directories are made for the manifest only inside the output dir (and not through a link out of it).
    if (isInside(ws.outRoot, m.path)) contained(m.path, "manifest");
    else if (!existsSync(dirname(m.path)))
      fail("MANIFEST_PATH", `the manifest's directory '${dirname(m.path)}' does not exist`, undefined, {
        kind: "usage",
        hint: "create it, or keep the manifest inside the output dir",
      });
    checkParents(ws.outRoot, m.path);
  }
}

/** The topmost directory missing on the way to `p` (what mkdir -p would make), if any. */
function firstMissing(p: string): string | undefined {
  let missing: string | undefined;
  let d = dirname(p);
  while (!existsSync(d)) {
    missing = d;
    const up = dirname(d);
    if (up === d) break;
    d = up;
  }
  return missing;
}

/** A file named by what it holds (or by its key): written in place, never through a link at its name. */
function writeNamed(p: string, data: Buffer, exclusive: boolean): void {
  mkdirSync(dirname(p), { recursive: true });
  if (!exclusive) rmSync(p, { force: true });
  try {
    writeFileSync(p, data, { flag: "wx" });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
  }
}

/** The graph texts and the query results of this run's snapshots. */
function writeSnapshots(ws: WriteSet, s: GraphSnapshots, track: (p: string) => void): void {
  for (const [digest, bytes] of s.texts) {
    const p = ws.store.graphPath(digest);
    if (existsSync(p)) continue;
    track(p);
    writeNamed(p, bytes, true);
  }
  for (const key of s.results.keys()) {
    const p = s.resultsPath(key);
    track(p);
    writeNamed(p, s.compressResults(key), false);
  }
}

/** Writes `ws`; returns what each hook did. On a failure every file is put back as it was. */
export function executeWrites(
  ws: WriteSet,
  notes: { onInfo?: (m: string) => void; onWarn?: (m: string) => void } = {},
): HookResult[] {
  preflight(ws);
  const hooks: HookResult[] = [];
  const undo: (() => void)[] = [];
  const made = new Set<string>();
  const track = (p: string) => {
    const m = firstMissing(p);
    if (m !== undefined && ![...made].some((d) => isInside(d, m))) made.add(m);
  };
  try {
    track(`${ws.outRoot}/x`);
    mkdirSync(ws.outRoot, { recursive: true });
    runHooks(ws, "before", hooks, notes);
    // Derived files, a thousand in a run: atomic renames without fsync (a crash can lose the new
    // content, never tear a file), which keeps generation several times faster than fsyncing each.
    for (const f of ws.files) {
      if (f.content === undefined) {
        rmSync(f.abs, { force: true });
      } else {
        track(f.abs);
        // `backup: true`: the old bytes, exactly, as <file>.bak (atomically) before the file changes.
        if (f.backup && existsSync(f.abs)) {
          track(`${f.abs}.bak`);
          writeFileAtomicSync(`${f.abs}.bak`, readFileSync(f.abs), { fsync: false });
          notes.onInfo?.(`kept ${relative(ws.outRoot, f.abs)}.bak`);
        }
        writeFileAtomicSync(f.abs, f.content, {
          fsync: false,
          ...(f.mode !== undefined ? { mode: f.mode } : {}),
        });
      }
      undo.push(() => {
        if (f.previous === undefined) rmSync(f.abs, { force: true });
        else writeFileAtomicSync(f.abs, f.previous, { fsync: false });
      });
    }
    for (const c of ws.chmods) chmodSync(c.abs, c.mode);
    // Bases are named by their digest and checked against it when read, so a torn one is only a
    // missing one: written in place, without the temp file and rename of an atomic write.
    for (const [digest, content] of ws.bases) {
      const p = ws.store.blobPath(digest);
      if (existsSync(p)) continue;
      track(p);
      writeNamed(p, BaseStore.compress(content), true);
    }
    if (ws.snapshots) writeSnapshots(ws, ws.snapshots, track);
    if (ws.manifest) {
      track(ws.manifest.path);
      const text = ws.manifest.text;
      writeFileAtomicSync(ws.manifest.path, typeof text === "string" ? text : text());
    }
  } catch (e) {
    for (const u of undo.reverse()) {
      try {
        u();
      } catch {
        // best effort: the error that stopped the run is the one to report
      }
    }
    for (const d of made) rmSync(d, { recursive: true, force: true });
    throw e;
  }
  for (const digest of ws.superseded) {
    rmSync(ws.store.blobPath(digest), { force: true });
    rmSync(ws.store.graphPath(digest), { force: true });
  }
  for (const key of ws.snapshots?.supersededResults ?? [])
    rmSync(ws.snapshots!.resultsPath(key), { force: true });
  ws.snapshots?.keepInCache();
  runHooks(ws, "after", hooks, notes);
  return hooks;
}
