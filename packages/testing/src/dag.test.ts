import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it, vi } from "vitest";
import { runScenario } from "./dag.js";
import { spawnExec } from "./exec.js";
import { parseScenario } from "./scenario.js";

vi.setConfig({ testTimeout: 30_000 });

const dir = mkdtempSync(join(tmpdir(), "cleanroom-dag-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Running (a zombie waiting for init to reap it counts as gone). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return !/^\d+ \(.*\) [ZX]/.test(stat);
  } catch {
    return false;
  }
}

describe("runScenario", () => {
  it("runs independent steps concurrently and dependents after their dependencies", async () => {
    const log = join(dir, "order.log");
    const s = parseScenario(
      `concurrent: true
steps:
  - name: a
    run: echo a-start >> ${log}; sleep 0.8; echo a-end >> ${log}
  - name: b
    run: echo b-start >> ${log}; sleep 0.8; echo b-end >> ${log}
  - name: c
    run: echo c >> ${log}
    depends: [a, b]
`,
      "s.yaml",
    );
    const r = await runScenario(s, { exec: spawnExec });
    expect(r.ok).toBe(true);
    const lines = readFileSync(log, "utf8").trim().split("\n");
    // Both started before either ended; c came last.
    expect(lines.slice(0, 2).sort()).toEqual(["a-start", "b-start"]);
    expect(lines.at(-1)).toBe("c");
    expect(r.steps.map((x) => x.status)).toEqual(["passed", "passed", "passed"]);
  });

  it("runs steps one at a time when the scenario is not concurrent", async () => {
    const log = join(dir, "serial.log");
    const s = parseScenario(
      `steps:
  - name: a
    run: echo a-start >> ${log}; sleep 0.2; echo a-end >> ${log}
  - name: b
    run: echo b-start >> ${log}
`,
      "s.yaml",
    );
    await runScenario(s, { exec: spawnExec });
    expect(readFileSync(log, "utf8").trim().split("\n")).toEqual(["a-start", "a-end", "b-start"]);
  });

  it("skips the dependents of a failed step, transitively, and checks expect", async () => {
    const s = parseScenario(
      `concurrent: true
steps:
  - name: bad
    run: echo nope; exit 4
  - name: child
    run: echo child
    depends: [bad]
  - name: grandchild
    run: echo gc
    depends: [child]
  - name: independent
    cmd: [echo, hello world]
    expect: { stdout_contains: hello, stdout_matches: "^hello \\\\w+$" }
  - name: wrong-output
    cmd: [echo, hi]
    expect: { stdout_contains: bye }
`,
      "s.yaml",
    );
    const r = await runScenario(s, { exec: spawnExec });
    expect(r.ok).toBe(false);
    const by = Object.fromEntries(r.steps.map((x) => [x.name, x]));
    expect(by.bad!.status).toBe("failed");
    expect(by.bad!.message).toBe("exit code 4, expected 0: nope");
    expect(by.child!.status).toBe("skipped");
    expect(by.child!.message).toBe("'bad' failed");
    expect(by.grandchild!.status).toBe("skipped");
    expect(by.independent!.status).toBe("passed");
    expect(by["wrong-output"]!.message).toBe("stdout does not contain 'bye'");
  });

  it("kills a timed-out step's whole process tree and skips its dependents", async () => {
    const pidFile = join(dir, "grandchild.pid");
    const s = parseScenario(
      `steps:
  - name: slow
    run: (sleep 30 & echo $! > ${pidFile}; wait) ; echo never
    timeout_ms: 1500
  - name: after
    run: 'true'
    depends: [slow]
`,
      "s.yaml",
    );
    const r = await runScenario(s, { exec: spawnExec });
    expect(r.steps[0]!.status).toBe("timed-out");
    expect(r.steps[0]!.message).toBe("timed out after 1500 ms");
    expect(r.steps[1]!.status).toBe("skipped");
    const pid = Number(readFileSync(pidFile, "utf8"));
    expect(pid).toBeGreaterThan(0);
    await new Promise((res) => setTimeout(res, 100));
    expect(alive(pid)).toBe(false);
  });

  it("kills what a failed step left running in the background", async () => {
    const pidFile = join(dir, "bg.pid");
    const s = parseScenario(
      `steps:
  - name: leaves-a-child
    run: sleep 30 > /dev/null 2>&1 & echo $! > ${pidFile}; exit 1
`,
      "s.yaml",
    );
    const r = await runScenario(s, { exec: spawnExec });
    expect(r.steps[0]!.status).toBe("failed");
    await new Promise((res) => setTimeout(res, 100));
    expect(alive(Number(readFileSync(pidFile, "utf8")))).toBe(false);
  });

  it("retries, lets continue_on_error through, and honours the scenario timeout", async () => {
    const counter = join(dir, "tries");
    const s = parseScenario(
      `concurrent: true
timeout_ms: 3000
steps:
  - name: flaky
    run: echo x >> ${counter}; test $(wc -l < ${counter}) -ge 3
    retries: 3
  - name: allowed
    run: exit 1
    continue_on_error: true
  - name: after-allowed
    run: 'true'
    depends: [allowed]
  - name: forever
    run: sleep 20
  - name: never
    run: touch ${join(dir, "never")}
    depends: [forever]
`,
      "s.yaml",
    );
    const r = await runScenario(s, { exec: spawnExec });
    const by = Object.fromEntries(r.steps.map((x) => [x.name, x]));
    expect(by.flaky!.status).toBe("passed");
    expect(by.flaky!.attempts).toBe(3);
    expect(by.allowed!.allowedFailure).toBe(true);
    expect(by["after-allowed"]!.status).toBe("passed");
    expect(by.forever!.status).toBe("timed-out");
    expect(by.forever!.message).toBe("scenario timed out after 3000 ms");
    expect(by.never!.status).toBe("skipped");
    expect(existsSync(join(dir, "never"))).toBe(false);
    expect(r.timedOut).toBe(true);
    expect(r.ok).toBe(false);
  });

  it("a timeout past Node's 24.8-day clamp (31 days) does not fire at once", async () => {
    const s = parseScenario(
      `timeout_ms: 2678400000
steps:
  - name: wait
    run: sleep 0.3 && echo done
    timeout_ms: 2678400000
`,
      "s.yaml",
    );
    const r = await runScenario(s, { exec: spawnExec });
    expect(r.steps[0]!.status).toBe("passed");
    expect(r.steps[0]!.stdout).toBe("done\n");
    expect(r.timedOut).toBe(false);
  });

  it("keeps a parallel:false step alone", async () => {
    const log = join(dir, "excl.log");
    const s = parseScenario(
      `concurrent: true
steps:
  - name: a
    run: echo a-start >> ${log}; sleep 0.2; echo a-end >> ${log}
  - name: solo
    run: echo solo-start >> ${log}; sleep 0.2; echo solo-end >> ${log}
    parallel: false
  - name: b
    run: echo b-start >> ${log}; sleep 0.2; echo b-end >> ${log}
`,
      "s.yaml",
    );
    await runScenario(s, { exec: spawnExec });
    const lines = readFileSync(log, "utf8").trim().split("\n");
    const i = lines.indexOf("solo-start");
    expect(lines[i + 1]).toBe("solo-end");
  });
});
