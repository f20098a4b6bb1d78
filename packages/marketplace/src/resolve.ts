// Pure resolution: requested ranges + the catalog → one version per pack, transitively, preferring
// already-locked versions; conflicts name both requirers.

import type { IndexPack, IndexVersion } from "@ggen/contract";
import { GgenError } from "@ggen/contract";
import { semver } from "./deps.js";
import { bestVersion } from "./registry-index.js";
import { didYouMeanPack } from "./search.js";

export interface Requirement {
  id: string;
  range: string;
  /** Who asks: "command line", "ggen.lock", or "<id>@<version>". */
  by: string;
}

export interface Resolved {
  pack: IndexPack;
  version: IndexVersion;
  requiredBy: Requirement[];
  dependencies: Record<string, string>;
}

export interface ResolveOptions {
  lookup: (id: string) => IndexPack | undefined;
  allIds: () => Iterable<string>;
  /** Versions to prefer when they satisfy every requirement (what the lock has). */
  preferred?: ReadonlyMap<string, string>;
  noDeps?: boolean;
  ggenVersion?: string;
}

export function resolveRequirements(
  roots: readonly Requirement[],
  opts: ResolveOptions,
): Map<string, Resolved> {
  const constraints = new Map<string, Requirement[]>();
  const chosen = new Map<string, Resolved>();
  const queue: Requirement[] = [...roots];
  const rootIds = new Set(roots.map((r) => r.id));
  let steps = 0;
  while (queue.length > 0) {
    if (++steps > 100_000) throw new GgenError("RESOLVE_LOOP", "dependency resolution did not settle");
    const req = queue.shift()!;
    const pack = opts.lookup(req.id);
    if (!pack) {
      const by = req.by === "command line" ? "" : ` (required by ${req.by})`;
      throw new GgenError(
        "UNKNOWN_PACK",
        `unknown pack '${req.id}'${by}${didYouMeanPack(req.id, opts.allIds())}`,
        {
          kind: req.by === "command line" ? "usage" : "failure",
          hint: "see 'ggen market search <words>'",
        },
      );
    }
    const list = constraints.get(req.id) ?? [];
    list.push(req);
    constraints.set(req.id, list);
    const current = chosen.get(req.id);
    if (current && satisfiesAll(current.version.version, list)) {
      current.requiredBy = list;
      continue;
    }
    const pick = choose(pack, list, opts);
    if (!pick) throw conflict(pack, list, opts.ggenVersion);
    if (current?.version.version === pick.version) continue;
    const resolved: Resolved = { pack, version: pick, requiredBy: list, dependencies: {} };
    chosen.set(req.id, resolved);
    const skipDeps = opts.noDeps && rootIds.has(req.id);
    if (!skipDeps && !opts.noDeps) {
      for (const [dep, range] of Object.entries(pick.dependencies ?? {})) {
        queue.push({ id: dep, range, by: `${pack.id}@${pick.version}` });
      }
    }
  }
  // Record each pack's resolved dependency versions (those resolved; --no-deps leaves some out).
  for (const r of chosen.values()) {
    for (const dep of Object.keys(r.version.dependencies ?? {})) {
      const d = chosen.get(dep);
      if (d) r.dependencies[dep] = d.version.version;
    }
  }
  // Drop requirements from versions that were replaced during resolution, then re-check.
  const live = new Set([...chosen.values()].map((r) => `${r.pack.id}@${r.version.version}`));
  for (const r of chosen.values()) {
    const reqs = (constraints.get(r.pack.id) ?? []).filter((q) => !q.by.includes("@") || live.has(q.by));
    r.requiredBy = reqs;
    if (!satisfiesAll(r.version.version, reqs)) throw conflict(r.pack, reqs, opts.ggenVersion);
  }
  return chosen;
}

function satisfiesAll(version: string, reqs: readonly Requirement[]): boolean {
  return reqs.every((r) => semver().satisfies(version, r.range));
}

function choose(
  pack: IndexPack,
  reqs: readonly Requirement[],
  opts: ResolveOptions,
): IndexVersion | undefined {
  const preferred = opts.preferred?.get(pack.id);
  if (preferred) {
    const v = pack.versions.find((x) => x.version === preferred);
    if (v && satisfiesAll(v.version, reqs)) return v;
  }
  return bestVersion(pack, "*", opts.ggenVersion, (v) => satisfiesAll(v.version, reqs));
}

function conflict(pack: IndexPack, reqs: readonly Requirement[], ggenVersion?: string): GgenError {
  const available = pack.versions.map((v) => v.version).join(", ");
  const last = reqs[reqs.length - 1]!;
  // A single requirement nothing satisfies.
  if (!bestVersion(pack, last.range, ggenVersion)) {
    const anyIgnoringGgen = bestVersion(pack, last.range);
    const why = anyIgnoringGgen && ggenVersion ? ` compatible with ggen ${ggenVersion}` : "";
    return new GgenError(
      "NO_MATCHING_VERSION",
      `no version of '${pack.id}'${why} matches '${last.range}' (required by ${last.by}; available: ${available})`,
      { kind: last.by === "command line" ? "usage" : "failure" },
    );
  }
  // Two requirements with no common version: name both.
  for (const a of reqs) {
    for (const b of reqs) {
      if (a === b) continue;
      const both = pack.versions.some(
        (v) => semver().satisfies(v.version, a.range) && semver().satisfies(v.version, b.range),
      );
      if (!both)
        return new GgenError(
          "VERSION_CONFLICT",
          `conflicting requirements for '${pack.id}': ${a.by} needs '${a.range}', ${b.by} needs '${b.range}' (available: ${available})`,
          { hint: "install compatible versions, or use --no-deps / --force to override" },
        );
    }
  }
  return new GgenError(
    "VERSION_CONFLICT",
    `no version of '${pack.id}' satisfies all of ${reqs.map((r) => `'${r.range}' (${r.by})`).join(", ")}`,
  );
}
