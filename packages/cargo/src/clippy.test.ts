// Real `cargo clippy --message-format=json` output (test/fixtures, paths shortened): a crate with a
// needless `return` in its library and a useless `vec!` in a test module.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseClippyJson } from "./clippy.js";

const fixture = (name: string) =>
  readFileSync(join(import.meta.dirname, "..", "test", "fixtures", name), "utf8");

describe("parseClippyJson", () => {
  it("counts each lint once, though the lib and its test build both report it", () => {
    const r = parseClippyJson(fixture("clippy-warnings.jsonl"));
    expect(r.warnings).toBe(2);
    expect(r.errors).toBe(0);
    expect(r.success).toBe(true);
    expect(r.byLint).toEqual({ "clippy::needless_return": 1, "clippy::useless_vec": 1 });
    expect(r.lints[0]).toMatchObject({
      level: "warning",
      code: "clippy::needless_return",
      message: "unneeded `return` statement",
      file: "src/lib.rs",
      line: 188,
      column: 5,
      target: "my_service (lib)",
    });
    expect(r.lints[0]?.rendered).toMatch(/^warning: unneeded `return` statement/);
  });

  it("still counts lints as warnings when -D warnings made them errors, and sees the build fail", () => {
    const r = parseClippyJson(fixture("clippy-denied.jsonl"));
    expect(r.warnings).toBe(2);
    expect(r.errors).toBe(0);
    expect(r.lints.every((l) => l.level === "error")).toBe(true);
    expect(r.success).toBe(false);
  });

  it("tells a compile error from a lint", () => {
    const r = parseClippyJson(fixture("clippy-error.jsonl"));
    expect(r.warnings).toBe(0);
    expect(r.errors).toBe(1);
    expect(r.errorList[0]).toMatchObject({ code: "E0308", message: "mismatched types", line: 185 });
    expect(r.success).toBe(false);
  });

  it("ignores what is not cargo's JSON and summaries, and has no verdict without build-finished", () => {
    const summary = JSON.stringify({
      reason: "compiler-message",
      target: { name: "x", kind: ["lib"] },
      message: { level: "warning", message: "2 warnings emitted", code: null, spans: [] },
    });
    const r = parseClippyJson(`running 3 tests\n{not json\n${summary}\n`);
    expect(r).toMatchObject({ warnings: 0, errors: 0 });
    expect(r.success).toBeUndefined();
  });
});
