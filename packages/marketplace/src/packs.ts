// Packs on disk. The one owner of the install layout — a project's packs live in
// `<project>/.ggen/packages/<id>/` — and of reading a pack directory into a PackRef (its ggen.toml
// parsed by @ggen/contract). The generator renders from what these return and never looks for packs
// itself.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join, relative, resolve } from "node:path";
import {
  GgenError,
  type LockEntry,
  PACK_MANIFEST_FILE,
  type PackManifest,
  type PackRef,
  parsePackManifest,
} from "@ggen/contract";
import { closest } from "@ggen/support";
import { readLock } from "./lockfile.js";
import { assertPackId } from "./util.js";

/** A pack installed by `ggen market add`: where it is, its manifest, and what ggen.lock pins. */
export interface InstalledPack extends PackRef {
  /** The archive's sha256 (as pinned in ggen.lock). */
  sha256: string;
  lock: LockEntry;
}

/** Where a project's packs are installed. */
export function packagesDir(projectDir: string): string {
  return join(projectDir, ".ggen", "packages");
}

function manifestMissing(file: string, code: string | undefined): GgenError {
  return new GgenError(
    "MANIFEST_MISSING",
    `no ${PACK_MANIFEST_FILE} in pack directory${code ? ` (${code})` : ""}`,
    { kind: "usage", location: { file } },
  );
}

/** Reads `<dir>/ggen.toml`. Errors name the file and the line (and column) of the problem. */
export async function readPackManifest(dir: string): Promise<PackManifest> {
  const file = join(dir, PACK_MANIFEST_FILE);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (e) {
    throw manifestMissing(file, (e as NodeJS.ErrnoException).code);
  }
  return parsePackManifest(text, file, dir);
}

/** The pack in `dir` (synchronously: the generator resolves templates without waiting on I/O queues). */
export function readPack(dir: string): PackRef {
  const abs = resolve(dir);
  const file = join(abs, PACK_MANIFEST_FILE);
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw manifestMissing(file, (e as NodeJS.ErrnoException).code);
  }
  const manifest = parsePackManifest(text, file, abs);
  return { id: manifest.pack.id, version: manifest.pack.version, dir: abs, manifest };
}

const isPackDir = (d: string) => existsSync(join(d, PACK_MANIFEST_FILE)) && statSync(d).isDirectory();

/** Every pack directly under `packsDir` (and `packsDir` itself when it is a pack), by directory name. */
export function listPacks(packsDir: string): PackRef[] {
  const abs = resolve(packsDir);
  if (!existsSync(abs)) return [];
  const out: PackRef[] = [];
  if (isPackDir(abs)) out.push(readPack(abs));
  for (const name of readdirSync(abs).sort()) {
    const d = join(abs, name);
    if (isPackDir(d)) out.push(readPack(d));
  }
  return out;
}

export interface FindPackOptions {
  /** The project (default: the current directory). */
  projectDir?: string;
  /** A folder of packs to use instead of the project's installed ones, relative to the project. */
  packsDir?: string;
}

/**
 * The pack `id` of a project: `<packs>/<id>` when its manifest says so, else any pack of the folder with
 * that id (a `--packs-dir` folder need not be named by id). A usage error with a did-you-mean otherwise.
 */
export function findPack(id: string, opts: FindPackOptions = {}): PackRef {
  const projectDir = resolve(opts.projectDir ?? process.cwd());
  const dir = opts.packsDir === undefined ? packagesDir(projectDir) : resolve(projectDir, opts.packsDir);
  const direct = join(dir, id);
  if (existsSync(join(direct, PACK_MANIFEST_FILE))) {
    const p = readPack(direct);
    if (p.id === id) return p;
  }
  const all = listPacks(dir);
  const found = all.find((p) => p.id === id);
  if (found) return found;
  const close = closest(
    id,
    all.map((p) => p.id),
  );
  throw new GgenError("PACK_NOT_FOUND", `no installed pack '${id}' in ${relative(projectDir, dir) || "."}`, {
    kind: "usage",
    hint: close ? `did you mean '${close}'?` : "install it with 'ggen market add', or pass --packs-dir",
  });
}

/** An installed pack of a project, as ggen.lock pins it (a pack in the folder but not the lock is not). */
export async function installedPack(projectDir: string, id: string): Promise<InstalledPack> {
  assertPackId(id);
  const root = resolve(projectDir);
  const lock = await readLock(root);
  const entry = lock.packs[id];
  const dir = join(packagesDir(root), id);
  if (!entry || !existsSync(dir))
    throw new GgenError("PACK_NOT_INSTALLED", `pack '${id}' is not installed in ${root}`, {
      kind: "usage",
      hint: `run 'ggen market add ${id}'`,
    });
  const manifest = await readPackManifest(dir);
  return { id, version: entry.version, dir, manifest, sha256: entry.sha256, lock: entry };
}

/** Every installed pack, from the lock. */
export async function installedPacks(projectDir: string): Promise<(LockEntry & { id: string })[]> {
  const lock = await readLock(resolve(projectDir));
  return Object.entries(lock.packs)
    .map(([id, e]) => ({ id, ...e }))
    .sort((a, b) => a.id.localeCompare(b.id));
}
