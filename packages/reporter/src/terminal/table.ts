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
/** Lines joined into one string at a time (see `table`). */
const LINES_PER_JOIN = 1024;

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

/** Runs of spaces by length, made once each: a table pads its cells with a handful of widths. */
const SPACES: string[] = [];
function spaces(n: number): string {
  if (n >= 256) return " ".repeat(n);
  SPACES[n] ??= " ".repeat(n);
  return SPACES[n];
}

const isBlank = (p: string) => p.length === 0 || (p.charCodeAt(p.length - 1) === 32 && p.trim() === "");

/**
 * One line of `vals` (with their widths `ws`, both from `at`) in columns `widths` wide. The blanks of a
 * line are made only when something follows them: the padding after a left-aligned cell waits for the
 * next non-blank cell, so a line never ends in padding, and a narrow cell under a 64 MiB column gets no
 * 64 MiB of spaces to drop. The last cell loses its trailing whitespace.
 */
function renderLine<Row>(
  vals: readonly string[],
  ws: ArrayLike<number>,
  at: number,
  widths: readonly number[],
  columns: readonly Column<Row>[],
): string {
  let line = "";
  let before = ""; // the line before its last cell, for that cell's trim
  let last = "";
  // Owed before the next non-blank cell: `owed` spaces, after the blank cells `held` (each with the
  // padding before it) — rare, so the list is made only for one.
  let owed = 0;
  let held: string[] | undefined;
  for (let i = 0; i < widths.length; i++) {
    const pad = Math.max(0, widths[i]! - ws[at + i]!);
    const right = columns[i]?.align === "right";
    if (i > 0) owed += 2;
    if (right) owed += pad;
    const v = vals[at + i]!;
    if (isBlank(v)) {
      held ??= [];
      held.push(spaces(owed), v);
      owed = 0;
    } else {
      if (held) {
        for (const h of held) line += h;
        held = undefined;
      }
      if (owed > 0) line += spaces(owed);
      before = line;
      last = v;
      line += v;
      owed = 0;
    }
    if (!right) owed += pad;
  }
  return /\s/.test(last.slice(-1)) ? before + last.trimEnd() : line;
}

export function table<Row>(rows: readonly Row[], columns: readonly Column<Row>[]): string {
  const n = columns.length;
  const widths = columns.map((c) => width(c.header));
  // Flat, row after row: no array per row (300,000 rows are 600,000 objects less for the GC).
  const cells: string[] = new Array(rows.length * n);
  const cellWidths = new Float64Array(rows.length * n);
  for (let r = 0, k = 0; r < rows.length; r++) {
    for (let i = 0; i < n; i++, k++) {
      const c = columns[i]!;
      const v = clip(escapeControl(String(c.value(rows[r]!))), c.max);
      const w = width(v);
      cells[k] = v;
      cellWidths[k] = w;
      if (w > widths[i]!) widths[i] = w;
    }
  }
  // Lines are joined a batch at a time: a line is a rope of its pieces until it is flattened, and 300,000
  // of them, all alive until one join at the end, outgrow V8's young generation (each then copied and
  // promoted: ≈ 14× the time of 37,500 rows instead of 8×).
  const out: string[] = [];
  let batch: string[] = [];
  const emit = (l: string) => {
    // Empty lines before the first that shows anything (blank headers) are left out.
    if (l === "" && out.length === 0 && batch.length === 0) return;
    batch.push(l);
    if (batch.length === LINES_PER_JOIN) {
      out.push(batch.join("\n"));
      batch = [];
    }
  };
  const headers = columns.map((c) => c.header);
  emit(
    renderLine(
      headers,
      headers.map((h) => width(h)),
      0,
      widths,
      columns,
    ),
  );
  // The rule under a header stops at RULE_MAX: a 64 MiB cell needs no 64 MiB of dashes.
  const rules = widths.map((w) => Math.min(w, RULE_MAX));
  emit(
    renderLine(
      rules.map((w) => "-".repeat(w)),
      rules,
      0,
      widths,
      columns,
    ),
  );
  for (let r = 0; r < rows.length; r++) emit(renderLine(cells, cellWidths, r * n, widths, columns));
  if (batch.length > 0) out.push(batch.join("\n"));
  return out.join("\n");
}
