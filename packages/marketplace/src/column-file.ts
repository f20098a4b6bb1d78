// A column file: named columns of numbers (typed arrays) and strings, saved as raw bytes behind a
// one-line JSON header. Loading one is a read and a few copies — no JSON of the data, no base64,
// and no object per row — which is what makes a search over a cached 10,000-pack index cheap.
import { fstatSync, readSync } from "node:fs";

export type Column = Int32Array | Float64Array | readonly string[];

/** Where a column file's bytes come from: a buffer, or a file read at offsets — only what is used. */
export interface ByteSource {
  readonly size: number;
  /** `length` bytes from `start`, in a buffer of their own or a view of the source's. */
  read(start: number, length: number): Buffer;
}

export function bufferSource(data: Buffer): ByteSource {
  return { size: data.length, read: (start, length) => data.subarray(start, start + length) };
}

/** A file's bytes, read when asked for; the caller keeps `fd` open while the columns are read. */
export function fileSource(fd: number): ByteSource {
  return {
    size: fstatSync(fd).size,
    read(start, length) {
      const buf = Buffer.allocUnsafeSlow(length);
      for (let at = 0; at < length; ) {
        const n = readSync(fd, buf, at, length - at, start + at);
        if (n === 0) throw new Error("column file cut short");
        at += n;
      }
      return buf;
    },
  };
}

interface TextSource {
  source: ByteSource;
  start: number;
  encoding: "latin1" | "utf16le";
}

/** A string column as loaded: offsets into one text, a string made only when read — a search reads few
 * of 10,000 names. The first reads each decode (and, from a file, read) their own row; a column read more
 * than that is decoded whole, once. */
export class StringColumn {
  #text: string | undefined;
  readonly #offsets: Int32Array;
  readonly #source: TextSource | undefined;
  #reads = 0;
  constructor(text: string | TextSource, offsets: Int32Array) {
    if (typeof text === "string") this.#text = text;
    else this.#source = text;
    this.#offsets = offsets;
  }
  get size(): number {
    return this.#offsets.length - 1;
  }
  at(i: number): string {
    if (!(i >= 0 && i < this.size)) throw new RangeError(`no row ${i}`);
    const from = this.#offsets[i]!;
    const to = this.#offsets[i + 1]!;
    if (this.#text === undefined) {
      const { source, start, encoding } = this.#source!;
      const width = encoding === "latin1" ? 1 : 2;
      if (++this.#reads <= ROW_READS)
        return source.read(start + from * width, (to - from) * width).toString(encoding);
      this.#text = source.read(start, this.#offsets[this.size]! * width).toString(encoding);
    }
    return this.#text.slice(from, to);
  }
  /** Row i's length in UTF-16 code units, without slicing it. */
  lengthOf(i: number): number {
    return this.#offsets[i + 1]! - this.#offsets[i]!;
  }
  rowsOfLength(length: number): number[] {
    const offsets = this.#offsets;
    const rows: number[] = [];
    for (let i = 0; i + 1 < offsets.length; i++) if (offsets[i + 1]! - offsets[i]! === length) rows.push(i);
    return rows;
  }
  slice(from: number, to: number): string[] {
    const out: string[] = [];
    for (let i = from; i < to; i++) out.push(this.at(i));
    return out;
  }
}

/** Rows a string column decodes one by one before it decodes itself whole. */
const ROW_READS = 64;

/** An i32 column left where it is (see `decodeColumns`' `lazy`): each `subarray` reads its own rows. */
export class Int32Slices {
  readonly #source: ByteSource;
  readonly #start: number;
  readonly length: number;
  constructor(source: ByteSource, start: number, length: number) {
    this.#source = source;
    this.#start = start;
    this.length = length;
  }
  subarray(begin: number, end: number): Int32Array {
    if (
      !(Number.isInteger(begin) && Number.isInteger(end) && 0 <= begin && begin <= end && end <= this.length)
    )
      throw new RangeError(`no rows ${begin}…${end}`);
    const bytes = aligned(this.#source, this.#start + begin * 4, (end - begin) * 4);
    return new Int32Array(bytes.buffer as ArrayBuffer, bytes.byteOffset, end - begin);
  }
}

/** `length` bytes of `source` from `start`, at an offset a typed array can view (copied when not). */
function aligned(source: ByteSource, start: number, length: number): Buffer {
  const bytes = source.read(start, length);
  if (bytes.byteOffset % 8 === 0) return bytes;
  const copy = Buffer.allocUnsafeSlow(length);
  bytes.copy(copy);
  return copy;
}

type Loaded = Int32Array | Float64Array | StringColumn | Int32Slices;

/** Where each column is: its kind, its row count, and (for strings) the text's encoding. */
interface ColumnEntry {
  name: string;
  kind: "i32" | "f64" | "str";
  rows: number;
  /** Strings: latin1 when every code unit fits a byte, else utf16le — both keep any string exactly
   * (lone surrogates too), unlike utf8. */
  encoding?: "latin1" | "utf16le";
  /** Bytes: the data, or for strings the code-unit offsets (i32, rows + 1) then the text. */
  bytes: number;
}

interface Header {
  format: string;
  columns: ColumnEntry[];
}

/** os.endianness()'s answer, without loading node:os (a search's bundle otherwise needs none of it). */
const ENDIANNESS = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? "LE" : "BE";
/** Typed arrays are written in this machine's byte order: the format says which. */
const formatOf = (format: string) => `${format}+${ENDIANNESS}`;
const pad8 = (n: number) => (n + 7) & ~7;

export function encodeColumns(format: string, columns: Record<string, Column>): Buffer {
  const entries: ColumnEntry[] = [];
  const parts: Buffer[] = [];
  for (const [name, col] of Object.entries(columns)) {
    if (col instanceof Int32Array || col instanceof Float64Array) {
      const bytes = Buffer.from(col.buffer, col.byteOffset, col.byteLength);
      entries.push({
        name,
        kind: col instanceof Int32Array ? "i32" : "f64",
        rows: col.length,
        bytes: bytes.length,
      });
      parts.push(bytes);
      continue;
    }
    const offsets = new Int32Array(col.length + 1);
    for (let i = 0; i < col.length; i++) offsets[i + 1] = offsets[i]! + col[i]!.length;
    const text = col.join("");
    const encoding = /^[\u0000-\u00ff]*$/.test(text) ? "latin1" : "utf16le";
    const offsetBytes = Buffer.from(offsets.buffer);
    const textBytes = Buffer.from(text, encoding);
    entries.push({
      name,
      kind: "str",
      rows: col.length,
      encoding,
      bytes: pad8(offsetBytes.length) + textBytes.length,
    });
    parts.push(
      Buffer.concat([offsetBytes, Buffer.alloc(pad8(offsetBytes.length) - offsetBytes.length), textBytes]),
    );
  }
  const header = Buffer.from(
    `${JSON.stringify({ format: formatOf(format), columns: entries } satisfies Header)}\n`,
  );
  const out: Buffer[] = [header, Buffer.alloc(pad8(header.length) - header.length)];
  for (const p of parts) out.push(p, Buffer.alloc(pad8(p.length) - p.length));
  return Buffer.concat(out);
}

/** The columns of a file `encodeColumns` wrote with the same format, or undefined when it is
 * another format, truncated or otherwise damaged. From a file (`fileSource`), numbers are read whole —
 * but the i32 columns named in `lazy`, which are `Int32Slices` — and strings' texts row by row as they
 * are read. */
export function decodeColumns(
  format: string,
  data: Buffer | ByteSource,
  lazy: ReadonlySet<string> = new Set(),
): Map<string, Loaded> | undefined {
  const source = Buffer.isBuffer(data) ? bufferSource(data) : data;
  let head = source.read(0, Math.min(source.size, 4096));
  let eol = head.indexOf(10);
  if (eol < 0 && head.length < source.size) {
    head = source.read(0, source.size);
    eol = head.indexOf(10);
  }
  if (eol < 0) return undefined;
  let header: Header;
  try {
    header = JSON.parse(head.toString("utf8", 0, eol)) as Header;
  } catch {
    return undefined;
  }
  if (header.format !== formatOf(format) || !Array.isArray(header.columns)) return undefined;
  const out = new Map<string, Loaded>();
  let at = pad8(eol + 1);
  for (const c of header.columns) {
    if (!Number.isInteger(c.rows) || !Number.isInteger(c.bytes) || c.rows < 0 || at + c.bytes > source.size)
      return undefined;
    if (c.kind === "i32" || c.kind === "f64") {
      const ctor = c.kind === "i32" ? Int32Array : Float64Array;
      if (c.bytes !== c.rows * ctor.BYTES_PER_ELEMENT) return undefined;
      if (c.kind === "i32" && lazy.has(c.name)) {
        out.set(c.name, new Int32Slices(source, at, c.rows));
        at += pad8(c.bytes);
        continue;
      }
      const bytes = aligned(source, at, c.bytes);
      out.set(c.name, new ctor(bytes.buffer as ArrayBuffer, bytes.byteOffset, c.rows));
    } else if (c.kind === "str" && (c.encoding === "latin1" || c.encoding === "utf16le")) {
      if (pad8((c.rows + 1) * 4) > c.bytes) return undefined;
      const raw = aligned(source, at, (c.rows + 1) * 4);
      const offsets = new Int32Array(raw.buffer as ArrayBuffer, raw.byteOffset, c.rows + 1);
      const textStart = at + pad8(offsets.byteLength);
      const encoding = c.encoding;
      // Both encodings have a fixed width: the text's length is known before it is read.
      const length = (at + c.bytes - textStart) / (encoding === "latin1" ? 1 : 2);
      if (offsets[0] !== 0 || offsets[c.rows] !== length) return undefined;
      out.set(c.name, new StringColumn({ source, start: textStart, encoding }, offsets));
    } else return undefined;
    at += pad8(c.bytes);
  }
  return out;
}
