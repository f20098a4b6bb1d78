// execCommand against real processes: bounded lines, long deadlines, and every process a command started
// gone after its timeout or an interrupt — also one that left with setsid — in both containment modes.
import { readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { isGgenError } from "@ggen/contract";
import { afterAll, describe, expect, it } from "vitest";
import { containmentMode, PHASE_MARKER } from "./containment.js";
import { execCommand } from "./exec.js";
import { KeptOutput } from "./output.js";
import { cleanupProjects } from "./test-util.js";

afterAll(cleanupProjects);

const env = process.env as Record<string, string>;

/** Pids of processes whose environment carries `marker` (what a command of ours left running). */
function carrying(marker: string): number[] {
  const out: number[] = [];
  for (const e of readdirSync("/proc")) {
    if (!/^\d+$/.test(e)) continue;
    try {
      if (readFileSync(`/proc/${e}/environ`, "utf8").split("\0").includes(marker)) out.push(Number(e));
    } catch {
      // gone
    }
  }
  return out;
}

describe("execCommand output", () => {
  it("cuts one endless line at the limit and says how much it cut", async () => {
    const lines: string[] = [];
    const r = await execCommand("head -c 3000000 /dev/zero | tr '\\0' a; echo; echo after", {
      cwd: tmpdir(),
      env,
      lineChars: 1000,
      onLine: (l) => lines.push(l),
    });
    expect(r.exitCode).toBe(0);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toBe(`${"a".repeat(1000)} [… 2999000 more characters cut]`);
    expect(lines[1]).toBe("after");
  });

  it("keeps a multi-byte character whole across chunks", async () => {
    const lines: string[] = [];
    await execCommand(`printf 'caf\\303'; sleep 0.05; printf '\\251\\n'`, {
      cwd: tmpdir(),
      env,
      onLine: (l) => lines.push(l),
    });
    expect(lines).toEqual(["café"]);
  });

  it("a flood of lines keeps the start and the end within the log budget", () => {
    const kept = new KeptOutput(400_000);
    for (let i = 0; i < 300_000; i++) kept.push(`line ${i}`);
    const text = kept.text();
    // The budget, plus at most two blocks of joined lines (the one closing and the one open).
    expect(text.length).toBeLessThan(400_000 + 2 * 65_536 + 200);
    expect(text.startsWith("line 0\nline 1\n")).toBe(true);
    expect(text.endsWith("line 299999")).toBe(true);
    expect(text).toMatch(/\n\[… \d+ line\(s\), \d+ characters not kept: over the log limit …\]\n/);
    expect(kept.truncated).toBe(true);
  });
});

describe("execCommand deadlines", () => {
  it("a deadline past Node's 24.8-day timer limit does not fire at once", async () => {
    const r = await execCommand("sleep 0.3; echo done", { cwd: tmpdir(), env, timeoutMs: 2_678_400_000 });
    expect(r).toMatchObject({ exitCode: 0, timedOut: false, tail: ["done"] });
  });

  it("a command that cannot start is one error line naming why", async () => {
    const err = await execCommand("true", { cwd: "/nonexistent/ggen-dir", env }).catch((e) => e);
    expect(isGgenError(err)).toBe(true);
    expect(err.message).toBe("cannot run 'true': its working directory /nonexistent/ggen-dir does not exist");
  });
});

/** Pids whose command line is exactly `args` (NUL-separated in /proc). */
function running(...args: string[]): number[] {
  const want = `${args.join("\0")}\0`;
  return readdirSync("/proc")
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, "utf8") === want;
      } catch {
        return false;
      }
    })
    .map(Number);
}

describe.each(["process-tree", "auto"] as const)("containment %s", (mode) => {
  it("a timeout kills what the command started, also through setsid and a re-parented daemon", async () => {
    const markers: string[] = [];
    // The middle shell exits at once, so its daemon is re-parented; setsid takes both out of the group.
    const r = await execCommand(
      `echo "$${PHASE_MARKER}"; setsid sh -c 'sleep 300 & sleep 300' >/dev/null 2>&1 & sh -c 'setsid sleep 301 >/dev/null 2>&1 &'; sleep 300`,
      { cwd: tmpdir(), env, timeoutMs: 500, containment: mode, onLine: (l) => markers.push(l) },
    );
    expect(r.timedOut).toBe(true);
    expect(r.containment).toBe(mode === "auto" ? containmentMode() : "process-tree");
    expect(markers).toHaveLength(1);
    expect(carrying(`${PHASE_MARKER}=${markers[0]}`)).toEqual([]);
  });

  it("an interrupt (Ctrl-C) stops the whole tree", async () => {
    const ctrl = new AbortController();
    const markers: string[] = [];
    const r = await execCommand(`setsid sleep 300 >/dev/null 2>&1 & echo "$${PHASE_MARKER}"; sleep 300`, {
      cwd: tmpdir(),
      env,
      containment: mode,
      signal: ctrl.signal,
      onLine: (l) => {
        markers.push(l);
        ctrl.abort();
      },
    });
    expect(r.interrupted).toBe(true);
    expect(markers).toHaveLength(1);
    expect(carrying(`${PHASE_MARKER}=${markers[0]}`)).toEqual([]);
  });

  it("a process that leaves the group and clears its environment: gone with a cgroup, the documented escape without", async () => {
    const seconds = mode === "auto" ? "313.5" : "313.25";
    const r = await execCommand(`env -i setsid sleep ${seconds} >/dev/null 2>&1 & sleep 300`, {
      cwd: tmpdir(),
      env,
      timeoutMs: 500,
      containment: mode,
    });
    expect(r.timedOut).toBe(true);
    const left = running("sleep", seconds);
    for (const pid of left) process.kill(pid, "SIGKILL");
    expect(left.length === 0).toBe(r.containment === "cgroup");
  });
});
