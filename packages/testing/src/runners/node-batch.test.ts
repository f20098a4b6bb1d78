import { describe, expect, it, vi } from "vitest";
import { spawnExec } from "../exec.js";
import { scratchDir } from "../scratch.test-support.js";
import { runTests } from "../testrun.js";
import { planUnits } from "./index.js";

vi.setConfig({ testTimeout: 60_000 });

const { root, write } = scratchDir("testing-batch-");

const run = (files: string[]) => runTests(files, { root, exec: spawnExec, parallel: true, batch: true });
const byId = (tests: { id: string; status: string }[]) =>
  Object.fromEntries(tests.map((t) => [t.id, t.status]));

describe("node test files in one process (batch)", () => {
  it("gives each file its own tests, hooks and module scope, with the ids of a process per file", async () => {
    write("b1/lib.mjs", "export const twice = (n) => n * 2;\n");
    const a = write(
      "b1/a.test.mjs",
      `import { test, before } from "node:test";
import assert from "node:assert/strict";
import { twice } from "./lib.mjs";
let ready = false;
before(() => { ready = true; });
test("twice", () => assert.equal(twice(2), 4));
test("hook ran", () => assert.ok(ready));
test("own url", () => assert.match(import.meta.url, /a\\.test\\.mjs$/));
`,
    );
    const b = write(
      "b1/sub/b.test.mjs",
      `import { describe, test, after } from "node:test";
import assert from "node:assert/strict";
const { twice } = await import("../lib.mjs");
describe("group", () => { test("fails", () => assert.equal(twice(1), 3)); });
test("no hook of a.test here", () => assert.equal(typeof after, "function"));
`,
    );
    const c = write("b1/empty.test.mjs", "export {};\n");
    const units = planUnits(root, [a, b, c], undefined, { batch: true });
    expect(units).toEqual([
      { runner: "node", dir: ".", files: ["b1/a.test.mjs", "b1/sub/b.test.mjs", "b1/empty.test.mjs"] },
    ]);
    const r = await run([a, b, c]);
    expect(byId(r.tests)).toEqual({
      "b1/a.test.mjs#twice": "passed",
      "b1/a.test.mjs#hook ran": "passed",
      "b1/a.test.mjs#own url": "passed",
      "b1/sub/b.test.mjs#group > fails": "failed",
      "b1/sub/b.test.mjs#no hook of a.test here": "passed",
      "b1/empty.test.mjs#empty.test.mjs": "passed",
    });
    const failed = r.tests.find((t) => t.status === "failed")!;
    expect(failed.suite).toBe("group");
    expect(failed.failureMessage).toMatch(/Expected values to be strictly equal/);
    expect(r.timeline.map((t) => t.name)).toEqual(["node (3 files)"]);
  });

  it("runs a file's tests one at a time, as a process per file does, while files run side by side", async () => {
    // Each test holds a shared slot across a timer: were two of one file's tests run at once, the second
    // would find the slot taken.
    const body = (name: string) => `import { test } from "node:test";
import assert from "node:assert/strict";
let busy = false;
for (const n of [1, 2, 3])
  test("${name} " + n, async () => {
    assert.equal(busy, false, "another test of this file is running");
    busy = true;
    await new Promise((r) => setTimeout(r, 50));
    busy = false;
  });
`;
    const files = ["b4/x.test.mjs", "b4/y.test.mjs"].map((f, i) => write(f, body(i === 0 ? "x" : "y")));
    const r = await run(files);
    expect(Object.values(byId(r.tests))).toEqual(Array(6).fill("passed"));
  });

  it("names a file that does not load, and the files a crash left without a result", async () => {
    const ok = write("b2/ok.test.mjs", `import { test } from "node:test";\ntest("fine", () => {});\n`);
    const broken = write("b2/broken.test.mjs", `import { nothing } from "./missing.mjs";\n`);
    const exits = write(
      "b2/exits.test.mjs",
      `import { test } from "node:test";\ntest("exits", () => { process.exit(7); });\n`,
    );
    const r = await run([ok, broken, exits]);
    const status = byId(r.tests);
    expect(status["b2/broken.test.mjs#(file)"]).toBe("errored");
    expect(r.tests.find((t) => t.id === "b2/broken.test.mjs#(file)")!.failureMessage).toMatch(/missing\.mjs/);
    // process.exit ended the one process: no file may pass without having reported.
    expect(status["b2/exits.test.mjs#(file)"]).toBe("errored");
    expect(r.tests.find((t) => t.id === "b2/exits.test.mjs#(file)")!.failureMessage).toMatch(/exit code 7/);
    expect(r.tests.every((t) => t.file.startsWith("b2/"))).toBe(true);
  });

  it("keeps CommonJS and TypeScript files in a process of their own", () => {
    const m = write("b3/a.test.mjs", "");
    const c = write("b3/b.test.cjs", "");
    const j = write("b3/c.test.js", "");
    const units = planUnits(root, [m, c, j], undefined, { batch: true });
    expect(units.map((u) => u.files)).toEqual([["b3/a.test.mjs"], ["b3/b.test.cjs"], ["b3/c.test.js"]]);
    write("b4/package.json", '{ "type": "module" }');
    const j2 = write("b4/c.test.js", "");
    const m2 = write("b4/a.test.mjs", "");
    expect(planUnits(root, [m2, j2], undefined, { batch: true }).map((u) => u.files)).toEqual([
      ["b4/a.test.mjs", "b4/c.test.js"],
    ]);
  });
});
