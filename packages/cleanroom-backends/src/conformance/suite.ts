// The conformance suite both backends pass: local.test.ts and testcontainers.test.ts call it.
import { spawn } from "node:child_process";
import {
  lstatSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { GgenError } from "@ggen/contract";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Backend } from "../backend.js";

export interface ConformanceTarget {
  backend: Backend;
  /** Another backend object on the same state dir (as the next CLI call would make). */
  reopen(): Backend;
  /** Remove whatever the target itself made (its state dir). */
  cleanup(): Promise<void>;
}

const node = (code: string) => ["node", "-e", code];

export function conformanceSuite(label: string, make: () => Promise<ConformanceTarget>): void {
  describe(`conformance: ${label}`, () => {
    let target: ConformanceTarget;
    let backend: Backend;
    const env = `conf-${process.pid}`;
    let host: string;

    beforeAll(async () => {
      target = await make();
      backend = target.backend;
      host = mkdtempSync(join(tmpdir(), "ggen-conf-"));
      await backend.createEnvironment({ name: env, env: { FROM_SPEC: "yes" } });
    });

    afterAll(async () => {
      await backend?.deleteEnvironment(env, { force: true }).catch(() => undefined);
      await target?.cleanup();
      if (host) rmSync(host, { recursive: true, force: true });
    });

    it("creates, reports, lists and refuses duplicates and bad names", async () => {
      const status = await backend.environmentStatus(env);
      expect(status?.alive).toBe(true);
      expect(status?.backend).toBe(backend.name);
      expect(typeof status?.isolation.network).toBe("boolean");
      expect((await backend.listEnvironments()).map((e) => e.name)).toContain(env);
      await expect(backend.createEnvironment({ name: env })).rejects.toMatchObject({
        code: "CLEANROOM_ENV_EXISTS",
      });
      await expect(backend.createEnvironment({ name: "../evil" })).rejects.toBeInstanceOf(GgenError);
      expect(await backend.environmentStatus("does-not-exist")).toBeUndefined();
    });

    it("execs with exit code, both streams, stdin and streaming output", async () => {
      const chunks: string[] = [];
      const r = await backend.exec(env, ["sh", "-c", "read x; echo out:$x; echo err >&2; exit 3"], {
        stdin: "hello\n",
        onOutput: (c) => chunks.push(c),
      });
      expect(r.exitCode).toBe(3);
      expect(r.stdout).toBe("out:hello\n");
      expect(r.stderr).toBe("err\n");
      expect(r.timedOut).toBe(false);
      expect(chunks.join("")).toContain("out:hello");
    });

    it("scrubs the environment and sets Bazel's test conventions", async () => {
      process.env.CLEANROOM_CONFORMANCE_SECRET_TOKEN = "leak";
      try {
        const r = await backend.exec(env, ["sh", "-c", "env"], {
          shard: { index: 1, total: 3 },
          env: { EXTRA: "x" },
        });
        const vars = Object.fromEntries(
          r.stdout
            .trim()
            .split("\n")
            .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
        );
        expect(vars.CLEANROOM_CONFORMANCE_SECRET_TOKEN).toBeUndefined();
        expect(vars.TZ).toBe("UTC");
        expect(vars.LC_ALL).toBe("C.UTF-8");
        expect(vars.HOME).toBe(vars.TEST_TMPDIR);
        expect(vars.TMPDIR).toBe(vars.TEST_TMPDIR);
        expect(vars.TEST_UNDECLARED_OUTPUTS_DIR).toBeTruthy();
        expect(vars.TEST_SHARD_INDEX).toBe("1");
        expect(vars.TEST_TOTAL_SHARDS).toBe("3");
        expect(vars.FROM_SPEC).toBe("yes");
        expect(vars.EXTRA).toBe("x");
        const w = await backend.exec(env, ["sh", "-c", 'echo hi > "$TEST_TMPDIR/f" && cat "$HOME/f"']);
        expect(w.stdout).toBe("hi\n");
      } finally {
        delete process.env.CLEANROOM_CONFORMANCE_SECRET_TOKEN;
      }
    });

    it("kills a timed-out command with all its children", async () => {
      // A marker unique to this worker: other suites may run the same test at the same time.
      const marker = `sleep ${30000 + (process.pid % 9000)}`;
      const r = await backend.exec(env, ["sh", "-c", `${marker} & ${marker} & echo started; wait`], {
        timeoutMs: 1500,
      });
      expect(r.timedOut).toBe(true);
      expect(r.stdout).toContain("started");
      expect(hostHas(marker)).toBe(false);
    });

    it("a command that escaped with setsid dies with its timeout", async () => {
      const marker = `sleep ${50000 + (process.pid % 9000)}`;
      const r = await backend.exec(env, ["sh", "-c", `setsid ${marker} & ${marker} & echo started; wait`], {
        timeoutMs: 1500,
      });
      expect(r.timedOut).toBe(true);
      expect(r.limit).toBe("timeout");
      expect(r.limitMessage).toBe("time limit 1.5 s reached: killed");
      for (let i = 0; i < 50 && hostHas(marker); i++) await new Promise((ok) => setTimeout(ok, 20));
      expect(hostHas(marker)).toBe(false);
    });

    it("a timeout past Node's 24.8-day timer limit does not fire at once", async () => {
      const r = await backend.exec(env, ["sh", "-c", "sleep 0.3; echo finished"], {
        timeoutMs: 2_678_400_000,
      });
      expect(r.timedOut).toBe(false);
      expect(r.exitCode).toBe(0);
      expect(r.stdout).toBe("finished\n");
    });

    it("mounts: a relative target under the workdir, an absolute one at its path; read-only ones read-only", async () => {
      const name = `${env}-mounts`;
      const ro = mkdtempSync(join(tmpdir(), "ggen-conf-ro-"));
      const rw = mkdtempSync(join(tmpdir(), "ggen-conf-rw-"));
      writeFileSync(join(ro, "Cargo.toml"), "[package]\n");
      try {
        const made = await backend.createEnvironment({
          name,
          mounts: [
            { host: ro, target: "/workspace", writable: false },
            { host: rw, target: "out", writable: true },
          ],
        });
        expect(made.guarantees).toMatchObject({ readOnlyMounts: true, mountTargets: true });
        const r = await backend.exec(name, [
          "sh",
          "-c",
          "cat /workspace/Cargo.toml; touch /workspace/new 2>/dev/null && echo wrote-ro; echo w > out/made && echo wrote-rw",
        ]);
        expect(r.stdout).toBe("[package]\nwrote-rw\n");
        expect(readFileSync(join(rw, "made"), "utf8")).toBe("w\n");
        expect(readdirSync(ro)).toEqual(["Cargo.toml"]);
      } finally {
        await backend.deleteEnvironment(name, { force: true }).catch(() => undefined);
        rmSync(ro, { recursive: true, force: true });
        rmSync(rw, { recursive: true, force: true });
      }
    });

    it("an aborted command is killed with its children", async () => {
      const marker = `sleep ${40000 + (process.pid % 9000)}`;
      const controller = new AbortController();
      const started = Date.now();
      const pending = backend.exec(env, ["sh", "-c", `${marker} & ${marker}; echo never`], {
        signal: controller.signal,
        timeoutMs: 60_000,
        onOutput: () => undefined,
      });
      for (let i = 0; i < 200 && !hostHas(marker); i++) await new Promise((r) => setTimeout(r, 20));
      controller.abort();
      const r = await pending;
      expect(r.timedOut).toBe(false);
      expect(r.stdout).not.toContain("never");
      expect(Date.now() - started).toBeLessThan(30_000);
      expect(hostHas(marker)).toBe(false);
    });

    it("copies files in and out, and refuses paths escaping the environment", async () => {
      writeFileSync(join(host, "in.txt"), "payload");
      await backend.copyIn(env, join(host, "in.txt"), "sub/in.txt");
      const r = await backend.exec(env, ["sh", "-c", "cat sub/in.txt && cp sub/in.txt sub/out.txt"]);
      expect(r.stdout).toBe("payload");
      await backend.copyOut(env, "sub/out.txt", join(host, "out.txt"));
      expect(readFileSync(join(host, "out.txt"), "utf8")).toBe("payload");
      await expect(backend.copyOut(env, "../../../../etc/passwd", join(host, "x"))).rejects.toBeInstanceOf(
        GgenError,
      );
    });

    it("collects the undeclared outputs folder", async () => {
      await backend.exec(env, [
        "sh",
        "-c",
        'mkdir -p "$TEST_UNDECLARED_OUTPUTS_DIR/shots" && echo png > "$TEST_UNDECLARED_OUTPUTS_DIR/shots/a.png"',
      ]);
      const out = await backend.outputs?.(env);
      expect(out?.files).toEqual(["shots/a.png"]);
      await backend.copyOut(env, "@outputs/shots/a.png", join(host, "a.png"));
      expect(readFileSync(join(host, "a.png"), "utf8")).toBe("png\n");
    });

    it("runs PostgreSQL: health, credentials, snapshot/reset, logs, stop", async () => {
      const svc = await backend.startService(env, {
        kind: "postgres",
        database: "conf",
        user: "u1",
        password: "p1",
      });
      expect(svc.url).toContain("@127.0.0.1:");
      expect(svc.env.DATABASE_URL).toBe(svc.url);
      expect(svc.redactedUrl).not.toContain("p1");
      expect((await backend.serviceHealth(env, svc.name)).healthy).toBe(true);
      const q = async (sql: string) => {
        const c = new pg.Client({ connectionString: svc.url });
        await c.connect();
        try {
          return await c.query(sql);
        } finally {
          await c.end();
        }
      };
      await q("CREATE TABLE t (x int)");
      await q("INSERT INTO t VALUES (1)");
      await backend.snapshotService?.(env, svc.name);
      await q("INSERT INTO t VALUES (2)");
      await backend.resetService(env, svc.name);
      expect((await q("SELECT count(*)::int AS n FROM t")).rows[0].n).toBe(backend.snapshotService ? 1 : 0);
      // A command in the environment reaches it through the env it gets.
      const r = await backend.exec(
        env,
        node(
          "const u=new URL(process.env.DATABASE_URL);require('net').connect(+u.port,u.hostname).on('connect',()=>{console.log('ok');process.exit(0)}).on('error',e=>{console.log(e.code);process.exit(1)})",
        ),
      );
      expect(r.stdout.trim()).toBe("ok");
      expect((await backend.serviceLogs(env, svc.name)).length).toBeGreaterThan(0);
      expect((await backend.environmentStatus(env))?.services.map((s) => s.name)).toContain(svc.name);
      await backend.stopService(env, svc.name);
      await expect(q("SELECT 1")).rejects.toThrow();
    });

    it("runs Redis and resets it with FLUSHALL", async () => {
      const svc = await backend.startService(env, { kind: "redis" });
      expect(svc.env.REDIS_URL).toBe(svc.url);
      expect((await backend.serviceHealth(env, svc.name)).healthy).toBe(true);
      const { respCommands } = await import("../services/resp.js");
      await respCommands({ host: svc.host, port: svc.port }, [["SET", "a", "1"]]);
      await backend.resetService(env, svc.name);
      const [v] = await respCommands({ host: svc.host, port: svc.port }, [["GET", "a"]]);
      expect(v).toBeNull();
      await backend.stopService(env, svc.name);
    });

    it("reports metrics", async () => {
      await backend.exec(env, node("let s=0;for(let i=0;i<3e6;i++)s+=i;console.log(s)"));
      const m = await backend.metrics(env);
      expect(m.peakMemoryMb).toBeGreaterThanOrEqual(0);
      expect(m.cpuPercent).toBeGreaterThanOrEqual(0);
    });

    it("close() lets go of the object, never of the environments and services it started", async () => {
      const name = `${env}-close`;
      const other = target.reopen();
      await other.createEnvironment({ name });
      const svc = await other.startService(name, { kind: "redis" });
      await other.close();
      await other.close();
      const status = await backend.environmentStatus(name);
      expect(status?.alive).toBe(true);
      expect(status?.services.map((s) => s.name)).toEqual([svc.name]);
      expect((await backend.serviceHealth(name, svc.name)).healthy).toBe(true);
      await backend.deleteEnvironment(name);
      expect(await backend.environmentStatus(name)).toBeUndefined();
    });

    it("delete leaves nothing behind and prune finds nothing more", async () => {
      const name = `${env}-del`;
      await backend.createEnvironment({ name });
      await backend.startService(name, { kind: "redis" });
      await backend.exec(name, ["sh", "-c", "echo x > left.txt"]);
      await backend.deleteEnvironment(name);
      expect(await backend.environmentStatus(name)).toBeUndefined();
      expect((await backend.listEnvironments()).map((e) => e.name)).not.toContain(name);
      const pruned = await backend.prune();
      expect(pruned.removed).toEqual([]);
      await expect(backend.exec(name, ["true"])).rejects.toBeInstanceOf(GgenError);
    });
  });
}

/** Is a process with this exact command line running on the host? */
export function hostHas(cmdline: string): boolean {
  for (const pid of readdirSync("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ").trim() === cmdline) return true;
    } catch {
      // gone
    }
  }
  return false;
}

/**
 * Start a persistent redis from a separate Node process (the built package, as a CLI call would):
 * parallel workers must end up sharing one service.
 */
export function startInWorker(
  backend: "local" | "testcontainers",
  stateDir: string,
  env: string,
  i: number,
): Promise<{ port: number; readyMs: number }> {
  const dist = join(dirname(fileURLToPath(import.meta.url)), "../../dist/index.js");
  const script = `
    const { createBackend } = await import(${JSON.stringify(dist)});
    const b = await createBackend(${JSON.stringify(backend)}, { stateDir: ${JSON.stringify(stateDir)} });
    const s = await b.startService(${JSON.stringify(env)}, { kind: "redis", name: "r${i}", persistent: true });
    console.log(JSON.stringify({ port: s.port, readyMs: s.readyMs }));
    process.exit(0);
  `;
  return new Promise((ok, fail) => {
    const p = spawn(process.execPath, ["--input-type=module", "-e", script], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, GGEN_CLEANROOM_NO_PULL: "1" },
    });
    let out = "";
    let err = "";
    p.stdout.on("data", (d) => {
      out += d;
    });
    p.stderr.on("data", (d) => {
      err += d;
    });
    p.on("close", (code) =>
      code === 0
        ? ok(JSON.parse(out.trim().split("\n").pop() ?? "{}"))
        : fail(new Error(`worker ${i} exited ${code}: ${err}`)),
    );
  });
}

/**
 * A PATH without `tool`: a directory of links to everything on the current PATH but it, outside /tmp (an
 * isolated command's /tmp is its own, and it must find its programs).
 */
export function pathWithout(tool: string): { path: string; dispose(): void } {
  const dir = mkdtempSync("/var/tmp/ggen-path-without-");
  for (const from of (process.env.PATH ?? "").split(":").filter(Boolean)) {
    let entries: string[] = [];
    try {
      entries = readdirSync(from);
    } catch {
      continue; // not a directory here
    }
    for (const name of entries) {
      if (name === tool || lstatSync(join(dir, name), { throwIfNoEntry: false })) continue;
      symlinkSync(join(from, name), join(dir, name));
    }
  }
  return { path: dir, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}
