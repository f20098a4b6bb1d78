import { spawnSync } from "node:child_process";
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  closest,
  didYouMean,
  editDistance,
  fingerprint,
  fingerprintAfter,
  freePort,
  GgenError,
  isInside,
  parseKeyValues,
  redactRecord,
  redactText,
  redactUrl,
  resolveInside,
  sha256,
  sha256File,
  sha256FileSync,
  staysInside,
  tempPathFor,
  which,
  writeFileAtomic,
  writeFileAtomicSync,
} from "./index.js";

const scratch = mkdtempSync(join(tmpdir(), "ggen-support-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("writeFileAtomic", () => {
  it("writes the content, makes the directory, and leaves no temp file", async () => {
    const f = join(scratch, "a", "b", "out.txt");
    await writeFileAtomic(f, "hello");
    expect(readFileSync(f, "utf8")).toBe("hello");
    writeFileAtomicSync(f, "again", { fsync: false });
    expect(readFileSync(f, "utf8")).toBe("again");
    expect(readdirSync(join(scratch, "a", "b"))).toEqual(["out.txt"]);
  });
  it("applies an exact mode, whatever the umask", async () => {
    const f = join(scratch, "mode.sh");
    const old = process.umask(0o077);
    try {
      await writeFileAtomic(f, "#!/bin/sh\n", { mode: 0o755 });
      expect(statSync(f).mode & 0o777).toBe(0o755);
      writeFileAtomicSync(f, "#!/bin/sh\n", { mode: 0o640 });
      expect(statSync(f).mode & 0o777).toBe(0o640);
    } finally {
      process.umask(old);
    }
  });
  it("removes its temp file when the rename fails, and keeps the old content", async () => {
    const dir = join(scratch, "fail");
    mkdirSync(join(dir, "target"), { recursive: true }); // a directory where the file should go
    await expect(writeFileAtomic(join(dir, "target"), "x")).rejects.toThrow();
    expect(() => writeFileAtomicSync(join(dir, "target"), "x")).toThrow();
    expect(readdirSync(dir)).toEqual(["target"]);
  });
  it("gives concurrent writers distinct temp files; the last rename wins whole", async () => {
    const f = join(scratch, "race.txt");
    const bodies = Array.from({ length: 20 }, (_, i) => String(i).repeat(10_000));
    await Promise.all(bodies.map((b) => writeFileAtomic(f, b)));
    expect(bodies).toContain(readFileSync(f, "utf8"));
    expect(readdirSync(scratch).filter((n) => n.endsWith(".tmp"))).toEqual([]);
  });
});

describe("containment", () => {
  it("tells inside from outside, lexically", () => {
    expect(isInside("/a/b", "/a/b")).toBe(true);
    expect(isInside("/a/b", "/a/b/c")).toBe(true);
    expect(isInside("/a/b", "/a/bc")).toBe(false);
    expect(isInside("/a/b", "/a")).toBe(false);
    expect(isInside("/a/b", "/a/b/../c")).toBe(false);
  });
  it("follows symlinks: a link inside the root that points out is outside", () => {
    const root = join(scratch, "root");
    mkdirSync(root, { recursive: true });
    symlinkSync(tmpdir(), join(root, "out"));
    expect(staysInside(root, join(root, "ok", "new.txt"))).toBe(true);
    expect(staysInside(root, join(root, "out", "x"))).toBe(false);
    expect(() => resolveInside(root, "out/x", { what: "template output" })).toThrow(
      /template output 'out\/x' is outside/,
    );
    expect(() => resolveInside(root, "../x")).toThrow(GgenError);
    expect(resolveInside(root, "ok/new.txt")).toBe(join(root, "ok", "new.txt"));
  });
});

describe("sha256", () => {
  it("hashes strings, bytes and files alike", async () => {
    const known = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";
    expect(sha256("hello")).toBe(known);
    expect(sha256(Buffer.from("hello"))).toBe(known);
    const f = join(scratch, "h.txt");
    writeFileAtomicSync(f, "hello");
    expect(sha256FileSync(f)).toBe(known);
    expect(await sha256File(f)).toBe(known);
    await expect(sha256File(join(scratch, "missing"))).rejects.toThrow(/ENOENT/);
  });
});

describe("fingerprint", () => {
  it("is 16 hex digits, the same for the same text and different for texts that differ by one bit", () => {
    expect(fingerprint("{{name}}")).toMatch(/^[0-9a-f]{16}$/);
    expect(fingerprint("{{name}}")).toBe(fingerprint("{{name}}"));
    const names = new Set(["a", "b", "ab", "ba", "", "{{name}}", "{{nam}}", "{{namf}}"].map(fingerprint));
    expect(names.size).toBe(8);
  });

  it("after a prefix, is the fingerprint of prefix and text together (the prefix hashed once)", () => {
    const after = fingerprintAfter("4.7\u0000camel\u0000");
    expect(after("text{{name}}")).toBe(fingerprint("4.7\u0000camel\u0000text{{name}}"));
    // The values the entries on disk are named by (the lanes' constants unchanged).
    expect(fingerprint("{{name}}")).toBe("cccf658601bce004");
    expect(after("text{{name}}")).toBe("0cb4b492f2a320be");
    expect(after("")).toBe(fingerprint("4.7\u0000camel\u0000"));
  });
});

describe("tempPathFor", () => {
  it("names a hidden file beside the target, never the same twice in a process", () => {
    const target = join(scratch, "dir", "out.txt");
    const names = Array.from({ length: 1000 }, () => tempPathFor(target));
    expect(new Set(names).size).toBe(1000);
    for (const n of names.slice(0, 3)) {
      expect(dirname(n)).toBe(join(scratch, "dir"));
      expect(basename(n)).toMatch(new RegExp(`^\\.out\\.txt\\.${process.pid}\\.[0-9a-z]+\\.tmp$`));
    }
  });
});

describe("redaction", () => {
  it("hides secret-looking names and URL passwords", () => {
    expect(
      redactRecord({ DB_PASSWORD: "hunter2", API_TOKEN: "t", name: "shop", url: "postgres://u:pw@h/db" }),
    ).toEqual({
      DB_PASSWORD: "***",
      API_TOKEN: "***",
      name: "shop",
      url: "postgres://u:***@h/db",
    });
    expect(redactUrl("a redis://:s3cret@127.0.0.1:6379 b postgres://x:y@h/d")).toBe(
      "a redis://:***@127.0.0.1:6379 b postgres://x:***@h/d",
    );
    expect(redactText("login hunter2 ok; pw=hunter2", ["hunter2", "a"])).toBe("login *** ok; pw=***");
  });
});

describe("suggestions", () => {
  it("measures edit distance, a swap of neighbours as one edit", () => {
    expect(editDistance("kitten", "sitting")).toBe(3);
    expect(editDistance("", "abc")).toBe(3);
    expect(editDistance("same", "same")).toBe(0);
    expect(editDistance("tset", "test")).toBe(1);
  });
  it("suggests the closest candidate within reach, and nothing for a far word", () => {
    expect(closest("biuld", ["build", "test", "deploy"])).toBe("build");
    expect(closest("dep", ["build", "deploy"])).toBe("deploy");
    expect(closest("zzzzzz", ["build", "test"])).toBeUndefined();
    expect(didYouMean("tset", ["test"])).toBe(" (did you mean 'test'?)");
    expect(didYouMean("qqqq", ["test"])).toBe("");
  });
});

describe("freePort", () => {
  it("returns a port that can be listened on", async () => {
    const port = await freePort();
    expect(port).toBeGreaterThan(0);
    await new Promise<void>((res, rej) => {
      const s = createServer();
      s.once("error", rej);
      s.listen(port, "127.0.0.1", () => s.close(() => res()));
    });
  });
});

describe("parseKeyValues", () => {
  it("parses pairs in order; values may hold '=' or be empty", () => {
    expect(parseKeyValues(["a=1", "b=x=y", "c=", " d =2", "a=3"], { flag: "--vars" })).toEqual({
      a: "3",
      b: "x=y",
      c: "",
      d: "2",
    });
  });
  it("refuses a pair without a key, as a usage error naming the flag", () => {
    for (const bad of ["novalue", "=x", " =x"]) {
      try {
        parseKeyValues([bad], { flag: "--vars", example: "name=shop" });
        expect.unreachable();
      } catch (e) {
        expect(e).toBeInstanceOf(GgenError);
        expect((e as GgenError).exitCode).toBe(2);
        expect((e as GgenError).toLine()).toBe(`--vars '${bad}': expected key=value (e.g. --vars name=shop)`);
      }
    }
  });
});

describe("which", () => {
  it("finds what the shell's `command -v` finds: an executable file on PATH, in PATH's order", () => {
    const dir = join(scratch, "which");
    for (const d of ["a", "b"]) mkdirSync(join(dir, d), { recursive: true });
    writeFileSync(join(dir, "a", "tool"), "#!/bin/sh\n"); // not executable: skipped
    writeFileSync(join(dir, "b", "tool"), "#!/bin/sh\n");
    chmodSync(join(dir, "b", "tool"), 0o755);
    mkdirSync(join(dir, "a", "dir-tool")); // a directory is no command
    const env = { PATH: [join(dir, "a"), join(dir, "b")].join(":") };
    expect(which("tool", env)).toBe(join(dir, "b", "tool"));
    expect(which("dir-tool", env)).toBeUndefined();
    expect(which("nothing-here", env)).toBeUndefined();
    expect(which("b/tool", env)).toBeUndefined(); // a name, not a path
    for (const name of ["tool", "dir-tool", "nothing-here"]) {
      const sh = spawnSync("/bin/sh", ["-c", `command -v ${name}`], { env, encoding: "utf8" });
      expect(which(name, env) ?? "").toBe(sh.stdout.trim());
    }
  });
});
