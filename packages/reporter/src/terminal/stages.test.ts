import { describe, expect, it } from "vitest";
import { StageView } from "./stages.js";

function clock() {
  let t = 0;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe("StageView", () => {
  it("records offsets and durations of overlapping stages", async () => {
    const c = clock();
    const out: string[] = [];
    const v = new StageView(["generation", "setup", "testing"], {
      now: c.now,
      stream: { write: (s) => out.push(s) },
    });
    v.begin("generation");
    v.begin("setup");
    c.advance(300);
    v.end("generation", "success");
    c.advance(200);
    v.end("setup", "success");
    await v.run("testing", async () => c.advance(1000));
    v.close();
    const r = Object.fromEntries(v.records().map((s) => [s.name, s]));
    expect(r.generation).toMatchObject({ startedAtMs: 0, durationMs: 300, status: "success" });
    expect(r.setup).toMatchObject({ startedAtMs: 0, durationMs: 500, status: "success" });
    expect(r.testing).toMatchObject({ startedAtMs: 500, durationMs: 1000, status: "success" });
    expect(out.join("")).toMatch(/✓ generation +0\.30s/);
  });

  it("a throwing stage is failed with its message, and settle skips the rest", async () => {
    const v = new StageView(["a", "b"], { enabled: false });
    await expect(v.run("a", async () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    v.settle("skipped");
    const [a, b] = v.records();
    expect(a).toMatchObject({ status: "failed", message: "boom" });
    expect(b?.status).toBe("skipped");
  });

  it("settle marks running stages timed-out", () => {
    const v = new StageView(["testing"], { enabled: false });
    v.begin("testing");
    v.settle("timed-out", "over --timeout 1s");
    expect(v.records()[0]).toMatchObject({ status: "timed-out", message: "over --timeout 1s" });
    expect(v.running()).toEqual([]);
  });
});
