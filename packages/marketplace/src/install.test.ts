import { existsSync } from "node:fs";
import { appendFile, mkdir, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { sha256 } from "@ggen/support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeTarGz } from "./archive.js";
import { addPacks, parseSpec, removePacks, updatePacks, verifyPacks } from "./install.js";
import { readLock } from "./lockfile.js";
import { installedPack } from "./packs.js";
import { tempDir, tinyRegistry } from "./testkit.js";

let t: Awaited<ReturnType<typeof tempDir>>;
let registry: string;
let n = 0;
const fresh = () => join(t.dir, `proj-${n++}`);
const opts = (projectDir: string, extra: Record<string, unknown> = {}) => ({
  projectDir,
  registries: [registry],
  ggenHome: join(t.dir, "home"),
  ...extra,
});

beforeAll(async () => {
  t = await tempDir();
  registry = await tinyRegistry(join(t.dir, "reg"), [
    { id: "io.t.base", version: "1.0.0" },
    { id: "io.t.base", version: "1.2.0" },
    { id: "io.t.base", version: "2.0.0" },
    { id: "io.t.app", version: "1.0.0", deps: { "io.t.base": "^1.0" } },
    { id: "io.t.new", version: "1.0.0", deps: { "io.t.base": "^2.0" } },
    { id: "io.t.solo", version: "1.0.0" },
  ]);
});
afterAll(async () => t.cleanup());

/** No staging or trash dirs, nothing but real packs under .ggen/packages. */
async function packDirs(project: string): Promise<string[]> {
  const dir = join(project, ".ggen", "packages");
  return existsSync(dir) ? (await readdir(dir)).sort() : [];
}

describe("addPacks", () => {
  it("installs the highest matching version with dependencies and pins them in ggen.lock", async () => {
    const p = fresh();
    const r = await addPacks(["io.t.app"], opts(p));
    expect(r.changes.map((c) => `${c.action} ${c.id}@${c.to}`)).toEqual([
      "installed io.t.app@1.0.0",
      "installed io.t.base@1.2.0",
    ]);
    const lock = await readLock(p);
    expect(lock.packs["io.t.app"]).toMatchObject({
      requested: "^1.0.0",
      dependencies: { "io.t.base": "1.2.0" },
    });
    expect(lock.packs["io.t.base"]?.requested).toBeNull();
    const base = await installedPack(p, "io.t.base");
    expect(base.manifest.pack.version).toBe("1.2.0");
    expect(await readFile(join(base.dir, base.manifest.templates[0]!.path), "utf8")).toMatch(
      /io.t.base 1.2.0/,
    );
    expect(await packDirs(p)).toEqual(["io.t.app", "io.t.base"]);
    expect((await addPacks(["io.t.app"], opts(p))).changes.every((c) => c.action === "unchanged")).toBe(true);
  });

  it("honours id@range, and --no-deps", async () => {
    const p = fresh();
    await addPacks(["io.t.base@~1.0"], opts(p));
    expect((await installedPack(p, "io.t.base")).version).toBe("1.0.0");
    const q = fresh();
    await addPacks(["io.t.app"], opts(q, { noDeps: true }));
    expect(await packDirs(q)).toEqual(["io.t.app"]);
  });

  it("reports conflicting ranges naming both requirers, and installs nothing", async () => {
    const p = fresh();
    await expect(addPacks(["io.t.app", "io.t.new"], opts(p))).rejects.toThrow(
      /conflicting requirements for 'io.t.base': io.t.app@1.0.0 needs '\^1.0', io.t.new@1.0.0 needs '\^2.0'/,
    );
    expect(existsSync(join(p, "ggen.lock"))).toBe(false);
    expect(await packDirs(p)).toEqual([]);
  });

  it("rejects path-traversal ids and bad ranges before touching anything", async () => {
    const p = fresh();
    await expect(addPacks(["../../etc"], opts(p))).rejects.toThrow(/invalid pack id '..\/..\/etc'/);
    await expect(addPacks(["io.t..x"], opts(p))).rejects.toThrow(/contains '..'/);
    await expect(addPacks(["io.t.base@banana"], opts(p))).rejects.toThrow(/invalid version range 'banana'/);
    expect(existsSync(join(p, "ggen.lock"))).toBe(false);
  });

  it("runs concurrent adds in one project one after the other, keeping both in the lock", async () => {
    const p = fresh();
    await Promise.all([addPacks(["io.t.app"], opts(p)), addPacks(["io.t.solo"], opts(p))]);
    expect(Object.keys((await readLock(p)).packs).sort()).toEqual(["io.t.app", "io.t.base", "io.t.solo"]);
  });
});

describe("tampered registries install nothing", () => {
  async function tampered(
    mutate: (
      idx: { packs: { id: string; versions: { url: string; sha256: string; size: number }[] }[] },
      dir: string,
    ) => Promise<void>,
  ) {
    const reg = await tinyRegistry(join(t.dir, `bad-${n++}`), [
      { id: "io.t.good", version: "1.0.0" },
      { id: "io.t.evil", version: "1.0.0" },
    ]);
    const idx = JSON.parse(await readFile(join(reg, "index.json"), "utf8"));
    await mutate(idx, reg);
    await writeFile(join(reg, "index.json"), JSON.stringify(idx));
    return reg;
  }

  it("checksum mismatch: an archive changed after publishing", async () => {
    const reg = await tampered(async (_idx, dir) => {
      await appendFile(join(dir, "archives", "io.t.evil-1.0.0.tar.gz"), "x");
    });
    const p = fresh();
    const o = { ...opts(p), registries: [reg] };
    await expect(addPacks(["io.t.good", "io.t.evil"], o)).rejects.toThrow(
      /io.t.evil@1.0.0: checksum mismatch/,
    );
    expect(await packDirs(p)).toEqual([]);
    expect(existsSync(join(p, "ggen.lock"))).toBe(false);
  });

  it("an archive with a path-traversal entry or an outward link (even with a matching sha256)", async () => {
    for (const evil of [
      [
        { path: "ggen.toml", content: '[pack]\nid = "io.t.evil"\nversion = "1.0.0"\n' },
        { path: "../../pwned", content: "x" },
      ],
      [
        { path: "ggen.toml", content: '[pack]\nid = "io.t.evil"\nversion = "1.0.0"\n' },
        { path: "templates", type: "symlink" as const, linkname: "../../../" },
      ],
    ]) {
      const reg = await tampered(async (idx, dir) => {
        const data = writeTarGz(evil);
        await writeFile(join(dir, "archives", "io.t.evil-1.0.0.tar.gz"), data);
        const v = idx.packs.find((x) => x.id === "io.t.evil")!.versions[0]!;
        v.sha256 = sha256(data);
        v.size = data.length;
      });
      const p = fresh();
      await expect(addPacks(["io.t.good", "io.t.evil"], { ...opts(p), registries: [reg] })).rejects.toThrow(
        /unsafe archive: (entry '..\/..\/pwned' escapes|link 'templates' points outside)/,
      );
      expect(await packDirs(p)).toEqual([]);
      expect(existsSync(join(p, "..", "pwned"))).toBe(false);
    }
  });

  it("an archive holding a different pack than the index says", async () => {
    const reg = await tampered(async (idx, dir) => {
      const good = idx.packs.find((x) => x.id === "io.t.good")!.versions[0]!;
      const evil = idx.packs.find((x) => x.id === "io.t.evil")!.versions[0]!;
      Object.assign(evil, { ...good });
      void dir;
    });
    const p = fresh();
    await expect(addPacks(["io.t.evil"], { ...opts(p), registries: [reg] })).rejects.toThrow(
      /io.t.evil@1.0.0: the archive holds io.t.good@1.0.0/,
    );
    expect(await packDirs(p)).toEqual([]);
  });
});

describe("update, remove, verify", () => {
  it("updates within the range, then to the latest with --latest", async () => {
    const p = fresh();
    await addPacks(["io.t.base@1.0.0"], opts(p));
    expect((await updatePacks([], opts(p))).changes.filter((c) => c.action !== "unchanged")).toEqual([]);
    await addPacks(["io.t.base@^1.0"], opts(p));
    expect((await installedPack(p, "io.t.base")).version).toBe("1.0.0");
    const r = await updatePacks([], opts(p));
    expect(r.changes).toContainEqual({ id: "io.t.base", from: "1.0.0", to: "1.2.0", action: "updated" });
    const l = await updatePacks(["io.t.base"], { ...opts(p), latest: true });
    expect(l.changes).toContainEqual({ id: "io.t.base", from: "1.2.0", to: "2.0.0", action: "updated" });
    expect((await readLock(p)).packs["io.t.base"]?.requested).toBe("^2.0.0");
  });

  it("refuses to remove a needed dependency, removes orphaned ones with their dependent", async () => {
    const p = fresh();
    await addPacks(["io.t.app", "io.t.solo"], opts(p));
    await expect(removePacks(["io.t.base"], opts(p))).rejects.toThrow(/'io.t.app' depends on it/);
    const r = await removePacks(["io.t.app"], opts(p));
    expect(r.removed).toEqual(["io.t.app", "io.t.base"]);
    expect(await packDirs(p)).toEqual(["io.t.solo"]);
    await expect(removePacks(["io.t.nope"], opts(p))).rejects.toThrow(/'io.t.nope' is not installed/);
  });

  it("verify finds modified and missing packs", async () => {
    const p = fresh();
    await addPacks(["io.t.app"], opts(p));
    expect((await verifyPacks(opts(p))).map((v) => v.status)).toEqual(["ok", "ok"]);
    await appendFile(join(p, ".ggen", "packages", "io.t.app", "ggen.toml"), "\n# edited\n");
    await (await import("node:fs/promises")).rm(join(p, ".ggen", "packages", "io.t.base"), {
      recursive: true,
    });
    expect((await verifyPacks(opts(p))).map((v) => `${v.id} ${v.status}`)).toEqual([
      "io.t.app modified",
      "io.t.base missing",
    ]);
  });

  it("installedPack explains a pack that is not installed, and a nonsense lockfile", async () => {
    const p = fresh();
    await expect(installedPack(p, "io.t.app")).rejects.toThrow(/not installed.*/);
    await addPacks(["io.t.solo"], opts(p));
    await writeFile(
      join(p, "ggen.lock"),
      '{ "lockfileVersion": 1, "packs": { "io.t.solo": { "version": 3 } } }',
    );
    await expect(installedPack(p, "io.t.solo")).rejects.toThrow(/invalid lockfile/);
    await expect(addPacks(["io.t.app"], opts(p))).rejects.toThrow(/invalid lockfile/);
  });
});

describe("crash consistency and internal directories", () => {
  const pkgs = (p: string) => join(p, ".ggen", "packages");

  it("takes over a lock and sweeps staging left by a killed process, at once", async () => {
    const p = fresh();
    await addPacks(["io.t.solo"], opts(p));
    // What kill -9 during an add leaves: the lock (owner gone), a staging dir, a lock temp file.
    await writeFile(
      join(p, "ggen.lock.lock"),
      JSON.stringify({ pid: 999_999_999, start: "1", host: hostname(), since: new Date().toISOString() }),
    );
    await mkdir(join(pkgs(p), ".staging-999999999-abc", "io.t.app"), { recursive: true });
    await writeFile(join(p, "ggen.lock.lock.999999999.0a0b.tmp"), "{}");
    const started = Date.now();
    await addPacks(["io.t.app"], opts(p));
    expect(Date.now() - started).toBeLessThan(20_000); // not the 30 s staleness wait of old
    expect(await packDirs(p)).toEqual(["io.t.app", "io.t.base", "io.t.solo"]);
    expect((await readdir(p)).filter((n) => n.startsWith("ggen.lock."))).toEqual([]);
  });

  it("takes over the directory lock proper-lockfile used to leave", async () => {
    const p = fresh();
    await mkdir(join(p, "ggen.lock.lock"), { recursive: true });
    await addPacks(["io.t.solo"], opts(p));
    expect(existsSync(join(p, "ggen.lock.lock"))).toBe(false);
  });

  it("stops with nothing installed when its signal is aborted", async () => {
    const p = fresh();
    const ac = new AbortController();
    ac.abort();
    await expect(addPacks(["io.t.app"], opts(p, { signal: ac.signal }))).rejects.toThrow(/interrupted/);
    expect(await packDirs(p)).toEqual([]);
    expect(existsSync(join(p, "ggen.lock"))).toBe(false);
  });

  it("never follows a planted .trash symlink, and refuses a symlinked .ggen/packages", async () => {
    const p = fresh();
    const elsewhere = join(t.dir, `elsewhere-${n++}`);
    await mkdir(elsewhere);
    await addPacks(["io.t.solo"], opts(p));
    await symlink(elsewhere, join(pkgs(p), ".trash"));
    await removePacks(["io.t.solo"], opts(p));
    expect(await readdir(elsewhere)).toEqual([]);
    expect(await packDirs(p)).toEqual([]);

    const q = fresh();
    await mkdir(join(q, ".ggen"), { recursive: true });
    await symlink(elsewhere, pkgs(q));
    await expect(addPacks(["io.t.solo"], opts(q))).rejects.toThrow(/\.ggen\/packages is a symlink/);
    expect(await readdir(elsewhere)).toEqual([]);
  });

  it("reinstalls a pack whose tree no longer matches the lock (an install cut inside the swap)", async () => {
    const p = fresh();
    await addPacks(["io.t.solo"], opts(p));
    await writeFile(join(pkgs(p), "io.t.solo", "templates", "hello.txt.tmpl"), "half\n");
    const r = await addPacks(["io.t.solo"], opts(p));
    expect(r.changes).toEqual([{ id: "io.t.solo", from: "1.0.0", to: "1.0.0", action: "reinstalled" }]);
    expect((await verifyPacks(opts(p))).map((v) => v.status)).toEqual(["ok"]);
  });
});

describe("verify names what is wrong", () => {
  it("the files changed, added and removed (from the cached archive), and unpinned pack directories", async () => {
    const p = fresh();
    await addPacks(["io.t.solo"], opts(p));
    const dir = join(p, ".ggen", "packages", "io.t.solo");
    await appendFile(join(dir, "ggen.toml"), "\n# edited\n");
    await writeFile(join(dir, "extra.txt"), "x");
    await rm(join(dir, "templates", "hello.txt.tmpl"));
    await mkdir(join(p, ".ggen", "packages", "io.t.stray"));
    const v = await verifyPacks(opts(p));
    expect(v.map((e) => `${e.id} ${e.status} ${e.problems.join(", ")}`)).toEqual([
      "io.t.solo modified added extra.txt, changed ggen.toml, removed templates/hello.txt.tmpl",
      "io.t.stray unlocked not in ggen.lock",
    ]);
  });

  it("SPARQL queries that use a prefix they do not declare", async () => {
    const reg = await tinyRegistry(join(t.dir, `q-${n++}`), [
      {
        id: "io.t.q",
        version: "1.0.0",
        files: {
          "queries/good.rq": "PREFIX owl: <http://www.w3.org/2002/07/owl#>\nSELECT ?c { ?c a owl:Class }\n",
          "queries/bad.rq": "SELECT ?c {\n  ?c a owl:Class ; rdfs:label ?l }\n",
        },
      },
    ]);
    const p = fresh();
    await addPacks(["io.t.q"], { ...opts(p), registries: [reg] });
    const [v] = await verifyPacks({ ...opts(p), registries: [reg] });
    expect(v).toMatchObject({
      status: "undeclared-prefix",
      problems: [
        "queries/bad.rq:2 uses 'owl:' without a PREFIX",
        "queries/bad.rq:2 uses 'rdfs:' without a PREFIX",
      ],
    });
  });
});

describe("parseSpec", () => {
  it("refuses an empty range after '@' as a usage error", () => {
    expect(() => parseSpec("io.t.solo@")).toThrow(/'io.t.solo@': the version range after '@' is empty/);
    expect(parseSpec("io.t.solo")).toEqual({ id: "io.t.solo", range: "*" });
  });
});
