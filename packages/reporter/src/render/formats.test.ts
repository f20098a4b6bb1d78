import { describe, expect, it } from "vitest";
import { sampleRun } from "./fixtures.test-helpers.js";
import { renderRun } from "./formats.js";
import { renderGithubAnnotations } from "./github.js";

describe("TAP", () => {
  it("a plan, a point per test, SKIP directives and a YAML block under each failure", () => {
    const run = sampleRun(6);
    run.tests[2]!.line = 12;
    run.tests[0]!.name = "has # and\nnewline";
    const tap = renderRun(run, "tap");
    const lines = tap.split("\n");
    expect(lines.slice(0, 2)).toEqual(["TAP version 14", "1..6"]);
    expect(lines.filter((l) => /^(not )?ok \d+ - /.test(l))).toHaveLength(6);
    expect(tap).toContain("ok 1 - test/file0.test.mjs > suite <a & b> > has \\# and newline\n");
    expect(tap).toContain("not ok 3 - test/file2.test.mjs > suite <a & b> > case 2\n  ---\n");
    expect(tap).toContain('  message: "expected 2 to be \\"3\\" <&>"\n');
    expect(tap).toContain('  file: "test/file2.test.mjs"\n  line: 12\n');
    expect(tap).toMatch(/^ok 5 - test\/file0\.test\.mjs > suite <a & b> > case 4 # SKIP$/m);
    expect(tap.trimEnd().split("\n").at(-1)).toBe("# 3 passed, 2 failed, 1 skipped");
  });
});

describe("GitHub Actions annotations", () => {
  it("an ::error per failed test with file, line and title; a notice with the counts; escaped", () => {
    const run = sampleRun(6);
    run.tests[2]!.line = 12;
    run.tests[5]!.failureMessage = "50% off,\nsecond line";
    run.tests[5]!.file = "test/a:b,c.mjs";
    const text = renderGithubAnnotations(run);
    const lines = text.trimEnd().split("\n");
    expect(lines[0]).toBe(
      '::error file=test/file2.test.mjs,line=12,title=suite <a & b> > case 2 [failed]::expected 2 to be "3" <&>',
    );
    expect(lines[1]).toBe(
      "::error file=test/a%3Ab%2Cc.mjs,title=case 5 [failed]::50% off,%0Asecond line".replace("50%", "50%25"),
    );
    expect(lines[2]).toBe(
      "::notice title=cleanroom::FAILED 6 tests: 3 passed, 2 failed, 1 skipped (run-20260113-100000-1a2b)",
    );
    expect(lines).toHaveLength(3);
  });
});
