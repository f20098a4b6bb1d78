import { describe, expect, it } from "vitest";
import { parseRustcVersion } from "./toolchain.js";

describe("parseRustcVersion", () => {
  it("reads release, host, commit and the LLVM rustc was built with", () => {
    const v = parseRustcVersion(
      "rustc 1.95.0 (59807616e 2026-04-14)\nbinary: rustc\ncommit-hash: 59807616e1fa2540724bfbac14d7976d7e4a3860\n" +
        "commit-date: 2026-04-14\nhost: x86_64-unknown-linux-gnu\nrelease: 1.95.0\nLLVM version: 22.1.2\n",
    );
    expect(v).toEqual({
      release: "1.95.0",
      host: "x86_64-unknown-linux-gnu",
      commitHash: "59807616e1fa2540724bfbac14d7976d7e4a3860",
      llvmVersion: "22.1.2",
      llvmMajor: 22,
    });
  });

  it("leaves the LLVM out when rustc does not say, and rejects other output", () => {
    expect(parseRustcVersion("release: 1.70.0\nhost: aarch64-apple-darwin\n").llvmMajor).toBeUndefined();
    expect(() => parseRustcVersion("error: no such command")).toThrow(/unexpected 'rustc -vV' output: error/);
  });
});
