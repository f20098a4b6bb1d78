import { describe, expect, it } from "vitest";
import { LiveSteps } from "./live.js";

function sink(isTTY: boolean) {
  const chunks: string[] = [];
  return { chunks, stream: { isTTY, write: (c: string) => chunks.push(c) } };
}

describe("LiveSteps", () => {
  it("plain lines when not a TTY: one per finished step, starts only when verbose", () => {
    const s = sink(false);
    const live = new LiveSteps({ stream: s.stream });
    live.start("build");
    live.finish("build", "passed", 1234);
    live.finish("test", "failed", 12, "2 failing");
    live.stop();
    expect(s.chunks.join("")).toBe("✓ build passed (1.2 s)\n✗ test failed (12 ms) — 2 failing\n");
    const v = sink(false);
    new LiveSteps({ stream: v.stream, verbose: true }).start("lint");
    expect(v.chunks.join("")).toBe("… lint\n");
  });

  it("on a TTY: running steps are drawn and erased, finished ones stay", () => {
    const s = sink(true);
    const live = new LiveSteps({ stream: s.stream, intervalMs: 10_000 });
    live.start("a");
    live.start("b");
    expect(s.chunks.at(-1)).toMatch(/^. a \d+ ms\n. b \d+ ms\n$/);
    live.finish("a", "passed", 5);
    const out = s.chunks.join("");
    expect(out).toContain("\x1b[2A\x1b[0J✓ a passed (5 ms)\n");
    expect(s.chunks.at(-1)).toMatch(/^. b \d+ ms\n$/);
    live.stop();
    expect(s.chunks.at(-1)).toBe("\x1b[1A\x1b[0J");
  });

  it("silent when disabled", () => {
    const s = sink(true);
    const live = new LiveSteps({ stream: s.stream, enabled: false });
    live.start("a");
    live.finish("a", "passed", 1);
    live.stop();
    expect(s.chunks).toEqual([]);
  });
});
