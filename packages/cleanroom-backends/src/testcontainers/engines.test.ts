// Two Docker engines standing in for two hosts (issue: remote engines): the shared private dockerd, reached
// over tcp:// (through a loopback proxy to its socket), and a second dockerd started here under
// /tmp/ggen-docker-2 on its own socket and data root, given its images with `docker save | docker load`,
// and stopped by its pid at the end (one that already answers there is used and left running). One process,
// two backend objects, each given its engine: environments and services land where they were sent, services
// report the address to use, and both engines are left clean.
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { connect, createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { sha256 } from "@ggen/support";
import Dockerode from "dockerode";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defaultConfig } from "../config.js";
import { createBackend } from "../engine.js";
import { dockerUnavailable, engineHost, engineIsRemote } from "./detect.js";
import { LABEL } from "./owner.js";

const FIRST = "unix:///tmp/ggen-docker/docker.sock";
const SECOND_ROOT = "/tmp/ggen-docker-2";
const SECOND = `unix://${SECOND_ROOT}/docker.sock`;
const IMAGES = ["ggen/node:20-bookworm", "ggen/redis:7-debian"];

const docker = (host: string, args: string[], input?: Buffer) =>
  execFileSync("docker", ["-H", host, ...args], { input, maxBuffer: 2 ** 31 - 1, timeout: 600_000 });

/** A tcp:// address for the engine at `socketPath`: a loopback proxy to its socket. */
async function tcpProxy(socketPath: string): Promise<{ url: string; server: Server }> {
  const server = createServer((client) => {
    const upstream = connect(socketPath);
    client.pipe(upstream).pipe(client);
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on("error", close);
    upstream.on("error", close);
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  return { url: `tcp://127.0.0.1:${(server.address() as { port: number }).port}`, server };
}

/** The second engine: the one answering at SECOND, else a dockerd started here (its pid returned). */
async function secondEngine(): Promise<number | undefined> {
  if ((await dockerUnavailable(1500, SECOND)) === undefined) return undefined;
  mkdirSync(SECOND_ROOT, { recursive: true });
  const child = spawn(
    "dockerd",
    [
      "--bridge=none",
      "--iptables=false",
      "--ip6tables=false",
      `--data-root=${SECOND_ROOT}/data`,
      `--exec-root=${SECOND_ROOT}/exec`,
      `--pidfile=${SECOND_ROOT}/dockerd.pid`,
      "-H",
      SECOND,
    ],
    { stdio: "ignore", detached: true },
  );
  child.unref();
  for (let i = 0; i < 240; i++) {
    if ((await dockerUnavailable(1000, SECOND)) === undefined) return child.pid;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`the second dockerd (pid ${child.pid}) did not answer on ${SECOND}`);
}

/** Containers on the engine at `host` labelled for state dir `dir` (the shared engine runs others' too). */
const labelled = async (host: string, dir: string) =>
  await new Dockerode({ socketPath: host.slice("unix://".length) }).listContainers({
    all: true,
    filters: { label: [`${LABEL}=${sha256(resolve(dir)).slice(0, 12)}`] },
  });

describe("two engines, one process", () => {
  let started: number | undefined;
  let proxy: { url: string; server: Server };
  let stateDir: string;

  beforeAll(async () => {
    expect(await dockerUnavailable(3000, FIRST)).toBeUndefined();
    started = await secondEngine();
    const present = docker(SECOND, ["images", "--format", "{{.Repository}}:{{.Tag}}"]).toString();
    const missing = IMAGES.filter((i) => !present.split("\n").includes(i));
    if (missing.length > 0) docker(SECOND, ["load", "-q"], docker(FIRST, ["save", ...missing]));
    proxy = await tcpProxy("/tmp/ggen-docker/docker.sock");
    stateDir = mkdtempSync(join(tmpdir(), "ggen-engines-"));
  }, 900_000);

  afterAll(async () => {
    proxy?.server.close();
    rmSync(stateDir, { recursive: true, force: true });
    if (started) {
      process.kill(started, "SIGTERM");
      for (let i = 0; i < 120; i++) {
        try {
          process.kill(started, 0);
        } catch {
          break;
        }
        await new Promise((r) => setTimeout(r, 250));
      }
      // dockerd leaves its netns bind mount behind when it stops: unmounted (deepest first) before removal.
      const mounts = readFileSync("/proc/self/mountinfo", "utf8")
        .split("\n")
        .map((line) => line.split(" ")[4] ?? "")
        .filter((target) => target.startsWith(`${SECOND_ROOT}/`))
        .sort((a, b) => b.length - a.length);
      for (const target of mounts) execFileSync("umount", [target]);
      rmSync(SECOND_ROOT, { recursive: true, force: true });
    }
  }, 120_000);

  it("each backend object uses the engine it was given (tcp:// and unix://), whatever DOCKER_HOST says", async () => {
    const saved = process.env.DOCKER_HOST;
    process.env.DOCKER_HOST = "unix:///nonexistent/docker.sock";
    const config = { containers: { pull: false } };
    try {
      const firstDir = join(stateDir, "first");
      const secondDir = join(stateDir, "second");
      const overTcp = await createBackend("testcontainers", {
        stateDir: firstDir,
        config,
        engine: proxy.url,
      });
      const second = await createBackend("testcontainers", { stateDir: secondDir, config, engine: SECOND });
      for (const [backend, name] of [
        [overTcp, "on-first"],
        [second, "on-second"],
      ] as const) {
        await backend.createEnvironment({ name, throwaway: true });
        const redis = await backend.startService(name, { kind: "redis" });
        // The address tests use is the engine's (this machine's loopback for both here), and it answers.
        expect(redis.host).toBe("127.0.0.1");
        expect(redis.env.REDIS_URL).toBe(`redis://127.0.0.1:${redis.port}`);
        const r = await backend.exec(name, [
          "node",
          "-e",
          `require('net').connect(${redis.port},'127.0.0.1').on('connect',()=>{console.log('connected');process.exit(0)})`,
        ]);
        expect(r.stdout.trim()).toBe("connected");
      }
      // Each landed on its own engine, and only there.
      const names = async (host: string, dir: string) =>
        (await labelled(host, dir)).map((c) => c.Labels[`${LABEL}.environment`]);
      expect(await names(FIRST, firstDir)).toEqual(["on-first", "on-first"]);
      expect(await names(SECOND, secondDir)).toEqual(["on-second", "on-second"]);
      expect(await names(FIRST, secondDir)).toEqual([]);
      expect(await names(SECOND, firstDir)).toEqual([]);
      await overTcp.deleteEnvironment("on-first");
      await second.deleteEnvironment("on-second");
      await overTcp.close();
      await second.close();
      // Both are left clean.
      expect(await labelled(FIRST, firstDir)).toEqual([]);
      expect(await labelled(SECOND, secondDir)).toEqual([]);
    } finally {
      if (saved === undefined) delete process.env.DOCKER_HOST;
      else process.env.DOCKER_HOST = saved;
    }
  }, 300_000);

  it("a service on a remote engine's host is reached at that host; a local one at loopback", () => {
    expect(engineHost("tcp://10.1.2.3:2375")).toBe("10.1.2.3");
    expect(engineIsRemote("tcp://10.1.2.3:2375")).toBe(true);
    expect(engineHost("tcp://localhost:2375")).toBe("127.0.0.1");
    expect(engineIsRemote(SECOND)).toBe(false);
    expect(defaultConfig().backend.dockerHost).toBeUndefined();
  });

  it("a malformed engine address is a usage error", async () => {
    await expect(createBackend("testcontainers", { stateDir, engine: "http://x" })).rejects.toMatchObject({
      code: "CLEANROOM_ENGINE",
      kind: "usage",
    });
  });
});
