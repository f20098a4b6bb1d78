// Search over a catalog: an inverted index of words (built once per pack list), exact, prefix and
// typo-tolerant matches, ranked by where the match is (id/name > keyword > tag > description) and
// weighted by quality and downloads.
import type { IndexPack } from "@ggen/contract";

export interface SearchOptions {
  tags?: string[];
  category?: string;
  minQuality?: number;
  limit?: number;
}

/** What ranking and filtering read of a pack, once its words are indexed. */
export interface RankablePack {
  id: string;
  name: string;
  tags: string[];
  category: string;
  downloads: number;
  quality: { score: number };
}

/** What indexing reads of a pack: an `IndexPack`, or the summary a search snapshot keeps. */
export interface SearchablePack extends RankablePack {
  description: string;
  keywords: string[];
}

export interface SearchHit<P extends RankablePack = IndexPack> {
  pack: P;
  score: number;
  /** How it matched: "exact", "name", "keyword", "tag", "category", "description", "fuzzy". */
  matched: string[];
}

// Field weights; a posting stores the field's code (its index here) in its low 3 bits.
const FIELD_WEIGHTS = [100, 60, 50, 40, 20] as const;
/** How a pack matched: the field codes, then the two kinds that are not fields. */
const KIND_NAMES = ["name", "keyword", "tag", "category", "description", "fuzzy", "exact"] as const;
const [K_FUZZY, K_EXACT] = [5, 6];
const [F_NAME, F_KEYWORD, F_TAG, F_CATEGORY, F_DESC] = [0, 1, 2, 3, 4];

/** A column of strings: a snapshot slices one only when a search reads it. */
export interface Strings {
  readonly size: number;
  at(i: number): string;
  /** Row i's length in UTF-16 code units (cheaper than `at(i).length` for a snapshot). */
  lengthOf(i: number): number;
  /** The rows whose length is `length`, ascending, without reading any string. */
  rowsOfLength(length: number): number[];
}

/** An array as `Strings`. */
export function stringsOf(list: readonly string[]): Strings {
  return {
    size: list.length,
    at: (i) => list[i]!,
    lengthOf: (i) => list[i]!.length,
    rowsOfLength: (length) => {
      const rows: number[] = [];
      for (let i = 0; i < list.length; i++) if (list[i]!.length === length) rows.push(i);
      return rows;
    },
  };
}

export interface PreparedIndex<P extends RankablePack = IndexPack> {
  /** How many packs; packs are numbered 0…size-1. */
  size: number;
  /** Pack number i. A snapshot builds them on demand: a search builds only its hits (and, with a
   * category or tag filter, the candidates). */
  pack: (i: number) => P;
  /** What ranking reads of pack i, without building it. */
  quality: (i: number) => number;
  downloads: (i: number) => number;
  /** Each pack's id and name, for exact matches and ties. */
  ids: Strings;
  names: Strings;
  /** The vocabulary, sorted: exact and prefix lookups are binary searches. */
  words: Strings;
  /** Word w's postings are `postings.subarray(starts[w], starts[w + 1])`. */
  starts: Int32Array;
  /** Each posting is `pack number * 8 + field code` of the word's best field in that pack, by pack
   * number. Flat typed arrays, so that a prepared index saves and loads as two buffers; a snapshot's
   * are read from its file a word at a time (a search reads a few words' of 178,000). */
  postings: Postings;
}

/** A flat list of postings: an Int32Array, or one that reads its slices as they are asked for. */
export interface Postings {
  readonly length: number;
  subarray(begin: number, end: number): Int32Array;
}

const SPLIT = /[^a-z0-9]+/;

export function words(text: string): string[] {
  return text
    .toLowerCase()
    .split(SPLIT)
    .filter((w) => w.length > 0);
}

const prepared = new WeakMap<readonly RankablePack[], PreparedIndex<RankablePack>>();

/** Builds (or reuses) the search structures for a pack list. */
export function prepareSearch<P extends SearchablePack>(packs: readonly P[]): PreparedIndex<P> {
  const hit = prepared.get(packs);
  if (hit) return hit as unknown as PreparedIndex<P>;
  const building = new Map<string, Map<number, number>>();
  const add = (word: string, i: number, w: number) => {
    let m = building.get(word);
    if (!m) {
      m = new Map();
      building.set(word, m);
    }
    const prev = m.get(i);
    // Lower codes are heavier fields.
    if (prev === undefined || prev > w) m.set(i, w);
  };
  for (let i = 0; i < packs.length; i++) {
    const p = packs[i]!;
    for (const w of words(p.id)) add(w, i, F_NAME);
    for (const w of words(p.name)) add(w, i, F_NAME);
    for (const k of p.keywords) for (const w of words(k)) add(w, i, F_KEYWORD);
    for (const t of p.tags) for (const w of words(t)) add(w, i, F_TAG);
    for (const w of words(p.category)) add(w, i, F_CATEGORY);
    for (const w of words(p.description)) add(w, i, F_DESC);
  }
  const vocabulary = [...building.keys()].sort();
  const starts = new Int32Array(vocabulary.length + 1);
  let total = 0;
  for (let w = 0; w < vocabulary.length; w++) {
    starts[w] = total;
    total += building.get(vocabulary[w]!)!.size;
  }
  starts[vocabulary.length] = total;
  const postings = new Int32Array(total);
  let k = 0;
  for (const word of vocabulary) for (const [i, code] of building.get(word)!) postings[k++] = i * 8 + code;
  const result: PreparedIndex<P> = {
    size: packs.length,
    pack: (i) => packs[i]!,
    quality: (i) => packs[i]!.quality.score,
    downloads: (i) => packs[i]!.downloads,
    ids: stringsOf(packs.map((p) => p.id)),
    names: stringsOf(packs.map((p) => p.name)),
    words: stringsOf(vocabulary),
    starts,
    postings,
  };
  prepared.set(packs, result as unknown as PreparedIndex<RankablePack>);
  return result;
}

/** A prepared index's vocabulary and postings, as a snapshot saves them; the packs are the
 * caller's to save (see `restorePrepared`). */
export interface SavedPostings {
  words: Strings;
  starts: Int32Array;
  postings: Postings;
}

/** What a snapshot keeps of its packs: ids and names, what ranking reads, and each pack on demand. */
export interface SavedPacks<P extends RankablePack> {
  ids: Strings;
  names: Strings;
  quality: (i: number) => number;
  downloads: (i: number) => number;
  pack: (i: number) => P;
}

/** Rebuilds a prepared index from saved postings and the packs it was built from, without
 * re-tokenizing any pack. */
export function restorePrepared<P extends RankablePack>(
  packs: SavedPacks<P>,
  data: SavedPostings,
): PreparedIndex<P> {
  const size = packs.ids.size;
  const { words, starts, postings } = data;
  if (packs.names.size !== size || starts.length !== words.size + 1) throw new Error("damaged search index");
  if (starts[0] !== 0 || starts[words.size] !== postings.length) throw new Error("damaged search index");
  return { size, ...packs, words, starts, postings };
}

/** Edit distance with adjacent transpositions (optimal string alignment), giving up (returning
 * max+1) once it must exceed `max`. */
export function boundedDistance(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let prev2 = new Array<number>(b.length + 1).fill(0);
  let prev = new Array<number>(b.length + 1);
  let cur = new Array<number>(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    cur[0] = i;
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const ca = a.charCodeAt(i - 1);
      const cb = b.charCodeAt(j - 1);
      let v = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (ca === cb ? 0 : 1));
      if (i > 1 && j > 1 && ca === b.charCodeAt(j - 2) && a.charCodeAt(i - 2) === cb)
        v = Math.min(v, prev2[j - 2]! + 1);
      cur[j] = v;
      if (v < rowMin) rowMin = v;
    }
    if (rowMin > max) return max + 1;
    [prev2, prev, cur] = [prev, cur, prev2];
  }
  return Math.min(prev[b.length]!, max + 1);
}

function typoBudget(word: string): number {
  if (word.length < 4) return 0;
  return word.length < 8 ? 1 : 2;
}

/** The first position in sorted `words` whose word is not below `q`. */
function lowerBound(words: Strings, q: string): number {
  let lo = 0;
  let hi = words.size;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (words.at(mid) < q) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Vocabulary words (by position) a query word matches: itself (1), words it prefixes (0.7),
 * near misses (0.5). */
function expand(ix: PreparedIndex<RankablePack>, q: string): [number, number][] {
  const out: [number, number][] = [];
  const vocabulary = ix.words;
  let w = lowerBound(vocabulary, q);
  if (w < vocabulary.size && vocabulary.at(w) === q) out.push([w++, 1]);
  if (q.length >= 2) for (; w < vocabulary.size && vocabulary.at(w).startsWith(q); w++) out.push([w, 0.7]);
  const budget = typoBudget(q);
  if (budget > 0 && out.length === 0) {
    for (let v = 0; v < vocabulary.size; v++) {
      // Lengths first: most words are too long or too short to be a near miss.
      if (Math.abs(vocabulary.lengthOf(v) - q.length) > budget) continue;
      const word = vocabulary.at(v);
      if (word === q) continue;
      if (boundedDistance(q, word, budget) <= budget) out.push([v, 0.5]);
    }
  }
  return out;
}

export function search<P extends SearchablePack = IndexPack>(
  packs: readonly P[],
  query: string,
  opts?: SearchOptions,
): SearchHit<P>[];
export function search<P extends RankablePack>(
  prepared: PreparedIndex<P>,
  query: string,
  opts?: SearchOptions,
): SearchHit<P>[];
export function search(
  packs: readonly SearchablePack[] | PreparedIndex<RankablePack>,
  query: string,
  opts: SearchOptions = {},
): SearchHit<RankablePack>[] {
  const ix = "postings" in packs ? packs : prepareSearch(packs);
  const q = query.trim().toLowerCase();
  const qWords = [...new Set(words(q))];
  // Per pack number, in typed arrays: a common word matches thousands of packs. `candidates` keeps
  // the order in which packs first scored; `matchedOrder` each pack's match kinds in the order first
  // seen, 3 bits each (kind code + 1), `matchedMask` which it has.
  const scores = new Float64Array(ix.size);
  const hits = new Int32Array(ix.size);
  const scored = new Uint8Array(ix.size);
  const candidates: number[] = [];
  const matchedOrder = new Int32Array(ix.size);
  const matchedMask = new Uint8Array(ix.size);
  const matchedCount = new Uint8Array(ix.size);
  const mark = (i: number, kind: number) => {
    if (matchedMask[i]! & (1 << kind)) return;
    matchedMask[i] = matchedMask[i]! | (1 << kind);
    matchedOrder[i] = matchedOrder[i]! | ((kind + 1) << (3 * matchedCount[i]!));
    matchedCount[i] = matchedCount[i]! + 1;
  };
  const addScore = (i: number, s: number) => {
    if (!scored[i]) {
      scored[i] = 1;
      candidates.push(i);
    }
    scores[i] = scores[i]! + s;
  };
  const perPack = new Float64Array(ix.size);
  // The loops below inline `mark` and `addScore`: called once a posting, those small functions were
  // what V8 chose to optimise in a short search, at a cost (≈ 17 ms of compiler time on a 2-core
  // machine, beside the search) that the search never earned back.
  const { starts, postings } = ix;
  for (const qw of qWords) {
    const touched: number[] = [];
    for (const [word, factor] of expand(ix, qw)) {
      const fuzzy = factor === 0.5;
      const list = postings.subarray(starts[word]!, starts[word + 1]!);
      for (let k = 0; k < list.length; k++) {
        const i = list[k]! >> 3;
        const code = list[k]! & 7;
        const s = FIELD_WEIGHTS[code]! * factor;
        if (perPack[i] === 0) touched.push(i);
        if (perPack[i]! < s) perPack[i] = s;
        const kind = fuzzy ? K_FUZZY : code;
        if ((matchedMask[i]! & (1 << kind)) === 0) {
          matchedMask[i] = matchedMask[i]! | (1 << kind);
          matchedOrder[i] = matchedOrder[i]! | ((kind + 1) << (3 * matchedCount[i]!));
          matchedCount[i] = matchedCount[i]! + 1;
        }
      }
    }
    for (const i of touched) {
      if (!scored[i]) {
        scored[i] = 1;
        candidates.push(i);
      }
      scores[i] = scores[i]! + perPack[i]!;
      hits[i] = hits[i]! + 1;
      perPack[i] = 0;
    }
  }
  if (q.length > 0) {
    // Lengths first: lower-casing 10,000 names per query would cost more than the rest.
    const sameLength = [...new Set([...ix.ids.rowsOfLength(q.length), ...ix.names.rowsOfLength(q.length)])];
    for (const i of sameLength.sort((a, b) => a - b)) {
      if (
        (ix.ids.lengthOf(i) === q.length && ix.ids.at(i).toLowerCase() === q) ||
        (ix.names.lengthOf(i) === q.length && ix.names.at(i).toLowerCase() === q)
      ) {
        addScore(i, 10_000);
        hits[i] = Math.max(hits[i]!, qWords.length);
        mark(i, K_EXACT);
      }
    }
  }
  // An empty query lists everything (filtered), by quality and downloads.
  if (q.length === 0) for (let i = 0; i < ix.size; i++) addScore(i, 1);
  const tags = (opts.tags ?? []).map((t) => t.toLowerCase()).filter(Boolean);
  const category = opts.category?.toLowerCase();
  const ranked: Ranked[] = [];
  for (const i of candidates) {
    const quality = ix.quality(i);
    if (opts.minQuality !== undefined && quality < opts.minQuality) continue;
    if (category && ix.pack(i).category.toLowerCase() !== category) continue;
    if (tags.length > 0) {
      const own = new Set(ix.pack(i).tags.map((t) => t.toLowerCase()));
      if (!tags.every((t) => own.has(t))) continue;
    }
    // Packs matching every query word rank above those matching some.
    const coverage = qWords.length > 0 ? hits[i]! / qWords.length : 1;
    // Equal matches rank by quality, then (weakly) by downloads. Written out, not a function: a small
    // function called once a candidate is one V8 optimises in a short search, for nothing.
    const boost = (0.6 + (0.4 * quality) / 100) * (1 + 0.05 * Math.log10(1 + ix.downloads(i)));
    ranked.push({ i, score: scores[i]! * coverage * coverage * boost });
  }
  const before = (a: Ranked, b: Ranked) => b.score - a.score || ix.ids.at(a.i).localeCompare(ix.ids.at(b.i));
  return best(ranked, opts.limit ?? 20, before).map(({ i, score }) => {
    const matched: string[] = [];
    for (let order = matchedOrder[i]!; order !== 0; order >>>= 3) matched.push(KIND_NAMES[(order & 7) - 1]!);
    return { pack: ix.pack(i), score, matched };
  });
}

interface Ranked {
  i: number;
  score: number;
}

/** `list.sort(before).slice(0, limit)`, without sorting thousands of candidates for a page of
 * hits: each is placed into the best `limit` so far, after those it does not come before (as a
 * stable sort would). */
function best<T>(list: T[], limit: number, before: (a: T, b: T) => number): T[] {
  if (!Number.isInteger(limit) || limit <= 0) return list.sort(before).slice(0, limit);
  const top: T[] = [];
  for (const item of list) {
    if (top.length === limit && before(item, top[limit - 1]!) >= 0) continue;
    let at = top.length;
    while (at > 0 && before(item, top[at - 1]!) < 0) at--;
    top.splice(at, 0, item);
    if (top.length > limit) top.pop();
  }
  return top;
}

/** " (did you mean 'x'?)" for an unknown id, by edit distance over ids and their last segments. */
export function didYouMeanPack(id: string, ids: Iterable<string>): string {
  const target = id.toLowerCase();
  let best: string | undefined;
  let bestD = Number.POSITIVE_INFINITY;
  const lastOf = (s: string) => s.slice(s.lastIndexOf(".") + 1);
  for (const c of ids) {
    const within = (d: number, max: number) => (d > max ? Number.POSITIVE_INFINITY : d);
    const full = within(boundedDistance(target, c, 4), 4);
    const tail = within(boundedDistance(lastOf(target), lastOf(c), 3), 3) + (target.includes(".") ? 1 : 0);
    const contains =
      lastOf(target).length >= 4 && lastOf(c).includes(lastOf(target)) ? 1 : Number.POSITIVE_INFINITY;
    const d = Math.min(full, tail, contains);
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  const limit = Math.max(2, Math.floor(target.length / 4));
  return best !== undefined && bestD <= limit ? ` (did you mean '${best}'?)` : "";
}
