import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseFmtCheck, rustSources } from "./fmt.js";

// As rustfmt 1.9 prints it (colors included) for a one-line function body.
const ESC = "\x1b";
const current = [
  "Diff in /work/crate/src/lib.rs:191:",
  " #[cfg(test)]",
  " mod more {",
  "     #[test]",
  `${ESC}[31m-    fn x() { let v = vec![1]; assert_eq!(v.len(), 1); }`,
  `${ESC}(B${ESC}[m${ESC}[32m+    fn x() {`,
  `${ESC}(B${ESC}[m${ESC}[32m+        let v = vec![1];`,
  `${ESC}(B${ESC}[m${ESC}[32m+    }`,
  `${ESC}(B${ESC}[m }`,
  "Diff in /work/crate/tests/cli.rs:3:",
  "-use std::process::{Command};",
  "+use std::process::Command;",
  "",
].join("\n");

describe("parseFmtCheck", () => {
  it("gives each file its hunks, relative to the crate, and lists the formatted files too", () => {
    const r = parseFmtCheck(current, 1, {
      root: "/work/crate",
      files: ["src/lib.rs", "src/main.rs", "tests/cli.rs"],
    });
    expect(r.formatted).toBe(false);
    expect(r.unformatted).toEqual(["src/lib.rs", "tests/cli.rs"]);
    expect(r.files.map((f) => [f.file, f.formatted])).toEqual([
      ["src/lib.rs", false],
      ["src/main.rs", true],
      ["tests/cli.rs", false],
    ]);
    expect(r.files[0]?.hunks).toEqual([
      {
        line: 191,
        removed: ["    fn x() { let v = vec![1]; assert_eq!(v.len(), 1); }"],
        added: ["    fn x() {", "        let v = vec![1];", "    }"],
      },
    ]);
  });

  it("reads older rustfmt's 'at line' headers", () => {
    const r = parseFmtCheck("Diff in /c/src/main.rs at line 4:\n-a\n+b\n", 1, { root: "/c" });
    expect(r.files).toEqual([
      { file: "src/main.rs", formatted: false, hunks: [{ line: 4, removed: ["a"], added: ["b"] }] },
    ]);
  });

  it("passes clean output, and reports rustfmt's errors and an unexplained failure", () => {
    expect(parseFmtCheck("", 0, { files: ["src/lib.rs"] })).toEqual({
      formatted: true,
      files: [{ file: "src/lib.rs", formatted: true, hunks: [] }],
      unformatted: [],
      errors: [],
    });
    const broken = parseFmtCheck("error: expected item, found `}`\n --> /c/src/lib.rs:3:1\n", 1);
    expect(broken).toMatchObject({ formatted: false, errors: ["expected item, found `}`"] });
    expect(parseFmtCheck("", 101).errors).toEqual(["cargo fmt --check exited 101"]);
  });

  it("rustSources lists the .rs files rustfmt looks at", async () => {
    const dir = await mkdtemp(join(tmpdir(), "ggen-fmt-"));
    try {
      for (const f of [
        "src/lib.rs",
        "src/bin/tool.rs",
        "tests/cli.rs",
        "build.rs",
        "README.md",
        "target/x.rs",
      ]) {
        await mkdir(join(dir, f, ".."), { recursive: true });
        await writeFile(join(dir, f), "");
      }
      expect(await rustSources(dir)).toEqual(["build.rs", "src/bin/tool.rs", "src/lib.rs", "tests/cli.rs"]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
