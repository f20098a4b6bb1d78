import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defaultConfig } from "../config.js";
import { conformanceSuite, startInWorker } from "../conformance/suite.js";
import { respCommands } from "../services/resp.js";
import { freePort } from "../util/proc.js";
import { dockerUnavailable } from "./detect.js";

const reason = await dockerUnavailable();
if (reason) {
  console.warn(
    `testcontainers backend tests skipped: ${reason} (scripts/ci/docker.sh starts Docker; .ci/run does it in CI)`,
  );
}

process.env.TESTCONTAINERS_RYUK_DISABLED ??= "true";
process.env.TESTCONTAINERS_HOST_OVERRIDE ??= "127.0.0.1";

const { TestcontainersBackend } = await import("./backend.js");

function make(stateDir: string) {
  // No registry is reachable from CI: use the configured images if present, else the local ggen/* ones.
  const config = defaultConfig();
  config.containers.pull = false;
  return new TestcontainersBackend({ stateDir, config });
}

describe.skipIf(reason !== undefined)("testcontainers backend", () => {
  conformanceSuite("testcontainers", async () => {
    const stateDir = mkdtempSync(join(tmpdir(), "ggen-tc-state-"));
    const backend = make(stateDir);
    return {
      backend,
      async cleanup() {
        await backend.prune({ all: true });
        expect(await backend.containers()).toEqual([]);
        rmSync(stateDir, { recursive: true, force: true });
      },
    };
  });

  it("createBackend('auto') picks testcontainers when Docker answers, and says so", async () => {
    const { createBackend } = await import("../engine.js");
    const stateDir = mkdtempSync(join(tmpdir(), "ggen-tc-auto-"));
    try {
      const b = await createBackend("auto", { stateDir });
      expect(b.name).toBe("testcontainers");
      expect(b.chosenBecause).toBe("auto: Docker answers, using testcontainers");
    } finally {
      rmSync(stateDir, { recursive: true, force: true });
    }
  });

  it("a throwaway environment whose owner was killed -9 is reported stale and pruned with its container", async () => {
    const { spawn } = await import("node:child_process");
    const { writeFileSync } = await import("node:fs");
    const { pathToFileURL } = await import("node:url");
    const stateDir = mkdtempSync(join(tmpdir(), "ggen-tc-orphan-"));
    const dist = pathToFileURL(join(import.meta.dirname, "..", "..", "dist", "index.js")).href;
    const script = join(stateDir, "owner.mjs");
    // The owner: a separate process that creates a throwaway environment, then waits to be killed.
    writeFileSync(
      script,
      `import { createBackend } from ${JSON.stringify(dist)};
const b = await createBackend("testcontainers", { stateDir: ${JSON.stringify(stateDir)} });
await b.createEnvironment({ name: "orphan", throwaway: true });
console.log("READY");
setInterval(() => {}, 1000);
`,
    );
    const child = spawn(process.execPath, [script], {
      env: { ...process.env, GGEN_CLEANROOM_NO_PULL: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    try {
      await new Promise<void>((ok, fail) => {
        child.stdout.on("data", (d) => String(d).includes("READY") && ok());
        child.on("exit", (code) => fail(new Error(`owner exited ${code} before READY: ${stderr}`)));
      });
      const backend = make(stateDir);
      expect((await backend.environmentStatus("orphan"))?.alive).toBe(true);
      expect(await backend.containers()).toHaveLength(1);
      child.kill("SIGKILL");
      await new Promise((r) => child.once("exit", r));
      const status = await backend.environmentStatus("orphan");
      expect(status?.alive).toBe(false);
      expect(status?.stale).toBe(`its owner process ${child.pid} is gone`);
      expect((await backend.stale()).environments).toEqual(["orphan"]);
      const { removed } = await backend.prune();
      expect(removed).toContain(`environment orphan (its owner process ${child.pid} is gone)`);
      expect(await backend.containers()).toEqual([]);
      expect(await backend.environmentStatus("orphan")).toBeUndefined();
    } finally {
      child.kill("SIGKILL");
      await make(stateDir).prune({ all: true });
      rmSync(stateDir, { recursive: true, force: true });
    }
  });

  describe("ServiceSpec.port", () => {
    let stateDir: string;
    let backend: InstanceType<typeof TestcontainersBackend>;
    beforeAll(() => {
      stateDir = mkdtempSync(join(tmpdir(), "ggen-tc-port-"));
      backend = make(stateDir);
    });
    afterAll(async () => {
      await backend.prune({ all: true });
      rmSync(stateDir, { recursive: true, force: true });
    });

    it("starts Redis and PostgreSQL on the host port asked for, and they answer there", async () => {
      await backend.createEnvironment({ name: "ports" });
      const rp = await freePort();
      const redis = await backend.startService("ports", { kind: "redis", port: rp });
      expect(redis.port).toBe(rp);
      expect(redis.env.REDIS_URL).toBe(`redis://127.0.0.1:${rp}`);
      expect(await respCommands({ port: rp }, [["PING"]])).toEqual(["PONG"]);
      const pp = await freePort();
      const pgs = await backend.startService("ports", { kind: "postgres", port: pp, database: "fixed" });
      expect(pgs.port).toBe(pp);
      expect(pgs.env.PGPORT).toBe(String(pp));
      const client = new pg.Client({ connectionString: pgs.url });
      await client.connect();
      try {
        const r = await client.query("SELECT current_database() AS db, current_setting('port') AS port");
        expect(r.rows[0]).toEqual({ db: "fixed", port: String(pp) });
      } finally {
        await client.end();
      }
      await backend.deleteEnvironment("ports");
      // The ports are free again: nothing is left listening on them.
      await expect(respCommands({ port: rp }, [["PING"]], 500)).rejects.toThrow(/ECONNREFUSED/);
    });

    it("in an isolated environment the port is the service's inside the environment's own network", async () => {
      await backend.createEnvironment({ name: "ports-iso", isolated: true });
      // Any number will do: the environment's network namespace is its own (network mode none).
      const svc = await backend.startService("ports-iso", { kind: "redis", port: 16_379 });
      expect(svc.port).toBe(16_379);
      const r = await backend.exec("ports-iso", [
        "node",
        "-e",
        "const s=require('net').connect(16379,'127.0.0.1');s.on('connect',()=>s.write('PING\\r\\n'));s.on('data',d=>{console.log(String(d).trim());process.exit(0)});s.on('error',e=>{console.log(e.code);process.exit(1)})",
      ]);
      expect(r.stdout.trim()).toBe("+PONG");
      await backend.deleteEnvironment("ports-iso");
      expect(await backend.containers()).toEqual([]);
    });
  });

  describe("isolation and sharing", () => {
    let stateDir: string;
    let backend: InstanceType<typeof TestcontainersBackend>;
    beforeAll(() => {
      stateDir = mkdtempSync(join(tmpdir(), "ggen-tc-iso-"));
      backend = make(stateDir);
    });
    afterAll(async () => {
      await backend.prune({ all: true });
      rmSync(stateDir, { recursive: true, force: true });
    });

    it("an isolated environment has network none, yet reaches its own services on loopback", async () => {
      const env = await backend.createEnvironment({ name: "iso", isolated: true, memoryMb: 256, pids: 128 });
      expect(env.isolation).toMatchObject({ network: true, limits: true });
      const svc = await backend.startService("iso", { kind: "redis" });
      const probe = (port: number) => [
        "node",
        "-e",
        `require('net').connect(${port},'127.0.0.1').on('connect',()=>{console.log('connected');process.exit(0)}).on('error',e=>{console.log(e.code);process.exit(1)})`,
      ];
      expect((await backend.exec("iso", probe(svc.port))).stdout.trim()).toBe("connected");
      // The host's Docker API port is not reachable: no network but loopback.
      const r = await backend.exec("iso", [
        "sh",
        "-c",
        "cat /proc/net/dev | tail -n +3 | cut -d: -f1 | tr -d ' '",
      ]);
      expect(r.stdout.trim().split("\n")).toEqual(["lo"]);
      const hog = await backend.exec(
        "iso",
        ["node", "-e", "const a=[];for(;;)a.push(Buffer.alloc(1<<20,1))"],
        {
          timeoutMs: 60_000,
        },
      );
      expect(hog.timedOut).toBe(false);
      expect(hog.exitCode).toBe(137);
      const bomb = await backend.exec(
        "iso",
        ["sh", "-c", "i=0; while [ $i -lt 500 ]; do sleep 60 & i=$((i+1)); done; wait"],
        {
          timeoutMs: 30_000,
        },
      );
      expect(bomb.stderr).toMatch(/fork|Resource temporarily unavailable/i);
      await backend.deleteEnvironment("iso");
      expect(await backend.containers()).toEqual([]);
    });

    it("parallel processes asking for one persistent service share one container", async () => {
      await backend.createEnvironment({ name: "shared" });
      const results = await Promise.all(
        [0, 1, 2].map((i) => startInWorker("testcontainers", stateDir, "shared", i)),
      );
      const ports = new Set(results.map((r) => r.port));
      expect(ports.size).toBe(1);
      const containers = await backend.containers();
      // one environment + one shared redis
      expect(containers.length).toBe(2);
    });
  });
});
