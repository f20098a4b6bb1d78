// The plan: every planned output checked (inside the output dir, also through symlinks; one writer per
// file, any number of injections), then decided against the disk — created, overwritten, injected,
// unchanged or skipped — with the content each file ends up with. Nothing is written here.
import { existsSync, readFileSync, statSync } from "node:fs";
import { isAbsolute, relative, resolve } from "node:path";
import type { FileAction } from "@ggen/contract";
import { sha256, staysInside } from "@ggen/support";
import { at, fail } from "./errors.js";
import { ALREADY_PRESENT, inject } from "./inject.js";
import type { Run } from "./run.js";
import type { FileResult, Planned } from "./types.js";

/** The planned outputs by absolute path, each path checked. */
export function planOutputs(run: Run, planned: readonly Planned[]): Map<string, Planned[]> {
  const groups = new Map<string, Planned[]>();
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
    if (!staysInside(run.outRoot, abs) || abs === run.outRoot) {
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

/** What the write step does: files to write (atomically) and modes to set on unchanged files. */
export interface Decisions {
  files: FileResult[];
  /** `backup`: the file exists and its template asked for `<file>.bak` first. */
  writes: { abs: string; content: string; mode: number | undefined; backup?: true }[];
  chmods: { abs: string; mode: number }[];
}

function readIfFile(abs: string, display: string, injected: boolean): string | undefined {
  if (!existsSync(abs)) return undefined;
  if (statSync(abs).isDirectory())
    fail("OUTPUT_IS_DIR", `output '${display}' is a directory`, undefined, { kind: "usage" });
  const bytes = readFileSync(abs);
  if (!injected) return bytes.toString("utf8");
  // An injection rewrites the file: one that is not UTF-8 would lose bytes in the decode, so it is refused.
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return fail(
      "INJECT_TARGET_ENCODING",
      `inject target '${display}' is not valid UTF-8; not touched`,
      { file: display },
      {
        kind: "failure",
      },
    );
  }
}

async function unifiedDiff(path: string, before: string | undefined, after: string): Promise<string> {
  const { createTwoFilesPatch } = await import("diff");
  return createTwoFilesPatch(
    before === undefined ? "/dev/null" : `a/${path}`,
    `b/${path}`,
    before ?? "",
    after,
    undefined,
    undefined,
    { context: 3 },
  );
}

/**
 * One file against the disk: its writer first, then its injections in order. `current` is what the
 * file will hold after this run; `desired` what the templates want (they differ when a file is
 * skipped), which is what --check and --diff compare with.
 */
async function decideFile(run: Run, abs: string, group: readonly Planned[], out: Decisions): Promise<void> {
  const relPath = relative(run.outRoot, abs).split("\\").join("/");
  const onDisk = readIfFile(
    abs,
    relPath,
    group.some((p) => p.inject),
  );
  let current = onDisk;
  let desired = onDisk;
  let mode: number | undefined;
  let backup = false;
  const results: FileResult[] = [];
  const ordered = [...group.filter((p) => !p.inject), ...group.filter((p) => p.inject)];
  for (const p of ordered) {
    const r = (action: FileAction, differs: boolean, reason?: string): FileResult => {
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
    if (p.mode !== undefined) mode = p.mode;
    if (p.backup) backup = true;
    if (!p.inject) {
      desired = p.content;
      if (onDisk === undefined) {
        current = p.content;
        results.push(r("created", true));
      } else if (onDisk === p.content) {
        results.push(r("unchanged", false));
      } else if (p.unlessExists) {
        desired = onDisk;
        results.push(r("skipped", false, "exists (unless_exists)"));
      } else if (p.force || run.opts.force || run.opts.owned?.get(abs) === sha256(onDisk)) {
        current = p.content;
        results.push(r("overwritten", true));
      } else {
        results.push(r("skipped", true, "exists and differs (use --force)"));
        run.warn(`${relPath}: exists and differs; skipped (use --force to overwrite)`);
      }
      continue;
    }
    const io = p.inject!;
    if (desired === undefined) {
      fail("INJECT_TARGET_MISSING", `inject target '${relPath}' does not exist`, at(p.unit.display, p.line), {
        kind: "failure",
        hint: "create it first (another template in the same run may write it), or drop inject",
      });
    }
    const wanted = inject(desired, p.content, io);
    if (!wanted.ok) {
      const benign = wanted.reason === "skip_if matched" || wanted.reason === ALREADY_PRESENT;
      results.push(r(benign ? "unchanged" : "skipped", false, wanted.reason));
      if (!benign) run.warn(`${relPath}: ${wanted.reason}; injection skipped (${p.unit.display})`);
      continue;
    }
    desired = wanted.content;
    if (current !== undefined) {
      const applied = inject(current, p.content, io);
      if (applied.ok) current = applied.content;
    }
    results.push(r("injected", true));
  }
  const finalContent = current ?? "";
  for (const fr of results) {
    fr.bytes = Buffer.byteLength(finalContent);
    fr.sha256 = sha256(finalContent);
    if (run.opts.diff && fr.differs) fr.diff = await unifiedDiff(relPath, onDisk, desired ?? "");
    out.files.push(fr);
  }
  if (current !== undefined && current !== onDisk)
    out.writes.push({
      abs,
      content: current,
      mode,
      ...(backup && onDisk !== undefined ? { backup: true } : {}),
    });
  else if (mode !== undefined && onDisk !== undefined) out.chmods.push({ abs, mode });
}

/** Every planned file decided against the disk, in plan order. */
export async function decideActions(run: Run, groups: Map<string, Planned[]>): Promise<Decisions> {
  const out: Decisions = { files: [], writes: [], chmods: [] };
  for (const [abs, group] of groups) await decideFile(run, abs, group, out);
  return out;
}
