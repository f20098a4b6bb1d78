import { describe, expect, it } from "vitest";
import { Output } from "./output.js";
import { table } from "./table.js";

describe("table", () => {
  it("aligns columns and clips long cells", () => {
    const t = table(
      [
        { id: "a", q: 9, d: "short" },
        { id: "longer-id", q: 100, d: "a very long description indeed" },
      ],
      [
        { header: "ID", value: (r) => r.id },
        { header: "QUALITY", value: (r) => r.q, align: "right" },
        { header: "DESCRIPTION", value: (r) => r.d, max: 12 },
      ],
    );
    const lines = t.split("\n");
    expect(lines[0]).toBe("ID         QUALITY  DESCRIPTION");
    expect(lines[2]).toBe("a                9  short");
    expect(lines[3]).toBe("longer-id      100  a very long…");
  });

  it("keeps every line across its batched joins; blank cells and padding only before something shown", () => {
    const rows = Array.from({ length: 3000 }, (_, i) => ({ a: i % 3 === 0 ? "" : `r${i}`, b: `v${i}` }));
    const lines = table(rows, [
      { header: "", value: (r) => r.a },
      { header: " ", value: (r) => r.b, align: "right" },
    ]).split("\n");
    // The header line shows nothing, so the table starts at its rule.
    expect(lines).toHaveLength(3001);
    expect(lines[0]).toBe("-----  -----");
    for (const i of [0, 1, 1023, 1024, 1025, 2047, 2048, 2999])
      expect(lines[i + 1], `row ${i}`).toBe(`${rows[i]!.a.padEnd(5)}  ${rows[i]!.b.padStart(5)}`);
    // A narrow cell under a wide column gets no trailing padding.
    const wide = table(
      [
        { k: "x", v: "y".repeat(10_000) },
        { k: "short", v: "" },
      ],
      [
        { header: "K", value: (r) => r.k },
        { header: "V", value: (r) => r.v },
      ],
    ).split("\n");
    expect(wide[3]).toBe("short");
    expect(wide[2]).toBe(`x      ${"y".repeat(10_000)}`);
  });
});

describe("Output", () => {
  const sink = () => {
    const chunks: string[] = [];
    return { chunks, w: { write: (s: string) => chunks.push(s) } };
  };
  const opts = { json: false, verbose: false, quiet: false, debug: false, color: false, cwd: "/" };

  it("prints JSON with --json and text otherwise", () => {
    const a = sink();
    new Output({ ...opts, json: true }, a.w, a.w).data({ x: 1 }, () => "text");
    expect(JSON.parse(a.chunks.join(""))).toEqual({ x: 1 });
    const b = sink();
    new Output(opts, b.w, b.w).data({ x: 1 }, () => "text");
    expect(b.chunks.join("")).toBe("text\n");
  });

  it("--quiet silences notes but never warnings", () => {
    const s = sink();
    const o = new Output({ ...opts, quiet: true }, s.w, s.w);
    o.info("note");
    o.warn("careful");
    expect(s.chunks.join("")).toBe("warning: careful\n");
  });
});
