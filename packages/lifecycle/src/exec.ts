// Runs one shell command: its own process group inside the phase containment (so a timeout or an
// interrupt stops everything it started, see containment.ts), a deadline of any length, and its output
// streamed line by line with bounded memory: a line longer than the limit is cut (and says so), so one
// endless line costs linear time, and only the last lines are kept here for messages.
import { spawn } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { StringDecoder } from "node:string_decoder";
import { GgenError, type LongTimer, longTimeout } from "@ggen/support";
import { type ContainmentMode, PHASE_MARKER, PhaseProcesses } from "./containment.js";

export interface ExecOptions {
  cwd: string;
  env: Record<string, string>;
  /** Milliseconds; 0 or absent means none. Any length (past Node's 24.8-day timer limit too). */
  timeoutMs?: number;
  onLine?: (line: string, stream: "stdout" | "stderr") => void;
  signal?: AbortSignal;
  /** Characters of one line passed on; the rest of a longer line is cut (default 64 Ki). */
  lineChars?: number;
  /** "process-tree" declines a cgroup even where one could be made (default "auto"). */
  containment?: "auto" | "process-tree";
}

export interface ExecResult {
  command: string;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  /** Stopped by the caller's signal (Ctrl-C). */
  interrupted: boolean;
  durationMs: number;
  /** The last lines of output (both streams), for error messages. */
  tail: string[];
  /** How its processes were contained (what a timeout could reach). */
  containment: ContainmentMode;
}

const TAIL = 40;
export const DEFAULT_LINE_CHARS = 64 * 1024;
/** After SIGTERM, the time a command has to end before everything it started is killed. */
const GRACE_MS = 2000;

/** Splits a stream into lines without ever holding more than `max` characters of one. */
class LineSplitter {
  private readonly decoder = new StringDecoder("utf8");
  private parts: string[] = [];
  private kept = 0;
  private cut = 0;

  constructor(
    private readonly max: number,
    private readonly emit: (line: string) => void,
  ) {}

  private take(text: string): void {
    const room = this.max - this.kept;
    if (text.length <= room) {
      if (text) this.parts.push(text);
      this.kept += text.length;
    } else {
      if (room > 0) this.parts.push(text.slice(0, room));
      this.kept = this.max;
      this.cut += text.length - Math.max(0, room);
    }
  }

  private flushLine(): void {
    const line = this.parts.join("");
    this.emit(this.cut ? `${line} [… ${this.cut} more characters cut]` : line);
    this.parts = [];
    this.kept = 0;
    this.cut = 0;
  }

  write(chunk: Buffer): void {
    const text = this.decoder.write(chunk);
    let from = 0;
    for (let nl = text.indexOf("\n"); nl >= 0; nl = text.indexOf("\n", from)) {
      this.take(text.slice(from, nl));
      this.flushLine();
      from = nl + 1;
    }
    this.take(text.slice(from));
  }

  end(): void {
    this.take(this.decoder.end());
    if (this.kept > 0 || this.cut > 0) this.flushLine();
  }
}

/** Why a command could not start, as one line (Node says "spawn /bin/sh ENOENT" for a missing cwd). */
function spawnFailure(command: string, cwd: string, e: NodeJS.ErrnoException): GgenError {
  let why = e.code ?? e.message;
  if (!existsSync(cwd)) why = `its working directory ${cwd} does not exist`;
  else if (!statSync(cwd).isDirectory()) why = `its working directory ${cwd} is not a directory`;
  return new GgenError("LIFECYCLE_EXEC", `cannot run '${command}': ${why}`);
}

export function execCommand(command: string, opts: ExecOptions): Promise<ExecResult> {
  const started = performance.now();
  const procs = new PhaseProcesses(opts.containment);
  return new Promise((resolve, reject) => {
    const { file, args } = procs.wrap(command);
    const child = spawn(file, args, {
      cwd: opts.cwd,
      env: { ...opts.env, [PHASE_MARKER]: procs.token },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    if (child.pid !== undefined) procs.started(child.pid);
    const tail: string[] = [];
    const onLine = (stream: "stdout" | "stderr") => (line: string) => {
      tail.push(line);
      if (tail.length > TAIL) tail.shift();
      opts.onLine?.(line, stream);
    };
    const max = opts.lineChars ?? DEFAULT_LINE_CHARS;
    const out = new LineSplitter(max, onLine("stdout"));
    const err = new LineSplitter(max, onLine("stderr"));
    child.stdout.on("data", (c: Buffer) => out.write(c));
    child.stderr.on("data", (c: Buffer) => err.write(c));

    let timedOut = false;
    let interrupted = false;
    let stopping = false;
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    let deadline: LongTimer | undefined;
    const timers: NodeJS.Timeout[] = [];
    const later = (fn: () => void, ms: number) => {
      timers.push(setTimeout(fn, ms));
    };
    const clearTimers = () => {
      deadline?.clear();
      for (const t of timers) clearTimeout(t);
      opts.signal?.removeEventListener("abort", onAbort);
    };
    // SIGTERM to everything it started; SIGKILL to what is left after the grace; and when a process we
    // cannot reach still holds the output pipes, we stop waiting for them.
    const stop = () => {
      if (stopping) return;
      stopping = true;
      procs.signalAll("SIGTERM");
      later(() => {
        void procs.killAll().then(() => later(() => done(), GRACE_MS));
      }, GRACE_MS);
    };
    if (opts.timeoutMs && opts.timeoutMs > 0) {
      deadline = longTimeout(() => {
        timedOut = true;
        stop();
      }, opts.timeoutMs);
    }
    const onAbort = () => {
      interrupted = true;
      stop();
    };
    if (opts.signal?.aborted) onAbort();
    else opts.signal?.addEventListener("abort", onAbort, { once: true });

    let finished = false;
    const done = () => {
      if (finished) return;
      finished = true;
      clearTimers();
      child.stdout.destroy();
      child.stderr.destroy();
      out.end();
      err.end();
      const settle = async () => {
        // A timed-out or interrupted command leaves nothing behind.
        if (timedOut || interrupted) await procs.killAll();
        await procs.dispose();
        resolve({
          command,
          exitCode: exit?.code ?? null,
          signal: exit?.signal ?? null,
          timedOut,
          interrupted,
          durationMs: performance.now() - started,
          tail,
          containment: procs.mode,
        });
      };
      void settle();
    };
    child.on("error", (e) => {
      if (finished) return;
      finished = true;
      clearTimers();
      void procs.dispose().then(() => reject(spawnFailure(command, opts.cwd, e)));
    });
    child.on("exit", (code, sig) => {
      exit = { code, signal: sig };
    });
    child.on("close", (code, sig) => {
      exit ??= { code, signal: sig };
      done();
    });
  });
}
