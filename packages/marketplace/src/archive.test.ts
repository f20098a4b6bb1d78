import { lstat, mkdir, readFile, readlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { isGgenError } from "@ggen/contract";
import { sha256 } from "@ggen/support";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type ArchiveEntry, extractSafe, treeHash, writeTarGz } from "./archive.js";
import { tempDir } from "./testkit.js";

let t: Awaited<ReturnType<typeof tempDir>>;
beforeEach(async () => {
  t = await tempDir();
});
afterEach(async () => {
  await t.cleanup();
});

async function archiveOf(entries: ArchiveEntry[]): Promise<string> {
  const file = join(t.dir, `a-${Math.random().toString(36).slice(2)}.tar.gz`);
  await writeFile(file, writeTarGz(entries));
  return file;
}

async function extractError(entries: ArchiveEntry[]): Promise<string> {
  const dest = join(t.dir, "out");
  await mkdir(dest, { recursive: true });
  try {
    await extractSafe(await archiveOf(entries), dest, { maxEntries: 5, maxBytes: 20_000 });
  } catch (e) {
    expect(isGgenError(e)).toBe(true);
    return (e as Error).message;
  }
  throw new Error("expected extraction to fail");
}

describe("writeTarGz", () => {
  it("is deterministic: same entries, same bytes", () => {
    const entries: ArchiveEntry[] = [
      { path: "dir/", type: "dir" },
      { path: "dir/a.txt", content: "a" },
      { path: "run.sh", content: "#!/bin/sh\n", mode: 0o755 },
    ];
    expect(sha256(writeTarGz(entries))).toBe(sha256(writeTarGz(entries)));
    expect(sha256(writeTarGz(entries))).not.toBe(sha256(writeTarGz(entries.slice(1))));
  });

  it("round-trips files, modes, long paths and inside links through extractSafe", async () => {
    const long = `${"deep/".repeat(25)}file.txt`;
    const file = await archiveOf([
      { path: "a.txt", content: "alpha" },
      { path: "bin/run", content: "echo", mode: 0o755 },
      { path: long, content: "long" },
      { path: "link", type: "symlink", linkname: "a.txt" },
    ]);
    const dest = join(t.dir, "x");
    await mkdir(dest);
    await extractSafe(file, dest);
    expect(await readFile(join(dest, "a.txt"), "utf8")).toBe("alpha");
    expect((await lstat(join(dest, "bin/run"))).mode & 0o111).not.toBe(0);
    expect(await readFile(join(dest, long), "utf8")).toBe("long");
    expect(await readlink(join(dest, "link"))).toBe("a.txt");
  });
});

describe("extractSafe refuses", () => {
  it("entries that climb out with ..", async () => {
    expect(await extractError([{ path: "../evil.txt", content: "x" }])).toMatch(
      /'..\/evil.txt' escapes the pack/,
    );
    expect(await extractError([{ path: "a/../../evil.txt", content: "x" }])).toMatch(/escapes the pack/);
  });

  it("absolute entry paths", async () => {
    expect(await extractError([{ path: "/tmp/evil.txt", content: "x" }])).toMatch(/absolute/);
  });

  it("symlinks and hard links pointing outside", async () => {
    expect(await extractError([{ path: "l", type: "symlink", linkname: "../../etc/passwd" }])).toMatch(
      /link 'l' points outside/,
    );
    expect(await extractError([{ path: "l", type: "symlink", linkname: "/etc/passwd" }])).toMatch(
      /points outside/,
    );
    expect(await extractError([{ path: "h", type: "hardlink", linkname: "../outside" }])).toMatch(
      /hard link 'h' points outside/,
    );
  });

  it("special files, too many entries, too many bytes", async () => {
    expect(await extractError([{ path: "p", type: "fifo" }])).toMatch(/unsupported type/);
    const many = Array.from({ length: 6 }, (_, i) => ({ path: `f${i}`, content: "x" }));
    expect(await extractError(many)).toMatch(/more than 5 entries/);
    expect(await extractError([{ path: "big", content: "x".repeat(30_000) }])).toMatch(
      /more than 20000 bytes/,
    );
  });

  it("writes nothing when any entry is bad", async () => {
    const dest = join(t.dir, "out");
    await mkdir(dest);
    await expect(
      extractSafe(
        await archiveOf([
          { path: "ok.txt", content: "fine" },
          { path: "../x", content: "bad" },
        ]),
        dest,
      ),
    ).rejects.toThrow(/escapes/);
    await expect(lstat(join(dest, "ok.txt"))).rejects.toThrow();
  });

  it("garbage that is not a tar.gz", async () => {
    const file = join(t.dir, "junk.tar.gz");
    await writeFile(file, "this is not gzip");
    const dest = join(t.dir, "out");
    await mkdir(dest);
    await expect(extractSafe(file, dest)).rejects.toThrow(/not a readable \.tar\.gz|unsafe archive/);
  });
});

describe("extractSafe: modes, links and special entries (hostile archives)", () => {
  const dest = () => join(t.dir, `x-${Math.random().toString(36).slice(2)}`);

  it("never keeps setuid, setgid or sticky bits: files 0644/0755, directories 0755", async () => {
    const d = dest();
    await mkdir(d);
    await extractSafe(
      await archiveOf([
        { path: "sbin/", type: "dir", mode: 0o7777 },
        { path: "sbin/su", content: "#!/bin/sh\n", mode: 0o6755 },
        { path: "sbin/plain", content: "x", mode: 0o7666 },
      ]),
      d,
    );
    expect((await lstat(join(d, "sbin"))).mode & 0o7777).toBe(0o755);
    expect((await lstat(join(d, "sbin/su"))).mode & 0o7777).toBe(0o755);
    expect((await lstat(join(d, "sbin/plain"))).mode & 0o7777).toBe(0o644);
  });

  it("refuses sparse entries (GNU pax sparse records, and the old 'S' type)", async () => {
    expect(
      await extractError([
        { path: "disk.img", content: "data", pax: { "GNU.sparse.major": "1", "GNU.sparse.minor": "0" } },
      ]),
    ).toMatch(/sparse/);
    // An old-GNU sparse header: a file header with its type byte set to 'S' (checksum recomputed).
    const file = await archiveOf([{ path: "s", content: "x" }]);
    const { gunzipSync, gzipSync } = await import("node:zlib");
    const raw = gunzipSync(await readFile(file));
    raw.write("S", 156, "ascii");
    raw.write("        ", 148, "ascii");
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += raw[i]!;
    raw.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, "ascii");
    await writeFile(file, gzipSync(raw));
    const d = dest();
    await mkdir(d);
    await expect(extractSafe(file, d)).rejects.toThrow(/sparse/);
  });

  it("refuses a hard link to a symlink, and to anything but an earlier file", async () => {
    expect(
      await extractError([
        { path: "l", type: "symlink", linkname: "a" },
        { path: "a", content: "x" },
        { path: "h", type: "hardlink", linkname: "l" },
      ]),
    ).toMatch(/hard link 'h' points to 'l', which is a symlink/);
    expect(await extractError([{ path: "h", type: "hardlink", linkname: "later" }])).toMatch(
      /not an earlier entry/,
    );
  });

  it("writes a hard link to an earlier file as a copy of it", async () => {
    const d = dest();
    await mkdir(d);
    await extractSafe(
      await archiveOf([
        { path: "a", content: "alpha" },
        { path: "b", type: "hardlink", linkname: "a" },
      ]),
      d,
    );
    expect(await readFile(join(d, "b"), "utf8")).toBe("alpha");
    expect((await lstat(join(d, "b"))).nlink).toBe(1);
  });

  it("refuses a name that appears twice (a symlink, then a file of the same name)", async () => {
    expect(
      await extractError([
        { path: "x", type: "symlink", linkname: "y" },
        { path: "y", content: "target" },
        { path: "x", content: "overwrites whatever x points at" },
      ]),
    ).toMatch(/entry 'x' appears twice \(as a symlink and as a file\)/);
  });

  it("refuses writing through a link: an entry under a symlinked directory", async () => {
    expect(
      await extractError([
        { path: "d/", type: "dir" },
        { path: "l", type: "symlink", linkname: "d" },
        { path: "l/f", content: "x" },
      ]),
    ).toMatch(/entry 'l\/f' is inside 'l', which is a link/);
  });

  it("refuses a chain of links that leaves the pack although each looks inside", async () => {
    expect(
      await extractError([
        { path: "a", type: "symlink", linkname: "." },
        { path: "b", type: "symlink", linkname: "a/.." },
      ]),
    ).toMatch(/link 'b' points outside|escapes|outside/);
  });

  it("stops a decompression bomb at the unpacked limit, and ignores what follows the end blocks", async () => {
    const { gzipSync } = await import("node:zlib");
    const bomb = join(t.dir, "bomb.tar.gz");
    await writeFile(bomb, writeTarGz([{ path: "zeros", content: Buffer.alloc(50 << 20) }]));
    const d = dest();
    await mkdir(d);
    await expect(extractSafe(bomb, d, { maxEntries: 10, maxBytes: 1 << 20 })).rejects.toThrow(
      /archive refused: unpacks to more than 1048576 bytes/,
    );
    const tail = join(t.dir, "tail.tar.gz");
    const { gunzipSync } = await import("node:zlib");
    const tar = gunzipSync(writeTarGz([{ path: "a", content: "x" }]));
    await writeFile(tail, gzipSync(Buffer.concat([tar, Buffer.alloc(20 << 20, 0x41)])));
    const e = dest();
    await mkdir(e);
    await extractSafe(tail, e, { maxEntries: 10, maxBytes: 1 << 20 });
    expect(await readFile(join(e, "a"), "utf8")).toBe("x");
  });
});

describe("treeHash", () => {
  it("changes when a file's content changes", async () => {
    await writeFile(join(t.dir, "f"), "one");
    const a = await treeHash(t.dir);
    expect(await treeHash(t.dir)).toBe(a);
    await writeFile(join(t.dir, "f"), "two");
    expect(await treeHash(t.dir)).not.toBe(a);
  });
});
