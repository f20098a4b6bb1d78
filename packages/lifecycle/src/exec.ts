// Runs one shell command: its own process group (so a timeout kills its children too), a deadline,
// output streamed line by line to a callback and the tail kept for error messages.
import { spawn } from "node:child_process";

export interface ExecOptions {
  cwd: string;
  env: Record<string, string>;
  /** Milliseconds; 0 means none. */
  timeoutMs?: number;
  onLine?: (line: string, stream: "stdout" | "stderr") => void;
  signal?: AbortSignal;
}

export interface ExecResult {
  command: string;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  durationMs: number;
  /** The last lines of output (both streams), for error messages and logs. */
  tail: string[];
  output: string;
}

const TAIL = 40;
const MAX_OUTPUT = 1_000_000;

export function execCommand(command: string, opts: ExecOptions): Promise<ExecResult> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn("/bin/sh", ["-c", command], {
      cwd: opts.cwd,
      env: opts.env,
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    const tail: string[] = [];
    let output = "";
    let timedOut = false;
    const partial = { stdout: "", stderr: "" };
    const feed = (stream: "stdout" | "stderr", chunk: Buffer) => {
      const text = chunk.toString("utf8");
      if (output.length < MAX_OUTPUT) output += text;
      const lines = (partial[stream] + text).split("\n");
      partial[stream] = lines.pop() ?? "";
      for (const l of lines) {
        tail.push(l);
        if (tail.length > TAIL) tail.shift();
        opts.onLine?.(l, stream);
      }
    };
    child.stdout.on("data", (c: Buffer) => feed("stdout", c));
    child.stderr.on("data", (c: Buffer) => feed("stderr", c));
    const killGroup = (sig: NodeJS.Signals) => {
      try {
        if (child.pid) process.kill(-child.pid, sig);
      } catch {
        // already gone
      }
    };
    let hardKill: NodeJS.Timeout | undefined;
    const stop = () => {
      killGroup("SIGTERM");
      hardKill = setTimeout(() => killGroup("SIGKILL"), 2000);
      hardKill.unref();
    };
    const timer =
      opts.timeoutMs && opts.timeoutMs > 0
        ? setTimeout(() => {
            timedOut = true;
            stop();
          }, opts.timeoutMs)
        : undefined;
    const onAbort = () => stop();
    opts.signal?.addEventListener("abort", onAbort, { once: true });
    child.on("error", (e) => {
      if (timer) clearTimeout(timer);
      reject(e);
    });
    child.on("close", (code, signal) => {
      if (timer) clearTimeout(timer);
      if (hardKill) clearTimeout(hardKill);
      opts.signal?.removeEventListener("abort", onAbort);
      // Reap any stragglers still in the group (backgrounded children).
      if (timedOut) killGroup("SIGKILL");
      for (const s of ["stdout", "stderr"] as const) {
        if (partial[s]) {
          tail.push(partial[s]);
          if (tail.length > TAIL) tail.shift();
          opts.onLine?.(partial[s], s);
        }
      }
      resolve({
        command,
        exitCode: code,
        signal,
        timedOut,
        durationMs: performance.now() - started,
        tail,
        output,
      });
    });
  });
}
