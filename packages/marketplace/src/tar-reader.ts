// Reading a pack archive (.tar.gz) as a stream of entries, with every header seen: ustar, GNU long
// names, pax records. node-tar's parser keeps only the pax keys it knows, so a GNU sparse entry (pax
// GNU.sparse.*) reached its extractor as an ordinary file; here every record is looked at, sparse entries
// and special files are refused, and the decompressed size is counted as it grows (a gzip bomb stops at
// the limit, not at the end of the disk). What to do with an entry is the caller's (archive.ts).
import { createReadStream } from "node:fs";
import { zlib } from "./deps.js";

export type TarEntryType = "file" | "dir" | "symlink" | "hardlink";

export interface TarEntry {
  /** As written in the archive (pax `path` or GNU long name when there is one). */
  path: string;
  type: TarEntryType;
  /** Permission bits from the header (never applied as they are: see archive.ts). */
  mode: number;
  size: number;
  /** Symlink or hard link target. */
  linkpath?: string;
}

/** What a caller does with a file's bytes: write them somewhere, hash them. */
export interface EntrySink {
  write(chunk: Buffer): Promise<void> | void;
  end(): Promise<void> | void;
}

export interface ReadLimits {
  /** Entries (files, dirs, links) at most. */
  maxEntries: number;
  /** Decompressed bytes at most (the whole tar stream, headers included). */
  maxBytes: number;
}

/** A reason the archive is refused; the caller words it (archive path, limit names). */
export class TarProblem extends Error {
  constructor(
    message: string,
    readonly kind: "unsafe" | "invalid" | "limit",
  ) {
    super(message);
  }
}

const BLOCK = 512;
const META_MAX = 1 << 20; // pax records and GNU long names

function cstring(block: Buffer, start: number, length: number): string {
  const field = block.subarray(start, start + length);
  const nul = field.indexOf(0);
  return field.subarray(0, nul < 0 ? field.length : nul).toString("utf8");
}

function octal(block: Buffer, start: number, length: number, what: string): number {
  const field = block.subarray(start, start + length);
  // base-256 (a high bit in the first byte) only appears for sizes past 8 GiB: beyond any limit here.
  if (field[0]! & 0x80) throw new TarProblem(`${what} field too large`, "limit");
  const text = cstring(block, start, length).trim();
  if (text === "") return 0;
  if (!/^[0-7]+$/.test(text)) throw new TarProblem(`malformed ${what} field '${text}'`, "invalid");
  return Number.parseInt(text, 8);
}

function checksumOk(block: Buffer): boolean {
  const stored = octal(block, 148, 8, "checksum");
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : block[i]!;
  return sum === stored;
}

/** pax records: "<len> <key>=<value>\n" each; every key is kept. */
function paxRecords(data: Buffer): Map<string, string> {
  const out = new Map<string, string>();
  let at = 0;
  while (at < data.length) {
    const space = data.indexOf(0x20, at);
    if (space < 0) break;
    const len = Number(data.subarray(at, space).toString("ascii"));
    if (!Number.isInteger(len) || len <= 0 || at + len > data.length)
      throw new TarProblem("malformed pax header", "invalid");
    const record = data.subarray(space + 1, at + len - 1).toString("utf8");
    const eq = record.indexOf("=");
    if (eq > 0) out.set(record.slice(0, eq), record.slice(eq + 1));
    at += len;
  }
  return out;
}

const SPARSE = /^GNU\.sparse\./;

/**
 * Streams the gzipped tar `file`, calling `onEntry` for each entry in order; for a file, the returned
 * sink gets its bytes. Throws a TarProblem for anything refused or malformed; stops at the end-of-archive
 * blocks without decompressing what follows them.
 */
export async function readTarGz(
  file: string,
  limits: ReadLimits,
  onEntry: (entry: TarEntry) => Promise<EntrySink | undefined> | EntrySink | undefined,
): Promise<void> {
  const input = createReadStream(file);
  const gunzip = zlib().createGunzip();
  input.on("error", (e) => gunzip.destroy(e));
  input.pipe(gunzip);
  let pending: Buffer = Buffer.alloc(0);
  let total = 0;
  let entries = 0;
  // The entry being read: its sink and what remains of its body and padding.
  let sink: EntrySink | undefined;
  let bodyLeft = 0;
  let padLeft = 0;
  // Metadata for the next entry: a pax or GNU long-name body being collected.
  let meta: { kind: "pax" | "global" | "longname" | "longlink"; left: number; chunks: Buffer[] } | undefined;
  let pax = new Map<string, string>();
  let global = new Map<string, string>();
  let longName: string | undefined;
  let longLink: string | undefined;
  let zeroBlocks = 0;
  let done = false;
  let sawHeader = false;

  const header = async (block: Buffer) => {
    if (block.every((b) => b === 0)) {
      done = ++zeroBlocks >= 2;
      return;
    }
    zeroBlocks = 0;
    if (!checksumOk(block))
      throw new TarProblem("not a tar archive (a header's checksum is wrong)", "invalid");
    sawHeader = true;
    const flag = String.fromCharCode(block[156]!);
    const size = octal(block, 124, 12, "size");
    if (flag === "x" || flag === "g" || flag === "L" || flag === "K") {
      if (size > META_MAX) throw new TarProblem(`a metadata header of ${size} bytes`, "limit");
      const kind = flag === "x" ? "pax" : flag === "g" ? "global" : flag === "L" ? "longname" : "longlink";
      meta = { kind, left: size, chunks: [] };
      padLeft = (BLOCK - (size % BLOCK)) % BLOCK;
      if (size === 0) await endMeta();
      return;
    }
    const magic = cstring(block, 257, 6);
    const prefix = magic === "ustar" ? cstring(block, 345, 155) : "";
    const name = cstring(block, 0, 100);
    const records = new Map([...global, ...pax]);
    const path = records.get("path") ?? longName ?? (prefix ? `${prefix}/${name}` : name);
    const linkpath = records.get("linkpath") ?? longLink ?? cstring(block, 157, 100);
    const realSize = records.has("size") ? Number(records.get("size")) : size;
    pax = new Map();
    longName = undefined;
    longLink = undefined;
    if ([...records.keys()].some((k) => SPARSE.test(k)) || flag === "S")
      throw new TarProblem(`entry '${path}' is a sparse file`, "unsafe");
    if (!Number.isSafeInteger(realSize) || realSize < 0)
      throw new TarProblem(`entry '${path}' has a malformed size`, "invalid");
    if (++entries > limits.maxEntries)
      throw new TarProblem(`more than ${limits.maxEntries} entries`, "limit");
    const type: TarEntryType | undefined =
      flag === "0" || flag === "\0" || flag === "7"
        ? "file"
        : flag === "5"
          ? "dir"
          : flag === "2"
            ? "symlink"
            : flag === "1"
              ? "hardlink"
              : undefined;
    if (!type) throw new TarProblem(`entry '${path}' has unsupported type '${flag}'`, "unsafe");
    const mode = octal(block, 100, 8, "mode");
    const entry: TarEntry = { path, type, mode, size: type === "file" ? realSize : 0 };
    if (type === "symlink" || type === "hardlink") entry.linkpath = linkpath;
    // Links and directories carry no body; a file's body is its size (a link's size field is ignored).
    const bodySize = type === "file" ? realSize : 0;
    sink = await onEntry(entry);
    bodyLeft = bodySize;
    // What follows the header up to the next one: a file's padding, or a body nobody reads.
    const stored = type === "file" ? realSize : size;
    padLeft = (type === "file" ? 0 : stored) + ((BLOCK - (stored % BLOCK)) % BLOCK);
    if (bodyLeft === 0) await finishEntry();
  };

  const finishEntry = async () => {
    const s = sink;
    sink = undefined;
    await s?.end();
  };

  const endMeta = async () => {
    const m = meta!;
    meta = undefined;
    const data = Buffer.concat(m.chunks);
    if (m.kind === "pax") pax = paxRecords(data);
    else if (m.kind === "global") global = paxRecords(data);
    else if (m.kind === "longname") longName = cstring(data, 0, data.length);
    else longLink = cstring(data, 0, data.length);
    if ([...pax.keys(), ...global.keys()].some((k) => SPARSE.test(k)))
      throw new TarProblem("a sparse file (GNU.sparse pax records)", "unsafe");
  };

  const consume = async (chunk: Buffer) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    let at = 0;
    while (!done) {
      if (meta) {
        const take = Math.min(meta.left, pending.length - at);
        if (take === 0 && meta.left > 0) break;
        meta.chunks.push(pending.subarray(at, at + take));
        meta.left -= take;
        at += take;
        if (meta.left === 0) await endMeta();
        continue;
      }
      if (bodyLeft > 0) {
        const take = Math.min(bodyLeft, pending.length - at);
        if (take === 0) break;
        await sink?.write(pending.subarray(at, at + take));
        bodyLeft -= take;
        at += take;
        if (bodyLeft === 0) await finishEntry();
        continue;
      }
      if (padLeft > 0) {
        const take = Math.min(padLeft, pending.length - at);
        if (take === 0) break;
        padLeft -= take;
        at += take;
        continue;
      }
      if (pending.length - at < BLOCK) break;
      await header(pending.subarray(at, at + BLOCK));
      at += BLOCK;
    }
    pending = pending.subarray(at);
  };

  try {
    for await (const chunk of gunzip) {
      total += (chunk as Buffer).length;
      if (total > limits.maxBytes)
        throw new TarProblem(`unpacks to more than ${limits.maxBytes} bytes`, "limit");
      await consume(chunk as Buffer);
      if (done) break;
    }
  } catch (e) {
    if (e instanceof TarProblem) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "Z_DATA_ERROR" || code === "Z_BUF_ERROR")
      throw new TarProblem(`not a gzip file (${(e as Error).message})`, "invalid");
    throw e;
  } finally {
    input.destroy();
    gunzip.destroy();
    await sink?.end();
  }
  // Some writers end with one zero block, or none: fine, as long as no entry was cut short.
  if (!done && (sink !== undefined || bodyLeft > 0 || meta !== undefined || !sawHeader))
    throw new TarProblem(
      sawHeader ? "the archive ends in the middle of an entry" : "an empty archive",
      "invalid",
    );
}
