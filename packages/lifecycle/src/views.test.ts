// The views `ggen lifecycle` prints, and the verdicts it exits on.
import { describe, expect, it } from "vitest";
import type { Readiness } from "./requirements.js";
import { printRunEvents, readinessFails } from "./views.js";

describe("readinessFails", () => {
  const notReady = { ready: false } as Readiness;
  const ready = { ready: true } as Readiness;

  it("fails a project that is not ready only when a verdict is asked for: --strict or CI", () => {
    expect(readinessFails(notReady, false, {})).toBe(false);
    expect(readinessFails(notReady, true, {})).toBe(true);
    expect(readinessFails(notReady, false, { CI: "true" })).toBe(true);
    expect(readinessFails(notReady, false, { CI: "1" })).toBe(true);
    expect(readinessFails(notReady, false, { CI: "false" })).toBe(false);
    expect(readinessFails(ready, true, { CI: "true" })).toBe(false);
  });
});

describe("printRunEvents", () => {
  it("a line per finished phase, output only in detail, and the live line follows what runs", () => {
    const seen: string[] = [];
    const live: string[] = [];
    const on = printRunEvents({
      info: (t) => seen.push(`info ${t}`),
      verbose: (t) => seen.push(`verbose ${t}`),
      warn: (t) => seen.push(`warn ${t}`),
      progress: { start: (l) => live.push(l), update: (l) => live.push(l), stop: () => live.push("-") },
    });
    on({ type: "phase-start", phase: "a", commands: ["make"] });
    on({ type: "phase-start", phase: "b", commands: [] });
    on({ type: "phase-output", phase: "a", line: "compiling", stream: "stdout" });
    on({ type: "phase-finish", phase: "a", status: "success", durationMs: 1500, exitCode: 0 });
    on({ type: "phase-finish", phase: "b", status: "timed-out", durationMs: 2000, exitCode: null });
    on({ type: "rollback", environment: "prod", from: "r2", to: "r1" });
    expect(seen).toEqual([
      "verbose ▶ a: make",
      "verbose ▶ b: (no commands)",
      "verbose   a | compiling",
      "info ✓ a success in 1.50s",
      "info ✗ b timed-out in 2.00s",
      "warn rolled back prod from r2 to r1",
    ]);
    expect(live).toEqual(["running a", "running a, b", "running b", "-"]);
  });
});
