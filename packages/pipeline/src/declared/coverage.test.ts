import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readV8Coverage, v8LineCoverage } from "./coverage.js";

const src = "export function a(x) {\n  if (x) {\n    return 1;\n  }\n\n  return 2;\n}\n";
// V8's block coverage of one run of a(false): the function ran once, the `if` block never.
const ranOnce = [
  { ranges: [{ startOffset: 0, endOffset: src.length, count: 1 }] },
  {
    ranges: [
      { startOffset: 0, endOffset: 60, count: 1 },
      { startOffset: 31, endOffset: 49, count: 0 },
    ],
  },
];

describe("V8 line coverage", () => {
  it("a line takes the count of the innermost range spanning it; blank lines do not count", () => {
    expect(v8LineCoverage(src, [ranOnce])).toEqual({ lines: 6, covered: 5 });
  });

  it("several processes' dumps of one script: covered when any covered it", () => {
    const other = [{ ranges: [{ startOffset: 0, endOffset: src.length, count: 1 }] }];
    expect(v8LineCoverage(src, [ranOnce, other])).toEqual({ lines: 6, covered: 6 });
  });

  const dir = mkdtempSync(join(tmpdir(), "v8cov-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("reads the dumps of the generated sources only: no tests, no node_modules, nothing outside", async () => {
    const root = join(dir, "out");
    mkdirSync(join(root, "src"), { recursive: true });
    mkdirSync(join(root, "dumps"));
    writeFileSync(join(root, "src", "a.mjs"), src);
    const script = (path: string) => ({ url: `file:///env/workspace/${path}`, functions: ranOnce });
    writeFileSync(
      join(root, "dumps", "coverage-1.json"),
      JSON.stringify({
        result: [
          script("src/a.mjs"),
          script("test/a.test.mjs"),
          script("node_modules/pg/index.js"),
          { url: "node:internal/main", functions: ranOnce },
          { url: "file:///elsewhere/x.mjs", functions: ranOnce },
        ],
      }),
    );
    expect(await readV8Coverage(join(root, "dumps"), root, "/env/workspace")).toEqual({
      status: "measured",
      percent: 83.33,
      lines: 6,
      covered: 5,
      tool: "v8",
    });
    expect(await readV8Coverage(join(dir, "none"), root, "/env/workspace")).toMatchObject({
      status: "unavailable",
      reason: expect.stringMatching(/no V8 coverage/),
    });
  });
});
