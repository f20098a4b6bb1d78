// The generation-manifest/v1 of a run: its inputs with digests (templates, graphs, vars files, packs),
// the resolved vars with secrets redacted, every file with its provenance (the lock the next run merges
// against: what was generated, from which pack, template, vars, graph and query results), the orphans,
// timings and counts.
import { existsSync, readFileSync } from "node:fs";
import { isAbsolute } from "node:path";
import type { GenerationManifest, ManifestFile, ManifestOrphan } from "@ggen/contract";
import type { Graph } from "@ggen/rdf";
import { isoTime, isSecretName, REDACTED, sha256 } from "@ggen/support";
import pkg from "../package.json" with { type: "json" };
import { defer } from "./deferred.js";
import type { Pack } from "./packs.js";
import type { TemplateUnit } from "./resolve.js";
import type { Run } from "./run.js";

const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** `value` with the values of secret-looking keys (at any depth) replaced by ***. */
export function redact(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redact);
  if (isObj(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = isSecretName(k) ? REDACTED : redact(v);
    return out;
  }
  return value;
}

/** A pack's digest: its manifest, templates and graphs, as this run read them. */
function packDigest(p: Pack): string {
  const parts = [readFileSync(p.manifestFile)];
  for (const t of p.templates) if (existsSync(t.path)) parts.push(readFileSync(t.path));
  for (const g of p.graphs) if (existsSync(g)) parts.push(readFileSync(g));
  return sha256(Buffer.concat(parts));
}

const round = (n: number) => Math.round(n * 100) / 100;

export interface ManifestInputs {
  units: readonly TemplateUnit[];
  /** The lock's entries: this run's files, then those of earlier runs it did not render. */
  files: readonly ManifestFile[];
  orphans: readonly ManifestOrphan[];
  /** Distinct output files. */
  outputs: number;
  graphs: readonly Graph[];
  started: Date;
  /** Digests of the query results kept for the next run's snapshot. */
  results?: { key: string; sha256: string }[];
}

export function buildManifest(run: Run, inputs: ManifestInputs): GenerationManifest {
  const { units, files } = inputs;
  const triples = inputs.graphs.reduce((n, g) => n + g.size, 0);
  const packs = new Map<string, Pack>();
  for (const u of units) if (u.pack) packs.set(u.pack.id, u.pack);
  const templateInputs = new Map<string, TemplateUnit>();
  for (const u of units) templateInputs.set(u.display, u);
  const manifest: GenerationManifest = {
    kind: "generation-manifest/v1",
    tool: { name: "ggen", version: pkg.version },
    startedAt: isoTime(inputs.started),
    finishedAt: isoTime(),
    outputRoot: run.rel(run.outRoot) || ".",
    inputs: {
      // Digested when read (deferred.ts): a run that writes no manifest need not.
      templates: [...templateInputs].map(([path, u]) =>
        defer({ path } as { path: string; sha256: string }, "sha256", () => run.template(u).sha256),
      ),
      graphs: [...run.graphInputs].map(([path, sha]) => ({
        path: isAbsolute(path) ? run.rel(path) : path,
        sha256: sha,
      })),
      varFiles: run.varFiles,
      ...(inputs.results?.length ? { results: inputs.results } : {}),
      ...(packs.size
        ? {
            packs: [...packs.values()].map((p) => ({
              id: p.id,
              version: /^\d+\.\d+\.\d+/.test(p.version) ? p.version : "0.0.0",
              sha256: packDigest(p),
            })),
          }
        : {}),
    },
    vars: redact(run.resolvedVars) as Record<string, unknown>,
    files: [...files],
    ...(inputs.orphans.length ? { orphans: [...inputs.orphans] } : {}),
    timings: {
      parseMs: round(run.timings.parseMs),
      rdfLoadMs: round(run.timings.rdfLoadMs),
      sparqlMs: round(run.timings.sparqlMs),
      renderMs: round(run.timings.renderMs),
      writeMs: round(run.timings.writeMs),
      totalMs: round(run.timings.totalMs),
    },
    counts: { templates: units.length, files: inputs.outputs, triples, queries: run.queries },
  };
  const seed = [...run.seeds][0];
  if (seed !== undefined) manifest.seed = seed;
  return manifest;
}
