// Commands and files in a testcontainers environment: `docker exec` under GNU timeout (which kills the
// command's whole process group), Docker's multiplexed output parsed as it arrives, and copies through
// tar archives. Paths stay inside the environment's workdir (or its outputs folder).
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join, posix, resolve } from "node:path";
import { GgenError, longTimeout } from "@ggen/support";
import type { ContainerRuntimeClient } from "testcontainers";
import type { ExecOptions, ExecResult } from "../backend.js";
import { limitMessage } from "../state/records.js";
import type { Docker, DockerContainer } from "./docker.js";

export const WORKDIR = "/work";
export const TEST_TMPDIR = "/tmp/cleanroom";
export const OUTPUTS = "/outputs";

/**
 * The container's OOM kills and process-limit hits (cgroup v2, else v1), on one line: read before and after
 * a command, so that the result can say which limit stopped it.
 */
const COUNTERS =
  "counters() { for f in /sys/fs/cgroup/memory.events /sys/fs/cgroup/memory/memory.oom_control; do " +
  '[ -r "$f" ] && sed -n "s/^oom_kill //p" "$f" && break; done; ' +
  "for f in /sys/fs/cgroup/pids.events /sys/fs/cgroup/pids/pids.events; do " +
  '[ -r "$f" ] && sed -n "s/^max //p" "$f" && break; done; }';

/**
 * Runs the command (GNU timeout's command line, after the counters file) and, when it failed and a limit
 * counter moved meanwhile, writes `before|after` to the file. It stays the parent: GNU timeout leads a
 * process group of its own, which is what it kills.
 */
const WRAPPER = `${COUNTERS}; f=$1; shift; c0=$(counters | tr "\\n" " "); "$@"; rc=$?; c1=$(counters | tr "\\n" " "); if [ "$rc" != 0 ] && [ "$c0" != "$c1" ]; then echo "$c0|$c1" > "$f"; fi; exit $rc`;

/** Kills every process in the container whose environment holds the marker (what escaped with setsid too). */
const KILL_MARKED = [
  "for p in /proc/[0-9]*; do",
  '  if tr "\\0" "\\n" < "$p/environ" 2>/dev/null | grep -qxF "$1"; then kill -9 "$(basename "$p")" 2>/dev/null; fi',
  "done; true",
].join("\n");

export interface ContainerExecOptions extends ExecOptions {
  /** The environment's limits, for the message when one stops the command. */
  limits?: { memoryMb?: number | undefined; pids?: number | undefined };
  /**
   * Told the time spent in engine calls around the command (exec create and attach, stdin upload, the
   * exit code, the limit counters), not the command's own time — which includes the engine starting its
   * process, which cannot be told apart from here.
   */
  onEngineMs?: (ms: number) => void;
}

/**
 * Runs argv in the container with `env`, killed after `timeoutMs` or on abort: GNU timeout kills the
 * command's process group, and a sweep by the command's marker takes what left it (setsid); both work on a
 * remote engine (no host pid is signalled).
 */
export async function execInContainer(
  docker: Docker,
  containerId: string,
  argv: string[],
  env: Record<string, string>,
  timeoutMs: number,
  options: ContainerExecOptions = {},
): Promise<ExecResult> {
  const t0 = performance.now();
  let engineMs = 0;
  const engine = async <T>(call: () => Promise<T>): Promise<T> => {
    const c0 = performance.now();
    try {
      return await call();
    } finally {
      engineMs += performance.now() - c0;
    }
  };
  const cwd = options.cwd ? containerPath(options.cwd) : WORKDIR;
  const client = await docker.client();
  const container = client.container.getById(containerId);
  const id = randomUUID();
  const marker = `CLEANROOM_EXEC=${id}`;
  const stdinFile = options.stdin !== undefined ? `${TEST_TMPDIR}/.stdin-${id}` : undefined;
  if (stdinFile && options.stdin !== undefined) {
    const text = options.stdin;
    await engine(() => putFile(client, container, stdinFile, text));
  }
  const countersFile = `${TEST_TMPDIR}/.limits-${id}`;
  const seconds = Math.max(0.1, timeoutMs / 1000).toFixed(2);
  const script = stdinFile ? 'f=$1; shift; exec "$@" < "$f"' : 'shift; exec "$@" < /dev/null';
  const full = [
    "sh",
    "-c",
    WRAPPER,
    "cleanroom-exec",
    countersFile,
    ...["timeout", "-s", "KILL", seconds, "sh", "-c", script, "sh", stdinFile ?? "-", ...argv],
  ];
  const exec = await engine(() =>
    container.exec({
      Cmd: full,
      Env: [...Object.entries(env).map(([k, v]) => `${k}=${v}`), marker],
      WorkingDir: cwd,
      AttachStdin: false,
      AttachStdout: true,
      AttachStderr: true,
    }),
  );
  const stream = (await engine(() => exec.start({ hijack: true, stdin: false }))) as NodeJS.ReadableStream;
  let stdout = "";
  let stderr = "";
  let timedOut = false;
  const sweep = () =>
    docker.execIn(containerId, ["sh", "-c", KILL_MARKED, "sh", marker]).catch(() => undefined);
  // Docker multiplexes both streams: 8-byte frame headers (stream id, size), parsed as data arrives.
  let pending = Buffer.alloc(0);
  const onAbort = () => void sweep();
  options.signal?.addEventListener("abort", onAbort, { once: true });
  // Past the timeout, what escaped the process group still holds the output open: the sweep ends it.
  // longTimeout: Node fires a setTimeout of 24.8 days or more at once.
  const timer = longTimeout(() => {
    timedOut = true;
    void sweep();
  }, timeoutMs);
  try {
    await new Promise<void>((ok, fail) => {
      stream.on("data", (chunk: Buffer) => {
        pending = Buffer.concat([pending, chunk]);
        while (pending.length >= 8) {
          const size = pending.readUInt32BE(4);
          if (pending.length < 8 + size) break;
          const text = pending.subarray(8, 8 + size).toString("utf8");
          if (pending[0] === 2) {
            stderr += text;
            options.onOutput?.(text, "stderr");
          } else {
            stdout += text;
            options.onOutput?.(text, "stdout");
          }
          pending = pending.subarray(8 + size);
        }
      });
      stream.on("end", () => ok());
      stream.on("close", () => ok());
      stream.on("error", fail);
    });
  } finally {
    timer.clear();
    options.signal?.removeEventListener("abort", onAbort);
  }
  let exitCode: number | null = null;
  await engine(async () => {
    for (let i = 0; i < 100; i++) {
      const info = await exec.inspect();
      if (!info.Running) {
        exitCode = info.ExitCode;
        break;
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    if (stdinFile) await client.container.exec(container, ["rm", "-f", stdinFile]).catch(() => undefined);
  });
  const durationMs = Math.round(performance.now() - t0);
  timedOut ||= exitCode === 137 && durationMs >= timeoutMs - 50;
  let limit: ExecResult["limit"];
  let limitValue: number | undefined;
  if (timedOut) {
    limit = "timeout";
    limitValue = timeoutMs;
  } else if (exitCode !== 0) {
    // Only a failed command can have been stopped by a limit: its counters, when one moved.
    const read = await engine(() =>
      docker.execIn(containerId, ["sh", "-c", 'cat "$1" 2>/dev/null; rm -f "$1"', "sh", countersFile]),
    );
    const [before, after] = read.stdout
      .trim()
      .split("|")
      .map((part) => part.trim().split(/\s+/).map(Number));
    if (before && after) {
      if ((after[0] ?? 0) > (before[0] ?? 0)) {
        limit = "memory";
        limitValue = options.limits?.memoryMb ? options.limits.memoryMb * 1024 * 1024 : undefined;
      } else if ((after[1] ?? 0) > (before[1] ?? 0)) {
        limit = "pids";
        limitValue = options.limits?.pids;
      }
    }
  }
  options.onEngineMs?.(engineMs);
  return {
    exitCode,
    signal: exitCode === 137 ? "SIGKILL" : null,
    stdout,
    stderr,
    durationMs,
    timedOut,
    ...(limit
      ? {
          limit,
          ...(limitValue !== undefined ? { limitValue } : {}),
          limitMessage: limitMessage(limit, limitValue),
        }
      : {}),
  };
}

export async function copyIntoContainer(
  docker: Docker,
  containerId: string,
  hostPath: string,
  target: string,
): Promise<void> {
  const dest = containerPath(target);
  const client = await docker.client();
  const container = client.container.getById(containerId);
  await client.container.exec(container, ["mkdir", "-p", posix.dirname(dest)]);
  // tar the source under the target's name, then unpack at the target's directory.
  const stage = mkdtempSync(join(tmpdir(), "ggen-copyin-"));
  try {
    const staged = join(stage, posix.basename(dest));
    cpSync(hostPath, staged, { recursive: true });
    const tar = spawn("tar", ["-C", stage, "-c", posix.basename(dest)], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    await client.container.putArchive(container, tar.stdout, posix.dirname(dest));
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

export async function copyOutOfContainer(
  docker: Docker,
  env: { name: string; containerId: string },
  source: string,
  hostPath: string,
): Promise<void> {
  const src = source.startsWith("@outputs/")
    ? posix.join(OUTPUTS, containerRel(source.slice(9)))
    : containerPath(source);
  const client = await docker.client();
  const container = client.container.getById(env.containerId);
  let stream: NodeJS.ReadableStream;
  try {
    stream = await client.container.fetchArchive(container, src);
  } catch (error) {
    throw new GgenError("CLEANROOM_COPY", `${source} does not exist in environment ${env.name}`, {
      kind: "usage",
      cause: error,
    });
  }
  const stage = mkdtempSync(join(tmpdir(), "ggen-copyout-"));
  try {
    await new Promise<void>((ok, fail) => {
      const tar = spawn("tar", ["-x", "-C", stage], { stdio: ["pipe", "ignore", "inherit"] });
      stream.pipe(tar.stdin);
      tar.on("close", (code) => (code === 0 ? ok() : fail(new Error(`tar exited ${code}`))));
      tar.on("error", fail);
    });
    const [entry] = readdirSync(stage);
    if (!entry) throw new GgenError("CLEANROOM_COPY", `${source} is empty`);
    mkdirSync(dirname(resolve(hostPath)), { recursive: true });
    rmSync(hostPath, { recursive: true, force: true });
    renameSync(join(stage, entry), hostPath);
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

/** Docker's multiplexed log format: 8-byte headers (stream, 0, 0, 0, size) before each frame. */
export function demux(buf: Buffer): string {
  const parts: Buffer[] = [];
  let at = 0;
  while (at + 8 <= buf.length) {
    const type = buf[at];
    const size = buf.readUInt32BE(at + 4);
    if (type === undefined || type > 2 || buf[at + 1] !== 0) return buf.toString("utf8");
    parts.push(buf.subarray(at + 8, at + 8 + size));
    at += 8 + size;
  }
  return Buffer.concat(parts).toString("utf8");
}

function containerRel(p: string): string {
  const norm = posix.normalize(p.replace(/^\/+/, ""));
  if (norm.startsWith(".."))
    throw new GgenError("CLEANROOM_PATH", `${p} escapes the environment`, { kind: "usage" });
  return norm;
}

/** A path inside the environment's workdir (relative, or absolute under /work); no escapes. */
export function containerPath(p: string): string {
  if (posix.isAbsolute(p)) {
    const norm = posix.normalize(p);
    if (norm === WORKDIR || norm.startsWith(`${WORKDIR}/`)) return norm;
    throw new GgenError("CLEANROOM_PATH", `${p} escapes the environment`, { kind: "usage" });
  }
  return posix.join(WORKDIR, containerRel(p));
}

async function putFile(
  client: ContainerRuntimeClient,
  container: DockerContainer,
  path: string,
  content: string,
) {
  const stage = mkdtempSync(join(tmpdir(), "ggen-stdin-"));
  try {
    writeFileSync(join(stage, basename(path)), content);
    const tar = spawn("tar", ["-C", stage, "-c", basename(path)], { stdio: ["ignore", "pipe", "inherit"] });
    await client.container.putArchive(container, tar.stdout, posix.dirname(path));
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}
