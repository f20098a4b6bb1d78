// The registry index (index.json): parsing and validation against @ggen/contract's registry-index/v1,
// then what a schema cannot check (semver versions and ranges, one entry per id).

import {
  GgenError,
  type IndexPack,
  type IndexVersion,
  parseJson,
  REGISTRY_INDEX_FORMAT,
  type RegistryIndex,
  validate,
} from "@ggen/contract";
import { semver } from "./deps.js";
import { lineOf } from "./util.js";

/** Parses and validates an index; every problem is one GgenError naming `file` (and line when known). */
export function parseIndex(text: string, file: string): RegistryIndex {
  const data = parseJson(text, file, "INDEX_INVALID", "failure");
  return validateIndex(data, file, text);
}

export function validateIndex(data: unknown, file: string, text?: string): RegistryIndex {
  const r = validate("registry-index/v1", data);
  if (!r.ok) {
    const err = r.errors[0]!;
    throw new GgenError("INDEX_INVALID", `malformed registry index: ${err.path} ${err.message}`, {
      location: { file, ...lineFor(data, err.path, text) },
      hint: `expected format ${REGISTRY_INDEX_FORMAT}`,
    });
  }
  const index = r.value;
  const seen = new Set<string>();
  for (const [i, p] of index.packs.entries()) {
    if (seen.has(p.id))
      throw new GgenError("INDEX_INVALID", `malformed registry index: pack '${p.id}' is listed twice`, {
        location: { file, ...lineFor(data, `/packs/${i}`, text) },
      });
    seen.add(p.id);
    for (const [j, v] of p.versions.entries()) {
      // Found only when needed: searching the text for every version made large indexes quadratic.
      const where = () => ({ file, ...lineFor(data, `/packs/${i}/versions/${j}`, text) });
      if (!semver().valid(v.version))
        throw new GgenError(
          "INDEX_INVALID",
          `malformed registry index: ${p.id}: '${v.version}' is not semver`,
          {
            location: where(),
          },
        );
      for (const [dep, range] of Object.entries(v.dependencies ?? {})) {
        if (semver().validRange(range) === null)
          throw new GgenError(
            "INDEX_INVALID",
            `malformed registry index: ${p.id}@${v.version}: dependency ${dep} has an invalid range '${range}'`,
            { location: where() },
          );
      }
    }
  }
  return index;
}

/** Best-effort line of the object at a JSON pointer like /packs/3/versions/0: finds its "id" text. */
function lineFor(data: unknown, pointer: string | undefined, text: string | undefined): { line?: number } {
  if (!text || !pointer) return {};
  const m = /^\/packs\/(\d+)/.exec(pointer);
  if (!m) return {};
  const packs = (data as { packs?: unknown[] }).packs;
  const pack = packs?.[Number(m[1])] as { id?: unknown } | undefined;
  if (typeof pack?.id !== "string") return {};
  const line =
    lineOf(text, `"id": ${JSON.stringify(pack.id)}`) ?? lineOf(text, `"id":${JSON.stringify(pack.id)}`);
  return line === undefined ? {} : { line };
}

/** The newest non-yanked version matching `range`, optionally only those compatible with `ggenVersion`. */
export function bestVersion(
  pack: IndexPack,
  range: string,
  ggenVersion?: string,
  extra: (v: IndexVersion) => boolean = () => true,
): IndexVersion | undefined {
  let best: IndexVersion | undefined;
  for (const v of pack.versions) {
    if (v.yanked) continue;
    if (!semver().satisfies(v.version, range, { includePrerelease: false })) continue;
    if (ggenVersion && v.ggen && !semver().satisfies(ggenVersion, v.ggen, { includePrerelease: true }))
      continue;
    if (!extra(v)) continue;
    if (!best || semver().gt(v.version, best.version)) best = v;
  }
  return best;
}

export function latestVersion(pack: IndexPack): IndexVersion {
  return bestVersion(pack, "*") ?? pack.versions[pack.versions.length - 1]!;
}

/** True when version `a` is newer than `b`. */
export function isNewer(a: string, b: string): boolean {
  return semver().gt(a, b);
}
