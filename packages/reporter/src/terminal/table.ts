// Plain aligned text tables; no dependency needed for left/right-aligned columns.

export interface Column<Row> {
  header: string;
  value: (row: Row) => string | number;
  align?: "left" | "right";
  max?: number;
}

const width = (s: string) => [...s].length;

function clip(s: string, max: number | undefined): string {
  if (!max || width(s) <= max) return s;
  return `${[...s].slice(0, Math.max(0, max - 1)).join("")}…`;
}

export function table<Row>(rows: readonly Row[], columns: readonly Column<Row>[]): string {
  const cells = rows.map((r) => columns.map((c) => clip(String(c.value(r)), c.max)));
  const widths = columns.map((c, i) => Math.max(width(c.header), ...cells.map((row) => width(row[i] ?? ""))));
  const fmt = (vals: string[]) =>
    vals
      .map((v, i) => {
        const pad = " ".repeat(Math.max(0, widths[i]! - width(v)));
        return columns[i]?.align === "right" ? pad + v : v + pad;
      })
      .join("  ")
      .trimEnd();
  const lines = [fmt(columns.map((c) => c.header)), fmt(widths.map((w) => "-".repeat(w)))];
  for (const row of cells) lines.push(fmt(row));
  return lines.join("\n");
}
