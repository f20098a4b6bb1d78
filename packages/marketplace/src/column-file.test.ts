import { describe, expect, it } from "vitest";
import { bufferSource, decodeColumns, encodeColumns, Int32Slices, StringColumn } from "./column-file.js";

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

  it("leaves the i32 columns named lazy where they are, and reads any slice of them exactly", () => {
    const postings = Int32Array.from({ length: 1001 }, (_, i) => ((i * 7919) % 4093) - 2000);
    const bytes = encodeColumns("test/1", { ...columns, postings });
    // At an odd offset too: a slice whose bytes do not start on 8 is copied before it is viewed.
    const shifted = Buffer.alloc(bytes.length + 3);
    bytes.copy(shifted, 3);
    for (const data of [bytes, bufferSource(shifted.subarray(3))]) {
      const c = decodeColumns("test/1", data, new Set(["postings", "scores"]))!;
      const lazy = c.get("postings");
      expect(lazy).toBeInstanceOf(Int32Slices);
      const slices = lazy as Int32Slices;
      expect(slices.length).toBe(1001);
      for (const [from, to] of [
        [0, 1001],
        [0, 0],
        [3, 4],
        [500, 777],
        [1000, 1001],
      ] as const)
        expect([...slices.subarray(from, to)]).toEqual([...postings.subarray(from, to)]);
      expect(() => slices.subarray(10, 5)).toThrow(RangeError);
      expect(() => slices.subarray(0, 1002)).toThrow(RangeError);
      expect(() => slices.subarray(-1, 3)).toThrow(RangeError);
      // Only i32 columns are left lazy; the others load as always.
      expect([...(c.get("scores") as Float64Array)]).toEqual([0.1, 1e300, Number.NaN]);
      expect([...(c.get("starts") as Int32Array)]).toEqual([0, 5, -7]);
    }
    // A file cut inside a lazy column is refused all the same.
    expect(
      decodeColumns("test/1", bytes.subarray(0, bytes.length - 8), new Set(["postings"])),
    ).toBeUndefined();
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
