// The last generation's manifest, read as a lock: per output what was generated (its digest, the base of
// the three-way merge) and from what (provenance), and which outputs are orphans already. Read before
// anything is rendered, so a manifest path that cannot be one fails the run before any write.
import { existsSync, readFileSync, statSync } from "node:fs";
import { isAbsolute, relative, resolve, sep } from "node:path";
import {
  type GenerationManifest,
  type ManifestFile,
  type ManifestOrphan,
  parseJson,
  validate,
} from "@ggen/contract";
import { fail } from "./errors.js";

export interface Lock {
  manifest: GenerationManifest;
  /** Entries by path relative to the output root. */
  files: Map<string, ManifestFile>;
  orphans: Map<string, ManifestOrphan>;
}

/** Where the manifest goes: `--manifest` (relative to cwd) or <output>/.ggen/manifest.json; false: none. */
export function manifestPathOf(
  cwd: string,
  outRoot: string,
  manifest: string | false | undefined,
): string | undefined {
  if (manifest === false) return undefined;
  return manifest ? resolve(cwd, manifest) : resolve(outRoot, ".ggen", "manifest.json");
}

/**
 * The lock at `path`, or undefined when there is none (or it describes another output dir). A path that
 * is a directory, or a file that is not a generation manifest, stops the run: regenerating without the
 * history would overwrite the user's edits.
 */
export function readLock(
  path: string | undefined,
  cwd: string,
  outRoot: string,
  warn: (m: string) => void,
): Lock | undefined {
  if (path === undefined || !existsSync(path)) return undefined;
  const shown = relative(cwd, path) || path;
  if (statSync(path).isDirectory())
    fail("MANIFEST_PATH", `manifest '${shown}' is a directory`, undefined, {
      kind: "usage",
      hint: "pass --manifest a file path",
    });
  const value = parseJson(readFileSync(path, "utf8"), shown, "MANIFEST_INVALID", "failure");
  const r = validate("generation-manifest/v1", value);
  if (!r.ok) {
    const e = r.errors[0]!;
    fail(
      "MANIFEST_INVALID",
      `'${shown}' is not a generation-manifest/v1: ${e.path} ${e.message}`,
      undefined,
      {
        kind: "failure",
        hint: "move it away to generate without the last generation's history",
      },
    );
  }
  const manifest = r.value;
  const root = isAbsolute(manifest.outputRoot) ? manifest.outputRoot : resolve(cwd, manifest.outputRoot);
  // A manifest in the output dir's own .ggen/ is that dir's, wherever the run starts from.
  if (root !== outRoot && path !== resolve(outRoot, ".ggen", "manifest.json")) {
    warn(`${shown} describes another output dir (${manifest.outputRoot}); regenerating without its history`);
    return undefined;
  }
  return {
    manifest,
    files: new Map(manifest.files.map((f) => [f.path, f])),
    orphans: new Map((manifest.orphans ?? []).map((o) => [o.path, o])),
  };
}

/**
 * How the lock names output `abs`: relative to `outRoot`, with `/`. On POSIX, for a path under the root
 * (as planOutputs keys them), its tail: no path-module normalizing of both again.
 */
export function lockPath(outRoot: string, abs: string): string {
  if (sep === "/" && abs.startsWith(outRoot) && abs[outRoot.length] === "/")
    return abs.slice(outRoot.length + 1);
  return relative(outRoot, abs).split("\\").join("/");
}
