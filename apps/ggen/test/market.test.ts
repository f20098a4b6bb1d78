// `ggen market …` as a user meets it, against the bundled fixture registry and registries built here.
import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildRegistry, sha256, writeTarGz } from "@ggen/marketplace";
import { freePort } from "@ggen/support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixtureRegistry, oneLine, type Sandbox, sandbox } from "./market-helpers.js";

const boxes: Sandbox[] = [];
const box = (env: Record<string, string> = {}) => {
  const b = sandbox(env);
  boxes.push(b);
  return b;
};
afterAll(() => {
  for (const b of boxes) b.cleanup();
});

const installed = (b: Sandbox) => {
  const d = join(b.project, ".ggen", "packages");
  return existsSync(d) ? readdirSync(d).sort() : [];
};

describe("search, info, categories, list", { timeout: 60_000 }, () => {
  it("search prints a table of id, version, quality, description, best match first", () => {
    const r = box().run("market", "search", "rust");
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^ID\s+VERSION\s+QUALITY\s+DESCRIPTION$/);
    expect(lines[2]).toMatch(/^io\.ggen\.rust-cli\s+1\.0\.0\s+\d+\s+A Rust command-line crate/);
  });

  it("search is typo-tolerant, filters, and prints JSON with --json", () => {
    const b = box();
    const typo = JSON.parse(b.run("market", "search", "postgress", "--json").stdout);
    expect(typo[0].id).toBe("io.ggen.postgres-schema");
    const cli = JSON.parse(b.run("market", "search", "cli", "--tags", "std-only", "--json").stdout);
    expect(cli.map((h: { id: string }) => h.id)).toEqual(["io.ggen.rust-cli"]);
    const cat = JSON.parse(b.run("market", "search", "--category", "database", "--json").stdout);
    expect(cat.map((h: { id: string }) => h.id)).toEqual(["io.ggen.postgres-schema"]);
    expect(JSON.parse(b.run("market", "search", "node", "--limit", "1", "--json").stdout)).toHaveLength(1);
    const bad = b.run("market", "search", "x", "--min-quality", "300");
    expect(bad.status).toBe(2);
    expect(oneLine(bad.stderr)).toMatch(/--min-quality must be between 0 and 100/);
  });

  it("info shows versions, templates, dependencies, checksums and the quality breakdown", () => {
    const r = box().run("market", "info", "io.ggen.redis-service", "--show-quality");
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/io\.ggen\.redis-service:server/);
    expect(r.stdout).toMatch(/depends on io\.ggen\.dockerfile \^1\.0/);
    expect(r.stdout).toMatch(/sha256 [0-9a-f]{64}/);
    expect(r.stdout).toMatch(/documentation\s+\d+/);
    const unknown = box().run("market", "info", "io.ggen.redis-servic");
    expect(unknown.status).toBe(2);
    expect(oneLine(unknown.stderr)).toMatch(/did you mean 'io\.ggen\.redis-service'/);
  });

  it("categories and list count and list the registry", () => {
    const b = box();
    const cats = JSON.parse(b.run("market", "categories", "--json").stdout);
    expect(cats.find((c: { category: string }) => c.category === "cli").packs).toBe(2);
    const all = JSON.parse(b.run("market", "list", "--json").stdout);
    expect(all.length).toBeGreaterThanOrEqual(7);
    expect(b.run("market", "list", "--installed").stdout).toMatch(/no packs installed/);
  });
});

describe("add, list --installed, update, verify, remove", { timeout: 120_000 }, () => {
  it("works end to end on the bundled registry", () => {
    const b = box();
    const add = b.run("market", "add", "io.ggen.redis-service", "io.ggen.node-cli@~1.0");
    expect(add.status).toBe(0);
    expect(add.stdout).toMatch(/installed io\.ggen\.dockerfile@1\.0\.0/);
    expect(add.stdout).toMatch(/installed io\.ggen\.node-cli@1\.0\.0/);
    expect(installed(b)).toEqual(["io.ggen.dockerfile", "io.ggen.node-cli", "io.ggen.redis-service"]);
    const lock = JSON.parse(readFileSync(join(b.project, "ggen.lock"), "utf8"));
    expect(lock.packs["io.ggen.redis-service"].dependencies).toEqual({ "io.ggen.dockerfile": "1.0.0" });

    const updates = JSON.parse(b.run("market", "list", "--updates", "--json").stdout);
    expect(updates).toEqual([
      expect.objectContaining({ id: "io.ggen.node-cli", version: "1.0.0", latest: "1.1.0" }),
    ]);
    expect(b.run("market", "update").stdout).toMatch(/nothing to do/);
    expect(b.run("market", "update", "io.ggen.node-cli", "--latest").stdout).toMatch(
      /updated io\.ggen\.node-cli 1\.0\.0 -> 1\.1\.0/,
    );

    expect(b.run("market", "verify").status).toBe(0);
    writeFileSync(join(b.project, ".ggen/packages/io.ggen.node-cli/ggen.toml"), "# tampered\n", {
      flag: "a",
    });
    const v = b.run("market", "verify");
    expect(v.status).toBe(1);
    expect(v.stdout).toMatch(/modified io\.ggen\.node-cli@1\.1\.0/);
    expect(oneLine(v.stderr)).toMatch(/1 pack\(s\) do not match ggen\.lock: io\.ggen\.node-cli \(modified\)/);
    expect(b.run("market", "add", "io.ggen.node-cli", "--force").stdout).toMatch(
      /reinstalled io\.ggen\.node-cli/,
    );
    expect(b.run("market", "verify").status).toBe(0);

    const rmDep = b.run("market", "remove", "io.ggen.dockerfile");
    expect(rmDep.status).toBe(2);
    expect(oneLine(rmDep.stderr)).toMatch(/'io\.ggen\.redis-service' depends on it/);
    expect(b.run("market", "remove", "io.ggen.redis-service").status).toBe(0);
    expect(installed(b)).toEqual(["io.ggen.node-cli"]);
  });

  it("concurrent `ggen market add` processes in one project leave a complete, valid lockfile", async () => {
    const b = box();
    const ids = [
      "io.ggen.docs",
      "io.ggen.rust-cli",
      "io.ggen.ci-workflow",
      "io.ggen.postgres-schema",
      "io.ggen.redis-service",
    ];
    const results = await Promise.all(ids.map((id) => b.runAsync("market", "add", id)));
    for (const r of results) expect(r.status, r.stderr).toBe(0);
    const lock = JSON.parse(readFileSync(join(b.project, "ggen.lock"), "utf8"));
    expect(Object.keys(lock.packs).sort()).toEqual([...ids, "io.ggen.dockerfile"].sort());
    expect(installed(b)).toEqual([...ids, "io.ggen.dockerfile"].sort());
    expect(b.run("market", "verify").status).toBe(0);
  });

  it("installs over http from a registry chosen with GGEN_REGISTRY, and --offline from the cache", async () => {
    const { createServer } = await import("node:http");
    const server = createServer((req, res) => {
      const file = join(fixtureRegistry, decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname));
      if (!file.startsWith(fixtureRegistry) || !existsSync(file)) return void res.writeHead(404).end();
      res.end(readFileSync(file));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    try {
      const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/`;
      const b = box({ GGEN_REGISTRY: url });
      // Async: the server lives in this process, so a blocking spawnSync would starve it.
      const add = await b.runAsync("market", "add", "io.ggen.docs");
      expect(add.status, add.stderr).toBe(0);
      const lock = JSON.parse(readFileSync(join(b.project, "ggen.lock"), "utf8"));
      expect(lock.packs["io.ggen.docs"].source).toBe(url);
      const r = await b.runAsync("market", "add", "io.ggen.docs", "--force", "--offline");
      expect(r.status, r.stderr).toBe(0);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});

describe("bad input: one clear line, nothing half-installed", { timeout: 60_000 }, () => {
  let evilReg: string;
  let conflictReg: string;
  let root: Sandbox;

  beforeAll(async () => {
    root = box();
    // A copy of the fixture registry whose archives are then tampered with in different ways.
    evilReg = join(root.dir, "evil");
    cpSync(fixtureRegistry, evilReg, { recursive: true });
    const index = JSON.parse(readFileSync(join(evilReg, "index.json"), "utf8"));
    const put = (id: string, data: Buffer) => {
      const v = index.packs.find((p: { id: string }) => p.id === id).versions.at(-1);
      writeFileSync(join(evilReg, v.url), data);
      v.sha256 = sha256(data);
      v.size = data.length;
    };
    const manifest = (id: string) => ({
      path: "ggen.toml",
      content: `[pack]\nid = "${id}"\nversion = "1.0.0"\n`,
    });
    put("io.ggen.docs", writeTarGz([manifest("io.ggen.docs"), { path: "../../escaped.txt", content: "x" }]));
    put(
      "io.ggen.ci-workflow",
      writeTarGz([
        manifest("io.ggen.ci-workflow"),
        { path: "etc", type: "symlink", linkname: "../../../../etc" },
      ]),
    );
    writeFileSync(join(evilReg, "index.json"), JSON.stringify(index, null, 2));
    // Checksum mismatch: a byte appended after the index was written.
    writeFileSync(join(evilReg, "archives", "io.ggen.dockerfile-1.0.0.tar.gz"), "junk", { flag: "a" });
    // Two packs needing incompatible versions of a third.
    const src = join(root.dir, "conflict-src");
    const mk = (id: string, version: string, deps = "") => {
      const d = join(src, `${id}@${version}`);
      cpSync(join(fixtureRegistry, "packs", "io.ggen.docs"), d, { recursive: true });
      const toml = readFileSync(join(d, "ggen.toml"), "utf8")
        .replace('id = "io.ggen.docs"', `id = "${id}"`)
        .replace('version = "1.0.0"', `version = "${version}"`);
      writeFileSync(join(d, "ggen.toml"), `${toml}\n[dependencies]\n${deps}\n`);
      return d;
    };
    conflictReg = join(root.dir, "conflict");
    await buildRegistry({
      outDir: conflictReg,
      packDirs: [
        mk("io.c.db", "1.0.0"),
        mk("io.c.db", "2.0.0"),
        mk("io.c.old", "1.0.0", '"io.c.db" = "^1.0"'),
        mk("io.c.new", "1.0.0", '"io.c.db" = "^2.0"'),
      ],
    });
  });

  const check = (r: { status: number | null; stderr: string }, status: number, re: RegExp) => {
    expect(r.status, r.stderr).toBe(status);
    expect(oneLine(r.stderr)).toMatch(re);
  };

  it("unknown pack, with did-you-mean", () => {
    const b = box();
    check(
      b.run("market", "add", "io.ggen.rust-clj"),
      2,
      /unknown pack 'io\.ggen\.rust-clj' \(did you mean 'io\.ggen\.rust-cli'\?\)/,
    );
    expect(existsSync(join(b.project, "ggen.lock"))).toBe(false);
  });

  it("path-traversal ids and bad ranges", () => {
    const b = box();
    check(b.run("market", "add", "../../etc/passwd"), 2, /invalid pack id '\.\.\/\.\.\/etc\/passwd'/);
    check(b.run("market", "add", "io.ggen..docs"), 2, /contains '\.\.'/);
    check(b.run("market", "add", "io.ggen.docs@not-a-range"), 2, /invalid version range 'not-a-range'/);
    check(b.run("market", "add", "io.ggen.docs@^9"), 2, /no version of 'io\.ggen\.docs' matches '\^9'/);
    expect(installed(b)).toEqual([]);
  });

  it("malformed index, pointing at file:line:col", () => {
    const b = box();
    const reg = join(b.dir, "broken");
    cpSync(fixtureRegistry, reg, { recursive: true });
    writeFileSync(join(reg, "index.json"), '{\n  "format": "ggen-registry-index/1",\n  "packs": [,]\n}\n');
    check(b.run("market", "search", "x", "--registry", reg), 1, /broken\/index\.json:3:\d+: not valid JSON/);
    writeFileSync(
      join(reg, "index.json"),
      JSON.stringify({ format: "ggen-registry-index/1", packs: [{ id: "x" }] }),
    );
    check(
      b.run("market", "add", "x", "--registry", reg),
      1,
      /malformed registry index: \/packs\/0\/name is required/,
    );
    expect(installed(b)).toEqual([]);
  });

  it("checksum mismatch", () => {
    const b = box();
    check(
      b.run("market", "add", "io.ggen.node-cli", "io.ggen.dockerfile", "--registry", evilReg),
      1,
      /io\.ggen\.dockerfile@1\.0\.0: checksum mismatch/,
    );
    expect(installed(b)).toEqual([]);
    expect(existsSync(join(b.project, "ggen.lock"))).toBe(false);
    expect(
      readdirSync(join(b.home, "marketplace/cache/archives")).some((f) => f.startsWith(sha256("x"))),
    ).toBe(false);
  });

  it("archive entries that escape, and links out of the pack", () => {
    const b = box();
    check(
      b.run("market", "add", "io.ggen.docs", "--registry", evilReg),
      1,
      /unsafe archive: entry '\.\.\/\.\.\/escaped\.txt' escapes/,
    );
    check(
      b.run("market", "add", "io.ggen.ci-workflow", "--registry", evilReg),
      1,
      /unsafe archive: link 'etc' points outside/,
    );
    expect(installed(b)).toEqual([]);
    expect(existsSync(join(b.dir, "escaped.txt"))).toBe(false);
  });

  it("unreachable registry", async () => {
    const b = box();
    const port = await freePort();
    check(
      b.run("market", "search", "x", "--registry", `http://127.0.0.1:${port}/`),
      1,
      /is unreachable \(ECONNREFUSED\)/,
    );
    check(
      b.run("market", "search", "x", "--registry", join(b.dir, "nowhere")),
      1,
      /registry '.*nowhere' is unreachable/,
    );
  });

  it("conflicting ranges name both requirers", () => {
    const b = box();
    check(
      b.run("market", "add", "io.c.old", "io.c.new", "--registry", conflictReg),
      1,
      /conflicting requirements for 'io\.c\.db': io\.c\.old@1\.0\.0 needs '\^1\.0', io\.c\.new@1\.0\.0 needs '\^2\.0'/,
    );
    expect(b.run("market", "add", "io.c.old", "--registry", conflictReg).status).toBe(0);
    check(
      b.run("market", "add", "io.c.new", "--registry", conflictReg),
      1,
      /conflicting requirements for 'io\.c\.db'/,
    );
    expect(installed(b)).toEqual(["io.c.db", "io.c.old"]);
  });

  it("a lockfile edited by hand into nonsense", () => {
    const b = box();
    expect(b.run("market", "add", "io.ggen.docs").status).toBe(0);
    writeFileSync(
      join(b.project, "ggen.lock"),
      '{\n  "lockfileVersion": 1,\n  "packs": {\n    "io.ggen.docs": 42,\n}\n',
    );
    check(b.run("market", "list", "--installed"), 2, /ggen\.lock:5:1: not valid JSON/);
    writeFileSync(
      join(b.project, "ggen.lock"),
      '{ "lockfileVersion": 1, "packs": { "io.ggen.docs": { "version": "x" } } }',
    );
    check(
      b.run("market", "add", "io.ggen.node-cli"),
      2,
      /ggen\.lock:1: invalid lockfile: \/packs\/io\.ggen\.docs\/.+/,
    );
    expect(installed(b)).toEqual(["io.ggen.docs"]);
  });
});
