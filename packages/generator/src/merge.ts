// Three-way regeneration of one file: base = what ggen generated last time, ours = the file on disk (the
// user's edits), theirs = what the templates generate now. Protected regions are taken from ours first;
// the rest is merged line by line by node-diff3, and overlapping changes follow the merge strategy.
import type { MergeStrategy } from "@ggen/contract";
import { diff3Merge } from "node-diff3";
import { bodiesOf, type ParsedRegions, parseRegions, splitLines, withBodies } from "./regions.js";

export interface RegionNote {
  name: string;
  status: "kept" | "dropped";
}

export interface MergeOutcome {
  content: string;
  /** Overlapping hunks: left as markers (three-way), or resolved by the strategy. */
  conflicts: number;
  regions: RegionNote[];
  /** Why regions on disk could not be read (their markers are broken): merged as plain lines. */
  problem?: string;
}

const withNewline = (s: string) => (s === "" || s.endsWith("\n") ? s : `${s}\n`);

/** The lines of a conflict hunk, as git's diff3 style writes them. */
function markers(ours: string[], base: string[], theirs: string[]): string {
  return [
    "<<<<<<< yours (on disk)\n",
    withNewline(ours.join("")),
    "||||||| generated before\n",
    withNewline(base.join("")),
    "=======\n",
    withNewline(theirs.join("")),
    ">>>>>>> generated now\n",
  ].join("");
}

/** Lines merged; conflicts resolved by `strategy` (three-way and fail-on-conflict keep markers). */
export function mergeLines(
  base: string,
  ours: string,
  theirs: string,
  strategy: MergeStrategy,
): { content: string; conflicts: number } {
  if (ours === base || ours === theirs) return { content: theirs, conflicts: 0 };
  if (theirs === base) return { content: ours, conflicts: 0 };
  const parts = diff3Merge(splitLines(ours), splitLines(base), splitLines(theirs), {
    excludeFalseConflicts: true,
  });
  let conflicts = 0;
  const out: string[] = [];
  for (const p of parts) {
    if (p.ok) {
      out.push(p.ok.join(""));
      continue;
    }
    const c = p.conflict!;
    conflicts++;
    if (strategy === "generated-wins") out.push(c.b.join(""));
    else if (strategy === "manual-wins") out.push(c.a.join(""));
    else out.push(markers(c.a, c.o, c.b));
  }
  return { content: out.join(""), conflicts };
}

/**
 * Ours' regions put into theirs (and into base, for the regions theirs still has, so the merge sees them
 * unchanged); a region ours has and theirs lacks is reported as dropped — merged as lines, so an edited
 * one conflicts instead of vanishing.
 */
export function regenerate(
  path: string,
  base: string | undefined,
  ours: string,
  theirs: string,
  strategy: MergeStrategy,
): MergeOutcome {
  const o = parseRegions(ours, path);
  const t = parseRegions(theirs, path);
  const regions: RegionNote[] = [];
  const kept = new Map<string, string>();
  const theirNames = new Set(t.regions.map((r) => r.name));
  for (const [name, body] of bodiesOf(o)) {
    if (theirNames.has(name)) {
      kept.set(name, body);
      regions.push({ name, status: "kept" });
    } else regions.push({ name, status: "dropped" });
  }
  const theirs2 = withBodies(t, kept);
  const outcome = (content: string, conflicts: number): MergeOutcome => ({
    content,
    conflicts,
    regions,
    ...(o.problem ? { problem: o.problem } : {}),
  });
  if (base === undefined) return outcome(theirs2, 0);
  const b: ParsedRegions = parseRegions(base, path);
  const merged = mergeLines(withBodies(b, kept), ours, theirs2, strategy);
  return outcome(merged.content, merged.conflicts);
}
