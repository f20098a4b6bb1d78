// Native redis-server on a free 127.0.0.1 port and a unix socket; ready when PING answers PONG.
// Reset is FLUSHALL.
import { spawn } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GgenError } from "@ggen/contract";
import { freePort, redactUrl } from "@ggen/support";
import { removeInstanceDir, removeInstanceDirAsync, socketDirFor } from "../util/fs.js";
import { isAlive, sleep, stopProcess } from "../util/proc.js";
import { dropTo } from "../util/user.js";
import { respCommands } from "./resp.js";

export interface RedisOptions {
  port?: number;
  password?: string;
  /** redis-server binary (default from PATH). */
  binary?: string;
  baseDir?: string;
  detached?: boolean;
  netns?: string;
  timeoutMs?: number;
}

export interface RedisInstance {
  kind: "redis";
  pid: number;
  dir: string;
  socket: string;
  host: string;
  port: number;
  password?: string;
  binary: string;
  logFile: string;
  readyMs: number;
}

export interface RedisHandle extends RedisInstance {
  url: string;
  redactedUrl: string;
  env: Record<string, string>;
  reset(): Promise<void>;
  command(...args: string[]): Promise<unknown>;
  logs(): string;
  /** Stops it (`graceMs`: how long it may take before it is killed) and removes its directory. */
  stop(graceMs?: number): Promise<void>;
}

const running = new Set<RedisInstance>();
let hooked = false;

export async function startRedis(options: RedisOptions = {}): Promise<RedisHandle> {
  const started = performance.now();
  const binary = options.binary ?? "redis-server";
  const base = options.baseDir ?? tmpdir();
  mkdirSync(base, { recursive: true });
  const dir = mkdtempSync(join(base, "ggen-cleanroom-redis-"));
  chmodSync(dir, 0o700);
  const socket = join(socketDirFor(dir, 10), "redis.sock");
  const logFile = join(dir, "redis.log");
  for (let attempt = 0; ; attempt++) {
    const port = options.port ?? (await freePort());
    const args = [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--unixsocket",
      socket,
      "--unixsocketperm",
      "700",
      "--save",
      "",
      "--appendonly",
      "no",
      "--dir",
      dir,
      "--daemonize",
      "no",
      ...(options.password ? ["--requirepass", options.password] : []),
    ];
    const argv = [
      ...(options.netns ? ["nsenter", `--net=${options.netns}`, "--"] : []),
      ...dropTo(undefined, options.detached ? undefined : "SIGKILL"),
      binary,
      ...args,
    ];
    const log = openSync(logFile, "a");
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn(argv[0]!, argv.slice(1), {
        detached: true,
        stdio: ["ignore", log, log],
        env: { PATH: process.env.PATH ?? "/usr/bin:/bin", TZ: "UTC" },
      });
    } catch (error) {
      removeInstanceDir(dir);
      throw error;
    }
    child.on("error", () => undefined);
    child.unref();
    const inst: RedisInstance = {
      kind: "redis",
      pid: child.pid ?? -1,
      dir,
      socket,
      host: "127.0.0.1",
      port,
      binary,
      logFile,
      readyMs: 0,
      ...(options.password ? { password: options.password } : {}),
    };
    if (!options.detached) {
      running.add(inst);
      if (!hooked) {
        hooked = true;
        process.once("exit", () => {
          for (const r of running) {
            try {
              process.kill(r.pid, "SIGKILL");
            } catch {
              // gone
            }
            removeInstanceDir(r.dir);
          }
        });
      }
    }
    try {
      await waitReady(inst, options.timeoutMs ?? 10_000);
      inst.readyMs = Math.round(performance.now() - started);
      return redisHandle(inst);
    } catch (error) {
      await stopProcess(inst.pid, "SIGKILL", 0);
      running.delete(inst);
      const clash = /Address already in use/.test(readLog(logFile));
      if (clash && options.port === undefined && attempt < 3) continue;
      removeInstanceDir(dir);
      throw error;
    }
  }
}

function readLog(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return "";
  }
}

async function waitReady(inst: RedisInstance, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (inst.pid < 0 || !isAlive(inst.pid)) {
      throw new GgenError(
        "CLEANROOM_REDIS_START",
        `redis-server exited during start: ${readLog(inst.logFile).trim().split("\n").slice(-3).join(" | ")}`,
        {
          hint: "is redis-server installed? npm run quickstart installs it",
        },
      );
    }
    if (existsSync(inst.socket)) {
      try {
        const [pong] = await respCommands(
          { path: inst.socket, ...(inst.password ? { password: inst.password } : {}) },
          [["PING"]],
        );
        if (pong === "PONG") return;
      } catch {
        // not yet
      }
    }
    await sleep(2);
  }
  throw new GgenError("CLEANROOM_REDIS_TIMEOUT", `redis-server not ready after ${timeoutMs} ms`, {
    hint: `log: ${inst.logFile}`,
  });
}

export function redisHandle(inst: RedisInstance): RedisHandle {
  const auth = inst.password ? `:${encodeURIComponent(inst.password)}@` : "";
  const url = `redis://${auth}${inst.host}:${inst.port}`;
  const target = { path: inst.socket, ...(inst.password ? { password: inst.password } : {}) };
  return {
    ...inst,
    url,
    redactedUrl: redactUrl(url),
    env: { REDIS_URL: url, REDIS_HOST: inst.host, REDIS_PORT: String(inst.port) },
    async reset() {
      const [reply] = await respCommands(target, [["FLUSHALL"]]);
      if (reply instanceof Error)
        throw new GgenError("CLEANROOM_REDIS_RESET", `FLUSHALL failed: ${reply.message}`);
    },
    async command(...args: string[]) {
      const [reply] = await respCommands(target, [args]);
      if (reply instanceof Error) throw reply;
      return reply;
    },
    logs() {
      return readLog(inst.logFile);
    },
    async stop(graceMs = 5000) {
      await stopProcess(inst.pid, "SIGTERM", graceMs);
      for (const r of running) if (r.pid === inst.pid) running.delete(r);
      await removeInstanceDirAsync(inst.dir);
    },
  };
}

export async function redisHealth(inst: RedisInstance): Promise<{ healthy: boolean; detail: string }> {
  if (!isAlive(inst.pid)) return { healthy: false, detail: `pid ${inst.pid} is not running` };
  try {
    const target = { path: inst.socket, ...(inst.password ? { password: inst.password } : {}) };
    const [pong] = await respCommands(target, [["PING"]]);
    return { healthy: pong === "PONG", detail: String(pong) };
  } catch (error) {
    return { healthy: false, detail: String(error) };
  }
}
