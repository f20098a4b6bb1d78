// Native PostgreSQL: initdb (cold) or a copy of a prepared template data dir (warm pool), run as an
// unprivileged user when we are root, on a free 127.0.0.1 port plus a unix socket; ready when it
// accepts a connection. Reset restores a snapshot through template databases.
import { execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { promisify } from "node:util";
import { GgenError } from "@ggen/contract";
import { freePort, redactUrl, withLock } from "@ggen/support";
import pg from "pg";
import { removeInstanceDir, removeInstanceDirAsync, socketDirFor } from "../util/fs.js";
import { isAlive, sleep, stopProcess } from "../util/proc.js";
import { dropTo, type Ids, runAsUser } from "../util/user.js";

const run = promisify(execFile);

export const POSTGRES_USER_NAME = "ggen-cleanroom";

export interface PostgresOptions {
  database?: string;
  user?: string;
  password?: string;
  /** Port on 127.0.0.1; a free one by default. */
  port?: number;
  /** Directory holding initdb and postgres (default /usr/lib/postgresql/15/bin, else PATH). */
  binDir?: string;
  /** Copy the prepared template data dir (default) or initdb from scratch. */
  warm?: boolean;
  /** Parent of the per-instance directory (default the OS temp dir). */
  baseDir?: string;
  /** Outlive this process (the backend's services); otherwise stopped when this process exits. */
  detached?: boolean;
  /** Run inside this network namespace (a path like /run/netns/<name>). */
  netns?: string;
  timeoutMs?: number;
}

/** Everything needed to find a running instance again (stored in state for persistent services). */
export interface PostgresInstance {
  kind: "postgres";
  pid: number;
  dir: string;
  dataDir: string;
  socketDir: string;
  host: string;
  port: number;
  database: string;
  user: string;
  password: string;
  binary: string;
  logFile: string;
  readyMs: number;
  /** Where the start time went: data dir (pool rename, copy or initdb), server up, role and database. */
  phases?: { dataDirMs: number; serverMs: number; setupMs: number; fromPool: boolean };
}

export interface PostgresHandle extends PostgresInstance {
  url: string;
  redactedUrl: string;
  env: Record<string, string>;
  /** Save the database's current content as the state `reset()` returns to. */
  snapshot(): Promise<void>;
  /** Drop and re-create the database from the snapshot (or empty). Milliseconds, no restart. */
  reset(): Promise<void>;
  logs(): string;
  /** Stops it (`graceMs`: how long it may take before it is killed) and removes its directory. */
  stop(graceMs?: number): Promise<void>;
}

export function postgresBinDir(override?: string): string {
  if (override) return override;
  for (const v of ["17", "16", "15", "14"]) {
    const dir = `/usr/lib/postgresql/${v}/bin`;
    if (existsSync(join(dir, "postgres"))) return dir;
  }
  return "";
}

function bin(binDir: string, name: string): string {
  return binDir ? join(binDir, name) : name;
}

function ident(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

function literal(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

function chownTree(path: string, ids: Ids | undefined): Promise<unknown> {
  if (!ids) return Promise.resolve();
  return run("chown", ["-R", `${ids.uid}:${ids.gid}`, path]);
}

const pgConf = [
  "fsync = off",
  "synchronous_commit = off",
  "full_page_writes = off",
  "max_wal_size = 256MB",
  "shared_buffers = 32MB",
  "max_connections = 100",
  "log_min_messages = warning",
  "listen_addresses = '127.0.0.1'",
  "",
].join("\n");
const hbaConf = [
  "local all all trust",
  "host all all 127.0.0.1/32 scram-sha-256",
  "host all all ::1/128 scram-sha-256",
  "",
].join("\n");

async function initdb(binDir: string, dataDir: string, ids: Ids | undefined): Promise<void> {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  if (ids) chownSync(dataDir, ids.uid, ids.gid);
  const argv = [
    ...dropTo(ids),
    bin(binDir, "initdb"),
    "-D",
    dataDir,
    "-U",
    "postgres",
    "-A",
    "trust",
    "-E",
    "UTF8",
    "--no-locale",
    "--no-sync",
    "--wal-segsize=1",
  ];
  try {
    await run(argv[0]!, argv.slice(1), { env: { ...process.env, LC_ALL: "C", TZ: "UTC" } });
  } catch (error) {
    throw new GgenError(
      "CLEANROOM_PG_INITDB",
      `initdb failed: ${(error as { stderr?: string }).stderr ?? error}`,
      {
        hint: "PostgreSQL binaries are expected in /usr/lib/postgresql/<v>/bin",
        cause: error,
      },
    );
  }
  const { appendFileSync, writeFileSync } = await import("node:fs");
  appendFileSync(join(dataDir, "postgresql.conf"), `\n# cleanroom\n${pgConf}`);
  writeFileSync(join(dataDir, "pg_hba.conf"), hbaConf);
  if (ids) {
    chownSync(join(dataDir, "postgresql.conf"), ids.uid, ids.gid);
    chownSync(join(dataDir, "pg_hba.conf"), ids.uid, ids.gid);
  }
}

/** Bump when the template's content changes, so older caches are not used. */
const TEMPLATE = "template-v2";
const SPARE = "cleanroom_spare";

function cacheRoot(binDir: string): string {
  const version = binDir.match(/postgresql\/(\d+)/)?.[1] ?? "path";
  return join(tmpdir(), "ggen-cleanroom-cache", `pg-${version}-${process.getuid?.() ?? 0}`);
}

/** Prepared copies of the template kept ready, so a warm start renames a directory instead of copying. */
export const POSTGRES_POOL_SIZE = 2;

/** Take a prepared data dir from the pool (atomic rename; false when the pool is empty or elsewhere). */
function claimFromPool(binDir: string, dest: string): boolean {
  const pool = join(cacheRoot(binDir), `pool-${TEMPLATE}`);
  let entries: string[] = [];
  try {
    entries = readdirSync(pool).filter((e) => e.startsWith("ready-"));
  } catch {
    return false;
  }
  for (const entry of entries) {
    try {
      renameSync(join(pool, entry), dest);
      return true;
    } catch {
      // taken by another process, or another filesystem
    }
  }
  return false;
}

/** Top the pool up in the background (a detached cp to a temp name, then rename: never half-copied). */
function refillPool(binDir: string, template: string): void {
  const pool = join(cacheRoot(binDir), `pool-${TEMPLATE}`);
  mkdirSync(pool, { recursive: true });
  let count = 0;
  for (const entry of readdirSync(pool)) {
    const path = join(pool, entry);
    if (entry.startsWith(".tmp-")) {
      try {
        if (Date.now() - statSync(path).mtimeMs > 10 * 60_000) rmSync(path, { recursive: true, force: true });
        else count++;
      } catch {
        // raced
      }
    } else if (entry.startsWith("ready-")) count++;
  }
  for (; count < POSTGRES_POOL_SIZE; count++) {
    const id = `${process.pid}-${Date.now()}-${count}`;
    const child = spawn(
      "sh",
      ["-c", 'cp -a "$1" "$2/.tmp-$3" && mv "$2/.tmp-$3" "$2/ready-$3"', "sh", template, pool, id],
      { detached: true, stdio: "ignore" },
    );
    child.on("error", () => undefined);
    child.unref();
  }
}

/**
 * The pool is topped up when an instance stops, not when one starts: the copy (a detached `cp` of the
 * template, ≈ 35 MB) then never competes with the work the instance was started for (a run's generation
 * and tests), and the pool still holds POSTGRES_POOL_SIZE − 1 for a start in the meantime.
 */
function refillAfterStop(inst: Pick<PostgresInstance, "binary">): void {
  const binDir = dirname(inst.binary);
  const root = cacheRoot(binDir);
  if (!existsSync(join(root, `${TEMPLATE}.ready`))) return;
  try {
    refillPool(binDir, join(root, TEMPLATE));
  } catch {
    // Best effort: an empty pool only costs the next start a copy.
  }
}

/** The prepared template data dir of the warm pool (made once per machine and user, under a lock). */
export async function postgresTemplate(binDir = postgresBinDir()): Promise<string> {
  const ids = runAsUser(POSTGRES_USER_NAME);
  const root = cacheRoot(binDir);
  const template = join(root, TEMPLATE);
  const ready = join(root, `${TEMPLATE}.ready`);
  if (existsSync(ready)) return template;
  mkdirSync(root, { recursive: true, mode: 0o755 });
  chmodSync(root, 0o755);
  await withLock(
    join(root, TEMPLATE),
    async () => {
      if (existsSync(ready)) return;
      rmSync(template, { recursive: true, force: true });
      await initdb(binDir, template, ids);
      // A spare database, renamed at start: ALTER DATABASE … RENAME is instant, CREATE DATABASE is not.
      await new Promise<void>((ok, fail) => {
        const argv = [...dropTo(ids), bin(binDir, "postgres"), "--single", "-D", template, "template1"];
        const child = spawn(argv[0]!, argv.slice(1), {
          stdio: ["pipe", "ignore", "pipe"],
          env: { PATH: process.env.PATH ?? "", LC_ALL: "C" },
        });
        let err = "";
        child.stderr.on("data", (d) => {
          err += d;
        });
        child.on("error", fail);
        child.on("close", (code) =>
          code === 0 ? ok() : fail(new GgenError("CLEANROOM_PG_INITDB", `postgres --single failed: ${err}`)),
        );
        child.stdin.end(`CREATE DATABASE ${SPARE}\n`);
      });
      const { writeFileSync } = await import("node:fs");
      writeFileSync(ready, new Date().toISOString());
    },
    // initdb takes seconds; another process doing it is waited for, a dead one's lock taken over.
    { what: "the PostgreSQL template", waitMs: 120_000 },
  );
  return template;
}

async function connectAdmin(inst: Pick<PostgresInstance, "socketDir" | "port">, database = "postgres") {
  const client = new pg.Client({ host: inst.socketDir, port: inst.port, user: "postgres", database });
  client.on("error", () => undefined);
  await client.connect();
  return client;
}

async function waitReady(inst: PostgresInstance, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    if (!isAlive(inst.pid)) {
      throw new GgenError("CLEANROOM_PG_START", `postgres exited during start: ${tail(inst.logFile)}`, {
        hint: `log: ${inst.logFile}`,
      });
    }
    if (existsSync(join(inst.socketDir, `.s.PGSQL.${inst.port}`))) {
      try {
        const client = await connectAdmin(inst);
        await client.end();
        return;
      } catch (error) {
        last = error;
      }
    }
    await sleep(5);
  }
  throw new GgenError("CLEANROOM_PG_TIMEOUT", `postgres not ready after ${timeoutMs} ms (${String(last)})`, {
    hint: `log: ${inst.logFile}`,
  });
}

function tail(file: string, lines = 5): string {
  try {
    return readFileSync(file, "utf8").trim().split("\n").slice(-lines).join(" | ");
  } catch {
    return "(no log)";
  }
}

const running = new Set<PostgresInstance>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once("exit", () => {
    for (const inst of running) {
      try {
        process.kill(inst.pid, "SIGKILL");
      } catch {
        // gone
      }
      removeInstanceDir(inst.dir);
    }
  });
}

/** Start a PostgreSQL ready to accept connections. */
export async function startPostgres(options: PostgresOptions = {}): Promise<PostgresHandle> {
  const started = performance.now();
  const binDir = postgresBinDir(options.binDir);
  const ids = runAsUser(POSTGRES_USER_NAME);
  const database = options.database ?? "test";
  const user = options.user ?? "test";
  // A fresh random password: a common word would also be scrubbed from every log line that contains it.
  const password = options.password ?? randomBytes(12).toString("hex");
  let base = options.baseDir ?? tmpdir();
  mkdirSync(base, { recursive: true });
  // The unprivileged user must be able to reach its data dir: else fall back to the temp dir.
  if (ids && !traversable(base)) base = tmpdir();
  const dir = mkdtempSync(join(base, "ggen-cleanroom-pg-"));
  chmodSync(dir, 0o755);
  const dataDir = join(dir, "data");
  const socketDir = socketDirFor(dir);
  if (ids) chownSync(socketDir, ids.uid, ids.gid);
  const logFile = join(dir, "postgres.log");
  let fromPool = false;
  try {
    if (options.warm === false) {
      await initdb(binDir, dataDir, ids);
    } else {
      const template = await postgresTemplate(binDir);
      fromPool = claimFromPool(binDir, dataDir);
      if (!fromPool) await run("cp", ["-a", "--reflink=auto", template, dataDir]);
    }
  } catch (error) {
    removeInstanceDir(dir);
    throw error;
  }

  const dataDirMs = performance.now() - started;
  for (let attempt = 0; ; attempt++) {
    const port = options.port ?? (await freePort());
    const argv = [
      ...(options.netns ? ["nsenter", `--net=${options.netns}`, "--"] : []),
      ...dropTo(ids, options.detached ? undefined : "SIGKILL"),
      bin(binDir, "postgres"),
      "-D",
      dataDir,
      "-p",
      String(port),
      "-k",
      socketDir,
    ];
    const log = openSync(logFile, "a");
    const child = spawn(argv[0]!, argv.slice(1), {
      detached: true,
      stdio: ["ignore", log, log],
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", LC_ALL: "C", TZ: "UTC" },
    });
    child.unref();
    const inst: PostgresInstance = {
      kind: "postgres",
      pid: child.pid ?? -1,
      dir,
      dataDir,
      socketDir,
      host: "127.0.0.1",
      port,
      database,
      user,
      password,
      binary: bin(binDir, "postgres"),
      logFile,
      readyMs: 0,
    };
    if (!options.detached) {
      running.add(inst);
      installExitHook();
    }
    try {
      await waitReady(inst, options.timeoutMs ?? 30_000);
      const up = performance.now();
      await createUserAndDatabase(inst, options.warm !== false);
      inst.readyMs = Math.round(performance.now() - started);
      inst.phases = {
        dataDirMs: Math.round(dataDirMs),
        serverMs: Math.round(up - started - dataDirMs),
        setupMs: Math.round(performance.now() - up),
        fromPool,
      };
      return postgresHandle(inst);
    } catch (error) {
      await stopProcess(inst.pid, "SIGKILL", 0);
      running.delete(inst);
      const portClash = /could not bind|Address already in use/.test(tail(logFile, 20));
      if (portClash && options.port === undefined && attempt < 3) continue;
      removeInstanceDir(dir);
      throw error;
    }
  }
}

async function createUserAndDatabase(inst: PostgresInstance, fromTemplate: boolean): Promise<void> {
  const client = await connectAdmin(inst);
  try {
    if (inst.user === "postgres") {
      await client.query(`ALTER ROLE postgres PASSWORD ${literal(inst.password)}`);
    } else {
      await client.query(
        `CREATE ROLE ${ident(inst.user)} LOGIN SUPERUSER PASSWORD ${literal(inst.password)}`,
      );
    }
    if (inst.database !== "postgres" && inst.database !== SPARE) {
      if (fromTemplate) {
        await client.query(`ALTER DATABASE ${SPARE} RENAME TO ${ident(inst.database)}`);
        await client.query(`ALTER DATABASE ${ident(inst.database)} OWNER TO ${ident(inst.user)}`);
      } else {
        await client.query(
          `CREATE DATABASE ${ident(inst.database)} OWNER ${ident(inst.user)} STRATEGY FILE_COPY`,
        );
      }
    }
  } finally {
    await client.end();
  }
}

/** Can any user walk down to `dir` (every ancestor has the x bit for others)? */
function traversable(dir: string): boolean {
  let current = resolve(dir);
  for (;;) {
    try {
      if ((statSync(current).mode & 0o001) === 0) return false;
    } catch {
      return false;
    }
    const parent = dirname(current);
    if (parent === current) return true;
    current = parent;
  }
}

const snapshotName = (database: string) => `${database}__cleanroom_snapshot`.slice(0, 63);

/** Handle operations on an instance found again from state (possibly started by another process). */
export function postgresHandle(inst: PostgresInstance): PostgresHandle {
  const url = `postgresql://${encodeURIComponent(inst.user)}:${encodeURIComponent(inst.password)}@${inst.host}:${inst.port}/${encodeURIComponent(inst.database)}`;
  const terminate = (client: pg.Client, db: string) =>
    client.query(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
      [db],
    );
  return {
    ...inst,
    url,
    redactedUrl: redactUrl(url),
    env: {
      DATABASE_URL: url,
      PGHOST: inst.host,
      PGPORT: String(inst.port),
      PGUSER: inst.user,
      PGPASSWORD: inst.password,
      PGDATABASE: inst.database,
    },
    async snapshot() {
      const client = await connectAdmin(inst);
      try {
        const snap = snapshotName(inst.database);
        await client.query(`DROP DATABASE IF EXISTS ${ident(snap)}`);
        await terminate(client, inst.database);
        await client.query(
          `CREATE DATABASE ${ident(snap)} TEMPLATE ${ident(inst.database)} STRATEGY FILE_COPY`,
        );
      } finally {
        await client.end();
      }
    },
    async reset() {
      const client = await connectAdmin(inst);
      try {
        const snap = snapshotName(inst.database);
        const has = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [snap]);
        const template = has.rowCount ? snap : "template1";
        if (inst.database === "postgres") {
          throw new GgenError("CLEANROOM_PG_RESET", "cannot reset the maintenance database postgres", {
            kind: "usage",
            hint: "start the service with a database name",
          });
        }
        await client.query(`DROP DATABASE IF EXISTS ${ident(inst.database)} WITH (FORCE)`);
        await client.query(
          `CREATE DATABASE ${ident(inst.database)} OWNER ${ident(inst.user)} TEMPLATE ${ident(template)} STRATEGY FILE_COPY`,
        );
      } finally {
        await client.end();
      }
    },
    logs() {
      try {
        return readFileSync(inst.logFile, "utf8");
      } catch {
        return "";
      }
    },
    async stop(graceMs = 10_000) {
      // SIGQUIT: PostgreSQL's immediate shutdown. The data directory is removed right after, so the
      // shutdown checkpoint a fast shutdown (SIGINT) writes would be thrown away (≈ 60–80 ms saved).
      await stopProcess(inst.pid, "SIGQUIT", graceMs);
      for (const r of running) if (r.pid === inst.pid) running.delete(r);
      await removeInstanceDirAsync(inst.dir);
      refillAfterStop(inst);
    },
  };
}

/** Health: a query answers through the unix socket. */
export async function postgresHealth(inst: PostgresInstance): Promise<{ healthy: boolean; detail: string }> {
  if (!isAlive(inst.pid)) return { healthy: false, detail: `pid ${inst.pid} is not running` };
  try {
    const client = await connectAdmin(inst);
    const res = await client.query("SELECT version() AS v");
    await client.end();
    return { healthy: true, detail: String(res.rows[0]?.v ?? "ok") };
  } catch (error) {
    return { healthy: false, detail: String(error) };
  }
}

export { chownTree };
