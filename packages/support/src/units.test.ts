import { describe, expect, it } from "vitest";
import { formatSize, parseDuration, parseSize } from "./index.js";

describe("parseDuration", () => {
  it("reads the seed forms and bare seconds", () => {
    const f = { flag: "--timeout" };
    expect(parseDuration("50s", f)).toBe(50_000);
    expect(parseDuration("2m", f)).toBe(120_000);
    expect(parseDuration("1500ms", f)).toBe(1500);
    expect(parseDuration("1.5h", f)).toBe(5_400_000);
    expect(parseDuration("60", f)).toBe(60_000);
    expect(parseDuration(2678400, f)).toBe(2_678_400_000);
    expect(parseDuration("250", { flag: "timeout_ms", bare: "ms" })).toBe(250);
  });
  it("echoes what was typed, never NaN", () => {
    for (const bad of ["fast", "5x", "", "-3s", "0"])
      expect(() => parseDuration(bad, { flag: "--timeout" })).toThrow(`--timeout ${JSON.stringify(bad)}`);
    expect(() => parseDuration("abc", { flag: "--timeout" })).not.toThrow(/NaN/);
  });
});

describe("parseSize", () => {
  it("reads K/M/G/T (powers of 1024), with or without B/iB", () => {
    const f = { flag: "--memory" };
    expect(parseSize("4G", f)).toBe(4 * 1024 ** 3);
    expect(parseSize("512MiB", f)).toBe(512 * 1024 ** 2);
    expect(parseSize("64kb", f)).toBe(64 * 1024);
    expect(parseSize("100", f)).toBe(100);
    expect(parseSize("512", { flag: "--memory", bare: "M" })).toBe(512 * 1024 ** 2);
    expect(() => parseSize("lots", f)).toThrow('--memory "lots": expected a size such as 512M or 4G');
  });
  it("formats a limit for a message", () => {
    expect(formatSize(512 * 1024 ** 2)).toBe("512 MiB");
    expect(formatSize(1536)).toBe("1536 B");
    expect(formatSize(4 * 1024 ** 3)).toBe("4 GiB");
  });
});
