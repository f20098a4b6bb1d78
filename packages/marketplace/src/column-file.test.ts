import { describe, expect, it } from "vitest";
import { decodeColumns, encodeColumns, StringColumn } from "./column-file.js";

const strings = (c: unknown) => {
  expect(c).toBeInstanceOf(StringColumn);
  const col = c as StringColumn;
  return col.slice(0, col.size);
};

describe("column files", () => {
  const columns = {
    ids: ["io.a", "", "io.b"],
    // Beyond latin1, a lone surrogate, the separators a joined column would have used.
    names: ["Ünïcode ✓", "\ud800 lone", "tab\u001fsep\nline"],
    starts: Int32Array.from([0, 5, -7]),
    scores: Float64Array.from([0.1, 1e300, Number.NaN]),
  };

  it("gives back every column exactly", () => {
    const c = decodeColumns("test/1", encodeColumns("test/1", columns))!;
    expect(strings(c.get("ids"))).toEqual(columns.ids);
    expect(strings(c.get("names"))).toEqual(columns.names);
    expect((c.get("names") as StringColumn).lengthOf(2)).toBe(columns.names[2]!.length);
    expect([...(c.get("starts") as Int32Array)]).toEqual([0, 5, -7]);
    expect([...(c.get("scores") as Float64Array)]).toEqual([0.1, 1e300, Number.NaN]);
  });

  it("reads the same rows one by one and, past the first reads, from the column decoded whole", () => {
    const many = Array.from({ length: 200 }, (_, i) => (i % 3 === 0 ? `ü${i}\ud800` : `row-${i}`));
    const latin = Array.from({ length: 200 }, (_, i) => `ä-${i}`);
    const c = decodeColumns("test/1", encodeColumns("test/1", { many, latin }))!;
    for (const [name, rows] of [
      ["many", many],
      ["latin", latin],
    ] as const) {
      const col = c.get(name) as StringColumn;
      // Twice over: the first reads decode rows, the later ones slice the whole text.
      for (let round = 0; round < 2; round++)
        for (let i = rows.length - 1; i >= 0; i--) expect(col.at(i)).toBe(rows[i]);
    }
  });

  it("loads from a buffer at any byte offset", () => {
    const bytes = encodeColumns("test/1", columns);
    const shifted = Buffer.alloc(bytes.length + 3);
    bytes.copy(shifted, 3);
    const c = decodeColumns("test/1", shifted.subarray(3))!;
    expect(strings(c.get("names"))).toEqual(columns.names);
    expect([...(c.get("scores") as Float64Array)]).toEqual([0.1, 1e300, Number.NaN]);
  });

  it("refuses another format, a truncated file and a damaged header", () => {
    const bytes = encodeColumns("test/1", columns);
    expect(decodeColumns("test/2", bytes)).toBeUndefined();
    expect(decodeColumns("test/1", bytes.subarray(0, bytes.length - 8))).toBeUndefined();
    expect(decodeColumns("test/1", bytes.subarray(0, 20))).toBeUndefined();
    expect(decodeColumns("test/1", Buffer.from('{"format": "test/1+LE", "columns": 3}\n'))).toBeUndefined();
    expect(decodeColumns("test/1", Buffer.from("not json\n"))).toBeUndefined();
  });
});
