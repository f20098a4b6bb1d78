// Service socket dirs: a path too deep for a unix socket gets a short temp dir, and removing the
// instance takes that temp dir with it (nothing is left in the temp dir).
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readlinkSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { removeInstanceDir, removeInstanceDirAsync, socketDirFor } from "./fs.js";

const scratch: string[] = [];
afterEach(() => {
  for (const d of scratch.splice(0)) rmSync(d, { recursive: true, force: true });
});

function deepInstance(): string {
  const root = mkdtempSync(join(tmpdir(), "ggen-fs-test-"));
  scratch.push(root);
  const dir = join(root, "a-directory-name-long-enough".repeat(4), "services", "redis-1");
  mkdirSync(dir, { recursive: true }); // as the services make theirs
  return dir;
}

describe("socketDirFor", () => {
  it("keeps a short path inside the instance dir", () => {
    const root = mkdtempSync(join(tmpdir(), "s-"));
    scratch.push(root);
    expect(socketDirFor(join(root, "r"))).toBe(join(root, "r", "socket"));
  });

  it("links a deep one to a short temp dir, which removeInstanceDir (sync or async) removes", async () => {
    for (const remove of [removeInstanceDir, removeInstanceDirAsync]) {
      const dir = deepInstance();
      const short = socketDirFor(dir);
      expect(short.length).toBeLessThan(60);
      expect(lstatSync(join(dir, "socket")).isSymbolicLink()).toBe(true);
      expect(readlinkSync(join(dir, "socket"))).toBe(short);
      await remove(dir);
      expect(existsSync(short)).toBe(false);
      expect(existsSync(dir)).toBe(false);
    }
  });
});
