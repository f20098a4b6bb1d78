// The plan: every planned output checked (inside the output dir, also through symlinks; one writer per
// file, any number of injections), then decided against the disk and the lock — created, overwritten,
// merged three ways with the user's edits, left with conflicts, injected, unchanged or skipped — with the
// content each file ends up with. Nothing is written here.
import { lstatSync, readFileSync, statSync } from "node:fs";
import { basename, dirname, isAbsolute, join, resolve, sep } from "node:path";
import type { FileAction, ManifestFile, MergeStrategy, PlanAction } from "@ggen/contract";
import { isInside, realish, sha256 } from "@ggen/support";
import { defer, once } from "./deferred.js";
import { at, fail } from "./errors.js";
import { ALREADY_PRESENT, inject } from "./inject.js";
import { type Lock, lockPath } from "./lock.js";
import { type RegionNote, regenerate } from "./merge.js";
import type { Run } from "./run.js";
import type { BaseStore } from "./store.js";
import type { FileResult, Planned } from "./types.js";

/**
 * `staysInside(root, p)` (@ggen/support) for the many outputs of one root: the real path of a path that is
 * not a symlink is its directory's real path and its name, so each directory is resolved once and each
 * output costs one lstat; a symlink is resolved on its own by `realish`.
 */
class OutputContainment {
  private readonly root: string;
  private readonly realRoot: string;
  private readonly realDirs = new Map<string, string>();

  constructor(root: string) {
    this.root = resolve(root);
    this.realRoot = realish(this.root);
  }

  holds(abs: string): boolean {
    return under(this.root, abs) && under(this.realRoot, this.real(abs));
  }

  private real(p: string): string {
    // The root's own real path is known; above it, nothing is asked.
    if (p === this.root) return this.realRoot;
    const dir = dirname(p);
    let link = false;
    try {
      // As a bigint stat, as every stat of a short run is (one Stats class for Node to compile, not two).
      link = lstatSync(p, { bigint: true }).isSymbolicLink();
    } catch {
      // Not there: its real path is its directory's and its name, as realish has it.
    }
    if (link || dir === p) return realish(p);
    let real = this.realDirs.get(dir);
    if (real === undefined) {
      real = this.real(dir);
      this.realDirs.set(dir, real);
    }
    return join(real, basename(p));
  }
}

/**
 * `isInside` for two paths `resolve`, `join` or a real path made (absolute, normalized): on POSIX a
 * prefix test says the same, without normalizing both again (the path module's loop, run cold, was
 * the largest part of planning a short run). Elsewhere (case, drive letters), `isInside` itself.
 */
function under(root: string, p: string): boolean {
  if (sep !== "/") return isInside(root, p);
  return p === root || p.startsWith(root === "/" ? root : `${root}/`);
}

/** The planned outputs by absolute path, each path checked. */
export function planOutputs(run: Run, planned: readonly Planned[]): Map<string, Planned[]> {
  const groups = new Map<string, Planned[]>();
  const inside = new OutputContainment(run.outRoot);
  for (const p of planned) {
    if (isAbsolute(p.to) || /^[A-Za-z]:[\\/]/.test(p.to)) {
      fail(
        "PATH_ESCAPE",
        `output path '${p.to}' must be relative to the output dir`,
        at(p.unit.display, p.line),
        { kind: "usage" },
      );
    }
    const abs = resolve(run.outRoot, p.to);
    if (!inside.holds(abs) || abs === run.outRoot) {
      fail("PATH_ESCAPE", `output path '${p.to}' escapes the output dir`, at(p.unit.display, p.line), {
        kind: "usage",
      });
    }
    const g = groups.get(abs) ?? [];
    const writer = g.find((x) => !x.inject);
    if (writer && !p.inject) {
      fail(
        "OUTPUT_CONFLICT",
        `'${p.to}' is also written by ${writer.unit.display}`,
        at(p.unit.display, p.line),
        {
          kind: "usage",
          hint: "give each template its own 'to', or use inject: true",
        },
      );
    }
    g.push(p);
    groups.set(abs, g);
  }
  return groups;
}

/** One file after deciding: what is there, what will be, what the templates generated. */
export interface DecidedFile {
  abs: string;
  path: string;
  action: PlanAction;
  /** On disk now (undefined: not there). */
  onDisk: string | undefined;
  /** After the run (undefined: not there). */
  next: string | undefined;
  /** sha256 of the bytes on disk, for a file kept as it is because it is not UTF-8 text. */
  diskDigest?: string;
  /** What the templates want there (what --check compares with). */
  desired: string | undefined;
  /** What the templates generated for it: the next base (undefined for injection-only files). */
  generated: string | undefined;
  generatedDigest: string | undefined;
  mode: number | undefined;
  template: string | undefined;
  reason?: string;
  conflicts?: number;
  regions?: RegionNote[];
  /** Keep the bytes on disk as `<file>.bak` before writing (the template's `backup: true`). */
  backup?: true;
  /** The lock entry this run records for the file. */
  entry: ManifestFile;
}

/** What the write step does: files to write (atomically), modes to set, orphans to delete. */
export interface Decisions {
  files: FileResult[];
  decided: DecidedFile[];
  /** `backup`: the file exists and its template asked for `<file>.bak` first. */
  writes: { abs: string; content: string; mode: number | undefined; backup?: true }[];
  chmods: { abs: string; mode: number }[];
}

export interface DecideContext {
  lock: Lock | undefined;
  store: BaseStore;
  merge: MergeStrategy;
}

/** The file's text; `lossy` when it is not valid UTF-8 (decoding would change its bytes). */
function readIfFile(abs: string, display: string): { text: string; lossy: boolean } | undefined {
  // Read straight away (one open instead of an exists, a stat and an open per output).
  let raw: Buffer;
  try {
    raw = readFileSync(abs);
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === "EISDIR")
      fail("OUTPUT_IS_DIR", `output '${display}' is a directory`, undefined, { kind: "usage" });
    // Not there (a dangling symlink, or a parent that is a file, is not there either).
    if (code === "ENOENT" || code === "ENOTDIR") return undefined;
    throw e;
  }
  const text = raw.toString("utf8");
  return { text, lossy: text.includes("\ufffd") && !Buffer.from(text).equals(raw) };
}

export async function unifiedDiff(
  path: string,
  before: string | undefined,
  after: string | undefined,
): Promise<string> {
  const { createTwoFilesPatch } = await import("diff");
  return createTwoFilesPatch(
    before === undefined ? "/dev/null" : `a/${path}`,
    after === undefined ? "/dev/null" : `b/${path}`,
    before ?? "",
    after ?? "",
    undefined,
    undefined,
    { context: 3 },
  );
}

/** The writer's content: rendered now, or (not rendered: inputs unchanged) the base the lock names. */
function theirsOf(
  p: Planned,
  ctx: DecideContext,
  onDisk: string | undefined,
  diskDigest: () => string,
): string | undefined {
  if (p.content !== undefined) return p.content;
  if (p.reused === undefined) return undefined;
  if (onDisk !== undefined && diskDigest() === p.reused) return onDisk;
  return ctx.store.get(p.reused);
}

/**
 * One file against the disk and the lock: its writer first, then its injections in order. `current` is
 * what the file will hold after this run; `desired` what the templates want (they differ when a file is
 * skipped or edits are kept), which is what --check compares with.
 */
async function decideFile(
  run: Run,
  ctx: DecideContext,
  abs: string,
  group: readonly Planned[],
  out: Decisions,
): Promise<void> {
  const relPath = lockPath(run.outRoot, abs);
  const read = readIfFile(abs, relPath);
  const onDisk = read?.text;
  // The digest of what is on disk, taken once (it is compared with the base and recorded in the lock).
  const diskDigest = once(() => sha256(onDisk ?? ""));
  const entry = ctx.lock?.files.get(relPath);
  const writer = group.find((p) => !p.inject);
  if (read?.lossy && !writer) {
    // An injection rewrites the file: one that is not UTF-8 would lose bytes in the decode.
    const first = group[0];
    fail(
      "INJECT_TARGET_ENCODING",
      `inject target '${relPath}' is not valid UTF-8; not touched`,
      first ? at(first.unit.display, first.line) : { file: relPath },
      { kind: "failure" },
    );
  }
  if (read?.lossy && !(run.opts.force || writer?.force)) {
    // Merging or injecting would rewrite bytes that are not UTF-8 text: leave the file as it is.
    keepAsIs(run, relPath, abs, group, entry, out, "not UTF-8 text: left as it is (--force replaces it)");
    return;
  }
  let current = onDisk;
  let desired = onDisk;
  let mode: number | undefined;
  let generated: string | undefined;
  // Taken when read (deferred.ts): by the lock, a plan, --json; or here, against a base.
  let generatedDigest: (() => string) | undefined;
  let drift: boolean | undefined;
  let backup = false;
  const results: FileResult[] = [];
  const note: { reason?: string; conflicts?: number; regions?: RegionNote[]; skipped?: boolean } = {};
  const r = (p: Planned, action: FileAction, differs: boolean, reason?: string): FileResult => {
    const fr: FileResult = {
      path: relPath,
      absPath: abs,
      action,
      bytes: 0,
      sha256: "",
      template: p.unit.display,
      differs,
    };
    if (reason) fr.reason = reason;
    return fr;
  };
  if (writer) {
    const p = writer;
    if (p.mode !== undefined) mode = p.mode;
    if (p.backup) backup = true;
    const theirs = theirsOf(p, ctx, onDisk, diskDigest);
    const content = p.content ?? "";
    generatedDigest = p.reused === undefined ? once(() => sha256(content)) : () => p.reused as string;
    generated = theirs;
    desired = theirs ?? onDisk;
    const strategy: MergeStrategy = p.force ? "generated-wins" : ctx.merge;
    if (onDisk === undefined) {
      current = theirs;
      results.push(r(p, "created", true));
    } else if (p.content === undefined) {
      // Not rendered: the inputs are those of the last generation, so theirs is the base, and the
      // three-way result is what is on disk.
      drift = diskDigest() !== generatedDigest();
      results.push(r(p, "unchanged", drift, drift ? "your edits kept" : undefined));
    } else if (onDisk === theirs) {
      results.push(r(p, "unchanged", false));
    } else if (p.unlessExists) {
      desired = onDisk;
      note.skipped = true;
      results.push(r(p, "skipped", false, "exists (unless_exists)"));
    } else {
      const baseDigest = entry?.generated;
      // Unedited (the disk is the last base): no need to read the base store.
      const base = baseDigest
        ? diskDigest() === baseDigest
          ? onDisk
          : ctx.store.get(baseDigest)
        : undefined;
      const m = regenerate(relPath, base, onDisk, p.content, strategy);
      if (m.problem) run.warn(`${relPath}: protected regions not read (${m.problem}); merged as plain lines`);
      if (m.regions.length) note.regions = m.regions;
      for (const d of m.regions.filter((x) => x.status === "dropped"))
        run.warn(
          `${relPath}: protected region '${d.name}' is no longer in the template (${p.unit.display})${
            base === undefined ? "" : "; its lines were merged, check the result"
          }`,
        );
      desired = m.content;
      if (m.content === onDisk) {
        results.push(r(p, "unchanged", true, "your edits kept"));
      } else if (base === undefined) {
        if (p.force || run.opts.force) {
          current = m.content;
          results.push(r(p, "overwritten", true));
        } else {
          desired = p.content;
          note.skipped = true;
          results.push(r(p, "skipped", true, "exists and differs, not generated here before (use --force)"));
          run.warn(`${relPath}: exists and differs; skipped (use --force to overwrite)`);
        }
      } else if (m.conflicts > 0 && (strategy === "three-way" || strategy === "fail-on-conflict")) {
        current = m.content;
        note.conflicts = m.conflicts;
        results.push(r(p, "conflict", true, `${m.conflicts} conflict(s) marked in the file`));
      } else if (onDisk === base || m.content === p.content) {
        current = m.content;
        results.push(r(p, "overwritten", true));
      } else {
        current = m.content;
        results.push(
          r(
            p,
            "merged",
            true,
            m.conflicts > 0
              ? `your edits merged; ${m.conflicts} conflict(s) resolved: ${strategy}`
              : "your edits merged",
          ),
        );
      }
    }
  }
  for (const p of group.filter((x) => x.inject)) {
    const io = p.inject!;
    if (p.backup) backup = true;
    const content = p.content ?? "";
    if (desired === undefined) {
      fail("INJECT_TARGET_MISSING", `inject target '${relPath}' does not exist`, at(p.unit.display, p.line), {
        kind: "failure",
        hint: "create it first (another template in the same run may write it), or drop inject",
      });
    }
    const wanted = inject(desired, content, io);
    if (!wanted.ok) {
      const benign = wanted.reason === "skip_if matched" || wanted.reason === ALREADY_PRESENT;
      results.push(r(p, benign ? "unchanged" : "skipped", false, wanted.reason));
      if (!benign) run.warn(`${relPath}: ${wanted.reason}; injection skipped (${p.unit.display})`);
      continue;
    }
    desired = wanted.content;
    if (current !== undefined) {
      const applied = inject(current, content, io);
      if (applied.ok) current = applied.content;
    }
    results.push(r(p, "injected", true));
  }
  const finalContent = current ?? "";
  const finalDigest = current === onDisk ? diskDigest : once(() => sha256(finalContent));
  if (drift === undefined) drift = desired !== onDisk;
  for (const fr of results) {
    fr.bytes = Buffer.byteLength(finalContent);
    defer(fr, "sha256", finalDigest);
    if (fr.action === "unchanged" && writer?.content === undefined) fr.differs = drift;
    out.files.push(fr);
  }
  const head = results[0];
  const action: PlanAction =
    note.conflicts !== undefined
      ? "conflict"
      : current === onDisk
        ? head?.action === "skipped"
          ? "skip"
          : "unchanged"
        : onDisk === undefined
          ? "create"
          : "update";
  const lockEntry = defer({ path: relPath } as ManifestFile, "sha256", finalDigest);
  lockEntry.bytes = Buffer.byteLength(finalContent);
  lockEntry.action = head?.action ?? "unchanged";
  if (writer) lockEntry.template = writer.unit.display;
  else if (head) lockEntry.template = head.template;
  // What this run generated, where the lock records it as the next base. (generatedDigest is set
  // whenever there is a writer: tested again in the if only for the compiler, which loses that through `let`.)
  const recordsGenerated = writer !== undefined && !note.skipped;
  if (recordsGenerated && generatedDigest) {
    defer(lockEntry, "generated", generatedDigest);
    if (Object.hasOwn(writer, "provenance")) defer(lockEntry, "provenance", () => writer.provenance);
  } else if (note.skipped && entry?.generated) {
    // Skipped: the last generation's base still stands.
    lockEntry.generated = entry.generated;
    if (entry.provenance) lockEntry.provenance = entry.provenance;
  }
  if (note.conflicts !== undefined) lockEntry.conflicts = note.conflicts;
  const decided: DecidedFile = {
    abs,
    path: relPath,
    action,
    onDisk,
    next: current,
    desired,
    // The next base: what was generated, where the lock records it (also a skip whose last base it is).
    generated:
      recordsGenerated || (lockEntry.generated !== undefined && lockEntry.generated === generatedDigest?.())
        ? generated
        : undefined,
    generatedDigest: undefined,
    mode,
    template: lockEntry.template,
    entry: lockEntry,
  };
  defer(decided, "generatedDigest", () => lockEntry.generated);
  const reason = results.find((x) => x.reason)?.reason;
  if (reason) decided.reason = reason;
  if (note.conflicts !== undefined) decided.conflicts = note.conflicts;
  if (note.regions) decided.regions = note.regions;
  const keepBak = backup && onDisk !== undefined && current !== undefined && current !== onDisk;
  if (keepBak) decided.backup = true;
  out.decided.push(decided);
  if (current !== undefined && current !== onDisk)
    out.writes.push({ abs, content: current, mode, ...(keepBak ? { backup: true } : {}) });
  else if (mode !== undefined && onDisk !== undefined) out.chmods.push({ abs, mode });
}

/** A file left untouched (every output of it skipped), its last lock entry kept. */
function keepAsIs(
  run: Run,
  relPath: string,
  abs: string,
  group: readonly Planned[],
  entry: ManifestFile | undefined,
  out: Decisions,
  reason: string,
): void {
  run.warn(`${relPath}: ${reason}`);
  const digest = sha256(readFileSync(abs));
  const bytes = statSync(abs).size;
  for (const p of group)
    out.files.push({
      path: relPath,
      absPath: abs,
      action: "skipped",
      bytes,
      sha256: digest,
      template: p.unit.display,
      differs: true,
      reason,
    });
  const lockEntry: ManifestFile = entry
    ? { ...entry, sha256: digest, bytes, action: "skipped" }
    : { path: relPath, sha256: digest, bytes, action: "skipped", template: group[0]!.unit.display };
  out.decided.push({
    abs,
    path: relPath,
    action: "skip",
    onDisk: undefined,
    next: undefined,
    desired: undefined,
    generated: undefined,
    generatedDigest: lockEntry.generated,
    mode: undefined,
    template: lockEntry.template,
    reason,
    diskDigest: digest,
    entry: lockEntry,
  });
}

/** Every planned file decided against the disk and the lock, in plan order. */
export async function decideActions(
  run: Run,
  ctx: DecideContext,
  groups: Map<string, Planned[]>,
): Promise<Decisions> {
  const out: Decisions = { files: [], decided: [], writes: [], chmods: [] };
  for (const [abs, group] of groups) await decideFile(run, ctx, abs, group, out);
  return out;
}
