// The search snapshot: what `searchCatalog` saves of the indexes it searched, so that the next search over
// the same index files loads two files instead of parsing, validating and tokenizing every pack.
//
// A snapshot is two files named by a hash of the index files' identities: `<name>.columns` holds what
// ranking reads as a column file (the identities themselves, ids and names with their rows by length,
// tags, categories, scores, the postings: raw arrays, no JSON to parse), and `<name>.details.ndjson` one
// line per pack with what only a result shows (description, keywords, version), of which only the hits'
// lines are read.
import { closeSync, fstatSync, openSync, readSync, statSync } from "node:fs";
import { mkdir, readdir, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { writeFileAtomic } from "@ggen/support";
import { decodeColumns, encodeColumns, fileSource, Int32Slices, StringColumn } from "./column-file.js";
import {
  type PreparedIndex,
  type RankablePack,
  restorePrepared,
  type SearchHit,
  type SearchOptions,
  type Strings,
  search,
} from "./search.js";
import type { PackSummary, RegistrySource } from "./sources.js";

const SNAPSHOT_FORMAT = "ggen-search-snapshot/7";
const SNAPSHOTS_KEPT = 8;

interface PackDetails {
  description: string;
  keywords: string[];
  version: string;
}

interface RankRow extends RankablePack {
  row: number;
}

/** An index file's identity (path, inode, size, mtime in ns) stands for its content, as in make or git's
 * index: hashing an 8 MB index on every search would cost more than the search itself. */
export function fileIdentity(source: RegistrySource, file: string): string[] {
  const st = statSync(file, { bigint: true });
  return [String(source.priority), file, String(st.ino), String(st.size), String(st.mtimeNs)];
}

/** What names a snapshot: the identities of the files it was built from, and a short hash of them. */
export interface SnapshotKey {
  identity: string;
  name: string;
}

/**
 * The key for these index files. The name is a fast 64-bit hash (FNV-1a, two lanes), not a digest: the
 * snapshot holds the identity it was built for and is used only when that matches, so two identities
 * with one name cost a rebuild, never a wrong answer.
 */
export function snapshotKey(identities: string[][]): SnapshotKey {
  const identity = JSON.stringify([SNAPSHOT_FORMAT, ...identities]);
  let a = 0x811c9dc5;
  let b = 0x01000193;
  for (let i = 0; i < identity.length; i++) {
    const c = identity.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995) ^ (b >>> 13);
  }
  const hex = (n: number) => (n >>> 0).toString(16).padStart(8, "0");
  return { identity, name: hex(a) + hex(b) };
}

/**
 * The rows of `list` grouped by their string's length: those of length `l` are
 * `rows[starts[l]]` up to `rows[starts[l + 1]]`, ascending. Saved for ids and names, so that a search's
 * exact-match step (a query as long as an id or a name) reads a slice instead of 20,000 lengths.
 */
export function lengthIndex(list: readonly string[]): { rows: Int32Array; starts: Int32Array } {
  let max = 0;
  for (const s of list) if (s.length > max) max = s.length;
  const starts = new Int32Array(max + 2);
  for (const s of list) starts[s.length + 1]! += 1;
  for (let l = 1; l < starts.length; l++) starts[l]! += starts[l - 1]!;
  const next = starts.slice(0, max + 1);
  const rows = new Int32Array(list.length);
  for (let i = 0; i < list.length; i++) rows[next[list[i]!.length]!++] = i;
  return { rows, starts };
}

/** `column` as `Strings`, its rows by length from a saved `lengthIndex`. */
function withLengthIndex(column: StringColumn, rows: Int32Array, starts: Int32Array): Strings {
  if (rows.length !== column.size || starts.length < 2 || starts[starts.length - 1] !== column.size)
    throw new Error("damaged search snapshot: length index");
  return {
    size: column.size,
    at: (i) => column.at(i),
    lengthOf: (i) => column.lengthOf(i),
    rowsOfLength: (l) =>
      Number.isInteger(l) && l >= 0 && l + 1 < starts.length
        ? Array.from(rows.subarray(starts[l]!, starts[l + 1]!))
        : [],
  };
}

/** The hits from a saved snapshot, or undefined when there is none, it is another's, or it is damaged. */
export function readSnapshot(
  dir: string,
  key: SnapshotKey,
  query: string,
  searchOpts: SearchOptions,
): SearchHit<PackSummary>[] | undefined {
  let columnsFd: number | undefined;
  try {
    // Read as used: the numbers whole, of the strings only the rows a search reads (its hits, mostly).
    columnsFd = openSync(join(dir, `${key.name}.columns`), "r");
    // The postings (most of the file) are read a word at a time, as the query's words ask for them.
    const c = decodeColumns(SNAPSHOT_FORMAT, fileSource(columnsFd), new Set(["postings"]));
    if (!c) return undefined;
    const strings = (name: string) => {
      const col = c.get(name);
      if (!(col instanceof StringColumn)) throw new Error(`damaged search snapshot: ${name}`);
      return col;
    };
    const numbers = <T extends Int32Array | Float64Array | Int32Slices>(
      name: string,
      kind: abstract new (...args: never[]) => T,
    ) => {
      const col = c.get(name);
      if (!(col instanceof kind)) throw new Error(`damaged search snapshot: ${name}`);
      return col;
    };
    const identity = strings("identity");
    if (identity.size !== 1 || identity.at(0) !== key.identity) return undefined;
    const ids = withLengthIndex(
      strings("id"),
      numbers("idLengthRows", Int32Array),
      numbers("idLengthStarts", Int32Array),
    );
    const names = withLengthIndex(
      strings("name"),
      numbers("nameLengthRows", Int32Array),
      numbers("nameLengthStarts", Int32Array),
    );
    const categories = strings("category");
    const tags = strings("tags");
    const tagStarts = numbers("tagStarts", Int32Array);
    const downloads = numbers("downloads", Float64Array);
    const quality = numbers("quality", Float64Array);
    const details = numbers("details", Float64Array);
    const n = ids.size;
    if (
      [names.size, categories.size, downloads.length, quality.length].some((size) => size !== n) ||
      tagStarts.length !== n + 1 ||
      details.length !== n + 1
    )
      return undefined;
    const pack = (i: number): RankRow => ({
      row: i,
      id: ids.at(i),
      name: names.at(i),
      category: categories.at(i),
      tags: tags.slice(tagStarts[i]!, tagStarts[i + 1]!),
      downloads: downloads[i]!,
      quality: { score: quality[i]! },
    });
    const index = restorePrepared(
      { ids, names, quality: (i) => quality[i]!, downloads: (i) => downloads[i]!, pack },
      {
        words: strings("words"),
        starts: numbers("starts", Int32Array),
        postings: numbers("postings", Int32Slices),
      },
    );
    const hits = search(index, query, searchOpts);
    // Only the hits' lines are read.
    const fd = openSync(join(dir, `${key.name}.details.ndjson`), "r");
    try {
      if (fstatSync(fd).size !== details[n]) return undefined;
      return hits.map(({ pack: { row, ...rank }, score, matched }) => {
        const line = Buffer.alloc(details[row + 1]! - details[row]!);
        if (readSync(fd, line, 0, line.length, details[row]!) !== line.length) throw new Error("cut short");
        return { pack: { ...rank, ...(JSON.parse(line.toString("utf8")) as PackDetails) }, score, matched };
      });
    } finally {
      closeSync(fd);
    }
  } catch {
    return undefined;
  } finally {
    if (columnsFd !== undefined) closeSync(columnsFd);
  }
}

/** Best effort: a read-only or full cache only costs the next search its speed. The details go
 * first and the ranking file, which makes the snapshot count, last. Keeps the newest few. */
export async function saveSnapshot(
  dir: string,
  key: SnapshotKey,
  packs: PackSummary[],
  ix: PreparedIndex<PackSummary>,
): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
    const lines = packs.map(
      (p) =>
        `${JSON.stringify({ description: p.description, keywords: p.keywords, version: p.version } satisfies PackDetails)}\n`,
    );
    const offsets = new Float64Array(packs.length + 1);
    for (let i = 0; i < lines.length; i++) offsets[i + 1] = offsets[i]! + Buffer.byteLength(lines[i]!);
    await writeFileAtomic(join(dir, `${key.name}.details.ndjson`), lines.join(""));
    const tagStarts = new Int32Array(packs.length + 1);
    for (let i = 0; i < packs.length; i++) tagStarts[i + 1] = tagStarts[i]! + packs[i]!.tags.length;
    const ids = packs.map((p) => p.id);
    const names = packs.map((p) => p.name);
    const idLength = lengthIndex(ids);
    const nameLength = lengthIndex(names);
    const columns = encodeColumns(SNAPSHOT_FORMAT, {
      identity: [key.identity],
      id: ids,
      idLengthRows: idLength.rows,
      idLengthStarts: idLength.starts,
      name: names,
      nameLengthRows: nameLength.rows,
      nameLengthStarts: nameLength.starts,
      category: packs.map((p) => p.category),
      tags: packs.flatMap((p) => p.tags),
      tagStarts,
      downloads: Float64Array.from(packs, (p) => p.downloads),
      quality: Float64Array.from(packs, (p) => p.quality.score),
      details: offsets,
      words: Array.from({ length: ix.words.size }, (_, w) => ix.words.at(w)),
      starts: ix.starts,
      postings: ix.postings.subarray(0, ix.postings.length),
    });
    await writeFileAtomic(join(dir, `${key.name}.columns`), columns);
    const all = await Promise.all(
      (await readdir(dir))
        .filter((n) => n.endsWith(".columns"))
        .map(async (n) => ({ key: n.slice(0, -".columns".length), t: (await stat(join(dir, n))).mtimeMs })),
    );
    all.sort((a, b) => b.t - a.t);
    await Promise.all(
      all
        .slice(SNAPSHOTS_KEPT)
        .flatMap((o) =>
          [`${o.key}.columns`, `${o.key}.details.ndjson`].map((n) => rm(join(dir, n), { force: true })),
        ),
    );
  } catch {
    // ignored on purpose, see above
  }
}
