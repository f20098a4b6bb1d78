// Plain aligned text tables; no dependency needed for left/right-aligned columns. Linear in the size of
// the cells (a 64 MiB value, 300,000 rows): widths are counted without spreading strings into arrays or
// arguments, and cells are escaped like error lines — a registry's description is not allowed to move
// the cursor.

import { escapeControl } from "./error-line.js";

export interface Column<Row> {
  header: string;
  value: (row: Row) => string | number;
  align?: "left" | "right";
  max?: number;
}

const RULE_MAX = 80;

const SURROGATE = /[\ud800-\udfff]/;

/** Code points in `s` (a surrogate pair is one). */
function width(s: string): number {
  if (!SURROGATE.test(s)) return s.length;
  let n = s.length;
  for (let i = 0; i < s.length - 1; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n--;
        i++;
      }
    }
  }
  return n;
}

/** The first `count` code points of `s`. */
function head(s: string, count: number): string {
  let i = 0;
  for (let seen = 0; seen < count && i < s.length; seen++) {
    const c = s.charCodeAt(i);
    i += c >= 0xd800 && c <= 0xdbff && i + 1 < s.length ? 2 : 1;
  }
  return s.slice(0, i);
}

function clip(s: string, max: number | undefined): string {
  // A string has at least as many code units as code points: short ones need no count.
  if (!max || s.length <= max || width(s) <= max) return s;
  return `${head(s, Math.max(0, max - 1))}…`;
}

export function table<Row>(rows: readonly Row[], columns: readonly Column<Row>[]): string {
  const widths = columns.map((c) => width(c.header));
  const cells: string[][] = new Array(rows.length);
  const cellWidths: number[][] = new Array(rows.length);
  for (let r = 0; r < rows.length; r++) {
    const row: string[] = new Array(columns.length);
    const rowWidths: number[] = new Array(columns.length);
    for (let i = 0; i < columns.length; i++) {
      const c = columns[i]!;
      const v = clip(escapeControl(String(c.value(rows[r]!))), c.max);
      const w = width(v);
      row[i] = v;
      rowWidths[i] = w;
      if (w > widths[i]!) widths[i] = w;
    }
    cells[r] = row;
    cellWidths[r] = rowWidths;
  }
  // One list of pieces for the whole table, joined once. Trailing blanks are dropped piece by piece,
  // never by trimming a whole (possibly huge) line.
  const pieces: string[] = [];
  const isBlank = (p: string) => p.length === 0 || (p.charCodeAt(p.length - 1) === 32 && p.trim() === "");
  const line = (vals: readonly string[], ws: readonly number[]) => {
    if (pieces.length > 0) pieces.push("\n");
    const start = pieces.length;
    for (let i = 0; i < vals.length; i++) {
      const pad = " ".repeat(Math.max(0, widths[i]! - ws[i]!));
      if (i > 0) pieces.push("  ");
      if (columns[i]?.align === "right") pieces.push(pad, vals[i]!);
      else pieces.push(vals[i]!, pad);
    }
    while (pieces.length > start && isBlank(pieces[pieces.length - 1]!)) pieces.pop();
    const last = pieces.length - 1;
    if (last >= start && /\s/.test(pieces[last]!.slice(-1))) pieces[last] = pieces[last]!.trimEnd();
  };
  const headers = columns.map((c) => c.header);
  line(
    headers,
    headers.map((h) => width(h)),
  );
  // The rule under a header stops at RULE_MAX: a 64 MiB cell needs no 64 MiB of dashes.
  const rules = widths.map((w) => Math.min(w, RULE_MAX));
  line(
    rules.map((w) => "-".repeat(w)),
    rules,
  );
  for (let r = 0; r < cells.length; r++) line(cells[r]!, cellWidths[r]!);
  return pieces.join("");
}
