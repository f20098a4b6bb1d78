// What a graph change means: the triples added and removed between two graphs, and which outputs of a
// generation manifest would change if the templates ran on the new graph (a dry run against the lock:
// only outputs whose query results change are rendered, and those whose content changes are listed).
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { REDACTED } from "@ggen/support";
import { generate } from "./engine.js";
import { fail } from "./errors.js";
import { rdf } from "./lazy.js";
import { manifestPathOf, readLock } from "./lock.js";

export interface GraphDiff {
  /** N-Quads lines, sorted. */
  added: string[];
  removed: string[];
}

/** Triples (quads) in `newer` and not in `older`, and the reverse; blank nodes compared canonically. */
export async function diffGraphs(older: string, newer: string, cwd = process.cwd()): Promise<GraphDiff> {
  const r = await rdf();
  const lines = async (file: string) => {
    // As given when it is relative to the process's cwd, so errors name the file as the user wrote it.
    const g = await r.loadGraph([{ path: resolve(cwd) === process.cwd() ? file : resolve(cwd, file) }]);
    try {
      return new Set(
        g
          .dump("nquads")
          .split("\n")
          .filter((l) => l.trim().length > 0),
      );
    } finally {
      g.free();
    }
  };
  const [a, b] = [await lines(older), await lines(newer)];
  return {
    added: [...b].filter((l) => !a.has(l)).sort(),
    removed: [...a].filter((l) => !b.has(l)).sort(),
  };
}

export interface Impact {
  path: string;
  change: "changed" | "added" | "removed";
  template?: string;
}

/**
 * The outputs of the manifest (default `<outputDir>/.ggen/manifest.json`) that would change if its
 * templates ran with `graph` as their graph (as `ggen gen --graph` does), with the manifest's vars
 * (secret ones must be given again in `vars`).
 */
export async function impactOf(opts: {
  graph: string;
  cwd?: string;
  outputDir?: string;
  manifest?: string;
  vars?: Record<string, unknown>;
  packsDir?: string;
}): Promise<Impact[]> {
  const cwd = resolve(opts.cwd ?? process.cwd());
  let outRoot = resolve(cwd, opts.outputDir ?? ".");
  const manifestPath = manifestPathOf(cwd, outRoot, opts.manifest);
  // A manifest given without an output dir is about the dir it records.
  if (opts.manifest !== undefined && opts.outputDir === undefined)
    outRoot = recordedRoot(manifestPath, cwd) ?? outRoot;
  let otherDir: string | undefined;
  const lock = readLock(manifestPath, cwd, outRoot, (m) => {
    otherDir = m;
  });
  if (!lock)
    fail("MANIFEST_NOT_FOUND", otherDir ?? `no generation manifest at '${manifestPath}'`, undefined, {
      kind: "usage",
      hint: "generate first, or pass --manifest / --output-dir",
    });
  const templates = [...new Set(lock.manifest.files.map((f) => f.template).filter((t) => t !== undefined))];
  if (templates.length === 0) return [];
  const vars: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(lock.manifest.vars)) if (v !== REDACTED) vars[k] = v;
  const r = await generate({
    templates,
    cwd,
    outputDir: outRoot,
    ...(opts.manifest !== undefined ? { manifest: opts.manifest } : {}),
    graphs: [opts.graph],
    vars: { ...vars, ...(opts.vars ?? {}) },
    mode: "dry-run",
    ...(opts.packsDir ? { packsDir: opts.packsDir } : {}),
  }).catch((e: unknown) => {
    // No template of the lock reads a graph: no output depends on it, so none changes.
    if ((e as { code?: unknown }).code === "GRAPH_UNUSED") return undefined;
    throw e;
  });
  if (r === undefined) return [];
  const out: Impact[] = [];
  const seen = new Set<string>();
  for (const f of r.manifest.files) {
    if (seen.has(f.path)) continue;
    seen.add(f.path);
    const before = lock.files.get(f.path);
    const change = !before ? "added" : before.generated !== f.generated ? "changed" : undefined;
    if (change) out.push({ path: f.path, change, ...(f.template ? { template: f.template } : {}) });
  }
  for (const o of r.orphans)
    out.push({ path: o.path, change: "removed", ...(o.template ? { template: o.template } : {}) });
  return out.sort((a, b) => (a.path < b.path ? -1 : 1));
}

/** The output dir a manifest file records (its `outputRoot`, against `cwd`), if it can be read. */
function recordedRoot(manifestPath: string | undefined, cwd: string): string | undefined {
  if (manifestPath === undefined) return undefined;
  try {
    const root = (JSON.parse(readFileSync(manifestPath, "utf8")) as { outputRoot?: unknown }).outputRoot;
    return typeof root === "string" ? resolve(cwd, root) : undefined;
  } catch {
    return undefined; // missing or malformed: readLock says which
  }
}
