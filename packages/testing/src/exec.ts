// Running one command: the `Backend.exec` shape, and a plain spawn adapter (the local floor, used by
// pure tests and when no environment is involved). Every command runs in its own process group, and
// that whole group is killed when the command times out, is aborted, or exits: nothing it started
// outlives it.

import { spawn } from "node:child_process";
import type { ExecOptions, ExecResult } from "@ggen/cleanroom-backends";
import { formatSize, longTimeout } from "@ggen/support";

/** Runs argv somewhere (a backend environment, or the host) and captures its output. */
export type ExecFn = (argv: string[], options?: ExecOptions) => Promise<ExecResult>;

/** Output kept per stream; the head is dropped past this (runner output is parsed from the end). */
export const MAX_CAPTURE = 64 * 1024 * 1024;
const KILL_GRACE_MS = 1500;

function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (!pid) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

/** Runs argv on the host in a new process group; kills the group on timeout, abort and exit. */
export const spawnExec: ExecFn = (argv, options = {}) => {
  const [cmd, ...args] = argv;
  if (!cmd) return Promise.reject(new Error("empty command"));
  const started = performance.now();
  return new Promise<ExecResult>((resolve) => {
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    let settled = false;
    let termTimer: NodeJS.Timeout | undefined;
    const child = spawn(cmd, args, {
      cwd: options.cwd,
      // The host adapter: the caller's variables on top of this process's own (backends scrub).
      env: options.env ? { ...process.env, ...options.env } : process.env,
      detached: true,
      stdio: [options.stdin === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    });
    const append = (which: "stdout" | "stderr", chunk: string) => {
      options.onOutput?.(chunk, which);
      if (which === "stdout") {
        stdout += chunk;
        if (stdout.length > MAX_CAPTURE) stdout = stdout.slice(-MAX_CAPTURE);
      } else {
        stderr += chunk;
        if (stderr.length > MAX_CAPTURE) stderr = stderr.slice(-MAX_CAPTURE);
      }
    };
    child.stdout?.setEncoding("utf8").on("data", (c: string) => append("stdout", c));
    child.stderr?.setEncoding("utf8").on("data", (c: string) => append("stderr", c));
    if (options.stdin !== undefined && child.stdin) {
      child.stdin.on("error", () => {});
      child.stdin.end(options.stdin);
    }
    const stop = () => {
      killGroup(child.pid, "SIGTERM");
      termTimer = setTimeout(() => killGroup(child.pid, "SIGKILL"), KILL_GRACE_MS);
      termTimer.unref();
    };
    // longTimeout: a timeout past Node's 24.8-day clamp must not fire at once.
    const timer =
      options.timeoutMs !== undefined && options.timeoutMs > 0
        ? longTimeout(() => {
            timedOut = true;
            stop();
          }, options.timeoutMs)
        : undefined;
    const onAbort = () => stop();
    options.signal?.addEventListener("abort", onAbort, { once: true });
    if (options.signal?.aborted) stop();

    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    const finish = () => {
      if (settled || !exit) return;
      settled = true;
      timer?.clear();
      if (termTimer) clearTimeout(termTimer);
      options.signal?.removeEventListener("abort", onAbort);
      resolve({
        exitCode: exit.code,
        signal: exit.signal,
        stdout,
        stderr,
        durationMs: performance.now() - started,
        timedOut,
      });
    };
    child.on("error", (e) => {
      stderr += `${e.message}\n`;
      exit = { code: 127, signal: null };
      finish();
    });
    child.on("exit", (code, signal) => {
      exit = { code, signal };
      // Whatever the command left running in its group goes with it.
      killGroup(child.pid, "SIGKILL");
      // Output still buffered in the pipes arrives before 'close'; don't wait forever on a
      // grandchild that escaped the group and holds the pipe.
      setTimeout(finish, 200).unref();
    });
    child.on("close", () => finish());
  });
};

/** The last `lines` lines of some output, for failure messages and `outputTail`. */
export function tail(text: string, lines = 20, maxChars = 4000): string {
  const all = text.trimEnd().split("\n");
  let t = all.slice(-lines).join("\n");
  if (t.length > maxChars) t = t.slice(-maxChars);
  return t;
}

/**
 * What stopped a command when a resource limit did (the backend says which; the environment's spec says
 * how much): "memory limit 512 MiB reached: killed". Timeouts are reported as timeouts, not here.
 */
export function limitMessage(
  result: Pick<ExecResult, "limit">,
  limits: { memoryMb?: number; pids?: number } = {},
): string | undefined {
  if (result.limit === "memory")
    return `memory limit ${limits.memoryMb ? `${formatSize(Math.round(limits.memoryMb * 1024 * 1024))} ` : ""}reached: killed`;
  if (result.limit === "pids")
    return `process limit ${limits.pids ? `${limits.pids} ` : ""}reached: new processes refused`;
  return undefined;
}
