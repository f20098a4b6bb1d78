import { execFileSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defaultConfig } from "../config.js";
import { installAndWrite, treeDigest, withPreparedNpmCache } from "../conformance/npm-cache.js";
import { conformanceSuite, hostHas, pathWithout, startInWorker } from "../conformance/suite.js";
import { createBackend } from "../engine.js";
import { serviceKey } from "../state/store.js";
import { isAlive } from "../util/proc.js";
import { LocalBackend } from "./backend.js";
import { detectCgroups } from "./cgroup.js";
import { capabilities } from "./sandbox.js";

function freshState(): string {
  return mkdtempSync(join(tmpdir(), "ggen-local-state-"));
}

conformanceSuite("local", async () => {
  const stateDir = freshState();
  const backend = new LocalBackend({ stateDir, config: defaultConfig() });
  return {
    backend,
    reopen: () => new LocalBackend({ stateDir, config: defaultConfig() }),
    async cleanup() {
      await backend.prune({ all: true });
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
});

const caps = capabilities();

function netnsCount(): number {
  try {
    return readdirSync("/run/netns").length;
  } catch {
    return 0;
  }
}

/** cgroups left for an environment name (any state dir). */
function cgroupsOf(name: string): string[] {
  const layout = detectCgroups();
  const out: string[] = [];
  for (const parent of Object.values(layout?.parents ?? {})) {
    const base = join(parent, "ggen-cleanroom");
    if (!existsSync(base)) continue;
    for (const e of readdirSync(base)) if (e.endsWith(`-${name}`)) out.push(join(base, e));
  }
  return out;
}

// Isolation needs root (npm test's preflight checks it), and runs twice: with bubblewrap, and with it
// hidden from PATH, where a private mount namespace built by `mount -a` must give the same guarantees.
describe.each([
  ["bubblewrap", false],
  ["no bubblewrap (hidden from PATH)", true],
] as const)("local isolation (for real), %s", (_label, hideBwrap) => {
  let stateDir: string;
  let hidden: { path: string; dispose(): void } | undefined;
  const savedPath = process.env.PATH;
  let backend: LocalBackend;
  let server: Server;
  let hostPort = 0;
  const env = "iso";

  beforeAll(async () => {
    if (hideBwrap) {
      hidden = pathWithout("bwrap");
      process.env.PATH = hidden.path;
    }
    expect(capabilities().bwrap).toBe(!hideBwrap);
    stateDir = freshState();
    backend = new LocalBackend({ stateDir, config: defaultConfig() });
    server = createServer((s) => {
      s.on("error", () => undefined);
      s.end("hello from host\n");
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    hostPort = (server.address() as { port: number }).port;
    const ro = join(stateDir, "ro-src");
    mkdirSync(ro);
    writeFileSync(join(ro, "data.txt"), "read only");
    await backend.createEnvironment({
      name: env,
      isolated: true,
      memoryMb: 256,
      pids: 64,
      mounts: [
        { host: ro, target: "ro" },
        { host: ro, target: "/workspace" },
      ],
    });
  });

  afterAll(async () => {
    server?.close();
    await backend?.prune({ all: true });
    rmSync(stateDir, { recursive: true, force: true });
    process.env.PATH = savedPath;
    hidden?.dispose();
  });

  const connect = (port: number) => [
    "node",
    "-e",
    `require('net').connect(${port},'127.0.0.1').on('connect',()=>{console.log('connected');process.exit(0)}).on('error',e=>{console.log(e.code);process.exit(1)})`,
  ];

  it("reports the isolation applied, by the mechanism this machine has", async () => {
    const status = await backend.environmentStatus(env);
    expect(status?.isolation).toMatchObject({ network: true, pid: true, filesystem: true, limits: true });
    expect(status?.guarantees).toMatchObject({ readOnlyRoot: true, privateTmp: true, readOnlyMounts: true });
    expect(status?.isolation.mechanism).toBe(
      hideBwrap ? "mount-namespace+netns+cgroups" : "bubblewrap+netns+cgroups",
    );
  });

  it("an isolated command cannot connect to a port the host has open (a plain one can)", async () => {
    const plain = await backend.createEnvironment({ name: "plain" });
    expect(plain.isolation.network).toBe(false);
    const ok = await backend.exec("plain", connect(hostPort));
    expect(ok.stdout.trim()).toBe("connected");
    const blocked = await backend.exec(env, connect(hostPort));
    expect(blocked.exitCode).toBe(1);
    expect(blocked.stdout.trim()).toMatch(/ECONNREFUSED|ENETUNREACH/);
    await backend.deleteEnvironment("plain");
  });

  it("an isolated command sees only its own processes", async () => {
    const r = await backend.exec(env, ["sh", "-c", "ls /proc | grep -c '^[0-9]'"]);
    expect(Number(r.stdout.trim())).toBeLessThan(5);
  });

  it("host paths are read-only where asked, the host root is read-only, /tmp is private, the mount cannot be undone", async () => {
    const r = await backend.exec(env, [
      "sh",
      "-c",
      [
        "cat ro/data.txt /workspace/data.txt",
        "echo x > ro/new 2>/dev/null && echo wrote-ro",
        "echo x > /workspace/new 2>/dev/null && echo wrote-workspace",
        "touch /etc/ggen-escape 2>/dev/null && echo wrote-etc",
        "touch /ggen-escape 2>/dev/null && echo wrote-root",
        "touch /tmp/ggen-escape-tmp && echo wrote-private-tmp",
        "mount -o remount,rw /workspace 2>/dev/null && echo remounted",
        "echo w > mine && echo wrote-work",
      ].join("; "),
    ]);
    expect(r.stdout).toBe("read onlyread onlywrote-private-tmp\nwrote-work\n");
    for (const p of ["/etc/ggen-escape", "/ggen-escape", "/tmp/ggen-escape-tmp", "/workspace"])
      expect(existsSync(p)).toBe(false);
    expect(readdirSync(join(stateDir, "ro-src"))).toEqual(["data.txt"]);
  });

  it("services in an isolated environment are reachable from its commands", async () => {
    const svc = await backend.startService(env, { kind: "redis" });
    const r = await backend.exec(env, connect(svc.port));
    expect(r.stdout.trim()).toBe("connected");
    expect((await backend.serviceHealth(env, svc.name)).healthy).toBe(true);
    await backend.stopService(env, svc.name);
  });

  it("PostgreSQL in an isolated environment: reachable from its commands, reset through its socket", async () => {
    const svc = await backend.startService(env, { kind: "postgres", database: "iso" });
    const r = await backend.exec(
      env,
      ["sh", "-c", "psql -tAc 'CREATE TABLE t(x int); INSERT INTO t VALUES (1); SELECT count(*) FROM t'"],
      {
        env: { PATH: `/usr/lib/postgresql/15/bin:${process.env.PATH}` },
      },
    );
    expect(r.stdout.trim().split("\n").pop()).toBe("1");
    await backend.resetService(env, svc.name);
    const after = await backend.exec(env, ["sh", "-c", "psql -tAc \"SELECT to_regclass('t') IS NULL\""], {
      env: { PATH: `/usr/lib/postgresql/15/bin:${process.env.PATH}` },
    });
    expect(after.stdout.trim()).toBe("t");
    await backend.stopService(env, svc.name);
  });

  it("a memory hog is stopped by the memory limit, and the result says so", async () => {
    const r = await backend.exec(env, ["node", "-e", "const a=[];for(;;)a.push(Buffer.alloc(1<<20,1))"], {
      timeoutMs: 60_000,
    });
    expect(r.timedOut).toBe(false);
    expect(r.exitCode).not.toBe(0);
    expect(r.limit).toBe("memory");
    expect(r.limitValue).toBe(256 * 1024 * 1024);
    expect(r.limitMessage).toBe("memory limit 256 MiB reached: killed");
  });

  it("a fork bomb is stopped by the process limit, and nothing survives", async () => {
    const r = await backend.exec(
      env,
      ["sh", "-c", "i=0; while [ $i -lt 500 ]; do sleep 4242 & i=$((i+1)); done; wait"],
      {
        timeoutMs: 30_000,
      },
    );
    expect(r.limit).toBe("pids");
    expect(r.limitMessage).toBe("process limit 64 reached: the command could not start more");
    expect(r.stderr).toMatch(/fork|Resource temporarily unavailable|Cannot allocate/i);
    // The bomb's own processes, not the machine's count: other test files run beside this one.
    expect(hostHas("sleep 4242")).toBe(false);
    expect(hostHas("-lt 500")).toBe(false);
  });

  it("a timed-out isolated command is killed with all its children", async () => {
    const r = await backend.exec(env, ["sh", "-c", "(sleep 5151 &) ; sh -c 'sleep 5151' & wait"], {
      timeoutMs: 1000,
    });
    expect(r.timedOut).toBe(true);
    expect(r.limit).toBe("timeout");
    expect(hostHas("sleep 5151")).toBe(false);
  });

  it("delete leaves no process, namespace, cgroup, port or directory behind", async () => {
    const nsBefore = netnsCount();
    await backend.createEnvironment({ name: "leak", isolated: true });
    const pgSvc = await backend.startService("leak", { kind: "postgres" });
    const redis = await backend.startService("leak", { kind: "redis" });
    expect(netnsCount()).toBe(nsBefore + (caps.netns ? 1 : 0));
    await backend.exec("leak", ["sh", "-c", "sleep 6262 & echo bg"]);
    await backend.deleteEnvironment("leak");
    expect(netnsCount()).toBe(nsBefore);
    expect(existsSync(join(backend.envRoot, "leak"))).toBe(false);
    expect(hostHas("sleep 6262")).toBe(false);
    expect(cgroupsOf("leak")).toEqual([]);
    const listening = execFileSync("sh", ["-c", "cat /proc/net/tcp /proc/net/tcp6 2>/dev/null"], {
      encoding: "utf8",
    });
    for (const port of [pgSvc.port, redis.port]) {
      expect(listening.toUpperCase()).not.toContain(
        `:${port.toString(16).toUpperCase().padStart(4, "0")} 00000000:0000 0A`,
      );
    }
  });
});

describe("local state", () => {
  it("a command spawned into its cgroup writes no state, and a caller killed with SIGKILL leaves a group that prune finds by name", async () => {
    const layout = detectCgroups();
    expect(layout, "cgroups are writable here (npm test runs as root)").not.toBeNull();
    const stateDir = freshState();
    const backend = new LocalBackend({ stateDir, config: defaultConfig() });
    const dist = join(import.meta.dirname, "../../dist/index.js");
    try {
      await backend.createEnvironment({ name: "caller", pids: 64 });
      const before = readFileSync(join(stateDir, "state.json"), "utf8");
      // In its cgroup from its first instruction: the pids limit holds, and nothing about it is written.
      const r = await backend.exec("caller", ["sh", "-c", "cat /proc/self/cgroup"]);
      expect(r.stdout).toMatch(/:pids:\/.*ggen-cleanroom\/[^/]+-caller\/exec-\d+-/);
      expect(readFileSync(join(stateDir, "state.json"), "utf8")).toBe(before);
      const script = `
        const { LocalBackend, defaultConfig } = await import(${JSON.stringify(dist)});
        const b = new LocalBackend({ stateDir: ${JSON.stringify(stateDir)}, config: defaultConfig() });
        await b.exec("caller", ["sh", "-c", "sleep 4848 & echo started; wait"], {
          onOutput: (c) => c.includes("started") && console.log("killable"),
        });`;
      const { spawn } = await import("node:child_process");
      const child = spawn(process.execPath, ["--input-type=module", "-e", script], {
        stdio: ["ignore", "pipe", "inherit"],
      });
      await new Promise((ok) => child.stdout.on("data", (d) => String(d).includes("killable") && ok(null)));
      child.kill("SIGKILL");
      await new Promise((ok) => child.on("close", ok));
      // Its caller is gone, the command is not: only the cgroup's name leads to it.
      expect(hostHas("sleep 4848")).toBe(true);
      const pruned = await backend.prune();
      expect(pruned.removed).toEqual([
        expect.stringMatching(
          new RegExp(
            `^command cgroup exec-${child.pid}-\\d+-[0-9a-f]{8} \\(its caller ${child.pid} is gone\\)$`,
          ),
        ),
      ]);
      for (let i = 0; i < 50 && hostHas("sleep 4848"); i++) await new Promise((ok) => setTimeout(ok, 20));
      expect(hostHas("sleep 4848")).toBe(false);
      // The environment lives on.
      expect((await backend.exec("caller", ["true"])).exitCode).toBe(0);
    } finally {
      await backend.prune({ all: true });
      rmSync(stateDir, { recursive: true, force: true });
    }
  });

  it("keeps environments and services across backend objects (separate CLI calls) and cleans stale entries", async () => {
    const stateDir = freshState();
    try {
      const a = new LocalBackend({ stateDir, config: defaultConfig() });
      await a.createEnvironment({ name: "e1" });
      const svc = await a.startService("e1", { kind: "redis", persistent: true });
      const b = new LocalBackend({ stateDir, config: defaultConfig() });
      // Written atomically (no temp file left) and private (it holds service credentials).
      expect(statSync(join(stateDir, "state.json")).mode & 0o777).toBe(0o600);
      expect(readdirSync(stateDir).filter((f) => f.endsWith(".tmp"))).toEqual([]);
      const status = await b.environmentStatus("e1");
      expect(status?.services.map((s) => s.port)).toEqual([svc.port]);
      expect((await b.serviceHealth("e1", "redis")).healthy).toBe(true);
      // Kill the service behind the state's back: it is reported stale and pruned.
      const pid = (b.state.read().services["e1/redis"]?.local?.pid ?? 0) as number;
      process.kill(pid, "SIGKILL");
      await new Promise((r) => setTimeout(r, 200));
      expect((await b.stale()).services).toEqual(["e1/redis"]);
      const pruned = await b.prune();
      expect(pruned.removed.join("\n")).toContain("e1/redis");
      expect(b.state.read().services["e1/redis"]).toBeUndefined();
      await b.deleteEnvironment("e1");
    } finally {
      rmSync(stateDir, { recursive: true, force: true });
    }
  });

  it("starts services on the port asked for (ServiceSpec.port)", async () => {
    const stateDir = freshState();
    const b = new LocalBackend({ stateDir, config: defaultConfig() });
    try {
      await b.createEnvironment({ name: "ports" });
      const { freePort } = await import("@ggen/support");
      const rp = await freePort();
      const redis = await b.startService("ports", { kind: "redis", port: rp });
      expect(redis.port).toBe(rp);
      expect(redis.env.REDIS_URL).toContain(`:${rp}`);
      expect((await b.serviceHealth("ports", "redis")).healthy).toBe(true);
      const pp = await freePort();
      const pgs = await b.startService("ports", { kind: "postgres", port: pp });
      expect(pgs.port).toBe(pp);
      expect(pgs.env.DATABASE_URL).toContain(`:${pp}/`);
      expect((await b.serviceHealth("ports", "postgres")).healthy).toBe(true);
    } finally {
      await b.deleteEnvironment("ports").catch(() => undefined);
      await b.prune({ all: true });
      rmSync(stateDir, { recursive: true, force: true });
    }
  });

  it("prune finds and stops a service whose state entry was lost", async () => {
    const stateDir = freshState();
    try {
      const b = new LocalBackend({ stateDir, config: defaultConfig() });
      const { startRedis } = await import("../services/redis.js");
      const lost = await startRedis({ baseDir: join(stateDir, "services"), detached: true });
      const pruned = await b.prune();
      expect(pruned.removed).toContain(`process ${lost.pid} (running in ${stateDir}/)`);
      await new Promise((r) => setTimeout(r, 100));
      expect(hostHasPrefix(`redis-server 127.0.0.1:${lost.port}`)).toBe(0);
      rmSync(lost.dir, { recursive: true, force: true });
    } finally {
      rmSync(stateDir, { recursive: true, force: true });
    }
  });

  it("createBackend('auto') says which backend it picked", async () => {
    const stateDir = freshState();
    try {
      const saved = process.env.DOCKER_HOST;
      process.env.DOCKER_HOST = "unix:///nonexistent/docker.sock";
      try {
        const b = await createBackend("auto", { stateDir });
        expect(b.name).toBe("local");
        expect(b.chosenBecause).toMatch(/auto: .*using local/);
      } finally {
        if (saved === undefined) delete process.env.DOCKER_HOST;
        else process.env.DOCKER_HOST = saved;
      }
      writeFileSync(join(stateDir, "config.toml"), "[backend]\ntype = 'nope'\n");
      await expect(createBackend("auto", { stateDir })).rejects.toMatchObject({
        code: "CLEANROOM_CONFIG",
        kind: "usage",
      });
    } finally {
      rmSync(stateDir, { recursive: true, force: true });
    }
  });
});

describe("local persistent services across processes", () => {
  it("parallel processes asking for one persistent service share one process", async () => {
    const stateDir = freshState();
    const a = new LocalBackend({ stateDir, config: defaultConfig() });
    try {
      await a.createEnvironment({ name: "shared" });
      const results = await Promise.all(
        [0, 1, 2, 3].map((i) => startInWorker("local", stateDir, "shared", i)),
      );
      expect(new Set(results.map((r) => r.port)).size).toBe(1);
      const pids = new Set(Object.values(a.state.read().services).map((s) => s.local?.pid));
      expect(pids.size).toBe(1);
      expect(hostHasPrefix(`redis-server 127.0.0.1:${results[0]?.port}`)).toBe(1);
    } finally {
      await a.prune({ all: true });
      rmSync(stateDir, { recursive: true, force: true });
    }
  });
});

function hostHasPrefix(prefix: string): number {
  let n = 0;
  for (const pid of readdirSync("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, "utf8").startsWith(prefix)) n++;
    } catch {
      // gone
    }
  }
  return n;
}

describe("Ctrl-C", () => {
  it("an interrupted CLI call leaves no process, service or directory behind", async () => {
    const stateDir = freshState();
    const dist = join(import.meta.dirname, "../../dist/index.js");
    const script = `
      const { createBackend, onInterrupt } = await import(${JSON.stringify(dist)});
      const b = await createBackend("local", { stateDir: ${JSON.stringify(stateDir)} });
      await b.createEnvironment({ name: "cc" });
      onInterrupt(() => b.deleteEnvironment("cc", { force: true }));
      const s = await b.startService("cc", { kind: "redis" });
      console.log("ready " + s.port);
      await b.exec("cc", ["sh", "-c", "sleep 7373 & sleep 7373"]);
    `;
    const { spawn } = await import("node:child_process");
    const child = spawn(process.execPath, ["--input-type=module", "-e", script], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    const port = await new Promise<number>((ok) => {
      child.stdout.on("data", (d: Buffer) => {
        const m = /ready (\d+)/.exec(String(d));
        if (m) ok(Number(m[1]));
      });
    });
    for (let i = 0; i < 100 && !hostHas("sleep 7373"); i++) await new Promise((r) => setTimeout(r, 20));
    expect(hostHas("sleep 7373")).toBe(true);
    child.kill("SIGINT");
    const code = await new Promise((ok) => child.on("close", ok));
    expect(code).toBe(130);
    await new Promise((r) => setTimeout(r, 100));
    expect(hostHas("sleep 7373")).toBe(false);
    expect(hostHasPrefix(`redis-server 127.0.0.1:${port}`)).toBe(0);
    expect(existsSync(join(new LocalBackend({ stateDir, config: defaultConfig() }).envRoot, "cc"))).toBe(
      false,
    );
    expect(cgroupsOf("cc")).toEqual([]);
    rmSync(stateDir, { recursive: true, force: true });
  });
});

describe("services cut off before their state entry", () => {
  it("work in their environment's services dir, so deleting the environment kills one no entry names", async () => {
    const stateDir = freshState();
    const backend = new LocalBackend({ stateDir, config: defaultConfig() });
    try {
      await backend.createEnvironment({ name: "orphan-svc" });
      await backend.startService("orphan-svc", { kind: "redis" });
      const key = serviceKey("orphan-svc", "redis");
      const pid = backend.state.read().services[key]!.local!.pid;
      // What finds it then: it works in the environment's services dir.
      expect(
        readlinkSync(`/proc/${pid}/cwd`).startsWith(join(backend.envRoot, "orphan-svc", "services")),
      ).toBe(true);
      // As if the caller had been killed between starting it and recording it.
      await backend.state.update((st) => {
        delete st.services[key];
      });
      await backend.deleteEnvironment("orphan-svc");
      for (let i = 0; i < 50 && isAlive(pid); i++) await new Promise((r) => setTimeout(r, 20));
      expect(isAlive(pid)).toBe(false);
    } finally {
      await backend.prune({ all: true });
      rmSync(stateDir, { recursive: true, force: true });
    }
  });
});

describe("dependency cache", () => {
  async function installIn(isolated: boolean): Promise<void> {
    const stateDir = freshState();
    const backend = new LocalBackend({ stateDir, config: defaultConfig() });
    const name = isolated ? "npm-iso" : "npm-plain";
    try {
      await withPreparedNpmCache(async ({ cache, app, registry, before }) => {
        await backend.createEnvironment({ name, isolated, caches: ["npm"] });
        await backend.copyIn(name, app, "app");
        const r = await backend.exec(name, installAndWrite, {
          cwd: "app",
          timeoutMs: 120_000,
          env: { npm_config_registry: registry },
        });
        // Both installs came from the cache, and the writes went through — into the environment's view.
        expect(r.stdout).toBe("42\n42\nwrote-new\n1\n");
        const seen = await backend.exec(name, [
          "sh",
          "-c",
          'echo "$npm_config_cache $npm_config_prefer_offline"',
        ]);
        expect(seen.stdout.trim()).toBe(`${join(backend.envRoot, name, "caches", "npm")} true`);
        // The shared cache is exactly as it was.
        expect(treeDigest(cache)).toBe(before);
        expect(existsSync(join(cache, "x"))).toBe(false);
      });
    } finally {
      await backend.prune({ all: true });
      rmSync(stateDir, { recursive: true, force: true });
    }
  }

  // Overlays need root (unshare --mount), which npm test's preflight checks.
  it("commands running at once all get the cache and see what an earlier one wrote; none is left a private layer", async () => {
    const stateDir = freshState();
    const backend = new LocalBackend({ stateDir, config: defaultConfig() });
    try {
      await withPreparedNpmCache(async ({ cache, before }) => {
        await backend.createEnvironment({ name: "npm-par", caches: ["npm"] });
        const first = await backend.exec("npm-par", ["sh", "-c", 'echo one > "$npm_config_cache/first"']);
        expect(first.exitCode, first.stderr).toBe(0);
        // Six at once: one holds the environment's layer, the others mount their own over it.
        const runs = await Promise.all(
          Array.from({ length: 6 }, (_, i) =>
            backend.exec("npm-par", [
              "sh",
              "-c",
              `cat "$npm_config_cache/first" && sleep 0.3 && echo ${i} > "$npm_config_cache/p${i}"`,
            ]),
          ),
        );
        for (const r of runs) {
          expect(r.exitCode, r.stderr).toBe(0);
          expect(r.stdout).toBe("one\n");
        }
        expect(treeDigest(cache)).toBe(before);
        expect(readdirSync(join(backend.envRoot, "npm-par", "caches", ".private"))).toEqual([]);
      });
    } finally {
      await backend.prune({ all: true });
      rmSync(stateDir, { recursive: true, force: true });
    }
  });

  it("a non-isolated environment installs from the npm cache; its writes never reach the shared cache", () =>
    installIn(false));

  it("an isolated run (no network) installs from the npm cache, which stays unchanged", () =>
    installIn(true));
});

describe("refusals leave nothing, and nothing a command mounted outlives its environment", () => {
  let stateDir: string;
  let backend: LocalBackend;
  let outside: string;

  beforeAll(() => {
    stateDir = freshState();
    backend = new LocalBackend({ stateDir, config: defaultConfig() });
    outside = mkdtempSync(join(tmpdir(), "ggen-outside-"));
    writeFileSync(join(outside, "keep.txt"), "precious");
  });

  afterAll(async () => {
    await backend.prune({ all: true });
    rmSync(stateDir, { recursive: true, force: true });
    rmSync(outside, { recursive: true, force: true });
  });

  const nothingOf = (name: string) => {
    expect(existsSync(join(backend.envRoot, name))).toBe(false);
    expect(cgroupsOf(name)).toEqual([]);
    expect(backend.state.read().environments[name]).toBeUndefined();
  };

  it("refuses a missing mount source, an escaping target and a target it cannot make, before making anything", async () => {
    const cases: [string, { host: string; target: string; writable?: boolean }, RegExp][] = [
      ["missing", { host: join(outside, "nope"), target: "w" }, /mount source .* does not exist/],
      ["escape", { host: outside, target: "../../x" }, /is not a path inside the environment/],
      ["kernel", { host: outside, target: "/proc/x" }, /is a kernel filesystem/],
      [
        "host-dir",
        { host: outside, target: "/usr/ggen-new-dir" },
        /would have to be made inside \/usr on the host/,
      ],
      ["own-dir", { host: outside, target: "/tmp" }, /would hide the environment's own directories/],
    ];
    for (const [name, mount, message] of cases) {
      await expect(backend.createEnvironment({ name, mounts: [mount] })).rejects.toMatchObject({
        code: "CLEANROOM_MOUNT",
        kind: "usage",
        message: expect.stringMatching(message),
      });
      nothingOf(name);
    }
    expect(existsSync("/usr/ggen-new-dir")).toBe(false);
  });

  it("a create that fails midway removes its directory and cgroup", async () => {
    const file = join(outside, "keep.txt");
    // The second mount's target lies under the first one's, which is a file: its mount point cannot be made.
    await expect(
      backend.createEnvironment({
        name: "midway",
        isolated: true,
        mounts: [
          { host: file, target: "a" },
          { host: outside, target: "a/b" },
        ],
      }),
    ).rejects.toThrow();
    nothingOf("midway");
    expect(readFileSync(file, "utf8")).toBe("precious");
  });

  it("a tmpfs and a bind mount a command made inside its environment are unmounted, never emptied, on delete", async () => {
    await backend.createEnvironment({ name: "mounter" });
    const r = await backend.exec("mounter", [
      "sh",
      "-c",
      `mkdir t b && mount -t tmpfs cleanroom-test t && echo x > t/f && mount --bind ${outside} b && echo mounted`,
    ]);
    expect(r.stdout).toBe("mounted\n");
    await backend.deleteEnvironment("mounter");
    nothingOf("mounter");
    expect(readFileSync(join(outside, "keep.txt"), "utf8")).toBe("precious");
    expect(readFileSync("/proc/self/mountinfo", "utf8")).not.toContain("mounter");
  });

  it("a state file of the wrong shape is refused in one line naming the field", async () => {
    const file = join(stateDir, "state.json");
    const saved = existsSync(file) ? readFileSync(file, "utf8") : undefined;
    try {
      writeFileSync(file, JSON.stringify({ environments: { e2: 5 }, services: {} }));
      await expect(backend.listEnvironments()).rejects.toMatchObject({
        code: "CLEANROOM_STATE",
        message: "not a cleanroom state: environments.e2: expected an object, got 5",
      });
      writeFileSync(file, "{ not json");
      await expect(backend.listEnvironments()).rejects.toMatchObject({
        code: "CLEANROOM_STATE",
        message: expect.stringMatching(/^not valid JSON/),
        location: { file, line: 1, column: 3 },
      });
    } finally {
      if (saved === undefined) rmSync(file, { force: true });
      else writeFileSync(file, saved);
    }
  });

  it("an entry whose directory lies outside the environments root is refused: delete and prune never remove it", async () => {
    await backend.createEnvironment({ name: "victim" });
    const file = join(stateDir, "state.json");
    const state = JSON.parse(readFileSync(file, "utf8"));
    state.environments.victim.dir = outside;
    state.environments.victim.workdir = join(outside, "work");
    writeFileSync(file, JSON.stringify(state));
    for (const attempt of [() => backend.deleteEnvironment("victim"), () => backend.prune()]) {
      await expect(attempt()).rejects.toMatchObject({
        code: "CLEANROOM_STATE",
        message: expect.stringContaining("environments.victim.dir"),
      });
    }
    expect(readFileSync(join(outside, "keep.txt"), "utf8")).toBe("precious");
    rmSync(file);
    await backend.prune(); // the real directory, now owned by no entry
    nothingOf("victim");
  });
});

describe("policy (.cleanroom/config.toml)", () => {
  it("enforce_isolation makes environments isolated and refuses a plain one; max_memory_mb caps and limits", async () => {
    const stateDir = freshState();
    try {
      writeFileSync(
        join(stateDir, "config.toml"),
        "[policy]\nenforce_isolation = true\nmax_memory_mb = 512\n",
      );
      const { loadConfig } = await import("../config.js");
      const backend = new LocalBackend({ stateDir, config: loadConfig(stateDir) });
      await expect(backend.createEnvironment({ name: "plain", isolated: false })).rejects.toMatchObject({
        code: "CLEANROOM_POLICY",
        message: expect.stringMatching(
          /is not isolated, and the policy requires isolation \(policy\.enforce_isolation \(.*config\.toml:2:1\)\)/,
        ),
      });
      await expect(backend.createEnvironment({ name: "big", memoryMb: 1024 })).rejects.toMatchObject({
        code: "CLEANROOM_POLICY",
        message: expect.stringContaining("memory (MiB) 1024 is over the policy's maximum 512"),
      });
      const made = await backend.createEnvironment({ name: "default" });
      expect(made.spec).toMatchObject({ isolated: true, memoryMb: 512 });
      expect(made.guarantees?.limits.memoryMb).toEqual({ value: 512, by: "cgroup" });
      await backend.prune({ all: true });
    } finally {
      rmSync(stateDir, { recursive: true, force: true });
    }
  });
});
