import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { freePort, type ProcessRef, processRef, refAlive } from "@ggen/support";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defaultConfig } from "../config.js";
import { installAndWrite, treeDigest, withPreparedNpmCache } from "../conformance/npm-cache.js";
import { conformanceSuite, startInWorker } from "../conformance/suite.js";
import { respCommands } from "../services/resp.js";
import { ownerGone } from "../state/records.js";
import { dockerUnavailable } from "./detect.js";
import { ownerFromLabels, ownerLabels, pruneVerdict } from "./owner.js";

const reason = await dockerUnavailable();

process.env.TESTCONTAINERS_RYUK_DISABLED ??= "true";
process.env.TESTCONTAINERS_HOST_OVERRIDE ??= "127.0.0.1";

const { TestcontainersBackend } = await import("./backend.js");

function make(stateDir: string) {
  // No registry is reachable from CI: use the configured images if present, else the local ggen/* ones.
  const config = defaultConfig();
  config.containers.pull = false;
  return new TestcontainersBackend({ stateDir, config });
}

it("a Docker engine answers (scripts/ci/docker.sh starts one; npm test does)", () => {
  expect(reason).toBeUndefined();
});

/** A conformance target on a new state dir; `open` makes each backend object (the same for reopen). */
async function target(prefix: string, open: (stateDir: string) => ReturnType<typeof make> = make) {
  const stateDir = mkdtempSync(join(tmpdir(), prefix));
  const backend = open(stateDir);
  return {
    backend,
    reopen: () => open(stateDir),
    async cleanup() {
      await backend.prune({ all: true });
      expect(await backend.containers()).toEqual([]);
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

/** `fn` with a backend on a new state dir; afterwards everything it started is pruned and the dir removed. */
async function onNewStateDir(
  prefix: string,
  fn: (backend: ReturnType<typeof make>, stateDir: string) => Promise<void>,
): Promise<void> {
  const stateDir = mkdtempSync(join(tmpdir(), prefix));
  const backend = make(stateDir);
  try {
    await fn(backend, stateDir);
  } finally {
    await backend.prune({ all: true });
    await backend.close();
    rmSync(stateDir, { recursive: true, force: true });
  }
}

/** A backend whose every environment gets its command channel as soon as it is made. */
function withChannel(stateDir: string) {
  const b = make(stateDir);
  const create = b.createEnvironment.bind(b);
  b.createEnvironment = async (spec) => {
    const made = await create(spec);
    expect(await b.openExecChannel(spec.name)).toBe(true);
    return made;
  };
  return b;
}

describe("testcontainers backend", () => {
  conformanceSuite("testcontainers", () => target("ggen-tc-state-"));

  // The same contract with every command through the environment's command channel (one long-lived
  // exec running them all): timeouts, setsid escapes, aborts, stdin and limits behave as one exec each.
  conformanceSuite("testcontainers, commands through one channel", () =>
    target("ggen-tc-chan-", withChannel),
  );

  it("a command channel is one exec for many commands, counted in the engine's time, and ends with close() and delete", async () => {
    await onNewStateDir("ggen-tc-chan1-", async (backend, stateDir) => {
      // The channel's program as the container's process list shows it.
      const channels = async (b: typeof backend, env: string) => {
        const r = await b.exec(env, [
          "sh",
          "-c",
          'for p in /proc/[0-9]*; do tr "\\0" " " < "$p/cmdline" 2>/dev/null; echo; done',
        ]);
        // The program spans lines: its last one names it.
        return r.stdout.split("\n").filter((l) => l.includes('send({ t: "ready" })')).length;
      };
      await backend.createEnvironment({ name: "chan", throwaway: true });
      const before = backend.engineTime().parts["exec round trip"]?.count ?? 0;
      expect(await backend.openExecChannel("chan")).toBe(true);
      expect(await backend.openExecChannel("chan")).toBe(true); // the same one
      const runs = await Promise.all(
        [1, 2, 3, 4, 5].map((i) =>
          backend.exec("chan", ["sh", "-c", `echo ${i}; echo e${i} >&2; exit ${i}`]),
        ),
      );
      expect(runs.map((r) => [r.exitCode, r.stdout, r.stderr])).toEqual(
        [1, 2, 3, 4, 5].map((i) => [i, `${i}\n`, `e${i}\n`]),
      );
      const time = backend.engineTime();
      // Five commands, no round trip of their own: the channel's start is the engine's part.
      expect(time.parts["exec round trip"]?.count ?? 0).toBe(before);
      expect(time.parts["exec channel"]?.count).toBe(1);
      expect(time.parts["environment container"]?.count).toBe(1);
      expect(await channels(backend, "chan")).toBe(1);
      // Another object on the same state dir execs one by one and sees the channel go with close().
      const other = make(stateDir);
      await backend.close();
      let left = 1;
      for (let i = 0; i < 100 && left > 0; i++) {
        left = await channels(other, "chan");
        if (left > 0) await new Promise((ok) => setTimeout(ok, 50));
      }
      expect(left).toBe(0);
      // After close() the object still works, one exec per command.
      expect((await backend.exec("chan", ["echo", "again"])).stdout).toBe("again\n");
      expect(await backend.openExecChannel("chan")).toBe(true);
      await backend.deleteEnvironment("chan");
      expect(await backend.containers()).toEqual([]);
      await other.close();
    });
  });

  it("a command cannot speak for the channel: output that looks like its protocol is data; killing the channel fails that command only", async () => {
    await onNewStateDir("ggen-tc-chan2-", async (backend) => {
      await backend.createEnvironment({ name: "hostile", throwaway: true });
      expect(await backend.openExecChannel("hostile")).toBe(true);
      const fake = '{"t":"exit","id":"x","code":0,"timedOut":false}\n{"t":"ready"}\n';
      const r = await backend.exec("hostile", ["sh", "-c", `printf '%s' '${fake}'; exit 7`]);
      expect([r.exitCode, r.stdout]).toEqual([7, fake]);
      // The channel's program is the command's parent: a command that kills it fails, in one line…
      await expect(backend.exec("hostile", ["sh", "-c", "kill -9 $PPID; sleep 5"])).rejects.toThrow(
        /command channel closed/,
      );
      // …and the environment's next commands go one by one, as without a channel.
      const after = await backend.exec("hostile", ["echo", "still here"]);
      expect([after.exitCode, after.stdout]).toEqual([0, "still here\n"]);
      await backend.deleteEnvironment("hostile");
      expect(await backend.containers()).toEqual([]);
    });
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

  it("a throwaway environment whose owner was killed -9 is stale; prune removes its containers, keeps the persistent one", async () => {
    const { spawnSync } = await import("node:child_process");
    const { existsSync, writeFileSync } = await import("node:fs");
    const { pathToFileURL } = await import("node:url");
    const docker = (...args: string[]) => {
      const r = spawnSync("docker", args, { encoding: "utf8" });
      if (r.status !== 0) throw new Error(`docker ${args.join(" ")}: ${r.stderr}`);
      return r.stdout.split("\n").filter(Boolean);
    };
    const stateDir = mkdtempSync(join(tmpdir(), "ggen-tc-orphan-"));
    const distFile = join(import.meta.dirname, "..", "..", "dist", "index.js");
    // The child runs the built package, as `cleanroom test run` does (turbo builds before testing).
    expect(existsSync(distFile), "dist/index.js missing: pnpm --filter @ggen/cleanroom-backends build").toBe(
      true,
    );
    const script = join(stateDir, "owner.mjs");
    // The owner: a separate process that creates a throwaway environment, starts a service of its own
    // and a persistent (shared) one, then waits to be killed.
    writeFileSync(
      script,
      `import { createBackend } from ${JSON.stringify(pathToFileURL(distFile).href)};
const b = await createBackend("testcontainers", { stateDir: ${JSON.stringify(stateDir)} });
await b.createEnvironment({ name: "orphan", throwaway: true });
await b.startService("orphan", { kind: "redis", name: "cache" });
await b.startService("orphan", { kind: "redis", name: "shared", persistent: true });
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
    const exited = new Promise((r) => child.once("exit", r));
    const backend = make(stateDir);
    try {
      await new Promise<void>((ok, fail) => {
        child.stdout.on("data", (d) => String(d).includes("READY") && ok());
        child.on("exit", (code) => fail(new Error(`owner exited ${code} before READY: ${stderr}`)));
      });
      const pid = child.pid!;
      const state = backend.state.read();
      const envId = state.environments.orphan!.containerId!;
      const cacheId = state.services["orphan/cache"]!.container!.id;
      const sharedId = state.services["orphan/shared"]!.container!.id;
      // The owner is on the environment's container and its own service's, not on the persistent one.
      const byOwner = `label=io.ggen.cleanroom.owner.pid=${pid}`;
      expect(docker("ps", "-aq", "--no-trunc", "--filter", byOwner).sort()).toEqual([envId, cacheId].sort());
      const [scope] = docker("inspect", "-f", '{{index .Config.Labels "io.ggen.cleanroom"}}', envId);
      const [image] = docker("inspect", "-f", "{{.Config.Image}}", envId);
      // A container the owner created but had not recorded yet (as when killed between `docker create`
      // and the state write): created, never started, no state entry.
      const [inflight] = docker(
        "create",
        ...["--label", `io.ggen.cleanroom=${scope}`, "--label", "io.ggen.cleanroom.role=environment"],
        ...["--label", "io.ggen.cleanroom.environment=orphan"],
        ...["--label", `io.ggen.cleanroom.owner.pid=${pid}`],
        ...["--label", `io.ggen.cleanroom.owner.start=${state.environments.orphan!.owner!.start}`],
        image!,
        "sleep",
        "infinity",
      );
      // While the owner lives, nothing of it is stale or pruned — not even the unrecorded container.
      expect((await backend.environmentStatus("orphan"))?.alive).toBe(true);
      expect(await backend.stale()).toEqual({ environments: [], services: [] });
      expect((await backend.prune()).removed).toEqual([]);
      expect((await backend.containers()).sort()).toEqual([envId, cacheId, sharedId, inflight!].sort());

      child.kill("SIGKILL");
      await exited;
      const status = await backend.environmentStatus("orphan");
      expect(status?.alive).toBe(false);
      expect(status?.stale).toBe(`its owner process ${pid} is gone`);
      expect((await backend.stale()).environments).toEqual(["orphan"]);
      const { removed } = await backend.prune();
      expect(removed).toContain(`environment orphan (its owner process ${pid} is gone)`);
      expect(removed).toContain(
        `container ${inflight!.slice(0, 12)} (environment orphan: its owner process ${pid} is gone)`,
      );
      expect(docker("ps", "-aq", "--filter", byOwner)).toEqual([]);
      expect(await backend.environmentStatus("orphan")).toBeUndefined();
      expect(backend.state.read().services["orphan/cache"]).toBeUndefined();
      // The persistent service is shared by design: it stays, running and recorded.
      expect(docker("inspect", "-f", "{{.State.Running}}", sharedId)).toEqual(["true"]);
      expect(backend.state.read().services["orphan/shared"]?.container?.id).toBe(sharedId);
      expect(await backend.containers()).toEqual([sharedId]);
      await backend.prune({ all: true });
      expect(docker("ps", "-aq", "--filter", `label=io.ggen.cleanroom=${scope}`)).toEqual([]);
    } finally {
      child.kill("SIGKILL");
      await exited;
      await make(stateDir).prune({ all: true });
      rmSync(stateDir, { recursive: true, force: true });
    }
  });

  it("metrics come from the environment's own cgroup: the CPU a command burned and its memory", async () => {
    const stateDir = mkdtempSync(join(tmpdir(), "ggen-tc-metrics-"));
    const backend = make(stateDir);
    try {
      await backend.createEnvironment({ name: "metrics" });
      const before = await backend.metrics("metrics");
      const r = await backend.exec("metrics", [
        "node",
        "-e",
        "const a=[];const t=Date.now();while(Date.now()-t<400)a.push(new Array(1000).fill(1));console.log(a.length)",
      ]);
      expect(r.exitCode).toBe(0);
      const after = await backend.metrics("metrics");
      const cpu = (m: typeof after) => (m.cpuUserMs ?? 0) + (m.cpuSystemMs ?? 0);
      // 400 ms of busy loop: at least a good part of it is CPU time in the container's cgroup.
      expect(cpu(after) - cpu(before)).toBeGreaterThan(200);
      expect(after.peakMemoryMb).toBeGreaterThan(20);
      expect(after.cpuPercent).toBeGreaterThan(0);
    } finally {
      await backend.prune({ all: true });
      rmSync(stateDir, { recursive: true, force: true });
    }
  });

  it("the environment image runs Node.js 20 or later with npm (the generated projects' engines)", async () => {
    const stateDir = mkdtempSync(join(tmpdir(), "ggen-tc-node-"));
    const backend = make(stateDir);
    try {
      await backend.createEnvironment({ name: "node" });
      const v = await backend.exec("node", ["node", "-p", "process.versions.node"]);
      expect(Number(v.stdout.trim().split(".")[0])).toBeGreaterThanOrEqual(20);
      const npm = await backend.exec("node", ["npm", "--version"]);
      expect(npm.exitCode, npm.stderr).toBe(0);
      expect(npm.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    } finally {
      await backend.prune({ all: true });
      rmSync(stateDir, { recursive: true, force: true });
    }
  });

  it("the npm cache is copy-on-write: offline installs with and without a lockfile; the host's cache is unchanged; its layers go with the environment", async () => {
    const { existsSync, readdirSync } = await import("node:fs");
    const stateDir = mkdtempSync(join(tmpdir(), "ggen-tc-npm-"));
    const backend = make(stateDir);
    try {
      await withPreparedNpmCache(async ({ cache, app, registry, before }) => {
        await backend.createEnvironment({ name: "npm", caches: ["npm"] });
        await backend.copyIn("npm", app, "app");
        const r = await backend.exec("npm", installAndWrite, {
          cwd: "app",
          timeoutMs: 120_000,
          env: { npm_config_registry: registry },
        });
        // Both installs came from the cache (the registry is closed), and the writes went through.
        expect(r.stdout, r.stderr).toBe("42\n42\nwrote-new\n1\n");
        expect(treeDigest(cache)).toBe(before);
        expect(existsSync(join(cache, "x"))).toBe(false);
      });
      await backend.deleteEnvironment("npm");
      // Nothing of the environment's copy-on-write layers is left on the host.
      const layers = join(tmpdir(), `ggen-cleanroom-${process.getuid?.() ?? "user"}`);
      const left = existsSync(layers)
        ? readdirSync(layers)
            .filter((d) => d.startsWith("tc-cow-"))
            .flatMap((d) => readdirSync(join(layers, d)).filter((e) => e === "npm"))
        : [];
      expect(left).toEqual([]);
    } finally {
      await backend.prune({ all: true });
      rmSync(stateDir, { recursive: true, force: true });
    }
  });

  it("layers a non-root caller cannot unlink go through a one-off container (run here as root, directly)", async () => {
    const { existsSync, mkdirSync, writeFileSync } = await import("node:fs");
    const stateDir = mkdtempSync(join(tmpdir(), "ggen-tc-rmc-"));
    const backend = make(stateDir);
    const dir = join(mkdtempSync(join(tmpdir(), "ggen-tc-rmc-layers-")), "env");
    try {
      mkdirSync(join(dir, "npm", "upper", "_cacache"), { recursive: true });
      writeFileSync(join(dir, "npm", "upper", "_cacache", "entry"), "x");
      await backend.layers.removeInContainer(dir);
      expect(existsSync(dir)).toBe(false);
      // The one-off container removed itself.
      expect(await backend.containers()).toEqual([]);
    } finally {
      rmSync(dirname(dir), { recursive: true, force: true });
      await backend.prune({ all: true });
      rmSync(stateDir, { recursive: true, force: true });
    }
  });

  it("prune removes copy-on-write layers no environment owns (a dead creator's), keeps a live creator's", async () => {
    const { existsSync, mkdirSync, writeFileSync } = await import("node:fs");
    const stateDir = mkdtempSync(join(tmpdir(), "ggen-tc-cow-"));
    const backend = make(stateDir);
    try {
      // Where the layers of this state dir's environments go: found through a real environment.
      await backend.createEnvironment({ name: "probe", caches: ["npm"] });
      const { readdirSync } = await import("node:fs");
      const base = join(tmpdir(), `ggen-cleanroom-${process.getuid?.() ?? "user"}`);
      const root = readdirSync(base)
        .map((d) => join(base, d))
        .find((d) => existsSync(join(d, "probe")));
      expect(root, "the probe environment's layers").toBeDefined();
      await backend.deleteEnvironment("probe");
      expect(existsSync(join(root!, "probe"))).toBe(false);
      const dead = spawn(process.execPath, ["-e", "0"]);
      await new Promise((ok) => dead.on("exit", ok));
      const layer = (name: string, owner: ProcessRef) => {
        mkdirSync(join(root!, name, "npm", "upper"), { recursive: true });
        writeFileSync(join(root!, name, "owner.json"), JSON.stringify(owner));
      };
      layer("orphan", { pid: dead.pid!, start: "1" });
      layer("creating", processRef());
      const { removed } = await backend.prune();
      expect(removed).toContain(`cache layers of orphan (its owner process ${dead.pid} is gone)`);
      expect(existsSync(join(root!, "orphan"))).toBe(false);
      expect(existsSync(join(root!, "creating"))).toBe(true);
      // …and a live creator's name cannot be taken meanwhile.
      await expect(backend.createEnvironment({ name: "creating", caches: ["npm"] })).rejects.toThrow(
        /is being created by process/,
      );
      await backend.prune({ all: true });
      expect(existsSync(join(root!, "creating"))).toBe(false);
    } finally {
      await backend.prune({ all: true });
      rmSync(stateDir, { recursive: true, force: true });
    }
  });

  it("a live owner's throwaway environment is neither stale nor pruned", async () => {
    const stateDir = mkdtempSync(join(tmpdir(), "ggen-tc-owned-"));
    const backend = make(stateDir);
    try {
      await backend.createEnvironment({ name: "mine", throwaway: true });
      await backend.startService("mine", { kind: "redis" });
      const before = (await backend.containers()).sort();
      expect(before).toHaveLength(2);
      expect(backend.state.read().environments.mine?.owner?.pid).toBe(process.pid);
      expect(await backend.environmentStatus("mine")).toMatchObject({ alive: true });
      expect((await backend.prune()).removed).toEqual([]);
      expect((await backend.containers()).sort()).toEqual(before);
      await backend.deleteEnvironment("mine");
      expect(await backend.containers()).toEqual([]);
    } finally {
      await backend.prune({ all: true });
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
      expect(hog.limit).toBe("memory");
      expect(hog.limitMessage).toBe("memory limit 256 MiB reached: killed");
      // The seed's read_only_root_fs: the image is read-only, the work, temp and outputs dirs are not.
      expect(env.guarantees).toMatchObject({ readOnlyRoot: true, filesystem: true });
      const writes = await backend.exec("iso", [
        "sh",
        "-c",
        "touch /etc/x 2>/dev/null && echo wrote-etc; touch /x 2>/dev/null && echo wrote-root; touch /work/w /tmp/t /outputs/o && echo wrote-own",
      ]);
      expect(writes.stdout).toBe("wrote-own\n");
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

// The pure part of the decision (no Docker): whose container is it, and is its owner still there?
describe("container owners (no Docker)", () => {
  const me = processRef();
  let dead: ProcessRef = { pid: 0, start: "" };
  beforeAll(async () => {
    // A real process that ran and is gone: its ref read while it lived.
    dead = await new Promise<ProcessRef>((ok) => {
      const p = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" });
      p.once("spawn", () => {
        const ref = processRef(p.pid!);
        p.once("exit", () => ok(ref));
        p.kill("SIGKILL");
      });
    });
  });
  // This process's pid with another start time: a pid the kernel gave to someone else since.
  const reused = { pid: me.pid, start: String(Number(me.start) + 1) };
  const labels = (ref: { pid: number; start: string }, extra: Record<string, string> = {}) => ({
    "io.ggen.cleanroom": "scope",
    ...ownerLabels(ref),
    ...extra,
  });

  it("labels round-trip the owner; no or garbage labels name none", () => {
    expect(me.start).not.toBe("");
    expect(ownerFromLabels(ownerLabels(me))).toEqual(me);
    expect(ownerFromLabels({ "io.ggen.cleanroom": "scope" })).toBeUndefined();
    expect(ownerFromLabels({ "io.ggen.cleanroom.owner.pid": "x" })).toBeUndefined();
  });

  it("an owner is gone when its process exited or its pid was reused, with the local backend's wording", () => {
    expect(refAlive(dead)).toBe(false);
    expect(ownerGone(me)).toBeUndefined();
    expect(ownerGone(undefined)).toBeUndefined();
    expect(ownerGone(dead)).toBe(`its owner process ${dead.pid} is gone`);
    expect(ownerGone(reused)).toBe(`its owner process ${me.pid} is gone`);
  });

  it("prune removes a dead owner's containers, owned or not, and keeps a live owner's", () => {
    const gone = `its owner process ${dead.pid} is gone`;
    expect(pruneVerdict(labels(dead), true)).toEqual({ remove: true, why: gone });
    expect(pruneVerdict(labels(dead), false)).toEqual({ remove: true, why: gone });
    expect(pruneVerdict(labels(reused), true).remove).toBe(true);
    expect(pruneVerdict(labels(me), true)).toEqual({ remove: false, why: "a state entry owns it" });
    // Unrecorded yet alive: being created right now.
    expect(pruneVerdict(labels(me), false)).toEqual({
      remove: false,
      why: `its owner process ${me.pid} is alive`,
    });
  });

  it("persistent services and owner-less containers go by their state entry only", () => {
    const persistent = labels(dead, { "io.ggen.cleanroom.persistent": "true" });
    expect(pruneVerdict(persistent, true)).toEqual({ remove: false, why: "a state entry owns it" });
    expect(pruneVerdict(persistent, false)).toEqual({ remove: true, why: "no state entry owns it" });
    expect(pruneVerdict({ "io.ggen.cleanroom": "scope" }, true).remove).toBe(false);
    expect(pruneVerdict({ "io.ggen.cleanroom": "scope" }, false).remove).toBe(true);
  });

  it("--all removes everything, a live owner's too", () => {
    expect(pruneVerdict(labels(me), true, { all: true })).toEqual({ remove: true, why: "prune --all" });
  });
});
