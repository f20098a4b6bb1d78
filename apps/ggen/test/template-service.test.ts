// Proof that the io.ggen.domain-service pack (fixtures/templates) turns the shop ontology into a working
// service: generation is byte-identical run to run, the generated JS/TS typechecks, the generated SQL
// loads into a real PostgreSQL 15, the generated tests pass against it, and the server answers /health.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { parseToml, schemaUrl, validate } from "@ggen/contract";
import { freePort } from "@ggen/support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const repo = join(import.meta.dirname, "..", "..", "..");
const bin = join(import.meta.dirname, "..", "dist", "bin.js");
const root = mkdtempSync(join(tmpdir(), "ggen-service-"));
const svc = join(root, "a");
const again = join(root, "b");

const ggen = (...args: string[]) =>
  spawnSync(process.execPath, [bin, ...args], {
    cwd: repo,
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1" },
  });

function files(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.name === "node_modules" || e.name === ".ggen") continue;
      if (e.isDirectory()) walk(p);
      else out.set(relative(dir, p), readFileSync(p));
    }
  };
  walk(dir);
  return out;
}

interface Pg {
  url: string;
  stop(): Promise<void>;
}

/** A throwaway PostgreSQL 15: @ggen/cleanroom-backends' starter, else initdb + postgres as the postgres user. */
async function startPg(): Promise<Pg> {
  try {
    const mod = (await import("@ggen/cleanroom-backends")) as unknown as {
      startPostgres?: () => Promise<{ url: string; stop(): Promise<void> }>;
    };
    if (typeof mod.startPostgres === "function") return await mod.startPostgres();
  } catch {
    // fall through to the local starter
  }
  const binDir = "/usr/lib/postgresql/15/bin";
  const dir = mkdtempSync(join(tmpdir(), "ggen-pg-"));
  chmodSync(dir, 0o777);
  const data = join(dir, "data");
  const asPg = (cmd: string, args: string[]) =>
    process.getuid?.() === 0
      ? spawnSync("runuser", ["-u", "postgres", "--", cmd, ...args], { encoding: "utf8" })
      : spawnSync(cmd, args, { encoding: "utf8" });
  const init = asPg(join(binDir, "initdb"), ["-D", data, "-A", "trust", "-U", "test", "--no-sync"]);
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr}`);
  const port = await freePort();
  const args = ["-D", data, "-p", String(port), "-k", dir, "-h", "127.0.0.1", "-c", "fsync=off"];
  const child: ChildProcess =
    process.getuid?.() === 0
      ? spawn("runuser", ["-u", "postgres", "--", join(binDir, "postgres"), ...args], { stdio: "ignore" })
      : spawn(join(binDir, "postgres"), args, { stdio: "ignore" });
  const url = `postgresql://test@127.0.0.1:${port}/postgres`;
  for (let i = 0; i < 100; i++) {
    const r = spawnSync(join(binDir, "pg_isready"), ["-h", "127.0.0.1", "-p", String(port)]);
    if (r.status === 0) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    async stop() {
      // runuser does not forward signals: stop the postmaster itself (fast shutdown) by its pid file.
      const pidFile = join(data, "postmaster.pid");
      const pid = existsSync(pidFile) ? Number(readFileSync(pidFile, "utf8").split("\n")[0]) : undefined;
      const exited = new Promise((r) => (child.exitCode !== null ? r(undefined) : child.once("exit", r)));
      if (pid) process.kill(pid, "SIGINT");
      else child.kill("SIGKILL");
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

let pg: Pg | undefined;
beforeAll(async () => {
  pg = await startPg();
}, 120_000);
afterAll(async () => {
  await pg?.stop();
  rmSync(root, { recursive: true, force: true });
}, 60_000);

describe("io.ggen.domain-service from the shop ontology", () => {
  it("generates the service, byte-identical run to run", () => {
    const r1 = ggen("gen", "fixtures/templates", "-o", svc, "--vars", "name=shop", "--json");
    expect(r1.status, r1.stderr).toBe(0);
    const result = JSON.parse(r1.stdout);
    expect(result.counts.created).toBeGreaterThanOrEqual(20);
    const r2 = ggen("gen", "fixtures/templates", "-o", again, "--vars", "name=shop");
    expect(r2.status, r2.stderr).toBe(0);
    const a = files(svc);
    const b = files(again);
    expect([...a.keys()].sort()).toEqual([...b.keys()].sort());
    for (const [p, content] of a) expect(content.equals(b.get(p)!), p).toBe(true);
    const ma = JSON.parse(readFileSync(join(svc, ".ggen/manifest.json"), "utf8"));
    const mb = JSON.parse(readFileSync(join(again, ".ggen/manifest.json"), "utf8"));
    expect(ma.files.map((f: { sha256: string }) => f.sha256)).toEqual(
      mb.files.map((f: { sha256: string }) => f.sha256),
    );
    expect(ma.inputs).toEqual(mb.inputs);
    expect(ma.counts).toEqual(mb.counts);
    // A third run changes nothing, and --check sees no drift.
    const r3 = ggen("gen", "fixtures/templates", "-o", svc, "--vars", "name=shop", "--check");
    expect(r3.status, r3.stdout + r3.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(svc, "package.json"), "utf8")).dependencies).toEqual({
      pg: "^8.11.0",
    });
    // The generated make.toml names its schema for editors (Taplo) and validates against it.
    const makeToml = readFileSync(join(svc, "make.toml"), "utf8");
    expect(makeToml.split("\n")[0]).toBe(`#:schema ${schemaUrl("make-toml/v1")}`);
    const checked = validate("make-toml/v1", parseToml(makeToml, "make.toml", "X", "usage"));
    expect(checked.ok ? [] : checked.errors).toEqual([]);
  }, 60_000);

  it("typechecks (tsc --noEmit --checkJs over the JSDoc and the .d.ts)", () => {
    const nm = join(svc, "node_modules");
    mkdirSync(join(nm, "@types"), { recursive: true });
    const require = createRequire(import.meta.url);
    symlinkSync(dirname(require.resolve("pg/package.json")), join(nm, "pg"));
    symlinkSync(dirname(require.resolve("@types/pg/package.json")), join(nm, "@types/pg"));
    symlinkSync(realpathSync(join(repo, "node_modules/@types/node")), join(nm, "@types/node"));
    const tsc = join(repo, "node_modules/typescript/bin/tsc");
    const r = spawnSync(process.execPath, [tsc, "--noEmit", "-p", svc], { encoding: "utf8" });
    expect(r.status, r.stdout + r.stderr).toBe(0);
  }, 120_000);

  it("the generated tests pass against PostgreSQL 15 (the SQL loads, CRUD and HTTP work)", () => {
    expect(existsSync(join(svc, "node_modules/pg"))).toBe(true);
    const r = spawnSync(process.execPath, ["--test"], {
      cwd: svc,
      encoding: "utf8",
      env: { ...process.env, DATABASE_URL: pg!.url },
      timeout: 240_000,
    });
    const pass = Number(/^# pass (\d+)$/m.exec(r.stdout)?.[1] ?? -1);
    const fail = Number(/^# fail (\d+)$/m.exec(r.stdout)?.[1] ?? -1);
    const skipped = Number(/^# skipped (\d+)$/m.exec(r.stdout)?.[1] ?? -1);
    expect(fail, r.stdout.slice(-4000)).toBe(0);
    expect(skipped).toBe(0);
    expect(pass).toBeGreaterThanOrEqual(40);
    expect(r.status).toBe(0);
  }, 300_000);

  it("bundles a release of the production dependencies only, where pg loads", () => {
    // node_modules here is linked the way pnpm lays it out (pg's own dependencies beside it in the store).
    const r = spawnSync(process.execPath, ["scripts/bundle.mjs"], { cwd: svc, encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^bundle: dist\/ with \d+ production dependencies$/m);
    const bundled = readdirSync(join(svc, "dist", "node_modules"));
    expect(bundled).toContain("pg");
    expect(bundled).toContain("pg-pool"); // pg's own dependency, found where node finds it
    expect(bundled).not.toContain("@types"); // devDependencies stay out of a release
    expect(bundled).not.toContain("typescript");
    const loads = spawnSync(
      process.execPath,
      ["-e", "import('pg').then((m) => console.log(typeof m.default.Pool))"],
      {
        cwd: join(svc, "dist"),
        encoding: "utf8",
      },
    );
    expect(loads.stdout.trim(), loads.stderr).toBe("function");
    // A dependency that is not installed: one line, exit 1, and the last release untouched.
    const before = readdirSync(join(svc, "dist")).sort();
    const pkg = readFileSync(join(svc, "package.json"), "utf8");
    const withMissing = JSON.parse(pkg) as { dependencies: Record<string, string> };
    withMissing.dependencies["not-installed-anywhere"] = "^1.0.0";
    writeFileSync(join(svc, "package.json"), JSON.stringify(withMissing));
    try {
      const bad = spawnSync(process.execPath, ["scripts/bundle.mjs"], { cwd: svc, encoding: "utf8" });
      expect(bad.status).toBe(1);
      expect(bad.stderr.trim()).toBe(
        "bundle: not-installed-anywhere (needed by package.json) is not installed: run npm install",
      );
      expect(readdirSync(join(svc, "dist")).sort()).toEqual(before);
      expect(readdirSync(svc).filter((f) => f.startsWith(".dist-"))).toEqual([]);
    } finally {
      writeFileSync(join(svc, "package.json"), pkg);
    }
  }, 60_000);

  it("migrates, starts and answers GET /health with 200 JSON", async () => {
    const migrate = spawnSync(process.execPath, ["src/migrate.mjs"], {
      cwd: svc,
      encoding: "utf8",
      env: { ...process.env, DATABASE_URL: pg!.url },
    });
    expect(migrate.status, migrate.stderr).toBe(0);
    const port = await freePort();
    const server = spawn(process.execPath, ["src/server.mjs"], {
      cwd: svc,
      env: { ...process.env, DATABASE_URL: pg!.url, PORT: String(port), HOST: "127.0.0.1" },
      stdio: "ignore",
    });
    try {
      let health: Response | undefined;
      for (let i = 0; i < 100 && !health; i++) {
        health = await fetch(`http://127.0.0.1:${port}/health`).catch(() => undefined);
        if (!health) await new Promise((r) => setTimeout(r, 100));
      }
      expect(health?.status).toBe(200);
      expect(await health?.json()).toEqual({ status: "ok", service: "shop", database: "up" });
      const created = await fetch(`http://127.0.0.1:${port}/categories`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ name: "Books", slug: "books" }),
      });
      expect(created.status).toBe(201);
      const verify = spawnSync(process.execPath, ["scripts/healthcheck.mjs"], {
        cwd: svc,
        encoding: "utf8",
        env: { ...process.env, PORT: String(port) },
      });
      expect(verify.status, verify.stderr).toBe(0);
    } finally {
      server.kill("SIGTERM");
      await new Promise((r) => server.once("exit", r));
    }
  }, 60_000);
});
