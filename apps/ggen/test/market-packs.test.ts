// Every pack of the bundled registry, end to end through the built CLI: `ggen market add`, then
// `ggen template generate <id>` (all its templates), then the generated code is run for real — the
// Node CLI runs and its tests pass, the Rust crate builds and its tests pass offline, the Redis
// service talks to a real redis-server, the SQL loads into a real PostgreSQL when one is available.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { freePort } from "@ggen/support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Sandbox, sandbox } from "./market-helpers.js";

let b: Sandbox;
beforeAll(() => {
  b = sandbox();
});
afterAll(() => b.cleanup());

const has = (cmd: string) => spawnSync("sh", ["-c", `command -v ${cmd}`]).status === 0;

/** add + generate every template of `id` into <sandbox>/out-<id>; returns that dir. */
function generate(id: string, ...vars: string[]): string {
  const add = b.run("market", "add", id);
  expect(add.status, add.stderr).toBe(0);
  const out = join(b.dir, `out-${id}`);
  const args = ["template", "generate", id, "-o", out, ...vars.flatMap((v) => ["--vars", v])];
  const r = b.run(...args);
  expect(r.stderr, `ggen ${args.join(" ")}`).toBe("");
  expect(r.status).toBe(0);
  return out;
}

const read = (dir: string, rel: string) => readFileSync(join(dir, rel), "utf8");

describe("bundled packs work end to end", { timeout: 300_000 }, () => {
  it("io.ggen.node-cli: the CLI runs and its generated tests pass", () => {
    const out = generate("io.ggen.node-cli", "name=greeter", "version=2.3.4");
    expect(JSON.parse(read(out, "package.json")).bin).toEqual({ greeter: "bin/greeter.mjs" });
    const run = (...a: string[]) =>
      spawnSync(process.execPath, [join(out, "bin/greeter.mjs"), ...a], {
        encoding: "utf8",
        timeout: 60_000,
      });
    expect(run("greet", "--name", "Ada").stdout.trim()).toBe("Hello, Ada!");
    expect(run("--version").stdout.trim()).toBe("2.3.4");
    expect(run("fly").status).toBe(2);
    const t = spawnSync(process.execPath, ["--test", "test/"], { cwd: out, encoding: "utf8" });
    expect(t.status, t.stdout + t.stderr).toBe(0);
    expect(t.stdout).toMatch(/# pass 5/);
  });

  it("io.ggen.rust-cli: the std-only crate builds offline and its tests pass", () => {
    if (!has("cargo")) return void console.warn("cargo not found; skipping the Rust build");
    const out = generate("io.ggen.rust-cli", "name=wc-lite");
    const env = { ...process.env, CARGO_TARGET_DIR: join(b.dir, "cargo-target"), CARGO_NET_OFFLINE: "true" };
    const t = spawnSync("cargo", ["test", "--offline", "--quiet"], {
      cwd: out,
      env,
      encoding: "utf8",
      timeout: 240_000,
    });
    expect(t.status, t.stdout + t.stderr).toBe(0);
    expect(t.stdout).toMatch(/test result: ok\. 4 passed/);
    expect(t.stdout).toMatch(/test result: ok\. 3 passed/);
    const r = spawnSync("cargo", ["run", "--offline", "--quiet", "--", "count", "a b c"], {
      cwd: out,
      env,
      encoding: "utf8",
    });
    expect(r.stdout.trim()).toBe("1 3 5");
  });

  it("io.ggen.docs: every generated page exists and its relative links resolve", () => {
    const out = generate("io.ggen.docs", "name=shop", "description=Sells things");
    expect(read(out, "README.md")).toMatch(/^# shop\n\nSells things\n/);
    for (const page of ["README.md", "docs/index.md", "docs/architecture.md", "CHANGELOG.md"]) {
      const text = read(out, page);
      for (const [, link] of text.matchAll(/\]\(([^)#]+\.md)\)/g)) {
        expect(existsSync(join(out, page, "..", link!)), `${page} -> ${link}`).toBe(true);
      }
    }
  });

  it("io.ggen.dockerfile and io.ggen.ci-workflow render with their vars", () => {
    const docker = generate("io.ggen.dockerfile", "port=8080", "node_version=22");
    const df = read(docker, "Dockerfile");
    expect(df.match(/^FROM node:22-alpine/gm)).toHaveLength(2);
    expect(df).toMatch(/^EXPOSE 8080$/m);
    expect(df).toMatch(/^USER app$/m);
    expect(read(docker, ".dockerignore")).toMatch(/^node_modules$/m);
    const ci = generate("io.ggen.ci-workflow", "node_version=22", "branch=trunk");
    const yml = read(ci, ".github/workflows/ci.yml");
    expect(yml).toMatch(/branches: \[trunk\]/);
    expect(yml).toMatch(/node-version: "22"/);
    expect(yml).not.toMatch(/\t/);
    expect(read(ci, ".github/workflows/rust.yml")).toMatch(/cargo test --all-targets/);
  });

  it("io.ggen.redis-service: the generated service stores and reads keys in a real redis-server", async () => {
    const out = generate("io.ggen.redis-service", "name=kv");
    expect(existsSync(join(b.project, ".ggen/packages/io.ggen.dockerfile/ggen.toml"))).toBe(true);
    if (!has("redis-server")) return void console.warn("redis-server not found; skipping the live check");
    const redisPort = await freePort();
    const httpPort = await freePort();
    const procs: ChildProcess[] = [];
    try {
      const redis = spawn("redis-server", ["--port", String(redisPort), "--save", "", "--appendonly", "no"], {
        stdio: "ignore",
      });
      procs.push(redis);
      await waitFor(async () => {
        const { Redis } = await import(join(out, "resp.mjs"));
        const c = new Redis(`redis://127.0.0.1:${redisPort}`);
        try {
          return (await c.ping()) === "PONG";
        } finally {
          c.close();
        }
      });
      const server = spawn(process.execPath, [join(out, "server.mjs")], {
        env: { ...process.env, REDIS_URL: `redis://127.0.0.1:${redisPort}`, PORT: String(httpPort) },
        stdio: "ignore",
      });
      procs.push(server);
      const base = `http://127.0.0.1:${httpPort}`;
      const fetch = (url: string, init: RequestInit = {}) =>
        globalThis.fetch(url, { ...init, signal: AbortSignal.timeout(5000) });
      await waitFor(async () => (await fetch(`${base}/health`)).ok);
      expect(await (await fetch(`${base}/health`)).json()).toEqual({
        status: "ok",
        service: "kv",
        redis: "PONG",
      });
      expect((await fetch(`${base}/kv/greeting`)).status).toBe(404);
      expect((await fetch(`${base}/kv/greeting`, { method: "PUT", body: "hello ✓" })).status).toBe(201);
      expect(await (await fetch(`${base}/kv/greeting`)).json()).toEqual({
        key: "greeting",
        value: "hello ✓",
      });
      expect(await (await fetch(`${base}/kv/greeting`, { method: "DELETE" })).json()).toEqual({ deleted: 1 });
      expect((await fetch(`${base}/kv/greeting`)).status).toBe(404);
    } finally {
      for (const p of procs) p.kill("SIGTERM");
    }
  });

  it("io.ggen.postgres-schema: the SQL loads into PostgreSQL and the trigger works", async () => {
    const out = generate("io.ggen.postgres-schema", "schema=shop", "entity=product");
    const schema = read(out, "db/schema.sql");
    expect(schema).toMatch(/CREATE TABLE IF NOT EXISTS shop\.product \(/);
    expect(read(out, "db/seed.sql")).toMatch(/INSERT INTO shop\.product/);
    const pg = "/usr/lib/postgresql/15/bin";
    if (!existsSync(join(pg, "initdb")) || !has("runuser"))
      return void console.warn("PostgreSQL 15 not found; SQL not loaded");
    const data = join("/tmp", `ggen-pg-${process.pid}-${Date.now()}`);
    const port = await freePort();
    const as = (cmd: string, ...args: string[]) =>
      spawnSync("runuser", ["-u", "nobody", "--", join(pg, cmd), ...args], {
        encoding: "utf8",
        timeout: 60_000,
      });
    spawnSync("mkdir", ["-p", data]);
    spawnSync("chown", ["nobody", data]);
    spawnSync("chmod", ["755", out, join(out, "db")]);
    try {
      expect(as("initdb", "-D", data, "-A", "trust", "-U", "postgres").status).toBe(0);
      const start = as(
        "pg_ctl",
        "-D",
        data,
        // Its log goes to a file: a server holding pg_ctl's stdout would keep spawnSync waiting out its timeout.
        "-l",
        join(data, "server.log"),
        "-o",
        `-p ${port} -k ${data} -c listen_addresses='' -c fsync=off`,
        "-w",
        "start",
      );
      expect(start.status, start.stderr).toBe(0);
      const psql = (...a: string[]) =>
        as("psql", "-h", data, "-p", String(port), "-U", "postgres", "-v", "ON_ERROR_STOP=1", "-qAt", ...a);
      for (const f of ["db/schema.sql", "db/seed.sql", "db/schema.sql"]) {
        // On stdin: the unprivileged server user may not read the test's private temp dir.
        const r = spawnSync(
          "runuser",
          [
            "-u",
            "nobody",
            "--",
            join(pg, "psql"),
            "-h",
            data,
            "-p",
            String(port),
            "-U",
            "postgres",
            "-v",
            "ON_ERROR_STOP=1",
            "-qAt",
            "-f",
            "-",
          ],
          { encoding: "utf8", input: readFileSync(join(out, f), "utf8") },
        );
        expect(r.status, `${f}: ${r.stderr}`).toBe(0);
      }
      expect(psql("-c", "SELECT count(*) FROM shop.product").stdout.trim()).toBe("2");
      const touched = psql(
        "-c",
        "UPDATE shop.product SET title = 'x' WHERE slug = 'first' RETURNING updated_at > created_at",
      );
      expect(touched.stdout.trim().split("\n")[0]).toBe("t");
      expect(psql("-c", "INSERT INTO shop.product (slug, title) VALUES ('Bad Slug', 'x')").status).not.toBe(
        0,
      );
    } finally {
      as("pg_ctl", "-D", data, "-m", "immediate", "stop");
      spawnSync("rm", ["-rf", data]);
    }
  });

  it("io.ggen.domain-service: the whole pack renders from its ontology", () => {
    const out = generate("io.ggen.domain-service");
    const lock = JSON.parse(readFileSync(join(b.project, "ggen.lock"), "utf8"));
    expect(lock.packs["io.ggen.domain-service"].version).toBe("1.1.0");
    const manifest = JSON.parse(read(out, ".ggen/manifest.json"));
    expect(manifest.files.length).toBeGreaterThan(0);
    for (const f of manifest.files) expect(existsSync(join(out, f.path)), f.path).toBe(true);
  });
});

async function waitFor(check: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  let last: unknown;
  while (Date.now() < until) {
    try {
      if (await check()) return;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting: ${String(last)}`);
}
