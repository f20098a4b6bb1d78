// The marketplace on hostile input, through the built `ggen market`: archives that try to keep setuid
// bits, smuggle sparse files or write through links; internal directories planted as symlinks; servers
// that never answer or never stop; kill -9 and Ctrl-C in the middle of an install. Each case: one clean
// line and the right exit code, nothing outside the project, nothing left locked or staged, and the
// ordinary command after it working at normal speed.
import { spawn } from "node:child_process";
import {
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ArchiveEntry, buildRegistry, sha256, writeTarGz } from "@ggen/marketplace";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bins, expectRefused, type Ran, repo, run, Sandbox } from "./harness.js";

// Registries and GGEN_HOME live beside the sandboxes, never inside one (the sandbox's outside must not change).
const work = mkdtempSync(join(tmpdir(), "ggen-hostile-market-"));
const docsPack = join(repo, "fixtures", "registry", "packs", "io.ggen.docs");
const manifest = readFileSync(join(docsPack, "ggen.toml"), "utf8");
const boxes: Sandbox[] = [];
let n = 0;

let server: Server;
let url: string;
beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url?.startsWith("/silent")) return; // accepts, never answers
    if (req.url?.startsWith("/drip")) {
      res.writeHead(200);
      const t = setInterval(() => res.write("x"), 200);
      res.on("close", () => clearInterval(t));
      return;
    }
    if (req.url?.startsWith("/zero")) {
      res.writeHead(200);
      const zeros = Buffer.alloc(64 << 10);
      const pump = () => {
        while (res.write(zeros)) {}
      };
      res.on("drain", pump);
      return pump();
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  for (const b of boxes) b.dispose();
  rmSync(work, { recursive: true, force: true });
});

function sandbox(): Sandbox {
  const b = new Sandbox("market");
  boxes.push(b);
  return b;
}

/** A registry with io.ggen.docs@1.0.0 whose archive (or archive entry in the index) is replaced. */
async function registry(change: {
  entries?: ArchiveEntry[];
  version?: Partial<{ url: string; size: number; sha256: string }>;
}): Promise<string> {
  const dir = join(work, `reg-${n++}`);
  const src = join(dir, "src");
  cpSync(docsPack, src, { recursive: true });
  await buildRegistry({ packDirs: [src], outDir: dir, name: "hostile" });
  const indexFile = join(dir, "index.json");
  const index = JSON.parse(readFileSync(indexFile, "utf8"));
  const v = index.packs[0].versions[0];
  if (change.entries) {
    const data = writeTarGz([{ path: "ggen.toml", content: manifest }, ...change.entries]);
    writeFileSync(join(dir, v.url), data);
    Object.assign(v, { sha256: sha256(data), size: data.length });
  }
  Object.assign(v, change.version ?? {});
  writeFileSync(indexFile, JSON.stringify(index));
  return dir;
}

const env = (extra: Record<string, string> = {}) => ({
  GGEN_HOME: join(work, `home-${n++}`),
  GGEN_REGISTRY: "",
  ...extra,
});

const ggen = (box: Sandbox, args: string[], extra: Record<string, string> = {}, limitMs = 60_000) =>
  run("ggen", args, { cwd: box.root, env: env(extra), limitMs });

/** The ordinary command after a refusal: installing a pack from the bundled registry works, quickly. */
async function stillWorks(box: Sandbox): Promise<void> {
  const r = await ggen(box, ["market", "add", "io.ggen.docs"]);
  expect(r.code, r.stderr).toBe(0);
  expect(r.ms, "the next add waited on something left behind").toBeLessThan(20_000);
  const v = await ggen(box, ["market", "verify"]);
  expect(v.code, v.stderr).toBe(0);
}

const installed = (box: Sandbox) => {
  const d = join(box.root, ".ggen", "packages");
  return existsSync(d) ? readdirSync(d).sort() : [];
};

describe("archives: modes, sparse files, links", () => {
  it("never keeps setuid, setgid or sticky bits", async () => {
    const box = sandbox();
    const reg = await registry({
      entries: [
        { path: "templates/", type: "dir", mode: 0o7777 },
        { path: "templates/README.md.tmpl", content: "---\nto: README.md\n---\nhi\n", mode: 0o6755 },
        { path: "bin/tool", content: "#!/bin/sh\n", mode: 0o4777 },
      ],
    });
    const r = await ggen(box, ["market", "add", "io.ggen.docs", "--registry", reg]);
    expect(r.code, r.stderr).toBe(0);
    const pack = join(box.root, ".ggen", "packages", "io.ggen.docs");
    for (const [rel, mode] of [
      ["templates", 0o755],
      ["templates/README.md.tmpl", 0o755],
      ["bin/tool", 0o755],
      ["ggen.toml", 0o644],
    ] as const)
      expect(lstatSync(join(pack, rel)).mode & 0o7777, rel).toBe(mode);
    box.check();
  });

  for (const [name, entries, why] of [
    [
      "a sparse file (GNU pax sparse records)",
      [{ path: "disk.img", content: "x", pax: { "GNU.sparse.major": "1", "GNU.sparse.minor": "0" } }],
      /sparse/,
    ],
    [
      "a hard link to a symlink",
      [
        { path: "l", type: "symlink", linkname: "ggen.toml" },
        { path: "h", type: "hardlink", linkname: "l" },
      ],
      /hard link 'h' points to 'l', which is a symlink/,
    ],
    [
      "a symlink, then a file of the same name",
      [
        { path: "templates", type: "symlink", linkname: "." },
        { path: "templates", content: "written through the link" },
      ],
      /entry 'templates' appears twice/,
    ],
    [
      "a file under a symlinked directory",
      [
        { path: "up", type: "symlink", linkname: "." },
        { path: "up/x.txt", content: "x" },
      ],
      /entry 'up\/x.txt' is inside 'up', which is a link/,
    ],
  ] as [string, ArchiveEntry[], RegExp][]) {
    it(`refuses ${name}: one line, exit 1, nothing installed`, async () => {
      const box = sandbox();
      const r = await ggen(box, ["market", "add", "io.ggen.docs", "--registry", await registry({ entries })]);
      expectRefused(r, 1);
      expect(r.stderr).toMatch(why);
      expect(installed(box)).toEqual([]);
      box.check();
      await stillWorks(box);
      box.check();
    });
  }
});

describe("internal directories are made fresh, never followed", () => {
  it("a .trash symlink to elsewhere is not written into by remove", async () => {
    const box = sandbox();
    expect((await ggen(box, ["market", "add", "io.ggen.docs"])).code).toBe(0);
    symlinkSync(box.outside, join(box.root, ".ggen", "packages", ".trash"));
    const r = await ggen(box, ["market", "remove", "io.ggen.docs"]);
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(box.outside)).toEqual([]);
    expect(installed(box)).toEqual([]);
    box.check();
  });

  it("a symlinked .ggen/packages is refused before anything is written", async () => {
    const box = sandbox();
    mkdirSync(join(box.root, ".ggen"));
    symlinkSync(box.outside, join(box.root, ".ggen", "packages"));
    const r = await ggen(box, ["market", "add", "io.ggen.docs"]);
    expectRefused(r, 1);
    expect(r.stderr).toMatch(/\.ggen\/packages is a symlink/);
    box.check();
    rmSync(join(box.root, ".ggen", "packages"));
    await stillWorks(box);
  });
});

describe("sizes and network: every download bounded", () => {
  const refusedWithin = (r: Ran, ms: number) => {
    expectRefused(r, 1);
    expect(r.ms).toBeLessThan(ms);
  };

  it("an archive URL streaming forever stops at the size the index pins, and a size past the limit is refused", async () => {
    const box = sandbox();
    const reg = await registry({ version: { url: `${url}/zero.tar.gz`, size: 1 << 20 } });
    const r = await ggen(box, ["market", "add", "io.ggen.docs", "--registry", reg]);
    refusedWithin(r, 30_000);
    expect(r.stderr).toMatch(/checksum mismatch: the archive is larger than the 1 MiB the index says/);
    const big = await registry({ version: { url: `${url}/zero.tar.gz`, size: 10 << 20 } });
    const limited = await ggen(box, ["market", "add", "io.ggen.docs", "--registry", big], {
      GGEN_MARKET_MAX_ARCHIVE: "1M",
    });
    refusedWithin(limited, 30_000);
    expect(limited.stderr).toMatch(
      /the index says the archive is 10 MiB, larger than 1 MiB; GGEN_MARKET_MAX_ARCHIVE or \[marketplace\] max_archive_size/,
    );
    const huge = await registry({ version: { url: `${url}/zero.tar.gz`, size: 8 * 2 ** 30 } });
    const refused = await ggen(box, ["market", "add", "io.ggen.docs", "--registry", huge]);
    refusedWithin(refused, 30_000);
    expect(refused.stderr).toMatch(/larger than 64 MiB/);
    box.check();
    await stillWorks(box);
  });

  it("an archive URL that never answers ends at the idle timeout", async () => {
    const box = sandbox();
    const reg = await registry({ version: { url: `${url}/silent.tar.gz` } });
    const r = await ggen(box, ["market", "add", "io.ggen.docs", "--registry", reg], {
      GGEN_MARKET_IDLE_TIMEOUT: "1s",
    });
    refusedWithin(r, 30_000);
    expect(r.stderr).toMatch(/cannot download .*\(no data for 1 s; GGEN_MARKET_IDLE_TIMEOUT/);
    box.check();
    await stillWorks(box);
  });

  it("a registry index that never answers, or never stops, ends within its limits", async () => {
    const box = sandbox();
    const silent = await ggen(box, ["market", "search", "docs"], {
      GGEN_REGISTRY: `${url}/silent/`,
      GGEN_MARKET_IDLE_TIMEOUT: "1500ms",
    });
    refusedWithin(silent, 30_000);
    expect(silent.stderr).toMatch(/registry '.*\/silent\/' is unreachable \(no data for 1.5 s/);
    const endless = await ggen(box, ["market", "search", "docs"], {
      GGEN_REGISTRY: `${url}/zero/`,
      GGEN_MARKET_MAX_INDEX: "2M",
    });
    refusedWithin(endless, 30_000);
    expect(endless.stderr).toMatch(/its index is larger than 2 MiB; GGEN_MARKET_MAX_INDEX/);
    const slow = await ggen(box, ["market", "search", "docs"], {
      GGEN_REGISTRY: `${url}/drip/`,
      GGEN_MARKET_TIMEOUT: "2s",
    });
    refusedWithin(slow, 30_000);
    expect(slow.stderr).toMatch(/gave up after 2 s; GGEN_MARKET_TIMEOUT/);
    box.check();
  });

  it("/dev/zero as an archive is refused (not a regular file), and a bad limit is a usage error", async () => {
    const box = sandbox();
    const reg = await registry({ version: { url: "file:///dev/zero" } });
    const r = await ggen(box, ["market", "add", "io.ggen.docs", "--registry", reg]);
    refusedWithin(r, 30_000);
    expect(r.stderr).toMatch(/cannot read archive \/dev\/zero/);
    const bad = await ggen(box, ["market", "add", "io.ggen.docs"], { GGEN_MARKET_MAX_ARCHIVE: "lots" });
    expectRefused(bad, 2);
    expect(bad.stderr).toMatch(/GGEN_MARKET_MAX_ARCHIVE "lots": expected a size such as 512M or 4G/);
    box.check();
    await stillWorks(box);
  });
});

describe("crash consistency", () => {
  /** Starts `ggen market add` against a registry whose archive drips, and waits until it is downloading. */
  async function startSlowAdd(box: Sandbox, home: string) {
    const reg = await registry({ version: { url: `${url}/drip.tar.gz`, size: 1 << 20 } });
    const requests = new Promise<void>((resolve) => {
      const seen = (req: { url?: string }) => {
        if (req.url?.startsWith("/drip")) {
          server.off("request", seen);
          resolve();
        }
      };
      server.on("request", seen);
    });
    const child = spawn(process.execPath, [bins.ggen, "market", "add", "io.ggen.docs", "--registry", reg], {
      cwd: box.root,
      env: { ...process.env, NO_COLOR: "1", GGEN_HOME: home, GGEN_REGISTRY: "" },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    let stderr = "";
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
      child.on("close", (code, signal) => r({ code, signal })),
    );
    await requests;
    return { child, exited, stderr: () => stderr };
  }

  it("kill -9 during add: the next add takes the lock over at once and sweeps the staging", async () => {
    const box = sandbox();
    const home = join(work, `home-${n++}`);
    const { child, exited } = await startSlowAdd(box, home);
    const leftBehind = readdirSync(join(box.root, ".ggen", "packages"));
    expect(leftBehind.some((d) => d.startsWith(".staging-"))).toBe(true);
    expect(existsSync(join(box.root, "ggen.lock.lock"))).toBe(true);
    process.kill(-child.pid!, "SIGKILL");
    expect((await exited).signal).toBe("SIGKILL");
    await stillWorks(box);
    expect(installed(box)).toEqual(["io.ggen.docs"]);
    box.check();
  });

  it("Ctrl-C during add: exit 130 on one line, nothing installed, verify agrees", async () => {
    const box = sandbox();
    const home = join(work, `home-${n++}`);
    const { child, exited, stderr } = await startSlowAdd(box, home);
    process.kill(-child.pid!, "SIGINT");
    const end = await exited;
    expect(end).toEqual({ code: 130, signal: null });
    expect(stderr().trim().split("\n")).toEqual(["ggen: error: interrupted; nothing was installed"]);
    expect(installed(box)).toEqual([]);
    expect(existsSync(join(box.root, "ggen.lock"))).toBe(false);
    box.check();
    const v = await ggen(box, ["market", "verify"]);
    expect(v.code).toBe(0);
    expect(v.stdout).toMatch(/no packs installed/);
    await stillWorks(box);
  });

  it("verify compares every file against the lock and names what changed", async () => {
    const box = sandbox();
    const home = { GGEN_HOME: join(work, `home-${n++}`) };
    expect((await ggen(box, ["market", "add", "io.ggen.docs"], home)).code).toBe(0);
    const pack = join(box.root, ".ggen", "packages", "io.ggen.docs");
    writeFileSync(join(pack, "templates", "index.md.tmpl"), "tampered\n");
    rmSync(join(pack, "README.md"));
    const v = await ggen(box, ["market", "verify"], home);
    expectRefused(v, 1);
    expect(v.stdout).toMatch(
      /modified io\.ggen\.docs@1\.0\.0: changed templates\/index\.md\.tmpl; removed README\.md/,
    );
    box.check();
    expect((await ggen(box, ["market", "add", "io.ggen.docs"], home)).stdout).toMatch(
      /reinstalled io\.ggen\.docs/,
    );
    expect((await ggen(box, ["market", "verify"], home)).code).toBe(0);
  });
});

describe("arguments", () => {
  it("an empty range after '@' is a usage error, not exit 0", async () => {
    const box = sandbox();
    for (const spec of ["x@", "io.ggen.docs@"]) {
      const r = await ggen(box, ["market", "add", spec]);
      expectRefused(r, 2);
    }
    expect(installed(box)).toEqual([]);
    box.check();
  });

  it("`market add <pack> --version <VERSION>` installs that version (seed 002), not the program's version", async () => {
    const box = sandbox();
    const r = await ggen(box, ["market", "add", "io.ggen.node-cli", "--version", "1.0.0"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/installed io\.ggen\.node-cli@1\.0\.0/);
    const lock = JSON.parse(readFileSync(join(box.root, "ggen.lock"), "utf8"));
    expect(lock.packs["io.ggen.node-cli"].version).toBe("1.0.0");
    expectRefused(
      await ggen(box, ["market", "add", "io.ggen.docs", "io.ggen.node-cli", "--version", "1.0.0"]),
      2,
    );
    expectRefused(await ggen(box, ["market", "add", "io.ggen.docs", "--version", "9.9.9"]), 2);
    box.check();
  });
});
