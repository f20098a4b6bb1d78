// Registry sources against the real thing: a static HTTP server on 127.0.0.1 (ETag, Last-Modified,
// 304s), file paths, file:// URLs, config.toml, priorities, the cache, --offline and stale fallback.
import { createHash } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join, normalize } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { addPacks } from "./install.js";
import { installedPack } from "./packs.js";
import { search } from "./search.js";
import { lengthIndex } from "./search-snapshot.js";
import {
  loadCatalog,
  loadRegistry,
  marketLimits,
  parseRegistrySpec,
  resolveRegistries,
  searchCatalog,
  searchSaved,
} from "./sources.js";
import { syntheticIndex } from "./synthetic.js";
import { tempDir, tinyRegistry } from "./testkit.js";

let t: Awaited<ReturnType<typeof tempDir>>;
let registry: string;
let server: Server;
let base: string;
let hits: { path: string; status: number }[] = [];
let down = false;

beforeAll(async () => {
  t = await tempDir();
  registry = await tinyRegistry(join(t.dir, "r1"), [
    { id: "io.t.alpha", version: "1.0.0" },
    { id: "io.t.beta", version: "1.0.0", deps: { "io.t.alpha": "^1.0" } },
  ]);
  server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    if (down) {
      res.writeHead(503).end();
      hits.push({ path, status: 503 });
      return;
    }
    const file = normalize(join(registry, path));
    let body: Buffer;
    try {
      body = await readFile(file);
    } catch {
      res.writeHead(404).end();
      hits.push({ path, status: 404 });
      return;
    }
    const etag = `"${createHash("sha1").update(body).digest("hex")}"`;
    if (req.headers["if-none-match"] === etag) {
      res.writeHead(304, { etag }).end();
      hits.push({ path, status: 304 });
      return;
    }
    res.writeHead(200, { etag, "last-modified": new Date(0).toUTCString(), "content-length": body.length });
    res.end(body);
    hits.push({ path, status: 200 });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});

afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  await t.cleanup();
});

beforeEach(() => {
  hits = [];
  down = false;
});

/** A loopback port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

const home = () => join(t.dir, `home-${Math.random().toString(36).slice(2)}`);

describe("http registry", () => {
  it("caches the index for the TTL, then revalidates with If-None-Match (304)", async () => {
    const ggenHome = home();
    const src = parseRegistrySpec(base, 1, t.dir);
    const first = await loadRegistry(src, { ggenHome });
    expect(first.index.packs.map((p) => p.id)).toEqual(["io.t.alpha", "io.t.beta"]);
    await loadRegistry(src, { ggenHome });
    expect(hits).toEqual([{ path: "/index.json", status: 200 }]);
    await loadRegistry(src, { ggenHome, ttlSeconds: 0 });
    expect(hits.map((h) => h.status)).toEqual([200, 304]);
  });

  it("falls back to a stale cache with a warning when the registry is down", async () => {
    const ggenHome = home();
    const src = parseRegistrySpec(base, 1, t.dir);
    await loadRegistry(src, { ggenHome });
    down = true;
    const warnings: string[] = [];
    const r = await loadRegistry(src, { ggenHome, ttlSeconds: 0, onWarning: (m) => warnings.push(m) });
    expect(r.stale).toBe(true);
    expect(r.index.packs).toHaveLength(2);
    expect(warnings[0]).toMatch(/is unreachable \(HTTP 503\); using the cached index from/);
  });

  it("fails clearly when unreachable with no cache, and --offline uses only the cache", async () => {
    const port = await closedPort();
    const dead = parseRegistrySpec(`http://127.0.0.1:${port}/`, 1, t.dir);
    await expect(
      loadRegistry(dead, { ggenHome: home(), limits: { connectTimeoutMs: 2000 } }),
    ).rejects.toThrow(new RegExp(`registry 'http://127.0.0.1:${port}/' is unreachable \\(ECONNREFUSED\\)`));
    const ggenHome = home();
    const src = parseRegistrySpec(base, 1, t.dir);
    await expect(loadRegistry(src, { ggenHome, offline: true })).rejects.toThrow(
      /--offline: no cached index/,
    );
    await loadRegistry(src, { ggenHome });
    hits = [];
    const r = await loadRegistry(src, { ggenHome, offline: true, ttlSeconds: 0 });
    expect(r.index.packs).toHaveLength(2);
    expect(hits).toEqual([]);
  });

  it("installs over http, caching archives by sha256 so a second project downloads nothing", async () => {
    const ggenHome = home();
    const p1 = join(t.dir, `proj-${Math.random()}`);
    await addPacks(["io.t.beta"], { projectDir: p1, registries: [base], ggenHome });
    expect((await installedPack(p1, "io.t.alpha")).version).toBe("1.0.0");
    expect(hits.filter((h) => h.path.startsWith("/archives/")).length).toBe(2);
    hits = [];
    const p2 = join(t.dir, `proj-${Math.random()}`);
    await addPacks(["io.t.beta"], { projectDir: p2, registries: [base], ggenHome, offline: true });
    expect(hits).toEqual([]);
    const lock = JSON.parse(await readFile(join(p2, "ggen.lock"), "utf8"));
    expect(lock.packs["io.t.beta"].archive).toBe(`${base}archives/io.t.beta-1.0.0.tar.gz`);
  });
});

describe("choosing registries", () => {
  it("accepts dirs, index files and file:// URLs", async () => {
    for (const spec of [registry, join(registry, "index.json"), pathToFileURL(registry).href]) {
      const r = await loadRegistry(parseRegistrySpec(spec, 1, t.dir), { ggenHome: home() });
      expect(r.index.packs).toHaveLength(2);
    }
  });

  it("--registry beats GGEN_REGISTRY beats .ggen/config.toml beats the bundled registry", async () => {
    const proj = join(t.dir, "cfg");
    await mkdir(join(proj, ".ggen"), { recursive: true });
    await writeFile(
      join(proj, ".ggen", "config.toml"),
      `[marketplace]\nregistry_url = "${registry}"\n\n[[marketplace.registries]]\nurl = "${base}"\npriority = 99\n`,
    );
    const fromConfig = await resolveRegistries({ projectDir: proj, env: {} });
    expect(fromConfig.map((s) => s.spec)).toEqual([base, registry]);
    const fromEnv = await resolveRegistries({
      projectDir: proj,
      env: { GGEN_REGISTRY: `${registry},${base}` },
    });
    expect(fromEnv.map((s) => s.spec)).toEqual([registry, base]);
    const fromFlag = await resolveRegistries({
      projectDir: proj,
      env: { GGEN_REGISTRY: base },
      registries: [registry],
    });
    expect(fromFlag.map((s) => s.spec)).toEqual([registry]);
    const bundled = await resolveRegistries({ projectDir: t.dir, env: {} });
    expect(bundled[0]?.location).toMatch(/fixtures\/registry\/index.json$/);
  });

  it("[marketplace] sets the limits and the TTL, refuses what it cannot honour at file:line, the environment wins", async () => {
    const proj = join(t.dir, "cfg-limits");
    await mkdir(join(proj, ".ggen"), { recursive: true });
    const cfg = (text: string) => writeFile(join(proj, ".ggen", "config.toml"), `[marketplace]\n${text}`);
    await cfg(
      'max_archive_size = "2M"\ntimeout = "90s"\nmax_entries = 50\ncache_ttl_seconds = 10\ncache_enabled = true\n',
    );
    expect(await marketLimits({ projectDir: proj, env: {} })).toMatchObject({
      maxArchiveBytes: 2 << 20,
      totalTimeoutMs: 90_000,
      maxEntries: 50,
    });
    expect(
      (await marketLimits({ projectDir: proj, env: { GGEN_MARKET_MAX_ARCHIVE: "3M" } })).maxArchiveBytes,
    ).toBe(3 << 20);
    // Seed 002's keys: each honoured, or refused with what to do instead.
    await cfg('registry_url = "x"\ncache_dir = "~/.ggen/marketplace/cache"\n');
    await expect(marketLimits({ projectDir: proj, env: {} })).rejects.toThrow(
      /\[marketplace\] cache_dir = "~\/.ggen\/marketplace\/cache" is not supported: .*set GGEN_HOME/,
    );
    await cfg("verify_checksums = false\n");
    await expect(marketLimits({ projectDir: proj, env: {} })).rejects.toThrow(
      /verify_checksums = false is not supported/,
    );
    await cfg("\ntimout = 3\n");
    await expect(marketLimits({ projectDir: proj, env: {} })).rejects.toMatchObject({
      message: "[marketplace] has no key 'timout'",
      location: { line: 3 },
    });
    await cfg('idle_timeout = "soon"\n');
    await expect(marketLimits({ projectDir: proj, env: {} })).rejects.toThrow(
      /\[marketplace\] idle_timeout "soon": expected a duration/,
    );
  });

  it("gives an id to the highest-priority registry that lists it", async () => {
    const other = await tinyRegistry(join(t.dir, "r2"), [
      { id: "io.t.alpha", version: "9.0.0", description: "the other alpha" },
      { id: "io.t.gamma", version: "1.0.0" },
    ]);
    const c = await loadCatalog({ registries: [other, registry], ggenHome: home() });
    expect(c.packs.get("io.t.alpha")?.pack.description).toBe("the other alpha");
    expect([...c.packs.keys()].sort()).toEqual(["io.t.alpha", "io.t.beta", "io.t.gamma"]);
    const c2 = await loadCatalog({ registries: [registry, other], ggenHome: home() });
    expect(c2.packs.get("io.t.alpha")?.pack.versions[0]?.version).toBe("1.0.0");
  });

  it("rejects unknown schemes and broken config as usage errors", async () => {
    expect(() => parseRegistrySpec("ftp://x/", 1, t.dir)).toThrow(/unsupported scheme/);
    const proj = join(t.dir, "badcfg");
    await mkdir(join(proj, ".ggen"), { recursive: true });
    await writeFile(join(proj, ".ggen", "config.toml"), "[marketplace\nregistry_url = 1\n");
    await expect(resolveRegistries({ projectDir: proj, env: {} })).rejects.toThrow(/invalid TOML/);
  });
});

describe("searching through the snapshot cache", () => {
  const snapshots = async (ggenHome: string) => {
    const { readdir } = await import("node:fs/promises");
    const names = await readdir(join(ggenHome, "marketplace", "cache", "search")).catch(() => [] as string[]);
    return names.filter((n) => n.endsWith(".columns"));
  };

  it("gives the same hits as a fresh search, from a snapshot written by the first search", async () => {
    const ggenHome = home();
    const opts = { registries: [registry], ggenHome };
    const first = await searchCatalog("alpha", {}, opts);
    const [name] = await snapshots(ggenHome);
    expect(name).toBeDefined();
    const { stat } = await import("node:fs/promises");
    const written = (await stat(join(ggenHome, "marketplace", "cache", "search", name!), { bigint: true }))
      .mtimeNs;
    const again = await searchCatalog("alpha", {}, opts);
    expect(again).toEqual(first);
    // Read, not rewritten.
    expect(await snapshots(ggenHome)).toEqual([name]);
    expect(
      (await stat(join(ggenHome, "marketplace", "cache", "search", name!), { bigint: true })).mtimeNs,
    ).toBe(written);
    expect(again.map((h) => [h.pack.id, h.pack.version])).toEqual([["io.t.alpha", "1.0.0"]]);
    // The same query over the parsed index, without any snapshot.
    const direct = search((await loadCatalog(opts)).list, "alpha").map((h) => [h.pack.id, h.score]);
    expect(again.map((h) => [h.pack.id, h.score])).toEqual(direct);
  });

  it("rebuilds when the index changes, and still rejects a malformed index", async () => {
    const ggenHome = home();
    const dir = join(t.dir, `changing-${Math.random().toString(36).slice(2)}`);
    const reg = await tinyRegistry(dir, [{ id: "io.t.gamma", version: "1.0.0" }]);
    const opts = { registries: [reg], ggenHome };
    expect((await searchCatalog("gamma", {}, opts)).map((h) => h.pack.id)).toEqual(["io.t.gamma"]);
    const file = join(reg, "index.json");
    const index = JSON.parse(await readFile(file, "utf8"));
    index.packs[0].description = "now about kafka";
    await writeFile(file, JSON.stringify(index, null, 2));
    expect((await searchCatalog("kafka", {}, opts)).map((h) => h.pack.id)).toEqual(["io.t.gamma"]);
    expect(await snapshots(ggenHome)).toHaveLength(2);
    await writeFile(file, '{"format": "ggen-registry-index/1", "packs": [{"id": 1}]}');
    await expect(searchCatalog("kafka", {}, opts)).rejects.toThrow(/malformed registry index/);
  });

  it("ignores a damaged snapshot and writes a good one", async () => {
    const ggenHome = home();
    const opts = { registries: [registry], ggenHome };
    const fresh = await searchCatalog("beta", {}, opts);
    const [name] = await snapshots(ggenHome);
    const snap = join(ggenHome, "marketplace", "cache", "search", name!);
    const details = snap.replace(/\.columns$/, ".details.ndjson");
    const good = await readFile(snap);
    await writeFile(snap, '{"format": "ggen-search-snapsh');
    expect(await searchCatalog("beta", {}, opts)).toEqual(fresh);
    expect(await readFile(snap)).toEqual(good);
    // Cut short inside its columns: refused, rebuilt.
    await writeFile(snap, good.subarray(0, good.length - 9));
    expect(await searchCatalog("beta", {}, opts)).toEqual(fresh);
    expect(await readFile(snap)).toEqual(good);
    // Details cut short: detected by size, rebuilt, same hits.
    await writeFile(details, (await readFile(details, "utf8")).slice(0, -5));
    expect(await searchCatalog("beta", {}, opts)).toEqual(fresh);
    expect(await searchCatalog("beta", {}, opts)).toEqual(fresh);
  });

  it("never answers from a snapshot saved for other index files, even under their name", async () => {
    const ggenHome = home();
    const one = await tinyRegistry(join(t.dir, `one-${Math.random().toString(36).slice(2)}`), [
      { id: "io.t.delta", version: "1.0.0" },
    ]);
    const two = await tinyRegistry(join(t.dir, `two-${Math.random().toString(36).slice(2)}`), [
      { id: "io.t.epsilon", version: "1.0.0" },
    ]);
    await searchCatalog("io", {}, { registries: [one], ggenHome });
    const [first] = await snapshots(ggenHome);
    await searchCatalog("io", {}, { registries: [two], ggenHome });
    const second = (await snapshots(ggenHome)).find((n) => n !== first)!;
    // The first snapshot's files under the second's name: a name collision, as far as the reader can tell.
    const dir = join(ggenHome, "marketplace", "cache", "search");
    for (const ext of [".columns", ".details.ndjson"])
      await writeFile(
        join(dir, second.replace(".columns", ext)),
        await readFile(join(dir, first!.replace(".columns", ext))),
      );
    expect(searchSaved("io", {}, { registries: [two], ggenHome })).toBeUndefined();
    expect((await searchCatalog("io", {}, { registries: [two], ggenHome })).map((h) => h.pack.id)).toEqual([
      "io.t.epsilon",
    ]);
  });

  it("searchSaved: the snapshot's hits, or undefined wherever searchCatalog has more to do", async () => {
    const ggenHome = home();
    const opts = { registries: [registry], ggenHome };
    expect(searchSaved("alpha", {}, opts)).toBeUndefined(); // no snapshot yet
    const hitsNow = await searchCatalog("alpha", {}, opts);
    expect(searchSaved("alpha", {}, opts)).toEqual(hitsNow);
    expect(searchSaved("beta", { limit: 1 }, opts)).toEqual(await searchCatalog("beta", { limit: 1 }, opts));
    // Through GGEN_REGISTRY too; an http registry (cached or not) always goes the whole way.
    expect(searchSaved("alpha", {}, { env: { GGEN_REGISTRY: registry }, ggenHome })).toEqual(hitsNow);
    await searchCatalog("alpha", {}, { registries: [base], ggenHome });
    expect(searchSaved("alpha", {}, { registries: [base], ggenHome })).toBeUndefined();
    // Without --registry or GGEN_REGISTRY, a project's config may name the registries: never guessed past.
    const proj = join(t.dir, `saved-${Math.random().toString(36).slice(2)}`);
    await mkdir(join(proj, ".ggen"), { recursive: true });
    await writeFile(
      join(proj, ".ggen", "config.toml"),
      `[marketplace]\nregistry_url = ${JSON.stringify(registry)}\n`,
    );
    await searchCatalog("alpha", {}, { projectDir: proj, ggenHome, env: {} });
    expect(searchSaved("alpha", {}, { projectDir: proj, ggenHome, env: {} })).toBeUndefined();
  });

  it("over 10,000 packs, a snapshot's hits are a fresh search's: words, prefixes, typos, exact ids and names", async () => {
    const dir = join(t.dir, `big-${Math.random().toString(36).slice(2)}`);
    await mkdir(dir, { recursive: true });
    const index = syntheticIndex(10_000);
    await writeFile(join(dir, "index.json"), JSON.stringify(index));
    const ggenHome = home();
    const opts = { registries: [dir], ggenHome };
    const p = index.packs[4321]!;
    const queries: [string, { limit?: number; minQuality?: number }][] = [
      ["rust cli", { limit: 10 }],
      ["clie", {}], // a prefix
      ["kafak", {}], // a typo
      [p.id, {}], // an exact id: the length index's rows
      [index.packs[9999]!.id, {}], // the last row of its length
      [index.packs[0]!.id, {}], // the first
      [p.name.toUpperCase(), { limit: 3 }], // an exact name, any case
      [index.packs[9999]!.name, { limit: 3 }],
      ["rust", { minQuality: 60, limit: 50 }],
    ];
    await searchCatalog("warm", {}, opts); // writes the snapshot
    const list = (await loadCatalog(opts)).list;
    for (const [q, o] of queries) {
      const saved = searchSaved(q, o, opts);
      expect(saved, q).toBeDefined();
      expect(
        saved!.map((h) => [h.pack.id, h.score, h.matched]),
        q,
      ).toEqual(search(list, q, o).map((h) => [h.pack.id, h.score, h.matched]));
    }
    for (const id of [p.id, index.packs[9999]!.id, index.packs[0]!.id])
      expect(searchSaved(id, {}, opts)![0]!.matched, id).toContain("exact");
  });

  it("lengthIndex: every row under its length, ascending", () => {
    const list = ["ab", "", "abc", "xy", "z", "abc", "de"];
    const { rows, starts } = lengthIndex(list);
    for (let l = 0; l + 1 < starts.length; l++)
      expect([...rows.subarray(starts[l]!, starts[l + 1]!)]).toEqual(
        list.flatMap((s, i) => (s.length === l ? [i] : [])),
      );
    expect(starts[starts.length - 1]).toBe(list.length);
    expect(lengthIndex([]).rows).toHaveLength(0);
  });

  it("searches an http registry through its cached index, offline too", async () => {
    const ggenHome = home();
    expect((await searchCatalog("beta", {}, { registries: [base], ggenHome }))[0]?.pack.id).toBe("io.t.beta");
    down = true;
    const hits2 = await searchCatalog("beta", {}, { registries: [base], ggenHome, offline: true });
    expect(hits2[0]?.pack.id).toBe("io.t.beta");
  });
});
