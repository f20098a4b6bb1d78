// Pack archives: a deterministic .tar.gz writer (fixed mtimes, modes and order, so sha256s are
// stable), a safe extractor (no entry or link escapes, nothing written through a link, no kept
// setuid/setgid/sticky bits, size and entry-count limits) and a tree hash of an installed pack.
import { createHash } from "node:crypto";
import { constants as fsConstants } from "node:fs";
import {
  chmod,
  copyFile,
  lstat,
  mkdir,
  open,
  readdir,
  readFile,
  readlink,
  realpath,
  rm,
  symlink,
} from "node:fs/promises";
import { join, posix, resolve as resolvePath, sep } from "node:path";
import { GgenError, isGgenError } from "@ggen/contract";
import { formatSize, isInside, sha256 } from "@ggen/support";
import { zlib } from "./deps.js";
import { readTarGz, type TarEntryType, TarProblem } from "./tar-reader.js";

export interface ArchiveEntry {
  path: string;
  type?: "file" | "dir" | "symlink" | "hardlink" | "fifo";
  content?: Uint8Array | string;
  /** File mode bits; defaults 0o644 files, 0o755 dirs and executables. */
  mode?: number;
  linkname?: string;
  /** pax records for this entry, written in an extended header before it (`path`, `size`, …). */
  pax?: Readonly<Record<string, string>>;
}

const TYPEFLAG: Record<NonNullable<ArchiveEntry["type"]>, string> = {
  file: "0",
  hardlink: "1",
  symlink: "2",
  fifo: "6",
  dir: "5",
};

function octal(n: number, width: number): string {
  return `${n.toString(8).padStart(width - 1, "0")}\0`;
}

function header(e: ArchiveEntry, size: number, flag?: string): Buffer {
  const h = Buffer.alloc(512, 0);
  let name = e.path;
  let prefix = "";
  if (Buffer.byteLength(name) > 100) {
    const cut = name.lastIndexOf("/", 154);
    if (cut <= 0 || Buffer.byteLength(name.slice(cut + 1)) > 100)
      throw new Error(`path too long for ustar: ${name}`);
    prefix = name.slice(0, cut);
    name = name.slice(cut + 1);
  }
  const type = e.type ?? "file";
  const mode = e.mode ?? (type === "dir" ? 0o755 : 0o644);
  h.write(name, 0, 100, "utf8");
  h.write(octal(mode, 8), 100, 8, "ascii");
  h.write(octal(0, 8), 108, 8, "ascii");
  h.write(octal(0, 8), 116, 8, "ascii");
  h.write(octal(size, 12), 124, 12, "ascii");
  h.write(octal(0, 12), 136, 12, "ascii");
  h.write("        ", 148, 8, "ascii");
  h.write(flag ?? TYPEFLAG[type], 156, 1, "ascii");
  if (e.linkname) h.write(e.linkname, 157, 100, "utf8");
  h.write("ustar\0", 257, 6, "ascii");
  h.write("00", 263, 2, "ascii");
  if (prefix) h.write(prefix, 345, 155, "utf8");
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, 8, "ascii");
  return h;
}

/** A gzipped ustar archive of `entries`, in the order given, every mtime 0 and owner 0. */
export function writeTarGz(entries: readonly ArchiveEntry[]): Buffer {
  const parts: Buffer[] = [];
  const block = (body: Buffer) => {
    const pad = (512 - (body.length % 512)) % 512;
    if (pad) parts.push(Buffer.alloc(pad));
  };
  for (const e of entries) {
    if (e.pax) {
      // "<length> <key>=<value>\n", the length counting itself.
      const records = Object.entries(e.pax).map(([k, v]) => {
        const rest = ` ${k}=${v}\n`;
        let len = Buffer.byteLength(rest) + 1;
        while (String(len).length + Buffer.byteLength(rest) !== len) len++;
        return `${len}${rest}`;
      });
      const body = Buffer.from(records.join(""));
      parts.push(header({ path: `PaxHeader/${posix.basename(e.path)}` }, body.length, "x"), body);
      block(body);
    }
    const body =
      e.type === undefined || e.type === "file"
        ? Buffer.from(typeof e.content === "string" ? e.content : (e.content ?? new Uint8Array()))
        : Buffer.alloc(0);
    parts.push(header(e, body.length), body);
    block(body);
  }
  parts.push(Buffer.alloc(1024));
  return zlib().gzipSync(Buffer.concat(parts), { level: 9 });
}

/** Every file and directory under `dir`, sorted, as archive entries (executables keep 0o755). */
export async function collectEntries(dir: string): Promise<ArchiveEntry[]> {
  const out: ArchiveEntry[] = [];
  const walk = async (rel: string) => {
    const names = (await readdir(resolvePath(dir, rel))).sort();
    for (const name of names) {
      const r = rel ? `${rel}/${name}` : name;
      const abs = resolvePath(dir, r);
      const st = await lstat(abs);
      if (st.isDirectory()) {
        out.push({ path: `${r}/`, type: "dir" });
        await walk(r);
      } else if (st.isFile()) {
        out.push({ path: r, content: await readFile(abs), mode: st.mode & 0o111 ? 0o755 : 0o644 });
      } else if (st.isSymbolicLink()) {
        out.push({ path: r, type: "symlink", linkname: await readlink(abs) });
      }
    }
  };
  await walk("");
  return out;
}

export interface ExtractLimits {
  /** Entries at most. */
  maxEntries: number;
  /** Bytes the archive may unpack to (the decompressed stream). */
  maxBytes: number;
}

export const DEFAULT_LIMITS: ExtractLimits = { maxEntries: 10_000, maxBytes: 256 * 1024 * 1024 };

function unsafe(archive: string, msg: string): never {
  throw new GgenError("ARCHIVE_UNSAFE", `unsafe archive: ${msg}`, { location: { file: archive } });
}

/** The entry path, normalized and checked to stay inside: no NUL, not absolute, no `..`, no backslash. */
function checkRelative(archive: string, path: string, what: string): string {
  if (path.includes("\0")) unsafe(archive, `${what} '${path}' contains a NUL byte`);
  if (path.startsWith("/") || /^[A-Za-z]:/.test(path) || path.includes("\\"))
    unsafe(archive, `${what} '${path}' is an absolute or Windows path`);
  if (path.split("/").includes("..")) unsafe(archive, `${what} '${path}' escapes the pack directory`);
  return posix.normalize(path).replace(/\/+$/, "");
}

/** The tar reader's refusal as the marketplace's error. */
function refusal(archive: string, e: unknown, limits: ExtractLimits): never {
  if (e instanceof TarProblem) {
    if (e.kind === "unsafe") unsafe(archive, e.message);
    if (e.kind === "limit")
      throw new GgenError("ARCHIVE_TOO_LARGE", `archive refused: ${e.message}`, {
        location: { file: archive },
        hint: `limits: ${limits.maxEntries} entries, ${formatSize(limits.maxBytes)} unpacked (GGEN_MARKET_MAX_ENTRIES, GGEN_MARKET_MAX_UNPACKED)`,
      });
    throw new GgenError("ARCHIVE_INVALID", `not a readable .tar.gz: ${e.message}`, {
      location: { file: archive },
    });
  }
  throw e;
}

/** Modes are never taken from an archive as they are: no setuid, setgid or sticky bit, no odd
 * permissions — a file is 0644, or 0755 when the archive marks it executable; a directory is 0755. */
const fileMode = (archiveMode: number) => (archiveMode & 0o111 ? 0o755 : 0o644);

/**
 * Extracts `archive` into `dest`, a fresh empty directory the caller made (a staging directory),
 * checking each entry before it is written:
 * - paths stay inside (no `..`, not absolute), and each path appears once (a symlink then a file of the
 *   same name is refused);
 * - nothing is written through a link: an entry under a path that is a symlink (or a file) is refused,
 *   files are created with O_EXCL, directories are made one level at a time;
 * - a symlink points inside (checked lexically here and, once all entries are out, by resolving it);
 * - a hard link names an earlier regular file of the archive (never a symlink or a directory) and is
 *   written as a copy of it;
 * - sparse files, devices, FIFOs and other types are refused; modes are normalized (see fileMode);
 * - the entry count and the unpacked size stay within `limits`.
 * On a refusal, what was written is left for the caller to remove with the staging directory.
 */
export async function extractSafe(
  archive: string,
  dest: string,
  limits: ExtractLimits = DEFAULT_LIMITS,
): Promise<void> {
  const seen = new Map<string, TarEntryType>();
  const ensureDir = async (rel: string, entry = rel) => {
    const parts = rel.split("/");
    for (let i = 1; i <= parts.length; i++) {
      const prefix = parts.slice(0, i).join("/");
      const kind = seen.get(prefix);
      if (kind === "dir") continue;
      if (kind !== undefined)
        unsafe(
          archive,
          `entry '${entry}' is inside '${prefix}', which is a ${kind === "symlink" ? "link" : "file"}`,
        );
      await mkdir(join(dest, prefix), { mode: 0o755 });
      await chmod(join(dest, prefix), 0o755);
      seen.set(prefix, "dir");
    }
  };
  const parentOf = (rel: string) => (rel.includes("/") ? rel.slice(0, rel.lastIndexOf("/")) : "");
  try {
    await readTarGz(archive, limits, async (entry) => {
      const rel = checkRelative(archive, entry.path, "entry");
      if (rel === "." || rel === "") return undefined; // the archive's root directory
      const before = seen.get(rel);
      if (before !== undefined && !(before === "dir" && entry.type === "dir"))
        unsafe(archive, `entry '${rel}' appears twice (as a ${before} and as a ${entry.type})`);
      const parent = parentOf(rel);
      if (parent) await ensureDir(parent, rel);
      const abs = join(dest, rel);
      switch (entry.type) {
        case "dir":
          if (before === undefined) await ensureDir(rel);
          return undefined;
        case "symlink": {
          const target = entry.linkpath ?? "";
          const to = posix.normalize(posix.join(posix.dirname(rel), target));
          if (
            target === "" ||
            target.includes("\0") ||
            target.startsWith("/") ||
            to === ".." ||
            to.startsWith("../")
          )
            unsafe(archive, `link '${rel}' points outside the pack ('${target}')`);
          await symlink(target, abs);
          seen.set(rel, "symlink");
          return undefined;
        }
        case "hardlink": {
          const raw = entry.linkpath ?? "";
          if (raw.startsWith("/") || raw.split("/").includes("..") || raw.includes("\0"))
            unsafe(archive, `hard link '${rel}' points outside the pack ('${raw}')`);
          const target = posix.normalize(raw).replace(/\/+$/, "");
          const kind = seen.get(target);
          if (kind !== "file")
            unsafe(
              archive,
              `hard link '${rel}' points to '${target}', which is ${kind === undefined ? "not an earlier entry" : `a ${kind}`}, not a file of the pack`,
            );
          await copyFile(join(dest, target), abs, fsConstants.COPYFILE_EXCL);
          seen.set(rel, "file");
          return undefined;
        }
        default: {
          const handle = await open(abs, "wx", 0o600);
          seen.set(rel, "file");
          return {
            write: async (chunk: Buffer) => {
              await handle.write(chunk);
            },
            end: async () => {
              await handle.chmod(fileMode(entry.mode));
              await handle.close();
            },
          };
        }
      }
    });
  } catch (e) {
    // Nothing of a refused archive stays (dest itself is the caller's); rm never follows a link.
    for (const name of await readdir(dest).catch(() => []))
      await rm(join(dest, name), { recursive: true, force: true });
    if (isGgenError(e)) throw e;
    refusal(archive, e, limits);
  }
  // Every link, resolved on disk now that all entries exist, must land inside (a chain of links can
  // leave by a route no single entry shows).
  const root = await realpath(dest);
  for (const [rel, kind] of seen) {
    if (kind !== "symlink") continue;
    let real: string;
    try {
      real = await realpath(join(dest, rel));
    } catch {
      unsafe(archive, `link '${rel}' is dangling`);
    }
    if (!isInside(root, real)) unsafe(archive, `link '${rel}' points outside the pack`);
  }
}

/** Each regular file of an archive with its sha256, and its links (for naming what changed in an install). */
export async function archiveContents(
  archive: string,
  limits: ExtractLimits = DEFAULT_LIMITS,
): Promise<Map<string, { kind: TarEntryType; digest: string }>> {
  const out = new Map<string, { kind: TarEntryType; digest: string }>();
  try {
    await readTarGz(archive, limits, (entry) => {
      const rel = checkRelative(archive, entry.path, "entry");
      if (rel === "." || rel === "") return undefined;
      if (entry.type === "file") {
        const h = createHash("sha256");
        return {
          write: (chunk) => {
            h.update(chunk);
          },
          end: () => {
            out.set(rel, { kind: "file", digest: h.digest("hex") });
          },
        };
      }
      if (entry.type === "hardlink") {
        const target = out.get(posix.normalize(entry.linkpath ?? ""));
        if (target) out.set(rel, target);
      } else
        out.set(rel, { kind: entry.type, digest: entry.type === "symlink" ? (entry.linkpath ?? "") : "" });
      return undefined;
    });
  } catch (e) {
    if (isGgenError(e)) throw e;
    refusal(archive, e, limits);
  }
  return out;
}

/** sha256 over an installed tree: each file's path, exec bit and content hash, links' targets. */
export async function treeHash(dir: string): Promise<string> {
  const h = createHash("sha256");
  const walk = async (rel: string) => {
    const names = (await readdir(rel ? resolvePath(dir, rel) : dir)).sort();
    for (const name of names) {
      const r = rel ? `${rel}/${name}` : name;
      const abs = resolvePath(dir, r);
      const st = await lstat(abs);
      if (st.isDirectory()) {
        h.update(`D ${r}\n`);
        await walk(r);
      } else if (st.isSymbolicLink()) {
        h.update(`L ${r} ${await readlink(abs)}\n`);
      } else if (st.isFile()) {
        const c = sha256(await readFile(abs));
        h.update(`F ${r} ${st.mode & 0o111 ? "x" : "-"} ${c}\n`);
      }
    }
  };
  await walk("");
  return h.digest("hex");
}

export const pathSep = sep;
