import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { isAlive } from "../util/proc.js";
import { POSTGRES_POOL_SIZE, startPostgres } from "./postgres.js";
import { startRedis } from "./redis.js";
import { respCommands } from "./resp.js";

describe("startPostgres", () => {
  it("starts a real PostgreSQL with the database, user and password asked for, then stops clean", async () => {
    const db = await startPostgres({ database: "app", user: "alice", password: "s3cret" });
    try {
      expect(db.url).toMatch(/^postgresql:\/\/alice:s3cret@127\.0\.0\.1:\d+\/app$/);
      expect(db.redactedUrl).not.toContain("s3cret");
      expect(db.env.DATABASE_URL).toBe(db.url);
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      const res = await client.query("SELECT current_user AS u, current_database() AS d");
      expect(res.rows[0]).toEqual({ u: "alice", d: "app" });
      await client.end();
      const wrong = new pg.Client({ connectionString: db.url.replace("s3cret", "nope") });
      await expect(wrong.connect()).rejects.toThrow(/password authentication failed/);
    } finally {
      await db.stop();
    }
    expect(isAlive(db.pid)).toBe(false);
    expect(existsSync(db.dir)).toBe(false);
  });

  it("resets to the snapshot through template databases", async () => {
    const db = await startPostgres({ database: "shop" });
    try {
      const q = async (sql: string) => {
        const c = new pg.Client({ connectionString: db.url });
        await c.connect();
        try {
          return await c.query(sql);
        } finally {
          await c.end();
        }
      };
      await q("CREATE TABLE item (id int primary key)");
      await q("INSERT INTO item VALUES (1)");
      await db.snapshot();
      await q("INSERT INTO item VALUES (2)");
      expect((await q("SELECT count(*)::int AS n FROM item")).rows[0].n).toBe(2);
      await db.reset();
      expect((await q("SELECT count(*)::int AS n FROM item")).rows[0].n).toBe(1);
    } finally {
      await db.stop();
    }
  });

  it("tops the warm pool up when an instance stops, never while it runs", async () => {
    // A temp dir of its own: the pool under the machine's is shared with every other run.
    const previous = process.env.TMPDIR;
    const tmp = mkdtempSync(join(tmpdir(), "ggen-pg-pool-"));
    chmodSync(tmp, 0o755);
    process.env.TMPDIR = tmp;
    const ready = () => {
      const root = readdirSync(join(tmp, "ggen-cleanroom-cache"))[0]!;
      const pool = join(tmp, "ggen-cleanroom-cache", root, "pool-template-v2");
      return existsSync(pool) ? readdirSync(pool) : undefined;
    };
    try {
      const db = await startPostgres({ database: "pool" });
      // Started from the template itself (the pool was empty), and nothing copied for the pool meanwhile.
      expect(ready()).toBeUndefined();
      await db.stop();
      let entries = ready() ?? [];
      for (
        let i = 0;
        i < 600 && entries.filter((e) => e.startsWith("ready-")).length < POSTGRES_POOL_SIZE;
        i++
      ) {
        await new Promise((r) => setTimeout(r, 50));
        entries = ready() ?? [];
      }
      expect(entries.filter((e) => e.startsWith("ready-"))).toHaveLength(POSTGRES_POOL_SIZE);
    } finally {
      process.env.TMPDIR = previous;
      if (previous === undefined) delete process.env.TMPDIR;
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it("cold start (initdb) works too", async () => {
    const db = await startPostgres({ warm: false });
    try {
      const c = new pg.Client({ connectionString: db.url });
      await c.connect();
      expect((await c.query("SELECT 1 AS one")).rows[0].one).toBe(1);
      await c.end();
    } finally {
      await db.stop();
    }
  });
});

describe("startRedis", () => {
  it("starts redis-server, answers over TCP, resets with FLUSHALL, stops clean", async () => {
    const redis = await startRedis();
    try {
      expect(redis.url).toMatch(/^redis:\/\/127\.0\.0\.1:\d+$/);
      const [ok] = await respCommands({ port: redis.port }, [["SET", "k", "v"]]);
      expect(ok).toBe("OK");
      expect(await redis.command("GET", "k")).toBe("v");
      await redis.reset();
      expect(await redis.command("GET", "k")).toBeNull();
    } finally {
      await redis.stop();
    }
    expect(isAlive(redis.pid)).toBe(false);
    expect(existsSync(redis.dir)).toBe(false);
  });

  it("requires the password when one is asked for", async () => {
    const redis = await startRedis({ password: "pw" });
    try {
      const [reply] = await respCommands({ port: redis.port }, [["GET", "k"]]);
      expect(reply).toBeInstanceOf(Error);
      expect(await redis.command("PING")).toBe("PONG");
    } finally {
      await redis.stop();
    }
  });
});
