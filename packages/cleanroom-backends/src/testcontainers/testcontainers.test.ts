import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defaultConfig } from "../config.js";
import { conformanceSuite, startInWorker } from "../conformance/suite.js";
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
