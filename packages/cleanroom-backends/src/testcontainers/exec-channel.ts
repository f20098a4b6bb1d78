// One long-lived `docker exec` per environment that runs every later command: a small Node program in the
// container reads requests (JSON lines) on its stdin and spawns each command itself, so a command costs a
// fork in the container instead of an engine round trip (exec create, runc exec, attach, inspect: ~50 ms
// idle, 250+ ms on a loaded machine, per command). It keeps what a plain exec gives: the command's own
// process group killed on timeout or abort, then a sweep by the command's marker for what escaped with
// setsid; the cgroup's OOM-kill and process-limit counters read before and after; stdin; exit 128+n for a
// signal. When the program cannot start (an image without node), the backend goes on exec'ing per command.
import { randomUUID } from "node:crypto";
import { StringDecoder } from "node:string_decoder";
import { GgenError, longTimeout } from "@ggen/support";
import type { ExecOptions } from "../backend.js";
import type { Docker } from "./docker.js";

/**
 * The program in the container. Requests: {t:"run",id,argv,env,cwd,timeoutMs,stdin?,marker} and
 * {t:"kill",id}. Answers (stdout, JSON lines): {t:"ready"}, {t:"out",id,s:1|2,d:base64},
 * {t:"exit",id,code,timedOut,limit?}. Its stdin closing ends it, and every command it still runs.
 */
export const CHANNEL_PROGRAM = String.raw`
const { spawn } = require("node:child_process");
const fs = require("node:fs");
const send = (m) => process.stdout.write(JSON.stringify(m) + "\n");
const running = new Map();
const first = (files, re) => { for (const f of files) { try { const m = re.exec(fs.readFileSync(f, "utf8")); if (m) return Number(m[1]); } catch {} } return 0; };
const counters = () => [
  first(["/sys/fs/cgroup/memory.events", "/sys/fs/cgroup/memory/memory.oom_control"], /^oom_kill (\d+)/m),
  first(["/sys/fs/cgroup/pids.events", "/sys/fs/cgroup/pids/pids.events"], /^max (\d+)/m),
];
const sweep = (marker) => {
  for (const p of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(p) || Number(p) === process.pid) continue;
    try { if (fs.readFileSync("/proc/" + p + "/environ", "utf8").split("\0").includes(marker)) process.kill(Number(p), "SIGKILL"); } catch {}
  }
};
const stop = (r) => { try { process.kill(-r.child.pid, "SIGKILL"); } catch {} sweep(r.marker); };
const SIGNALS = require("node:os").constants.signals;
function run(q) {
  const before = counters();
  const env = { ...process.env, ...q.env };
  const [k, v] = q.marker.split("=");
  env[k] = v;
  let child;
  try {
    child = spawn(q.argv[0], q.argv.slice(1), { cwd: q.cwd, env, detached: true, stdio: [q.stdin == null ? "ignore" : "pipe", "pipe", "pipe"] });
  } catch (e) {
    send({ t: "out", id: q.id, s: 2, d: Buffer.from(String(e.message) + "\n").toString("base64") });
    send({ t: "exit", id: q.id, code: 126, timedOut: false });
    return;
  }
  const r = { child, marker: q.marker, timedOut: false, done: false };
  running.set(q.id, r);
  if (q.stdin != null) { child.stdin.on("error", () => {}); child.stdin.end(q.stdin); }
  child.stdout.on("data", (d) => send({ t: "out", id: q.id, s: 1, d: d.toString("base64") }));
  child.stderr.on("data", (d) => send({ t: "out", id: q.id, s: 2, d: d.toString("base64") }));
  const timer = setTimeout(() => { r.timedOut = true; stop(r); }, Math.max(100, q.timeoutMs));
  let code;
  const finish = () => {
    if (r.done || code === undefined) return;
    r.done = true;
    clearTimeout(timer);
    running.delete(q.id);
    let limit;
    if (code !== 0 && !r.timedOut) {
      const after = counters();
      if (after[0] > before[0]) limit = "memory";
      else if (after[1] > before[1]) limit = "pids";
    }
    send({ t: "exit", id: q.id, code, timedOut: r.timedOut, ...(limit ? { limit } : {}) });
  };
  child.on("error", (e) => {
    child.stderr.emit("data", Buffer.from(e.code === "ENOENT" ? q.argv[0] + ": not found\n" : String(e.message) + "\n"));
    code = e.code === "ENOENT" ? 127 : 126;
    finish();
  });
  child.on("exit", (c, s) => {
    code = c ?? 128 + (SIGNALS[s] ?? 9);
    // What still holds the pipes (a background child) must not keep the answer back.
    setTimeout(finish, 200);
  });
  child.on("close", finish);
}
let buf = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (d) => {
  buf += d;
  for (let i; (i = buf.indexOf("\n")) >= 0; ) {
    const line = buf.slice(0, i);
    buf = buf.slice(i + 1);
    if (!line) continue;
    const q = JSON.parse(line);
    if (q.t === "run") run(q);
    else if (q.t === "kill") { const r = running.get(q.id); if (r) stop(r); }
  }
});
process.stdin.on("end", () => { for (const r of running.values()) stop(r); process.exit(0); });
send({ t: "ready" });
`;

interface Pending {
  stdout: string;
  stderr: string;
  out: StringDecoder;
  err: StringDecoder;
  onOutput?: ExecOptions["onOutput"];
  done: (m: { code: number; timedOut: boolean; limit?: "memory" | "pids" }) => void;
  fail: (e: Error) => void;
}

/** A command's answer from the channel, before the backend adds its limit values. */
export interface ChannelResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  limit?: "memory" | "pids";
  durationMs: number;
}

export class ExecChannel {
  private readonly pending = new Map<string, Pending>();
  private closed: Error | undefined;

  private constructor(private readonly stream: NodeJS.ReadWriteStream) {}

  /** Starts the program in the container; undefined when it does not answer (no node there, say). */
  static async open(
    docker: Docker,
    containerId: string,
    timeoutMs = 30_000,
  ): Promise<ExecChannel | undefined> {
    const client = await docker.client();
    const container = client.container.getById(containerId);
    const exec = await container.exec({
      Cmd: ["node", "-e", CHANNEL_PROGRAM],
      AttachStdin: true,
      AttachStdout: true,
      AttachStderr: true,
      // Its own variables only: a command's come with its request.
      Env: [],
    });
    const stream = (await exec.start({ hijack: true, stdin: true })) as NodeJS.ReadWriteStream;
    const channel = new ExecChannel(stream);
    const ready = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      channel.onReady = () => {
        clearTimeout(timer);
        resolve(true);
      };
      channel.onGone = () => {
        clearTimeout(timer);
        resolve(false);
      };
      channel.listen();
    });
    if (!ready) {
      channel.close();
      return undefined;
    }
    return channel;
  }

  private onReady: () => void = () => {};
  private onGone: () => void = () => {};

  /** Docker's multiplexed frames (8-byte headers), then the program's JSON lines. */
  private listen(): void {
    let frames = Buffer.alloc(0);
    let lines = "";
    const gone = (why: string) => {
      if (this.closed) return;
      this.closed = new GgenError("CLEANROOM_EXEC", `the environment's command channel closed (${why})`);
      for (const p of this.pending.values()) p.fail(this.closed);
      this.pending.clear();
      this.onGone();
    };
    this.stream.on("data", (chunk: Buffer) => {
      frames = Buffer.concat([frames, chunk]);
      while (frames.length >= 8) {
        const size = frames.readUInt32BE(4);
        if (frames.length < 8 + size) break;
        const kind = frames[0];
        const body = frames.subarray(8, 8 + size).toString("utf8");
        frames = frames.subarray(8 + size);
        if (kind !== 1) continue; // the program's own stderr: nothing a caller asked for
        lines += body;
        for (let i = lines.indexOf("\n"); i >= 0; i = lines.indexOf("\n")) {
          const line = lines.slice(0, i);
          lines = lines.slice(i + 1);
          if (line) this.answer(JSON.parse(line) as Answer);
        }
      }
    });
    this.stream.on("end", () => gone("it ended"));
    this.stream.on("close", () => gone("it closed"));
    this.stream.on("error", (e: Error) => gone(e.message));
  }

  private answer(m: Answer): void {
    if (m.t === "ready") {
      this.onReady();
      return;
    }
    const p = this.pending.get(m.id);
    if (!p) return;
    if (m.t === "out") {
      const raw = Buffer.from(m.d, "base64");
      const text = (m.s === 2 ? p.err : p.out).write(raw);
      if (!text) return;
      if (m.s === 2) p.stderr += text;
      else p.stdout += text;
      p.onOutput?.(text, m.s === 2 ? "stderr" : "stdout");
    } else if (m.t === "exit") {
      this.pending.delete(m.id);
      p.done(m);
    }
  }

  get open(): boolean {
    return this.closed === undefined;
  }

  /** Runs argv in the container; killed (its group, then by its marker) after `timeoutMs` or on abort. */
  run(
    argv: string[],
    o: {
      env: Record<string, string>;
      cwd: string;
      timeoutMs: number;
      stdin?: string;
      onOutput?: ExecOptions["onOutput"];
      signal?: AbortSignal;
    },
  ): Promise<ChannelResult> {
    if (this.closed) return Promise.reject(this.closed);
    const t0 = performance.now();
    const id = randomUUID();
    return new Promise<ChannelResult>((resolve, reject) => {
      const onAbort = () => this.send({ t: "kill", id });
      // Past Node's 24.8-day clamp the program's own timer would fire at once: long ones are kept here.
      const long = o.timeoutMs > 2 ** 31 - 1;
      const timer = long ? longTimeout(onAbort, o.timeoutMs) : undefined;
      const settle = () => {
        timer?.clear();
        o.signal?.removeEventListener("abort", onAbort);
      };
      const p: Pending = {
        stdout: "",
        stderr: "",
        out: new StringDecoder("utf8"),
        err: new StringDecoder("utf8"),
        ...(o.onOutput ? { onOutput: o.onOutput } : {}),
        done: (m) => {
          settle();
          p.stdout += p.out.end();
          p.stderr += p.err.end();
          resolve({
            exitCode: m.code,
            stdout: p.stdout,
            stderr: p.stderr,
            timedOut: m.timedOut || (long && m.code === 137),
            ...(m.limit ? { limit: m.limit } : {}),
            durationMs: Math.round(performance.now() - t0),
          });
        },
        fail: (e) => {
          settle();
          reject(e);
        },
      };
      this.pending.set(id, p);
      o.signal?.addEventListener("abort", onAbort, { once: true });
      this.send({
        t: "run",
        id,
        argv,
        env: o.env,
        cwd: o.cwd,
        timeoutMs: long ? 2 ** 31 - 1 : o.timeoutMs,
        ...(o.stdin !== undefined ? { stdin: o.stdin } : {}),
        marker: `CLEANROOM_EXEC=${id}`,
      });
      if (o.signal?.aborted) onAbort();
    });
  }

  private send(m: object): void {
    if (!this.closed) this.stream.write(`${JSON.stringify(m)}\n`);
  }

  /** Ends the program (and whatever it still runs). */
  close(): void {
    if (!this.closed)
      this.closed = new GgenError("CLEANROOM_EXEC", "the environment's command channel was closed");
    for (const p of this.pending.values()) p.fail(this.closed);
    this.pending.clear();
    this.stream.end();
    (this.stream as unknown as { destroy?: () => void }).destroy?.();
  }
}

type Answer =
  | { t: "ready" }
  | { t: "out"; id: string; s: 1 | 2; d: string }
  | { t: "exit"; id: string; code: number; timedOut: boolean; limit?: "memory" | "pids" };
