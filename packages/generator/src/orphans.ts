// Orphans: outputs the lock says an earlier run generated, from what this run renders as a whole (a
// template, a pack, a folder of templates), that this run no longer produces — a class removed from the
// ontology, a template removed from the pack. Unedited ones may be pruned; edited ones are kept and listed.
// Lock entries of what this run does not render at all are carried over untouched.
import { existsSync, readFileSync, statSync } from "node:fs";
import { resolve } from "node:path";
import type { ManifestFile, ManifestOrphan } from "@ggen/contract";
import { sha256, staysInside } from "@ggen/support";
import type { Lock } from "./lock.js";
import type { TemplateUnit } from "./resolve.js";

export interface Orphan {
  path: string;
  abs: string;
  /** sha256 of what was generated (the lock's). */
  generated: string;
  template?: string;
  pack?: string;
  /** On disk now; undefined when the user deleted it already. */
  onDisk: string | undefined;
  /** Differs from what was generated. */
  edited: boolean;
  /** Deleted by this run (--prune, unedited). */
  pruned: boolean;
}

export interface OrphanScan {
  orphans: Orphan[];
  /** Lock entries of outputs this run does not render (other templates' runs): kept in the new lock. */
  carried: ManifestFile[];
  /** Orphans of what this run does not render: still orphans in the new lock, not listed. */
  carriedOrphans: ManifestOrphan[];
}

const packIdOf = (pack: string | undefined) => (pack === undefined ? undefined : pack.replace(/@[^@]*$/, ""));

/** Which earlier outputs this run answers for: its templates, and the packs and folders named whole. */
function scopeOf(cwd: string, units: readonly TemplateUnit[]) {
  const files = new Set(units.map((u) => u.file));
  const packs = new Set<string>();
  const dirs: string[] = [];
  for (const u of units) {
    if (u.scope?.startsWith("pack:")) packs.add(u.scope.slice(5));
    if (u.scope?.startsWith("dir:")) dirs.push(u.scope.slice(4));
  }
  return (template: string | undefined, pack: string | undefined): boolean => {
    const id = packIdOf(pack);
    if (id !== undefined && packs.has(id)) return true;
    if (template === undefined) return false;
    const abs = resolve(cwd, template);
    return files.has(abs) || dirs.some((d) => abs.startsWith(`${d}/`));
  };
}

export function scanOrphans(
  cwd: string,
  outRoot: string,
  lock: Lock | undefined,
  units: readonly TemplateUnit[],
  produced: ReadonlySet<string>,
  prune: boolean,
): OrphanScan {
  const scan: OrphanScan = { orphans: [], carried: [], carriedOrphans: [] };
  if (!lock) return scan;
  const inScope = scopeOf(cwd, units);
  const candidates: ManifestOrphan[] = [];
  for (const f of lock.files.values()) {
    if (produced.has(f.path)) continue;
    const pack = f.provenance?.pack;
    if (!inScope(f.template, pack)) scan.carried.push(f);
    else if (f.generated) {
      const o: ManifestOrphan = { path: f.path, generated: f.generated };
      if (f.template !== undefined) o.template = f.template;
      if (pack !== undefined) o.pack = pack;
      candidates.push(o);
    }
  }
  for (const o of lock.orphans.values()) {
    if (produced.has(o.path) || lock.files.has(o.path)) continue;
    if (inScope(o.template, o.pack)) candidates.push(o);
    else scan.carriedOrphans.push(o);
  }
  for (const c of candidates) {
    const abs = resolve(outRoot, c.path);
    // A lock is input too: an entry reaching out of the output dir (through a link) is never touched.
    if (!staysInside(outRoot, abs)) continue;
    const onDisk = existsSync(abs) && statSync(abs).isFile() ? readFileSync(abs, "utf8") : undefined;
    const edited = onDisk !== undefined && sha256(onDisk) !== c.generated;
    const o: Orphan = {
      path: c.path,
      abs,
      generated: c.generated,
      onDisk,
      edited,
      pruned: prune && onDisk !== undefined && !edited,
    };
    if (c.template !== undefined) o.template = c.template;
    if (c.pack !== undefined) o.pack = c.pack;
    scan.orphans.push(o);
  }
  scan.orphans.sort((a, b) => (a.path < b.path ? -1 : 1));
  return scan;
}
