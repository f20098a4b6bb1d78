import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { type CommandOutput, PARSERS } from "./parsers.js";

const out = (o: Partial<CommandOutput>): CommandOutput => ({
  exitCode: 0,
  stdout: "",
  stderr: "",
  timedOut: false,
  durationMs: 1,
  ...o,
});
const fixtures = join(import.meta.dirname, "..", "..", "..", "cargo", "test", "fixtures");

describe("the named parsers", () => {
  it("libtest: per-test results; a crate that does not compile says so", async () => {
    const text =
      "running 2 tests\ntest tests::a ... ok\ntest tests::b ... FAILED\n\nfailures:\n\n---- tests::b stdout ----\nthread 'tests::b' panicked at src/lib.rs:9:5:\nboom\n\nfailures:\n    tests::b\n\ntest result: FAILED. 1 passed; 1 failed\n";
    const f = await PARSERS.libtest({
      stage: "test",
      root: "/c",
      output: out({ exitCode: 101, stdout: text }),
    });
    expect(f).toMatchObject({ ok: false, summary: "1/2 passed; failed: tests::b" });
    expect(f.tests?.find((t) => t.name === "tests::b")?.failureMessage).toBe("boom");
    const broken = await PARSERS.libtest({
      stage: "test",
      root: "/c",
      output: out({
        exitCode: 101,
        stderr: "error[E0308]: mismatched types\nerror: could not compile `x` (lib test)\n",
      }),
    });
    expect(broken).toMatchObject({ ok: false, summary: "does not compile: error[E0308]: mismatched types" });
  });

  it("clippy-json: lints counted as warnings (also under -D warnings), with where they are", async () => {
    const stdout = readFileSync(join(fixtures, "clippy-warnings.jsonl"), "utf8");
    const f = await PARSERS["clippy-json"]({
      stage: "clippy",
      root: "/c",
      output: out({ exitCode: 101, stdout }),
    });
    expect(f.ok).toBe(false);
    expect(f.lintWarnings).toBeGreaterThan(0);
    expect(f.summary).toMatch(/^\d+ warnings? \(/);
    expect(f.findings?.[0]).toMatchObject({ check: "lint", severity: "warning" });
  });

  it("exit-code: the first error line says why", async () => {
    expect(await PARSERS["exit-code"]({ stage: "doc", root: "/c", output: out({}) })).toEqual({
      ok: true,
      summary: "ok",
    });
    expect(
      await PARSERS["exit-code"]({
        stage: "doc",
        root: "/c",
        output: out({ exitCode: 101, stderr: "warning: x\nerror: unresolved link\n" }),
      }),
    ).toEqual({ ok: false, summary: "error: unresolved link" });
  });

  it("cargo-package: a package that cargo refuses fails with cargo's reason", async () => {
    const stderr =
      "error: `my_service` cannot be published.\n`package.publish` must be set to `true` or a non-empty list in Cargo.toml to publish.\n";
    const f = await PARSERS["cargo-package"]({
      stage: "package",
      root: "/c",
      output: out({ exitCode: 101, stderr }),
    });
    expect(f.ok).toBe(false);
    expect(f.summary).toMatch(/cannot be published/);
  });
});
