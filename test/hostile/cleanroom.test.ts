// cleanroom on hostile input (issue 20): files that never end or are not files, oversized inputs, patterns
// built to backtrack, timeouts past Node's timer limit, a lock left by a killed run, garbage keys and
// metrics, control bytes, and flags with the wrong shape. Each refusal is one clean line with the right
// exit code, nothing is written outside the project or left behind, and the ordinary command after it works.
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, truncateSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectRefused, run, Sandbox } from "./harness.js";

const box = new Sandbox("cleanroom");
const cr = (args: string[], limitMs = 30_000, env: NodeJS.ProcessEnv = {}) =>
  run("cleanroom", args, {
    cwd: box.root,
    limitMs,
    env: { CLEANROOM_ENV: "", GITHUB_ACTIONS: "", ...env },
  });
const write = (rel: string, text: string) => {
  const p = join(box.root, rel);
  mkdirSync(join(p, ".."), { recursive: true });
  writeFileSync(p, text);
  return p;
};

const OK_TEST = `import { test } from "node:test";\ntest("ok", () => {});\n`;

beforeAll(async () => {
  write("t/ok.test.mjs", OK_TEST);
  // A run to read back, so `test results` and `report` have something.
  const r = await cr(["test", "run", "--host", "--file", "t/ok.test.mjs"]);
  expect(r.code, r.stderr).toBe(0);
});
afterAll(() => box.dispose());

/** The ordinary command after a refusal works, at normal speed (the harness's limit). */
async function stillWorks(): Promise<void> {
  const r = await cr(["test", "run", "--host", "--file", "t/ok.test.mjs"]);
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout).toMatch(/^PASSED/);
}

describe("inputs that never end, or are not files", () => {
  it("/dev/zero, a FIFO and a directory as a scenario, a run, an attestation, a key, a manifest: refused at once", async () => {
    const fifo = join(box.root, "fifo");
    execFileSync("mkfifo", [fifo]);
    const cases: [string[], RegExp][] = [
      [["exec", "--host", "--scenario", "/dev/zero"], /\/dev\/zero: scenario is not a regular file$/],
      [["exec", "--host", "--scenario", fifo], /fifo: scenario is not a regular file$/],
      [["exec", "--host", "--scenario", "t"], /t: scenario is a directory$/],
      [["test", "run", "--host", "--scenario", "/dev/zero"], /scenario is not a regular file$/],
      [["test", "results", "--run", "/dev/zero"], /\/dev\/zero: run is not a regular file$/],
      [["report", "--run", "t"], /t: run is a directory$/],
      [["report", "--verify", "/dev/zero"], /attestation is not a regular file$/],
      [["report", "--attestation", "--sign", "--key", "/dev/zero"], /signing key is not a regular file$/],
      [["ultra-fast-test", "--manifest", "/dev/zero", "--host"], /manifest is not a regular file$/],
    ];
    for (const [args, line] of cases) {
      const r = await cr(args, 15_000);
      expectRefused(r, 2);
      expect(r.stderr.trim(), args.join(" ")).toMatch(line);
    }
    box.check();
    await stillWorks();
  });

  it("a scenario larger than the input limit is refused without being read", async () => {
    const big = write("big.yaml", "");
    truncateSync(big, 65 * 1024 * 1024);
    const r = await cr(["exec", "--host", "--scenario", "big.yaml"]);
    expectRefused(r, 2);
    expect(r.stderr).toMatch(/big\.yaml: scenario is larger than 64 MiB/);
    box.check();
    await stillWorks();
  });
});

describe("patterns and timers", () => {
  it("an expected-output pattern built to backtrack runs in linear time; a backreference is refused in one line", async () => {
    write(
      "evil.yaml",
      `steps:\n  - name: flood\n    run: node -e "process.stdout.write('a'.repeat(100000) + '!')"\n    expect: { stdout_matches: '^(a+)+$' }\n`,
    );
    const r = await cr(["exec", "--host", "--scenario", "evil.yaml"], 30_000);
    // The step fails its expectation (the output ends in '!') and the run says so: bounded, not hung.
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/stdout does not match \/\^\(a\+\)\+\$\//);
    write(
      "backref.yaml",
      `steps:\n  - name: x\n    run: echo aa\n    expect: { stdout_matches: '(a)\\1' }\n`,
    );
    const b = await cr(["exec", "--host", "--scenario", "backref.yaml"]);
    expectRefused(b, 2);
    expect(b.stderr).toMatch(
      /backref\.yaml:4:\d+: expect\.stdout_matches \/\(a\)\\1\/ is not a supported pattern/,
    );
    box.check();
    await stillWorks();
  });

  it("timeouts of 31 days do not fire at once (exec on the host's scenario runner, test run)", async () => {
    write(
      "long.yaml",
      "timeout_ms: 2678400000\nsteps:\n  - name: wait\n    run: sleep 0.2 && echo done\n    timeout_ms: 2678400000\n",
    );
    const s = await cr(["exec", "--host", "--scenario", "long.yaml"]);
    expect(s.code, s.stdout).toBe(0);
    const t = await cr(["test", "run", "--host", "--file", "t/ok.test.mjs", "--timeout", "2678400"]);
    expect(t.code, t.stdout).toBe(0);
    box.check();
  });

  it("durations and sizes of the wrong shape are refused echoing what was typed (never NaN)", async () => {
    for (const [args, echo] of [
      [["test", "run", "--host", "--timeout", "NaN"], '"NaN"'],
      [["test", "run", "--host", "--timeout", "1e309"], '"1e309"'],
      [["exec", "--timeout=-5s", "--", "true"], '"-5s"'],
      [["test", "run", "--host", "--max-parallel", "0"], '"0"'],
      [["test", "run", "--host", "--shard", "4/3"], '"4/3"'],
      [["environment", "create", "--name", "x", "--memory", "0"], '"0"'],
      [["environment", "create", "--name", "x", "--memory", "1Q"], '"1Q"'],
    ] as const) {
      const r = await cr([...args]);
      expectRefused(r, 2);
      expect(r.stderr, args.join(" ")).toContain(echo);
    }
    box.check();
    await stillWorks();
  });
});

describe("crash leftovers and garbage state", () => {
  it("a metrics lock left by a killed run is taken over at once", async () => {
    // What withLock writes for its owner: a pid that does not run here.
    write(
      ".cleanroom/metrics.jsonl.lock",
      JSON.stringify({ pid: 2 ** 22 + 7, start: "0", host: hostname(), since: "x" }),
    );
    const r = await cr(["test", "run", "--host", "--file", "t/ok.test.mjs"], 20_000);
    expect(r.code, r.stderr).toBe(0);
    expect(r.ms).toBeLessThan(20_000);
    box.check();
  });

  it("a metrics file of garbage is skipped line by line, never NaN", async () => {
    const file = join(box.root, ".cleanroom/metrics.jsonl");
    const kept = readFileSync(file, "utf8");
    writeFileSync(
      file,
      `${kept}[1,2,3]\n5\nnull\n{"runId":"x","totalMs":"soon","steps":5}\n\u0000\u001b[31m\n`,
    );
    const r = await cr(["metrics", "show", "--detailed"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toMatch(/NaN|undefined/);
    expect(r.stderr).toBe("warning: 5 unreadable line(s) in " + file + " skipped\n");
    writeFileSync(file, kept);
  });

  it("a garbage signing key is 'not an ed25519 private key', not an OpenSSL code", async () => {
    write("garbage.pem", "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n");
    const r = await cr(["report", "--attestation", "--sign", "--key", "garbage.pem"]);
    expectRefused(r, 2);
    expect(r.stderr).toBe("cleanroom: error: garbage.pem: not an ed25519 private key (PEM)\n");
    box.check();
    await stillWorks();
  });

  it("a run file that is not a cleanroom-run/v1, and a last-run pointer that is a path, are refused", async () => {
    write("notrun.json", JSON.stringify({ kind: "cleanroom-run/v1", tests: 5 }));
    const r = await cr(["test", "results", "--run", "notrun.json"]);
    expectRefused(r, 2);
    expect(r.stderr).toMatch(/notrun\.json: not a cleanroom-run\/v1/);
    const pointer = join(box.root, ".cleanroom/runs/last");
    const was = readFileSync(pointer, "utf8");
    writeFileSync(pointer, "../../../../etc/passwd\n");
    const p = await cr(["test", "results"]);
    expectRefused(p, 2);
    expect(p.stderr).toMatch(/the last-run pointer .* is not a run id/);
    writeFileSync(pointer, was);
    box.check();
    await stillWorks();
  });
});

describe("bad input gets one clean line", () => {
  it("control bytes in a file name or an environment name are escaped in the error line", async () => {
    const f = await cr(["test", "run", "--host", "--file", "a\u001b[31mb\u0007"]);
    expectRefused(f, 2);
    expect(f.stderr).toContain("a\\x1b[31mb\\x07");
    const n = await cr(["exec", "--env", "\u001bname", "--", "true"]);
    expectRefused(n, 2);
    expect(n.stderr).toContain("\\x1bname");
    box.check();
  });

  it("the old --env K=V of container start, and --env twice, are usage errors naming the fix", async () => {
    const old = await cr(["container", "start", "redis", "--env", "A=1", "--backend", "local"]);
    expectRefused(old, 2);
    expect(old.stderr).toContain("--set-env KEY=VALUE");
    const twice = await cr(["test", "run", "--env", "a", "--env", "b", "--backend", "local"]);
    expectRefused(twice, 2);
    expect(twice.stderr).toContain("--env given 2 times");
    box.check();
  });

  it("merge inputs that are not runs or not shards are refused; nothing is written", async () => {
    const notJson = write("junk.json", "\u0000\u0001garbage");
    const r = await cr(["report", "merge", notJson, "-o", "merged.json"]);
    expectRefused(r, 2);
    const host = await cr(["report", "merge", ".cleanroom/runs/last", "-o", "merged.json"]);
    expectRefused(host, 2);
    const notShard = await cr(["test", "run", "--host", "--file", "t/ok.test.mjs", "--report", "whole.json"]);
    expect(notShard.code).toBe(0);
    const m = await cr(["report", "merge", "whole.json", "-o", "merged.json"]);
    expectRefused(m, 2);
    expect(m.stderr).toMatch(/whole\.json is not a shard run/);
    expect(() => readFileSync(join(box.root, "merged.json"))).toThrow();
    box.check();
    await stillWorks();
  });
});
