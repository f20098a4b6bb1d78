import { describe, expect, it } from "vitest";
import { parseCgroupUsage } from "./usage.js";

describe("cgroup usage (no Docker)", () => {
  it("reads cgroup v2's cpu.stat (µs) and memory.peak", () => {
    const text = [
      "v2.cpu usage_usec 1500000",
      "v2.cpu user_usec 1200000",
      "v2.cpu system_usec 300000",
      "v2.cpu nr_periods 0",
      `v2.peak ${64 * 1024 * 1024}`,
    ].join("\n");
    expect(parseCgroupUsage(text)).toEqual({ cpuUserMs: 1200, cpuSystemMs: 300, peakMemoryMb: 64 });
  });

  it("splits cgroup v1's exact total (ns) by cpuacct.stat's tick ratio", () => {
    const text = [
      "v1.usage 2000000000",
      "v1.stat user 300",
      "v1.stat system 100",
      `v1.peak ${1024 * 1024 * 10}`,
    ].join("\n");
    expect(parseCgroupUsage(text)).toEqual({ cpuUserMs: 1500, cpuSystemMs: 500, peakMemoryMb: 10 });
  });

  it("no CPU figure (nothing readable) is undefined, so the caller asks Docker instead", () => {
    expect(parseCgroupUsage("v1.usage 0\nv1.peak 0\n")).toBeUndefined();
    expect(parseCgroupUsage("")).toBeUndefined();
    expect(parseCgroupUsage("v1.usage abc")).toBeUndefined();
  });
});
