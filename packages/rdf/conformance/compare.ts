// Comparing results as the W3C does: bag or ordered equality of rows, set equality of quads, blank
// nodes up to isomorphism (a consistent one-to-one renaming).
import type { Term } from "../src/index.js";

export type Tuple = (Term | undefined)[];

const XSD = "http://www.w3.org/2001/XMLSchema#";
const integers = new Set(
  [
    "integer",
    "long",
    "int",
    "short",
    "byte",
    "nonNegativeInteger",
    "nonPositiveInteger",
    "negativeInteger",
    "positiveInteger",
    "unsignedLong",
    "unsignedInt",
    "unsignedShort",
    "unsignedByte",
  ].map((n) => XSD + n),
);

/**
 * Numeric and boolean literals compare by value within their datatype: SPARQL defines the value of SUM, AVG,
 * casts and arithmetic, not their lexical form ("3.0E4" and "30000" are the same xsd:double).
 */
function numericValue(value: string, datatype: string): string | undefined {
  const v = value.trim();
  if (datatype === `${XSD}boolean`)
    return v === "1" || v === "true" ? "true" : v === "0" || v === "false" ? "false" : undefined;
  if (integers.has(datatype)) return /^[+-]?\d+$/.test(v) ? BigInt(v).toString() : undefined;
  if (datatype === `${XSD}decimal`) {
    const m = /^([+-]?)(\d*)(?:\.(\d*))?$/.exec(v);
    if (!m) return undefined;
    const int = (m[2] ?? "").replace(/^0+/, "") || "0";
    const frac = (m[3] ?? "").replace(/0+$/, "");
    const sign = m[1] === "-" && (int !== "0" || frac !== "") ? "-" : "";
    return `${sign}${int}${frac ? `.${frac}` : ""}`;
  }
  if (datatype === `${XSD}double` || datatype === `${XSD}float`) {
    if (v === "INF" || v === "+INF") return "Infinity";
    if (v === "-INF") return "-Infinity";
    if (v === "NaN") return "NaN";
    const n = Number(v);
    if (v === "" || Number.isNaN(n)) return undefined;
    return String(datatype === `${XSD}float` ? Math.fround(n) : n);
  }
  return undefined;
}

export function exact(t: Term): string {
  if (t.type === "iri") return `<${t.value}>`;
  if (t.type === "blank") return "_";
  if (t.language) return `"${t.value}"@${t.language.toLowerCase()}`;
  const dt = t.datatype ?? `${XSD}string`;
  return `"${numericValue(t.value, dt) ?? t.value}"^^${dt}`;
}

function shape(tuple: Tuple): string {
  return tuple.map((t) => (t ? exact(t) : "-")).join(" ");
}

const hasBlank = (tuple: Tuple) => tuple.some((t) => t?.type === "blank");

class Mapping {
  fwd = new Map<string, string>();
  back = new Map<string, string>();
  log: string[] = [];

  unify(a: Tuple, b: Tuple): boolean {
    const mark = this.log.length;
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      const x = a[i];
      const y = b[i];
      if (!x || !y) {
        if (x || y) return this.undo(mark);
        continue;
      }
      if (x.type === "blank" || y.type === "blank") {
        if (x.type !== "blank" || y.type !== "blank") return this.undo(mark);
        const f = this.fwd.get(x.value);
        const r = this.back.get(y.value);
        if (f === undefined && r === undefined) {
          this.fwd.set(x.value, y.value);
          this.back.set(y.value, x.value);
          this.log.push(x.value);
        } else if (f !== y.value || r !== x.value) return this.undo(mark);
      } else if (exact(x) !== exact(y)) return this.undo(mark);
    }
    return true;
  }

  undo(mark: number): false {
    while (this.log.length > mark) {
      const k = this.log.pop() as string;
      const v = this.fwd.get(k) as string;
      this.fwd.delete(k);
      this.back.delete(v);
    }
    return false;
  }
}

function dedupe(tuples: Tuple[]): Tuple[] {
  const seen = new Set<string>();
  const out: Tuple[] = [];
  for (const t of tuples) {
    const k = t.map((x) => (x ? (x.type === "blank" ? `_:${x.value}` : exact(x)) : "-")).join(" ");
    if (!seen.has(k)) {
      seen.add(k);
      out.push(t);
    }
  }
  return out;
}

/**
 * Whether `actual` equals `expected` up to blank node renaming. `ordered` compares position by
 * position; `set` drops duplicates first (graphs); otherwise bags (result rows).
 */
export function isomorphic(actual: Tuple[], expected: Tuple[], mode: "ordered" | "bag" | "set"): boolean {
  let a = actual;
  let b = expected;
  if (mode === "set") {
    a = dedupe(a);
    b = dedupe(b);
  }
  if (a.length !== b.length) return false;
  const m = new Mapping();
  if (mode === "ordered") {
    for (let i = 0; i < a.length; i++) if (!m.unify(a[i] as Tuple, b[i] as Tuple)) return false;
    return true;
  }
  // ground tuples: multiset equality
  const ground = new Map<string, number>();
  for (const t of a) if (!hasBlank(t)) ground.set(shape(t), (ground.get(shape(t)) ?? 0) + 1);
  for (const t of b) {
    if (hasBlank(t)) continue;
    const n = ground.get(shape(t));
    if (!n) return false;
    ground.set(shape(t), n - 1);
  }
  for (const n of ground.values()) if (n !== 0) return false;
  const aBlank = a.filter(hasBlank);
  const bBlank = b.filter(hasBlank);
  if (aBlank.length !== bBlank.length) return false;
  // blank tuples: backtracking over candidates with the same shape, most constrained first
  const byShape = new Map<string, Tuple[]>();
  for (const t of bBlank) {
    const s = shape(t);
    const list = byShape.get(s) ?? [];
    list.push(t);
    byShape.set(s, list);
  }
  const order = aBlank
    .map((t) => ({ t, cands: byShape.get(shape(t)) ?? [] }))
    .sort((x, y) => x.cands.length - y.cands.length);
  if (order.some((o) => o.cands.length === 0)) return false;
  const used = new Set<Tuple>();
  let steps = 0;
  const search = (i: number): boolean => {
    if (i === order.length) return true;
    if (++steps > 500_000) return false;
    const { t, cands } = order[i] as { t: Tuple; cands: Tuple[] };
    for (const c of cands) {
      if (used.has(c)) continue;
      const mark = m.log.length;
      if (!m.unify(t, c)) continue;
      used.add(c);
      if (search(i + 1)) return true;
      used.delete(c);
      m.undo(mark);
    }
    return false;
  };
  return search(0);
}
