// Ctrl-C in the middle of a run: the running command's process group is killed, the throwaway
// environment is removed, the partial run is still recorded, and the exit code is 130.
import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it, vi } from "vitest";
import { bin, type Project, project } from "./helpers.js";

// Each test runs the program several times; on a busy 2-core machine that takes seconds.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 60_000 });

let p: Project;
beforeAll(() => {
  p = project();
});
afterAll(() => p.cleanup());

const alive = (pid: number) => {
  try {
    return !/^\d+ \(.*\) [ZX]/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
};

it("SIGINT kills the running step, tears down, records the run, exits 130", async () => {
  const pidFile = join(p.dir, "sleeper.pid");
  p.write(
    "long.yaml",
    `steps:\n  - name: long\n    run: sleep 30 & echo $! > ${pidFile}; wait\n  - name: after\n    run: 'true'\n    depends: [long]\n`,
  );
  const child = spawn(process.execPath, [bin, "exec", "--scenario", "long.yaml", "--backend", "local"], {
    cwd: p.dir,
    stdio: "ignore",
  });
  const exited = new Promise<number | null>((ok) => child.on("exit", (code) => ok(code)));
  // The shell creates the file before it writes the pid into it: wait for a whole line.
  const pidIn = () => (existsSync(pidFile) ? /^(\d+)\n/.exec(readFileSync(pidFile, "utf8"))?.[1] : undefined);
  for (let i = 0; i < 400 && !pidIn(); i++) await new Promise((r) => setTimeout(r, 50));
  const pid = Number(pidIn());
  expect(pid).toBeGreaterThan(0);
  expect(alive(pid)).toBe(true);
  child.kill("SIGINT");
  expect(await exited).toBe(130);
  expect(alive(pid)).toBe(false);
  expect(p.envDirs()).toEqual([]);
  const last = readFileSync(join(p.dir, ".cleanroom/runs/last"), "utf8").trim();
  const run = JSON.parse(readFileSync(join(p.dir, ".cleanroom/runs", `${last}.json`), "utf8"));
  expect(run.tests.map((t: { name: string; status: string }) => `${t.name}:${t.status}`)).toEqual([
    "long:failed",
    "after:skipped",
  ]);
}, 60_000);

/** Processes whose command line contains `needle` (the test itself excepted). */
function processesWith(needle: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, "utf8").replaceAll("\0", " ");
      if (cmd.includes(needle) && alive(Number(entry))) out.push(Number(entry));
    } catch {
      // gone
    }
  }
  return out;
}

it("SIGKILL mid-run: status reports the throwaway environment stale, prune kills what it left and removes it", async () => {
  // A test that starts a long-lived child and waits: killed mid-run, the CLI cannot tear anything down.
  p.write(
    "slow.test.mjs",
    `import { test } from "node:test";
import { spawn } from "node:child_process";
test("waits", async () => {
  spawn("sleep", ["4545"], { stdio: "ignore" });
  await new Promise((r) => setTimeout(r, 60_000));
});
`,
  );
  try {
    const child = spawn(
      process.execPath,
      [bin, "test", "run", "--backend", "local", "--file", "slow.test.mjs"],
      {
        cwd: p.dir,
        stdio: "ignore",
      },
    );
    const exited = new Promise<NodeJS.Signals | null>((ok) =>
      child.on("exit", (_code, signal) => ok(signal)),
    );
    for (let i = 0; i < 600 && processesWith("sleep 4545").length === 0; i++)
      await new Promise((r) => setTimeout(r, 50));
    expect(processesWith("sleep 4545")).toHaveLength(1);
    child.kill("SIGKILL");
    expect(await exited).toBe("SIGKILL");
    // What the run started outlives it: that is what prune must find.
    expect(processesWith("sleep 4545")).toHaveLength(1);
    const envs = p.json<{ name: string }[]>("environment", "list", "--backend", "local");
    expect(envs).toHaveLength(1);
    const name = envs[0]!.name;
    expect(name).toMatch(/^run-/);
    expect(p.envDirs()).toEqual([name]);
    const status = p.json<{ alive: boolean; stale?: string }>(
      "environment",
      "status",
      "--backend",
      "local",
      "--name",
      name,
    );
    expect(status.alive).toBe(false);
    expect(status.stale).toBe(`its owner process ${child.pid} is gone`);
    expect(p.run("environment", "status", "--backend", "local", "--name", name).stdout).toContain(
      "NOT alive (stale: its owner process",
    );
    const pruned = p.json<{ removed: string[] }>("container", "prune", "--backend", "local");
    expect(pruned.removed).toContain(`environment ${name} (its owner process ${child.pid} is gone)`);
    for (
      let i = 0;
      i < 100 && processesWith("slow.test.mjs").length + processesWith("sleep 4545").length > 0;
      i++
    )
      await new Promise((r) => setTimeout(r, 20));
    // Nothing the run started survives: not the runner, not the test, not its child.
    expect(processesWith("sleep 4545")).toEqual([]);
    expect(processesWith("slow.test.mjs")).toEqual([]);
    expect(p.envDirs()).toEqual([]);
    expect(p.json("environment", "list", "--backend", "local")).toEqual([]);
  } finally {
    // On failure, what the killed run left must not outlive the test either.
    for (const pid of [...processesWith("sleep 4545"), ...processesWith("slow.test.mjs")]) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // gone
      }
    }
  }
}, 120_000);
