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
    await extractSafe(await archiveOf(entries), dest, { maxEntries: 5, maxBytes: 1000 });
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
    expect(await extractError([{ path: "big", content: "x".repeat(2000) }])).toMatch(/more than 1000 bytes/);
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

describe("treeHash", () => {
  it("changes when a file's content changes", async () => {
    await writeFile(join(t.dir, "f"), "one");
    const a = await treeHash(t.dir);
    expect(await treeHash(t.dir)).toBe(a);
    await writeFile(join(t.dir, "f"), "two");
    expect(await treeHash(t.dir)).not.toBe(a);
  });
});
