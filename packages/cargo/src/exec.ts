// Running a tool and keeping what it printed: every cargo, rustc and llvm call of this package goes
// through here, so a missing tool is one readable error and an abort kills the child.
import { spawn } from "node:child_process";
import { GgenError } from "@ggen/support";

export interface RunResult {
  /** Exit code; null when killed by a signal. */
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  /** Kill the child after this long (default: none). */
  timeoutMs?: number;
}

/** Runs `cmd args…`; resolves with its exit code and output, rejects only when it cannot start. */
export function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ["ignore", "pipe", "pipe"],
      ...(opts.signal ? { signal: opts.signal } : {}),
      ...(opts.timeoutMs ? { timeout: opts.timeoutMs } : {}),
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (d: Buffer) => out.push(d));
    child.stderr.on("data", (d: Buffer) => err.push(d));
    child.on("error", (e: NodeJS.ErrnoException) => {
      if (opts.signal?.aborted) reject(opts.signal.reason);
      else if (e.code === "ENOENT")
        reject(new GgenError("TOOL_NOT_FOUND", `'${cmd}' was not found`, { hint: "is it installed?" }));
      else reject(e);
    });
    child.on("close", (code) => {
      if (opts.signal?.aborted) return reject(opts.signal.reason);
      resolve({
        code,
        stdout: Buffer.concat(out).toString("utf8"),
        stderr: Buffer.concat(err).toString("utf8"),
      });
    });
  });
}

/** The first line of a tool's complaint, for a one-line error. */
export function firstLine(text: string): string {
  return (
    text
      .split("\n")
      .map((l) => l.trim())
      .find((l) => l.length > 0) ?? ""
  );
}

/** Who commits to a registry index: fixed, so a user's git identity or system config never matters. */
const GIT_ENV = {
  GIT_AUTHOR_NAME: "ggen",
  GIT_AUTHOR_EMAIL: "ggen@localhost",
  GIT_COMMITTER_NAME: "ggen",
  GIT_COMMITTER_EMAIL: "ggen@localhost",
  GIT_CONFIG_NOSYSTEM: "1",
};

/** Runs git commands in `dir` one after another (commits unsigned, no auto maintenance); the first that fails is the error. */
export async function git(dir: string, steps: readonly (readonly string[])[]): Promise<void> {
  const env = { ...process.env, ...GIT_ENV };
  for (const args of steps) {
    // A commit would also start `git maintenance run --auto` (a process per publish, on the deploy's path):
    // an index of a few files never needs it.
    const argv =
      args[0] === "commit"
        ? ["-c", "commit.gpgsign=false", "-c", "maintenance.auto=false", "-c", "gc.auto=0", ...args]
        : [...args];
    const r = await run("git", argv, { cwd: dir, env });
    if (r.code !== 0)
      throw new GgenError(
        "FILE_REGISTRY",
        `git ${args[0]} in ${dir} failed: ${firstLine(r.stderr || r.stdout)}`,
      );
  }
}
