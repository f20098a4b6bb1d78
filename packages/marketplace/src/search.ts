// Search over a catalog: an inverted index of words (built once per pack list), exact, prefix and
// typo-tolerant matches, ranked by where the match is (id/name > keyword > tag > description) and
// weighted by quality and downloads.
import type { IndexPack } from "./registry-index.js";

export interface SearchOptions {
  tags?: string[];
  category?: string;
  minQuality?: number;
  limit?: number;
}

export interface SearchHit {
  pack: IndexPack;
  score: number;
  /** How it matched: "exact", "name", "keyword", "tag", "category", "description", "fuzzy". */
  matched: string[];
}

const W_NAME = 100;
const W_KEYWORD = 60;
const W_TAG = 50;
const W_CATEGORY = 40;
const W_DESC = 20;
const FIELD_NAMES: Record<number, string> = {
  [W_NAME]: "name",
  [W_KEYWORD]: "keyword",
  [W_TAG]: "tag",
  [W_CATEGORY]: "category",
  [W_DESC]: "description",
};

export interface PreparedIndex {
  packs: readonly IndexPack[];
  /** word → (pack index → best field weight). */
  postings: Map<string, Map<number, number>>;
  /** Vocabulary grouped by word length for typo lookups. */
  byLength: Map<number, string[]>;
  vocabulary: string[];
  ids: Map<string, number>;
  names: Map<string, number[]>;
  boost: Float64Array;
  tagSets: Set<string>[];
}

const SPLIT = /[^a-z0-9]+/;

export function words(text: string): string[] {
  return text
    .toLowerCase()
    .split(SPLIT)
    .filter((w) => w.length > 0);
}

const prepared = new WeakMap<readonly IndexPack[], PreparedIndex>();

/** Builds (or reuses) the search structures for a pack list. */
export function prepareSearch(packs: readonly IndexPack[]): PreparedIndex {
  const hit = prepared.get(packs);
  if (hit) return hit;
  const postings = new Map<string, Map<number, number>>();
  const ids = new Map<string, number>();
  const names = new Map<string, number[]>();
  const boost = new Float64Array(packs.length);
  const tagSets: Set<string>[] = [];
  const add = (word: string, i: number, w: number) => {
    let m = postings.get(word);
    if (!m) {
      m = new Map();
      postings.set(word, m);
    }
    const prev = m.get(i);
    if (prev === undefined || prev < w) m.set(i, w);
  };
  for (let i = 0; i < packs.length; i++) {
    const p = packs[i]!;
    ids.set(p.id.toLowerCase(), i);
    const n = p.name.toLowerCase();
    const list = names.get(n);
    if (list) list.push(i);
    else names.set(n, [i]);
    for (const w of words(p.id)) add(w, i, W_NAME);
    for (const w of words(p.name)) add(w, i, W_NAME);
    for (const k of p.keywords) for (const w of words(k)) add(w, i, W_KEYWORD);
    for (const t of p.tags) for (const w of words(t)) add(w, i, W_TAG);
    for (const w of words(p.category)) add(w, i, W_CATEGORY);
    for (const w of words(p.description)) add(w, i, W_DESC);
    boost[i] = (0.6 + (0.4 * p.quality.score) / 100) * (1 + 0.05 * Math.log10(1 + p.downloads));
    tagSets.push(new Set(p.tags.map((t) => t.toLowerCase())));
  }
  const vocabulary = [...postings.keys()];
  const byLength = new Map<number, string[]>();
  for (const w of vocabulary) {
    const l = byLength.get(w.length);
    if (l) l.push(w);
    else byLength.set(w.length, [w]);
  }
  const result: PreparedIndex = { packs, postings, byLength, vocabulary, ids, names, boost, tagSets };
  prepared.set(packs, result);
  return result;
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

/** Vocabulary words a query word matches: itself (1), words it prefixes (0.7), near misses (0.5). */
function expand(ix: PreparedIndex, q: string): [string, number][] {
  const out: [string, number][] = [];
  if (ix.postings.has(q)) out.push([q, 1]);
  if (q.length >= 2) {
    for (const [len, list] of ix.byLength) {
      if (len <= q.length) continue;
      for (const w of list) if (w.startsWith(q)) out.push([w, 0.7]);
    }
  }
  const budget = typoBudget(q);
  if (budget > 0 && out.length === 0) {
    for (let len = q.length - budget; len <= q.length + budget; len++) {
      for (const w of ix.byLength.get(len) ?? []) {
        if (w === q) continue;
        if (boundedDistance(q, w, budget) <= budget) out.push([w, 0.5]);
      }
    }
  }
  return out;
}

export function search(packs: readonly IndexPack[], query: string, opts: SearchOptions = {}): SearchHit[] {
  const ix = prepareSearch(packs);
  const q = query.trim().toLowerCase();
  const qWords = [...new Set(words(q))];
  const scores = new Map<number, number>();
  const matched = new Map<number, Set<string>>();
  const hits = new Map<number, number>();
  const mark = (i: number, how: string) => {
    let s = matched.get(i);
    if (!s) {
      s = new Set();
      matched.set(i, s);
    }
    s.add(how);
  };
  for (const qw of qWords) {
    const perPack = new Map<number, number>();
    for (const [word, factor] of expand(ix, qw)) {
      for (const [i, w] of ix.postings.get(word)!) {
        const s = w * factor;
        if ((perPack.get(i) ?? 0) < s) perPack.set(i, s);
        mark(i, factor === 0.5 ? "fuzzy" : FIELD_NAMES[w]!);
      }
    }
    for (const [i, s] of perPack) {
      scores.set(i, (scores.get(i) ?? 0) + s);
      hits.set(i, (hits.get(i) ?? 0) + 1);
    }
  }
  const exact = new Set<number>();
  const idHit = ix.ids.get(q);
  if (idHit !== undefined) exact.add(idHit);
  for (const i of ix.names.get(q) ?? []) exact.add(i);
  for (const i of exact) {
    scores.set(i, (scores.get(i) ?? 0) + 10_000);
    hits.set(i, Math.max(hits.get(i) ?? 0, qWords.length));
    mark(i, "exact");
  }
  // An empty query lists everything (filtered), by quality and downloads.
  if (q.length === 0) for (let i = 0; i < ix.packs.length; i++) scores.set(i, 1);
  const tags = (opts.tags ?? []).map((t) => t.toLowerCase()).filter(Boolean);
  const category = opts.category?.toLowerCase();
  const out: SearchHit[] = [];
  for (const [i, base] of scores) {
    const p = ix.packs[i]!;
    if (opts.minQuality !== undefined && p.quality.score < opts.minQuality) continue;
    if (category && p.category.toLowerCase() !== category) continue;
    if (tags.length > 0 && !tags.every((t) => ix.tagSets[i]!.has(t))) continue;
    // Packs matching every query word rank above those matching some.
    const coverage = qWords.length > 0 ? (hits.get(i) ?? 0) / qWords.length : 1;
    out.push({
      pack: p,
      score: base * coverage * coverage * ix.boost[i]!,
      matched: [...(matched.get(i) ?? [])],
    });
  }
  out.sort((a, b) => b.score - a.score || a.pack.id.localeCompare(b.pack.id));
  return out.slice(0, opts.limit ?? 20);
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
