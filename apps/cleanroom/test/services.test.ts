// Environments and services across separate CLI calls (local backend, real PostgreSQL and Redis), and
// ultra-fast-test on generated output that needs PostgreSQL. Everything started is stopped.
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { CleanroomRun } from "@ggen/contract";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type Project, project } from "./helpers.js";

// Each test runs the program several times; on a busy 2-core machine that takes seconds.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 60_000 });

const hasPostgres = existsSync("/usr/lib/postgresql/15/bin/postgres");
const hasRedis = existsSync("/usr/bin/redis-server");

let p: Project;
beforeAll(() => {
  p = project();
});
afterAll(() => {
  p.run("environment", "delete", "--name", "svc", "--force", "--backend", "local");
  p.cleanup();
});

function pidAlive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) [ZX]/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

// Run when redis-server is installed: scripts/ci/system-deps.sh installs it, so CI runs this.
describe.runIf(hasRedis)("environments and services, one CLI call at a time", () => {
  it("create, start redis, health, exec with REDIS_URL, stop, delete", () => {
    const env = p.json<{ name: string; backend: string }>(
      "environment",
      "create",
      "--name",
      "svc",
      "--backend",
      "local",
      "--mount",
      ".:/workspace",
    );
    expect(env).toMatchObject({ name: "svc", backend: "local" });
    const svc = p.json<{ name: string; url: string; env: Record<string, string> }>(
      "container",
      "start",
      "redis",
      "--env-name",
      "svc",
      "--backend",
      "local",
    );
    expect(svc.name).toBe("redis");
    expect(svc.env.REDIS_URL).toMatch(/^redis:\/\/127\.0\.0\.1:\d+/);
    const list = p.json<{ environment: string; name: string }[]>("container", "list", "--backend", "local");
    expect(list).toContainEqual(expect.objectContaining({ environment: "svc", name: "redis" }));
    const h = p.run("container", "health", "redis", "--env-name", "svc");
    expect(h.status).toBe(0);
    expect(h.stdout).toMatch(/^redis \(svc\): healthy/);
    const status = p.json<{ alive: boolean; services: { name: string }[] }>(
      "environment",
      "status",
      "--name",
      "svc",
    );
    expect(status.alive).toBe(true);
    const e = p.run("exec", "--env", "svc", "--", "sh", "-c", 'echo "url=$REDIS_URL"; exit 7');
    expect(e.status).toBe(7);
    expect(e.stdout).toMatch(/^url=redis:\/\/127\.0\.0\.1:\d+/);
    const stop = p.run("container", "stop", "redis", "--env-name", "svc");
    expect(stop.status).toBe(0);
    expect(p.run("container", "health", "redis", "--env-name", "svc").status).not.toBe(0);
    expect(p.run("environment", "delete", "--name", "svc").status).toBe(0);
    expect(p.json<unknown[]>("environment", "list", "--backend", "local")).toEqual([]);
    const missing = p.run("environment", "status", "--name", "svc", "--backend", "local");
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/no environment 'svc'/);
  }, 120_000);
});

// PostgreSQL 15 is on every machine of this kind; CI runs this.
describe.runIf(hasPostgres)("ultra-fast-test", () => {
  it("mounts generated output, starts the PostgreSQL it needs, runs its tests, writes the run, stops everything", () => {
    const test = `import { test } from "node:test";
import assert from "node:assert";
test("reaches the database", () => {
  const url = new URL(process.env.DATABASE_URL);
  assert.equal(url.protocol, "postgresql:");
});
`;
    const path = p.write("gen/app/test/db.test.mjs", test);
    const sha = createHash("sha256").update(readFileSync(path)).digest("hex");
    p.write(
      "gen/app/.ggen/manifest.json",
      JSON.stringify({
        kind: "generation-manifest/v1",
        tool: { name: "ggen", version: "0.1.0" },
        startedAt: "2026-01-13T10:00:00.000Z",
        finishedAt: "2026-01-13T10:00:01.000Z",
        outputRoot: "gen/app",
        inputs: { templates: [], graphs: [], varFiles: [] },
        vars: {},
        files: [{ path: "test/db.test.mjs", sha256: sha, bytes: test.length, action: "created" }],
        timings: { parseMs: 0, rdfLoadMs: 0, sparqlMs: 0, renderMs: 0, writeMs: 0, totalMs: 0 },
        counts: { templates: 0, files: 1, triples: 0, queries: 0 },
      }),
    );
    const r = p.run(
      "ultra-fast-test",
      "--manifest",
      "gen/app/.ggen/manifest.json",
      "--backend",
      "local",
      "--report",
      "out/run.json",
      "-v",
    );
    expect(r.stderr).toMatch(/needs postgres: test\/db\.test\.mjs reads DATABASE_URL/);
    expect(r.status).toBe(0);
    const run = JSON.parse(readFileSync(join(p.dir, "out/run.json"), "utf8")) as CleanroomRun;
    expect(run.summary).toMatchObject({ total: 1, passed: 1 });
    expect(run.services).toHaveLength(1);
    expect(run.services[0]!.name).toBe("postgres");
    expect(run.services[0]!.endpoint).toMatch(/^postgresql:\/\/127\.0\.0\.1:\d+/);
    expect(run.manifest?.path).toBe("gen/app/.ggen/manifest.json");
    expect(run.sources).toEqual([{ path: "gen/app/test/db.test.mjs", sha256: sha }]);
    // The throwaway environment and its PostgreSQL are gone.
    expect(p.envDirs()).toEqual([]);
    const state = JSON.parse(readFileSync(join(p.dir, ".cleanroom/state.json"), "utf8")) as {
      services: Record<string, { local?: { pid: number } }>;
    };
    for (const s of Object.values(state.services)) if (s.local) expect(pidAlive(s.local.pid)).toBe(false);
    // The attestation of that run verifies against the generated files.
    expect(p.run("report", "--attestation", "--output", "att.json").status).toBe(0);
    expect(p.run("report", "--verify", "att.json").status).toBe(0);
    // SLSA provenance for the generated output, signed, verifies too; then a generated file changes.
    expect(
      p.run("report", "--provenance", "gen/app/.ggen/manifest.json", "--sign", "--output", "prov.json")
        .status,
    ).toBe(0);
    const prov = JSON.parse(
      Buffer.from(JSON.parse(readFileSync(join(p.dir, "prov.json"), "utf8")).payload, "base64").toString(),
    );
    expect(prov.predicateType).toBe("https://slsa.dev/provenance/v1");
    expect(prov.subject).toEqual([{ name: "gen/app/test/db.test.mjs", digest: { sha256: sha } }]);
    const good = p.run("report", "--verify", "prov.json");
    expect(good.stdout).toMatch(/^VERIFIED/);
    expect(good.stdout).toContain("signature valid");
    p.write("gen/app/test/db.test.mjs", "// edited by hand\n");
    const bad = p.run("report", "--verify", "prov.json");
    expect(bad.status).toBe(1);
    expect(bad.stdout).toContain("changed: gen/app/test/db.test.mjs (subject)");
  }, 120_000);
});

// PostgreSQL 15 is on every machine of this kind; CI runs this.
describe.runIf(hasPostgres)("--reset-between", () => {
  it("puts PostgreSQL back to its snapshot before each test file", () => {
    const t = `import { test } from "node:test";
import { execFileSync } from "node:child_process";

test("sees only its own row", () => {
  const out = execFileSync("/usr/lib/postgresql/15/bin/psql", [process.env.DATABASE_URL, "-Atqc",
    "create table if not exists t(x int); insert into t values (1); select count(*) from t"]).toString().trim();
  if (out !== "1") throw new Error("rows: " + out);
});
`;
    p.write("db/one.test.mjs", t);
    p.write("db/two.test.mjs", t);
    expect(p.run("environment", "create", "--name", "pg", "--backend", "local").status).toBe(0);
    try {
      expect(p.run("container", "start", "postgres", "--env-name", "pg", "--db", "app").status).toBe(0);
      const reset = p.run("test", "run", "--env", "pg", "--files", "db/*.test.mjs", "--reset-between");
      expect(reset.stdout).toMatch(/^PASSED {2}2 tests/);
      expect(reset.status).toBe(0);
      const dirty = p.run("test", "run", "--env", "pg", "--files", "db/*.test.mjs");
      expect(dirty.status).toBe(1);
      expect(dirty.stdout).toMatch(/rows: [23]/);
      // the password never reaches the stored run
      const run = p.json<CleanroomRun>("test", "results");
      expect(JSON.stringify(run)).not.toMatch(/PGPASSWORD=(?!\*)/);
    } finally {
      expect(p.run("environment", "delete", "--name", "pg", "--force").status).toBe(0);
    }
  }, 120_000);
});
