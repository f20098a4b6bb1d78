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
