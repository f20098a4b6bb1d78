import { describe, expect, it } from "vitest";
import { isoTime } from "./index.js";

describe("isoTime", () => {
  it("gives what toISOString gives, across the years it writes itself and past them", () => {
    const span = Date.UTC(10000, 0, 1);
    const samples = [0, -1, 1, Date.UTC(1999, 11, 31, 23, 59, 59, 999), Date.UTC(2000, 1, 29, 12), span - 1];
    for (let i = 0; i < 5000; i++) samples.push(Math.floor(Math.random() * span));
    // Outside 0–9999 (±YYYYYY), handed to V8.
    samples.push(Date.UTC(-1, 0, 1), span, 8.64e15, -8.64e15);
    for (const ms of samples) {
      expect(isoTime(ms)).toBe(new Date(ms).toISOString());
      expect(isoTime(new Date(ms))).toBe(new Date(ms).toISOString());
    }
  });

  it("is now by default, and refuses an invalid date as toISOString does", () => {
    const before = Date.now();
    const t = Date.parse(isoTime());
    expect(t).toBeGreaterThanOrEqual(before);
    expect(t).toBeLessThanOrEqual(Date.now());
    expect(() => isoTime(Number.NaN)).toThrow(RangeError);
    expect(() => isoTime(new Date("not a date"))).toThrow("Invalid time value");
  });
});
