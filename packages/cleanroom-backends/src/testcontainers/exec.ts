// Commands and files in a testcontainers environment: `docker exec` under GNU timeout (which kills the
// command's whole process group), Docker's multiplexed output parsed as it arrives, and copies through
// tar archives. Paths stay inside the environment's workdir (or its outputs folder).
import { spawn } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join, posix, resolve } from "node:path";
import { GgenError } from "@ggen/support";
import type { ContainerRuntimeClient } from "testcontainers";
import type { ExecOptions, ExecResult } from "../backend.js";
import type { Docker, DockerContainer } from "./docker.js";

export const WORKDIR = "/work";
export const TEST_TMPDIR = "/tmp/cleanroom";
export const OUTPUTS = "/outputs";

/** Runs argv in the container with `env`, killed (with its children) after `timeoutMs` or on abort. */
export async function execInContainer(
  docker: Docker,
  containerId: string,
  argv: string[],
  env: Record<string, string>,
  timeoutMs: number,
  options: ExecOptions = {},
): Promise<ExecResult> {
  const t0 = performance.now();
  const cwd = options.cwd ? containerPath(options.cwd) : WORKDIR;
  const client = await docker.client();
  const container = client.container.getById(containerId);
  let stdinFile: string | undefined;
  if (options.stdin !== undefined) {
    stdinFile = `${TEST_TMPDIR}/.stdin-${process.pid}-${Math.random().toString(36).slice(2)}`;
    await putFile(client, container, stdinFile, options.stdin);
  }
  // GNU timeout runs the command in its own process group and kills the whole group.
  const seconds = Math.max(0.1, timeoutMs / 1000).toFixed(2);
  const script = stdinFile ? 'f=$1; shift; exec "$@" < "$f"' : 'shift; exec "$@" < /dev/null';
  const full = ["timeout", "-s", "KILL", seconds, "sh", "-c", script, "sh", stdinFile ?? "-", ...argv];
  const exec = await container.exec({
    Cmd: full,
    Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
    WorkingDir: cwd,
    AttachStdin: false,
    AttachStdout: true,
    AttachStderr: true,
  });
  const stream = (await exec.start({ hijack: true, stdin: false })) as NodeJS.ReadableStream;
  let stdout = "";
  let stderr = "";
  // Docker multiplexes both streams: 8-byte frame headers (stream id, size), parsed as data arrives.
  let pending = Buffer.alloc(0);
  const onAbort = () => {
    void exec.inspect().then((info) => {
      // The exec's leader is GNU timeout, leader of its own process group (a host pid here).
      if (info.Pid > 0) {
        try {
          process.kill(-info.Pid, "SIGKILL");
        } catch {
          // gone
        }
      }
    });
  };
  options.signal?.addEventListener("abort", onAbort, { once: true });
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
  options.signal?.removeEventListener("abort", onAbort);
  let exitCode: number | null = null;
  for (let i = 0; i < 100; i++) {
    const info = await exec.inspect();
    if (!info.Running) {
      exitCode = info.ExitCode;
      break;
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  if (stdinFile) await client.container.exec(container, ["rm", "-f", stdinFile]).catch(() => undefined);
  const durationMs = Math.round(performance.now() - t0);
  const timedOut = exitCode === 137 && durationMs >= timeoutMs - 50;
  return {
    exitCode,
    signal: exitCode === 137 ? "SIGKILL" : null,
    stdout,
    stderr,
    durationMs,
    timedOut,
    ...(timedOut ? { limit: "timeout" as const } : {}),
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
function containerPath(p: string): string {
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
