import { describe, expect, it } from "vitest";
import { describeCoverage, parseLlvmCovExport, parseLlvmVersion } from "./coverage.js";

const file = (filename: string, count: number, covered: number) => ({
  filename,
  summary: { lines: { count, covered, percent: 0 } },
});

describe("coverage parsing", () => {
  it("reads the LLVM major of Debian's, rustup's and upstream's tools", () => {
    expect(parseLlvmVersion("Debian LLVM version 22.1.8\n  Optimized build.")).toBe(22);
    expect(parseLlvmVersion("LLVM (http://llvm.org/):\n  LLVM version 19.1.7-rust-1.85.0-stable")).toBe(19);
    expect(parseLlvmVersion("llvm-profdata: Unknown command!")).toBeUndefined();
  });

  it("counts the crate's own files only: not the target dir, not dependencies or std", () => {
    const json = JSON.stringify({
      data: [
        {
          files: [
            file("/work/crate/src/lib.rs", 92, 87),
            file("/work/crate/src/main.rs", 10, 10),
            file("/work/crate/tests/cli.rs", 18, 17),
            file("/work/crate/target/debug/build/x/out/gen.rs", 50, 0),
            file("/usr/share/cargo/registry/serde-1.0.152/src/de/mod.rs", 400, 3),
            file("/rustc/59807616e/library/core/src/fmt/mod.rs", 300, 20),
          ],
        },
      ],
    });
    const c = parseLlvmCovExport(json, { root: "/work/crate" });
    expect(c).toEqual({
      percent: 95,
      lines: 120,
      covered: 114,
      files: [
        { file: "src/lib.rs", lines: 92, covered: 87, percent: 94.57 },
        { file: "src/main.rs", lines: 10, covered: 10, percent: 100 },
        { file: "tests/cli.rs", lines: 18, covered: 17, percent: 94.44 },
      ],
    });
  });

  it("is an error, not 0 %, when llvm-cov saw none of the crate", () => {
    const json = JSON.stringify({ data: [{ files: [file("/elsewhere/lib.rs", 10, 5)] }] });
    expect(() => parseLlvmCovExport(json, { root: "/work/crate" })).toThrow(/no line of \/work\/crate/);
  });

  it("describes a figure, or its absence with the reason", () => {
    expect(describeCoverage({ status: "unavailable", reason: "no llvm-profdata of LLVM 22" })).toBe(
      "unavailable (no llvm-profdata of LLVM 22)",
    );
  });
});
