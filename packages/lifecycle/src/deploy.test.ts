import { spawnSync } from "node:child_process";
import { promises as fs } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { validate as validateContract } from "@ggen/contract";
import { freePort } from "@ggen/support";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "./config.js";
import { currentRelease, deploy, listReleases, rollback, stopService, verify } from "./deploy.js";
import { readMetricsFile } from "./metrics.js";
import { runPhases } from "./runner.js";
import { loadState } from "./state.js";
import { cleanupProjects, project, serviceSource } from "./test-util.js";

afterAll(cleanupProjects);

const stops: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const s of stops.splice(0)) await s();
});

async function get(url: string): Promise<{ status: number; body: string } | undefined> {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(1000) });
    return { status: r.status, body: await r.text() };
  } catch {
    return undefined;
  }
}

describe("release-dir provider", () => {
  it("switches current atomically, keeps the last N and rolls back", async () => {
    const dir = await project({
      "dist/app.txt": "v1",
      "make.toml": `[environments.staging.deploy]\nprovider = "release-dir"\nsource = "dist"\ndir = "deploy"\nkeep = 2\n`,
    });
    const c = await loadConfig(dir);
    const ids: string[] = [];
    for (const v of ["v1", "v2", "v3"]) {
      await fs.writeFile(join(dir, "dist/app.txt"), v);
      const r = await deploy(c, "staging");
      expect(r.status).toBe("success");
      ids.push(r.releaseId!);
      expect(await fs.readFile(join(dir, "deploy/current/app.txt"), "utf8")).toBe(v);
      expect((await fs.lstat(join(dir, "deploy/current"))).isSymbolicLink()).toBe(true);
    }
    expect(await listReleases(join(dir, "deploy"))).toEqual(ids.slice(1));
    const rb = await rollback(c, "staging");
    expect(rb).toMatchObject({ from: ids[2], to: ids[1] });
    expect(await fs.readFile(join(dir, "deploy/current/app.txt"), "utf8")).toBe("v2");
    expect(await currentRelease(join(dir, "deploy"))).toBe(ids[1]);
    const s = await loadState(dir);
    expect(s.environments.staging?.current).toBe(ids[1]);
    expect(s.environments.staging?.releases.find((r) => r.id === ids[2])?.status).toBe("rolled-back");
    await expect(rollback(c, "staging", { to: "nope" })).rejects.toThrow(/no release 'nope'/);
    const { records, problems } = await readMetricsFile(join(dir, ".ggen/deployments.jsonl"));
    expect(problems).toEqual([]);
    expect(records.map((r) => r.deploymentId)).toEqual(ids);
    for (const r of records) expect(validateContract("deployment-metrics/v1", r).ok).toBe(true);
  });

  it("fails clearly when the source was never built", async () => {
    const dir = await project({
      "make.toml": `[environments.staging.deploy]\nprovider = "release-dir"\nsource = "build"\n`,
    });
    const r = await deploy(await loadConfig(dir), "staging");
    expect(r.status).toBe("failed");
    expect(r.message).toContain("deploy source 'build' does not exist");
  });
});

describe("deploy lock", () => {
  it("refuses a second deploy of the same environment while one runs", async () => {
    const dir = await project({
      "make.toml": `[environments.staging.deploy]\nprovider = "command"\ncommand = "while [ ! -f go ]; do sleep 0.05; done"\n`,
    });
    const c = await loadConfig(dir);
    const first = deploy(c, "staging");
    // Wait until the first holds the lock (its lock dir exists), then try again.
    for (let i = 0; i < 200; i++) {
      if (await fs.stat(join(dir, ".ggen/deploy-staging.lock")).catch(() => undefined)) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    await expect(deploy(c, "staging")).rejects.toThrow(/^the deploy of 'staging' is locked by process \d+/);
    await fs.writeFile(join(dir, "go"), "");
    expect((await first).status).toBe("success");
    // Released: the next deploy goes through.
    expect((await deploy(c, "staging")).status).toBe("success");
  });
});

describe("crash consistency", () => {
  it("a deploy killed mid-copy leaves a lock and a partial copy: the next one takes over at once", async () => {
    const dir = await project({
      "dist/app.txt": "v1",
      "make.toml": `[environments.staging.deploy]\nprovider = "release-dir"\nsource = "dist"\ndir = "deploy"\n`,
    });
    // What kill -9 leaves: the lock of a process that is gone, and the release it was copying.
    const dead = spawnSync("true").pid!;
    await fs.mkdir(join(dir, "deploy/releases/.20260101-000000-000-dead.partial"), { recursive: true });
    await fs.mkdir(join(dir, ".ggen"), { recursive: true });
    await fs.writeFile(
      join(dir, ".ggen/deploy-staging.lock"),
      JSON.stringify({ pid: dead, start: "1", host: hostname(), since: new Date().toISOString() }),
    );
    const r = await deploy(await loadConfig(dir), "staging");
    expect(r.status).toBe("success");
    expect(await fs.readdir(join(dir, "deploy/releases"))).toEqual([r.releaseId]);
    expect(await fs.readdir(join(dir, ".ggen"))).not.toContain("deploy-staging.lock");
  });
});

describe("metrics of a run", () => {
  it("a deploy after parallel phases records the wall time, with each phase's start and duration", async () => {
    const dir = await project({
      "make.toml": `
[phases.a]
command = "sleep 0.6"
[phases.b]
command = "sleep 0.6"
[phases.deploy]
depends_on = ["a", "b"]
[environments.staging.deploy]
provider = "command"
command = "true"
`,
    });
    const started = Date.now();
    const r = await runPhases(await loadConfig(dir), ["deploy"], { env: "staging", jobs: 2 });
    const wall = (Date.now() - started) / 1000;
    expect(r.ok).toBe(true);
    const [m] = (await readMetricsFile(join(dir, ".ggen/deployments.jsonl"))).records;
    expect(m!.phases.a).toBeGreaterThanOrEqual(0.6);
    expect(m!.phases.b).toBeGreaterThanOrEqual(0.6);
    // Both phases ran at once: the total is at most the wall time, less than their sum plus the deploy.
    expect(m!.totalTimeSeconds).toBeLessThanOrEqual(wall);
    expect(m!.totalTimeSeconds).toBeGreaterThanOrEqual(0.6);
    // They overlapped: each started before the other ended.
    const { a, b } = m!.stages as Record<string, { startSeconds: number; durationSeconds: number }>;
    expect(a!.startSeconds).toBeLessThan(b!.startSeconds + b!.durationSeconds);
    expect(b!.startSeconds).toBeLessThan(a!.startSeconds + a!.durationSeconds);
    expect(m!.stages!.deployment!.startSeconds).toBeGreaterThanOrEqual(0.6);
    expect(validateContract("deployment-metrics/v1", m).ok).toBe(true);
  });
});

describe("process provider with verify and automatic rollback", () => {
  it("deploy → verify passes; broken release → verify fails → rollback → the old release answers", async () => {
    const port = await freePort();
    const dir = await project({
      "dist/server.js": serviceSource("v1 ok"),
      "make.toml": `
[phases.deploy]
[environments.production]
rollback = true
[environments.production.deploy]
provider = "process"
source = "dist"
dir = "srv"
start = "node server.js"
port = ${port}
[environments.production.verify]
url = "http://127.0.0.1:${port}/health"
retries = 15
interval_ms = 100
timeout_ms = 500
expect_body = "ok"
`,
    });
    const c = await loadConfig(dir);
    stops.push(() => stopService(c, "production"));
    const first = await runPhases(c, ["deploy"], { env: "production" });
    expect(first.ok).toBe(true);
    expect(first.deployment?.verify?.ok).toBe(true);
    expect(await get(`http://127.0.0.1:${port}/health`)).toEqual({ status: 200, body: "v1 ok" });
    const pid = Number(await fs.readFile(join(dir, "srv/supervisor.pid"), "utf8"));
    expect(pid).toBeGreaterThan(0);

    // The broken release answers 500.
    await fs.writeFile(join(dir, "dist/server.js"), serviceSource("broken", 500));
    const second = await runPhases(c, ["deploy"], { env: "production" });
    expect(second.ok).toBe(false);
    expect(second.exitCode).toBe(1);
    expect(second.rolledBack).toBe(true);
    expect(second.deployment?.status).toBe("rolled-back");
    expect(second.deployment?.rolledBackTo).toBe(first.deployment?.releaseId);
    expect(second.failure?.message).toMatch(/verify failed: .*HTTP 500 .*rolled back to/);
    expect(await get(`http://127.0.0.1:${port}/health`)).toEqual({ status: 200, body: "v1 ok" });
    expect(await currentRelease(join(dir, "srv"))).toBe(first.deployment?.releaseId);

    const v = await verify(c.environments.get("production")!.verify!);
    expect(v.ok).toBe(true);
    const { records } = await readMetricsFile(join(dir, ".ggen/deployments.jsonl"));
    expect(records.map((r) => r.status)).toEqual(["success", "rolled-back"]);
    expect(records[1]!.phases.rollback).toBeGreaterThan(0);

    expect(await stopService(c, "production")).toBe(true);
    expect(await get(`http://127.0.0.1:${port}/health`)).toBeUndefined();
  });

  it("verify gives up after its retries when nothing listens", async () => {
    const port = await freePort();
    const attempts: number[] = [];
    const v = await verify(
      { url: `http://127.0.0.1:${port}/`, retries: 3, intervalMs: 10, timeoutMs: 200, expectStatus: 200 },
      { onEvent: (e) => e.type === "verify-attempt" && attempts.push(e.attempt) },
    );
    expect(v.ok).toBe(false);
    expect(attempts).toEqual([1, 2, 3]);
    expect(v.detail).toBe("ECONNREFUSED");
  });

  it("verify bounds each attempt by its timeout, follows no redirect and checks the body", async () => {
    const { createServer } = await import("node:http");
    const server = createServer((req, res) => {
      if (req.url === "/silent") return; // accepts, never answers
      if (req.url === "/moved") return res.writeHead(302, { location: "/ok" }).end();
      res.end("all fine");
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const { port } = server.address() as { port: number };
    const at = (path: string) => `http://127.0.0.1:${port}${path}`;
    try {
      const silent = await verify({
        url: at("/silent"),
        retries: 2,
        intervalMs: 5,
        timeoutMs: 100,
        expectStatus: 200,
      });
      expect(silent).toMatchObject({ ok: false, attempts: 2, detail: "no answer within 100 ms" });
      const moved = await verify({
        url: at("/moved"),
        retries: 1,
        intervalMs: 5,
        timeoutMs: 1000,
        expectStatus: 200,
      });
      expect(moved).toMatchObject({ ok: false, status: 302, detail: "HTTP 302 (expected 200)" });
      const body = { retries: 1, intervalMs: 5, timeoutMs: 1000, expectStatus: 200 };
      expect(await verify({ ...body, url: at("/ok"), expectBody: "fine" })).toMatchObject({
        ok: true,
        status: 200,
      });
      expect(await verify({ ...body, url: at("/ok"), expectBody: "broken" })).toMatchObject({
        ok: false,
        detail: "HTTP 200 but the body lacks 'broken'",
      });
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});
