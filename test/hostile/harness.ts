// What every hostile case shares: run a built program with a hard time limit (a hang is a failure that
// names the command), check that a refusal is one clean line, and check that nothing was written outside
// the case's roots or left running, mounted, locked or staged.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { expect } from "vitest";

export const repo = join(import.meta.dirname, "..", "..");
export const bins = {
  ggen: join(repo, "apps", "ggen", "dist", "bin.js"),
  cleanroom: join(repo, "apps", "cleanroom", "dist", "bin.js"),
} as const;
export type Program = keyof typeof bins;

export interface Ran {
  program: Program;
  args: string[];
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export interface RunOptions {
  cwd: string;
  env?: NodeJS.ProcessEnv;
  /** Written to standard input, then closed (default: nothing, closed). */
  input?: string | Buffer;
  /** A run past this is a hang: the process group is killed and the case fails (default 30 s). */
  limitMs?: number;
}

/** Runs `program args` in its own process group; never hangs the suite. */
export function run(program: Program, args: string[], o: RunOptions): Promise<Ran> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bins[program], ...args], {
      cwd: o.cwd,
      env: { ...process.env, NO_COLOR: "1", ...o.env },
      stdio: ["pipe", "pipe", "pipe"],
      detached: true,
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      if (stdout.length < 1 << 20) stdout += d;
    });
    child.stderr.on("data", (d) => {
      if (stderr.length < 1 << 20) stderr += d;
    });
    child.stdin.on("error", () => undefined);
    child.stdin.end(o.input ?? "");
    const limit = o.limitMs ?? 30_000;
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        // gone
      }
      reject(new Error(`hang: ${program} ${args.join(" ")} ran past ${limit} ms`));
    }, limit);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ program, args, code, signal, stdout, stderr, ms: Date.now() - started });
    });
  });
}

// ESC, NUL and the other C0 controls but tab and newline, DEL, and C1 controls.
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

/** A refusal: the exit code asked for, one line on stderr (`<program>: error: …`), no control bytes, no stack. */
export function expectRefused(r: Ran, exit: 1 | 2): void {
  const what = `${r.program} ${r.args.join(" ")}`;
  expect(r.signal, `${what}: killed by a signal`).toBeNull();
  expect(r.code, `${what}: exit code (stderr: ${r.stderr.slice(0, 300)})`).toBe(exit);
  const lines = r.stderr.split("\n").filter((l) => l.length > 0);
  expect(lines, `${what}: stderr is one line`).toHaveLength(1);
  expect(lines[0], `${what}: the one renderer's line`).toMatch(new RegExp(`^${r.program}: error: `));
  expect(CONTROL.test(r.stderr), `${what}: control bytes on stderr: ${JSON.stringify(r.stderr)}`).toBe(false);
  expect(r.stderr, `${what}: a stack trace`).not.toMatch(/^\s+at .+\(.+:\d+:\d+\)$/m);
}

/**
 * A case's sandbox: `root` is where the program may write (its project); `outside` is a sibling that must
 * stay exactly as it was. `check()` asserts nothing appeared outside `root` and nothing was left behind.
 */
export class Sandbox {
  readonly base: string;
  readonly root: string;
  readonly outside: string;
  private readonly before: string[];

  constructor(name: string) {
    this.base = mkdtempSync(join(tmpdir(), `ggen-hostile-${name}-`));
    this.root = join(this.base, "project");
    this.outside = join(this.base, "outside");
    mkdirSync(this.root);
    mkdirSync(this.outside);
    this.before = this.listing();
  }

  /** Every path under base but the project, as it is now. */
  private listing(): string[] {
    const out: string[] = [];
    const walk = (dir: string) => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        const p = join(dir, e.name);
        if (p === this.root) continue;
        out.push(relative(this.base, p));
        if (e.isDirectory() && !e.isSymbolicLink()) walk(p);
      }
    };
    walk(this.base);
    return out.sort();
  }

  /** Nothing outside the project changed; nothing under it is mounted, running, locked or staged. */
  check(): void {
    expect(this.listing(), "files appeared outside the project").toEqual(this.before);
    const mounts = readFileSync("/proc/self/mountinfo", "utf8")
      .split("\n")
      .map((l) => l.split(" ")[4] ?? "")
      .filter((m) => m.startsWith(this.base));
    expect(mounts, "mounts left under the sandbox").toEqual([]);
    expect(processesUnder(this.base), "processes left running in the sandbox").toEqual([]);
    const leftovers: string[] = [];
    const walk = (dir: string) => {
      if (!existsSync(dir)) return;
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        const p = join(dir, e.name);
        // ggen.lock is the project's pinned packs (a document, not a lock); ggen.lock.lock is a lock.
        if (/\.lock$|\.staging|\.tmp$/.test(e.name) && e.name !== "ggen.lock")
          leftovers.push(relative(this.root, p));
        if (e.isDirectory() && !e.isSymbolicLink()) walk(p);
      }
    };
    walk(this.root);
    expect(leftovers, "locks, staging or temp files left in the project").toEqual([]);
  }

  dispose(): void {
    rmSync(this.base, { recursive: true, force: true });
  }
}

/** Pids whose working directory is under `dir`. */
export function processesUnder(dir: string): number[] {
  const out: number[] = [];
  for (const e of readdirSync("/proc")) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    try {
      const cwd = readlinkSync(`/proc/${e}/cwd`);
      if (cwd === dir || cwd.startsWith(`${dir}/`)) out.push(Number(e));
    } catch {
      // gone, or not ours to read
    }
  }
  return out;
}
