// Pack archives: a deterministic .tar.gz writer (fixed mtimes, modes and order, so sha256s are
// stable), a safe extractor (no entry or link escapes, size and entry-count limits) and a tree hash
// of an installed pack.
import { createHash } from "node:crypto";
import { lstat, readdir, readFile, readlink, realpath } from "node:fs/promises";
import { posix, resolve as resolvePath, sep } from "node:path";
import { gzipSync } from "node:zlib";
import { GgenError } from "@ggen/contract";
import { isInside, sha256 } from "@ggen/support";

export interface ArchiveEntry {
  path: string;
  type?: "file" | "dir" | "symlink" | "hardlink" | "fifo";
  content?: Uint8Array | string;
  /** File mode bits; defaults 0o644 files, 0o755 dirs and executables. */
  mode?: number;
  linkname?: string;
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

function header(e: ArchiveEntry, size: number): Buffer {
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
  h.write(TYPEFLAG[type], 156, 1, "ascii");
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
  for (const e of entries) {
    const body =
      e.type === undefined || e.type === "file"
        ? Buffer.from(typeof e.content === "string" ? e.content : (e.content ?? new Uint8Array()))
        : Buffer.alloc(0);
    parts.push(header(e, body.length), body);
    const pad = (512 - (body.length % 512)) % 512;
    if (pad) parts.push(Buffer.alloc(pad));
  }
  parts.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(parts), { level: 9 });
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
  maxEntries: number;
  maxBytes: number;
}

export const DEFAULT_LIMITS: ExtractLimits = { maxEntries: 10_000, maxBytes: 200 * 1024 * 1024 };

function unsafe(archive: string, msg: string): never {
  throw new GgenError("ARCHIVE_UNSAFE", `unsafe archive: ${msg}`, { location: { file: archive } });
}

function checkRelative(archive: string, path: string, what: string): string {
  if (path.includes("\0")) unsafe(archive, `${what} '${path}' contains a NUL byte`);
  if (path.startsWith("/") || /^[A-Za-z]:/.test(path) || path.includes("\\"))
    unsafe(archive, `${what} '${path}' is an absolute or Windows path`);
  const n = posix.normalize(path);
  if (n === ".." || n.startsWith("../") || path.split("/").includes(".."))
    unsafe(archive, `${what} '${path}' escapes the pack directory`);
  return n;
}

/**
 * Lists the archive and checks every entry before anything is written: paths stay inside, links
 * point inside, only files/dirs/links, within the limits. Then extracts into `dest` (which should be
 * a fresh staging directory) and re-checks the result on disk, following symlinks.
 */
export async function extractSafe(
  archive: string,
  dest: string,
  limits: ExtractLimits = DEFAULT_LIMITS,
): Promise<void> {
  const tar = await import("tar");
  let count = 0;
  let bytes = 0;
  let problem: string | undefined;
  const note = (msg: string) => {
    problem ??= msg;
  };
  try {
    await tar.t({
      file: archive,
      strict: true,
      onReadEntry: (entry) => {
        if (problem) return;
        try {
          count++;
          if (count > limits.maxEntries) note(`more than ${limits.maxEntries} entries`);
          bytes += entry.size ?? 0;
          if (bytes > limits.maxBytes) note(`unpacks to more than ${limits.maxBytes} bytes`);
          const p = checkRelative(archive, entry.path, "entry");
          switch (entry.type) {
            case "File":
            case "OldFile":
            case "ContiguousFile":
            case "Directory":
              break;
            case "SymbolicLink": {
              const target = entry.linkpath ?? "";
              if (target.startsWith("/")) note(`link '${entry.path}' points outside the pack ('${target}')`);
              const to = posix.normalize(posix.join(posix.dirname(p), target));
              if (to === ".." || to.startsWith("../"))
                note(`link '${entry.path}' points outside the pack ('${target}')`);
              break;
            }
            case "Link": {
              const target = entry.linkpath ?? "";
              const n = posix.normalize(target);
              if (target.startsWith("/") || n === ".." || n.startsWith("../"))
                note(`hard link '${entry.path}' points outside the pack ('${target}')`);
              break;
            }
            default:
              note(`entry '${entry.path}' has unsupported type ${entry.type}`);
          }
        } catch (e) {
          note(e instanceof GgenError ? e.message.replace(/^unsafe archive: /, "") : String(e));
        }
      },
    });
  } catch (e) {
    if (problem) unsafe(archive, problem);
    throw new GgenError("ARCHIVE_INVALID", `not a readable .tar.gz: ${(e as Error).message}`, {
      location: { file: archive },
    });
  }
  if (problem) unsafe(archive, problem);
  await tar.x({ file: archive, cwd: dest, strict: true, preservePaths: false, preserveOwner: false });
  const root = await realpath(dest);
  const check = async (dir: string): Promise<void> => {
    for (const d of await readdir(dir, { withFileTypes: true })) {
      const abs = resolvePath(dir, d.name);
      if (d.isSymbolicLink()) {
        let real: string;
        try {
          real = await realpath(abs);
        } catch {
          unsafe(archive, `link '${abs.slice(root.length + 1)}' is dangling`);
        }
        if (!isInside(root, real))
          unsafe(archive, `link '${abs.slice(root.length + 1)}' points outside the pack`);
      } else if (d.isDirectory()) await check(abs);
    }
  };
  await check(root);
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
