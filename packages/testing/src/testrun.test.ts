import { execFileSync } from "node:child_process";
import { mkdirSync, symlinkSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { isGgenError } from "@ggen/contract";
import { describe, expect, it, vi } from "vitest";
import { spawnExec } from "./exec.js";
import { buildRun, hostIsolation } from "./result.js";
import { planUnits } from "./runners/index.js";
import { parseLibtest } from "./runners/libtest.js";
import { parseTap } from "./runners/tap.js";
import { scratchDir } from "./scratch.test-support.js";
import { parseShard } from "./shard.js";
import { runTests, selectFiles, shardFiles } from "./testrun.js";

vi.setConfig({ testTimeout: 60_000 });

const { root, write } = scratchDir("cleanroom-tests-");

// A fixture, not a skipped test of ours: its test.skip is there so the runner's parser must report a skipped test.
const NODE_TEST = `import { test, describe } from "node:test";
import assert from "node:assert";
test("adds", () => assert.equal(1 + 1, 2));
test("fails", () => assert.equal(1 + 1, 3));
describe("group", () => { test("inner ok", () => {}); test.skip("skipped one", () => {}); });
`;

async function usageError(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (isGgenError(e) && e.kind === "usage") return e.toLine();
    throw e;
  }
  throw new Error("expected a usage error");
}

describe("selectFiles", () => {
  it("refuses missing files and globs matching nothing, before anything runs", async () => {
    write("node/a.test.mjs", NODE_TEST);
    expect(await usageError(selectFiles(root, { files: ["nope.test.mjs"] }))).toBe(
      "nope.test.mjs: test file not found: nope.test.mjs",
    );
    expect(await usageError(selectFiles(root, { globs: ["**/*.nothing"] }))).toMatch(/matches no file/);
    expect(() => parseShard("3/2")).toThrow(/--shard "3\/2": expected k\/n/);
  });

  it("shards deterministically and drops slow files", async () => {
    write("shard/a.test.mjs", "");
    write("shard/b.test.mjs", "");
    write("shard/c.slow.test.mjs", "");
    const all = await selectFiles(root, { globs: ["shard/*.test.mjs"] });
    expect(all.map((f) => f.replace(`${root}/`, ""))).toEqual([
      "shard/a.test.mjs",
      "shard/b.test.mjs",
      "shard/c.slow.test.mjs",
    ]);
    const one = shardFiles(root, all, { index: 1, total: 2 }).files;
    const two = shardFiles(root, all, { index: 2, total: 2 }).files;
    expect([...one, ...two].sort()).toEqual(all);
    expect(one.length).toBe(2);
    const fast = await selectFiles(root, { globs: ["shard/*.test.mjs"], skipSlow: true });
    expect(fast.some((f) => f.includes(".slow."))).toBe(false);
  });
});

describe("runners", () => {
  it("node's test runner: per-test results from TAP, suites as prefixes, failures with messages", async () => {
    const file = write("node/a.test.mjs", NODE_TEST);
    const out = await runTests([file], { root, exec: spawnExec, node: process.execPath });
    const byName = Object.fromEntries(out.tests.map((t) => [t.name, t]));
    expect(out.tests.map((t) => t.name)).toEqual(["adds", "fails", "inner ok", "skipped one"]);
    expect(byName.adds!.status).toBe("passed");
    expect(byName.fails!.status).toBe("failed");
    expect(byName.fails!.failureMessage).toBe("2 == 3 (expected 3, actual 2)");
    expect(byName["inner ok"]!.suite).toBe("group");
    expect(byName["inner ok"]!.id).toBe("node/a.test.mjs#group > inner ok");
    expect(byName["skipped one"]!.status).toBe("skipped");
    expect(out.timeline).toHaveLength(1);
    expect(out.timeline[0]!.status).toBe("failed");
  });

  it("a file that crashes before any test is one errored result with node's error line and its output", async () => {
    const file = write(
      "node/crash.test.mjs",
      "console.log('loading');\nthrow new Error('boom at import');\n",
    );
    const out = await runTests([file], { root, exec: spawnExec, node: process.execPath });
    expect(out.tests).toHaveLength(1);
    expect(out.tests[0]).toMatchObject({
      id: "node/crash.test.mjs#(file)",
      name: "(file)",
      status: "errored",
      failureMessage: "Error: boom at import",
    });
    expect(out.tests[0]!.outputTail).toContain("loading");
  });

  it("what a test prints is no test, even when it looks like TAP", async () => {
    const file = write(
      "node/chatty.test.mjs",
      `import { test } from "node:test";
test("talks", () => { console.log("ok"); console.log("ok 7 - fake"); console.log("not ok 8 - fake too"); });
test("quiet", () => {});
`,
    );
    const out = await runTests([file], { root, exec: spawnExec, node: process.execPath });
    expect(out.tests.map((t) => [t.name, t.status])).toEqual([
      ["talks", "passed"],
      ["quiet", "passed"],
    ]);
  });

  it("shell scripts: exit code per file, or TAP when the script speaks it; timeouts kill", async () => {
    const ok = write("sh/ok.sh", "#!/bin/bash\necho fine\n");
    const bad = write("sh/bad.sh", "echo broken >&2\nexit 3\n");
    const tap = write(
      "sh/tap.sh",
      "echo 'TAP version 13'\necho 'ok 1 - one'\necho 'not ok 2 - two'\necho '1..2'\nexit 1\n",
    );
    const slow = write("sh/slow.sh", "sleep 20\n");
    const out = await runTests([ok, bad, tap, slow], {
      root,
      exec: spawnExec,
      parallel: true,
      maxParallel: 4,
      timeoutMs: 3000,
    });
    const byId = Object.fromEntries(out.tests.map((t) => [t.id, t]));
    expect(byId["sh/ok.sh#ok.sh"]!.status).toBe("passed");
    expect(byId["sh/bad.sh#bad.sh"]!.status).toBe("failed");
    expect(byId["sh/bad.sh#bad.sh"]!.outputTail).toContain("broken");
    expect(byId["sh/tap.sh#one"]!.status).toBe("passed");
    expect(byId["sh/tap.sh#two"]!.status).toBe("failed");
    expect(byId["sh/slow.sh#(timed out)"]!.status).toBe("timed-out");
    const run = buildRun({
      startedAt: new Date(0),
      finishedAt: new Date(1000),
      environment: { name: "host", backend: "local", isolation: hostIsolation },
      tests: out.tests,
      timings: { setupMs: 0, testMs: out.durationMs, teardownMs: 0 },
    });
    expect(run.summary).toEqual({ total: 5, passed: 2, failed: 2, skipped: 0, timedOut: 1, errored: 0 });
  });

  it("vitest: per-test results from its JSON reporter, when the project uses vitest", async () => {
    const req = createRequire(import.meta.url);
    const vitestDir = dirname(req.resolve("vitest/package.json"));
    write(
      "vproj/package.json",
      JSON.stringify({ name: "p", type: "module", devDependencies: { vitest: "*" } }),
    );
    mkdirSync(join(root, "vproj/node_modules"), { recursive: true });
    symlinkSync(vitestDir, join(root, "vproj/node_modules/vitest"));
    const f1 = write(
      "vproj/src/math.test.mjs",
      `import { describe, expect, it } from "vitest";\ndescribe("math", () => { it("adds", () => expect(1 + 1).toBe(2)); it("breaks", () => expect(1).toBe(2)); });\nit.skip("later", () => {});\n`,
    );
    const units = planUnits(root, [f1]);
    expect(units).toEqual([{ runner: "vitest", dir: "vproj", files: ["vproj/src/math.test.mjs"] }]);
    const out = await runTests([f1], { root, exec: spawnExec, node: process.execPath });
    const byName = Object.fromEntries(out.tests.map((t) => [t.name, t]));
    expect(byName.adds).toMatchObject({ status: "passed", suite: "math", file: "vproj/src/math.test.mjs" });
    expect(byName.breaks!.status).toBe("failed");
    expect(byName.breaks!.failureMessage).toMatch(/expected 1 to be 2/);
    expect(byName.later!.status).toBe("skipped");
  }, 60_000);

  const hasCargo = (() => {
    try {
      execFileSync("cargo", ["--version"], { stdio: "ignore" });
      return true;
    } catch {
      return false;
    }
  })();

  it.runIf(hasCargo)(
    "cargo test: per-test results from libtest output, with panic messages",
    async () => {
      write(
        "crate/Cargo.toml",
        '[package]\nname = "demo"\nversion = "0.1.0"\nedition = "2021"\n\n[dependencies]\n',
      );
      write("crate/src/lib.rs", "pub fn two() -> i32 { 2 }\n");
      const it1 = write(
        "crate/tests/integration_test.rs",
        '#[test]\nfn works() { assert_eq!(demo::two(), 2); }\n#[test]\nfn breaks() { assert_eq!(demo::two(), 3, "two is not three"); }\n#[test]\n#[ignore]\nfn later() {}\n',
      );
      const out = await runTests([it1], {
        root,
        exec: spawnExec,
        env: { CARGO_TARGET_DIR: join(root, "crate/target"), CARGO_NET_OFFLINE: "true" },
      });
      const byName = Object.fromEntries(out.tests.map((t) => [t.name, t]));
      expect(byName.works!.status).toBe("passed");
      expect(byName.breaks!.status).toBe("failed");
      expect(byName.breaks!.failureMessage).toContain("two is not three");
      expect(byName.later!.status).toBe("skipped");
    },
    120_000,
  );
});

describe("parsers", () => {
  it("libtest: sections attach to their tests", () => {
    const tests = parseLibtest(`running 2 tests
test a::ok ... ok
test a::bad ... FAILED

failures:

---- a::bad stdout ----
thread 'a::bad' panicked at src/lib.rs:3:5:
boom
note: run with \`RUST_BACKTRACE=1\`

failures:
    a::bad

test result: FAILED. 1 passed; 1 failed; 0 ignored
`);
    expect(tests.map((t) => [t.name, t.status, t.failureMessage])).toEqual([
      ["a::ok", "passed", undefined],
      ["a::bad", "failed", "boom"],
    ]);
  });

  it("TAP: nested suites, todo and a failing suite hook", () => {
    const tests = parseTap(`TAP version 13
# Subtest: outer
    # Subtest: inner
        # Subtest: leaf
        ok 1 - leaf
          ---
          duration_ms: 2.5
          ...
        1..1
    ok 1 - inner
      ---
      type: 'suite'
      ...
    1..1
ok 1 - outer
  ---
  type: 'suite'
  ...
not ok 2 - hooked
  ---
  duration_ms: 1
  type: 'suite'
  failureType: 'hookFailed'
  error: 'before failed'
  ...
ok 3 - later # TODO not yet
1..3
`);
    expect(tests).toEqual([
      { name: "leaf", suite: "outer > inner", status: "passed", durationMs: 2.5 },
      { name: "hooked", status: "errored", durationMs: 1, failureMessage: "before failed" },
      { name: "later", status: "skipped", durationMs: 0, failureMessage: "TODO: not yet" },
    ]);
  });
});
