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
  for (let i = 0; i < 200 && !existsSync(pidFile); i++) await new Promise((r) => setTimeout(r, 50));
  const pid = Number(readFileSync(pidFile, "utf8"));
  expect(alive(pid)).toBe(true);
  child.kill("SIGINT");
  expect(await exited).toBe(130);
  expect(alive(pid)).toBe(false);
  expect(readdirSync(join(p.dir, ".cleanroom/envs"))).toEqual([]);
  const last = readFileSync(join(p.dir, ".cleanroom/runs/last"), "utf8").trim();
  const run = JSON.parse(readFileSync(join(p.dir, ".cleanroom/runs", `${last}.json`), "utf8"));
  expect(run.tests.map((t: { name: string; status: string }) => `${t.name}:${t.status}`)).toEqual([
    "long:failed",
    "after:skipped",
  ]);
}, 60_000);
