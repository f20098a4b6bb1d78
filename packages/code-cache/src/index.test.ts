import { execFileSync } from "node:child_process";
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { cacheFileFor, packageEntryUrl, runCached, wrapBundle } from "./index.js";

const dir = mkdtempSync(join(tmpdir(), "code-cache-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// The built entry: the child Node runs plain JavaScript (the package builds before its tests run).
const entry = join(import.meta.dirname, "..", "dist", "index.js");
/** Runs `bundle` in a fresh Node (the cache is written as that process exits) and returns what it printed. */
function runInNode(bundle: string, cacheDir: string): { cache: string; value: string } {
  const script = `import { runCached } from ${JSON.stringify(entry)};
const r = runCached(${JSON.stringify(bundle)}, { cacheDir: ${JSON.stringify(cacheDir)}, params: { __greeting: "hi" } });
console.log(JSON.stringify({ cache: r.cache, value: r.exports.value() }));`;
  const out = execFileSync(process.execPath, ["--input-type=module", "-e", script], {
    encoding: "utf8",
  });
  return JSON.parse(out.trim().split("\n").pop() as string);
}

describe("runCached", () => {
  it("runs a CommonJS bundle with require, module, __dirname and the given params", () => {
    const bundle = join(dir, "plain.cjs");
    writeFileSync(
      bundle,
      `const { join } = require("node:path");
module.exports = { where: join(__dirname, "x"), file: __filename, greet: (n) => __greeting + " " + n };`,
    );
    const r = runCached<{ where: string; file: string; greet: (n: string) => string }>(bundle, {
      params: { __greeting: "hello" },
    });
    expect(r.cache).toBe("off");
    expect(r.exports.where).toBe(join(dir, "x"));
    expect(r.exports.file).toBe(bundle);
    expect(r.exports.greet("ggen")).toBe("hello ggen");
  });

  it("writes the cache as the process exits, reads it next time, and recompiles a changed bundle", () => {
    const cacheDir = join(dir, "cache");
    const bundle = join(dir, "cached.cjs");
    writeFileSync(bundle, `module.exports = { value: () => __greeting + " one" };`);
    expect(runInNode(bundle, cacheDir)).toEqual({ cache: "miss", value: "hi one" });
    expect(readdirSync(cacheDir)).toEqual([cacheFileFor(bundle, cacheDir).split("/").pop()]);
    expect(runInNode(bundle, cacheDir)).toEqual({ cache: "hit", value: "hi one" });

    // Same length, other code (V8 alone would take the old cache for it): a new entry, the old one gone.
    writeFileSync(bundle, `module.exports = { value: () => __greeting + " two" };`);
    utimesSync(bundle, new Date(), new Date(Date.now() + 5000));
    expect(runInNode(bundle, cacheDir)).toEqual({ cache: "miss", value: "hi two" });
    expect(readdirSync(cacheDir)).toEqual([cacheFileFor(bundle, cacheDir).split("/").pop()]);
    expect(runInNode(bundle, cacheDir)).toEqual({ cache: "hit", value: "hi two" });
  });

  it("keeps one entry per bundle path: two installs sharing a cache dir do not evict each other", () => {
    const cacheDir = join(dir, "shared");
    const a = join(dir, "install-a.cjs");
    const b = join(dir, "install-b.cjs");
    for (const f of [a, b]) writeFileSync(f, `module.exports = { value: () => __greeting + " five" };`);
    expect(runInNode(a, cacheDir).cache).toBe("miss");
    expect(runInNode(b, cacheDir).cache).toBe("miss");
    expect(runInNode(a, cacheDir).cache).toBe("hit");
    expect(runInNode(b, cacheDir).cache).toBe("hit");
    expect(readdirSync(cacheDir)).toHaveLength(2);
  });

  it("runs from source when the cache is damaged, and replaces it", () => {
    const cacheDir = join(dir, "damaged");
    const bundle = join(dir, "damaged.cjs");
    writeFileSync(bundle, `module.exports = { value: () => __greeting + " three" };`);
    runInNode(bundle, cacheDir);
    const file = cacheFileFor(bundle, cacheDir);
    const good = readFileSync(file);
    writeFileSync(file, Buffer.concat([good.subarray(0, 16), Buffer.alloc(good.length - 16, 7)]));
    expect(runInNode(bundle, cacheDir)).toEqual({ cache: "rejected", value: "hi three" });
    expect(runInNode(bundle, cacheDir)).toEqual({ cache: "hit", value: "hi three" });
  });

  it("does not fail when the cache cannot be written", () => {
    const bundle = join(dir, "readonly.cjs");
    writeFileSync(bundle, `module.exports = { value: () => __greeting + " four" };`);
    const blocked = join(dir, "a-file");
    writeFileSync(blocked, "");
    // The cache dir would be inside a regular file: mkdir fails, the run does not.
    expect(runInNode(bundle, join(blocked, "cache"))).toEqual({ cache: "miss", value: "hi four" });
  });
});

describe("wrapBundle", () => {
  const code = `const { join } = require("node:path");
module.exports = { where: join(__dirname, "x"), greet: (n) => __greeting + " " + n, text: "caf\\u00e9",
  fail: () => { throw new Error("here"); } };`;
  const where = (e: unknown) => /plain\.cjs:(\d+:\d+)/.exec(String((e as Error).stack))?.[1];

  it("runs as the unwrapped bundle does: same exports, same positions in a stack", () => {
    const plain = join(dir, "wrap-a", "plain.cjs");
    const wrapped = join(dir, "wrap-b", "plain.cjs");
    mkdirSync(join(dir, "wrap-a"));
    mkdirSync(join(dir, "wrap-b"));
    writeFileSync(plain, code);
    writeFileSync(wrapped, wrapBundle(code, ["__greeting"]));
    const [a, b] = [plain, wrapped].map(
      (f) =>
        runCached<{ where: string; greet: (n: string) => string; text: string; fail: () => void }>(f, {
          params: { __greeting: "hello" },
        }).exports,
    );
    expect(b?.greet("ggen")).toBe("hello ggen");
    expect(b?.text).toBe("café");
    expect(b?.where).toBe(join(dir, "wrap-b", "x"));
    expect(a?.where).toBe(join(dir, "wrap-a", "x"));
    let fa: unknown;
    let fb: unknown;
    try {
      a?.fail();
    } catch (e) {
      fa = e;
    }
    try {
      b?.fail();
    } catch (e) {
      fb = e;
    }
    expect(where(fb)).toBe(where(fa));
    expect(where(fa)).toMatch(/^3:/);
  });

  it("refuses code that is not ASCII, and a bundle wrapped for other parameters", () => {
    expect(() => wrapBundle(`module.exports = "café";`, [])).toThrow(/not ASCII at offset 21/);
    const other = join(dir, "other-params.cjs");
    writeFileSync(other, wrapBundle("module.exports = 1;", ["__a"]));
    expect(() => runCached(other, { params: { __b: 1 } })).toThrow(
      `${other} was wrapped for other parameters than __b`,
    );
  });
});

describe("packageEntryUrl", () => {
  it("finds an installed package's entry through node_modules upwards, links resolved", () => {
    // pnpm's layout: the package lives elsewhere, node_modules/@x/lib is a link to it.
    const real = join(dir, "store", "lib");
    mkdirSync(join(real, "dist"), { recursive: true });
    writeFileSync(
      join(real, "package.json"),
      JSON.stringify({ name: "@x/lib", exports: { ".": { import: "./dist/index.js" } } }),
    );
    mkdirSync(join(dir, "app", "node_modules", "@x"), { recursive: true });
    symlinkSync(real, join(dir, "app", "node_modules", "@x", "lib"));
    mkdirSync(join(dir, "app", "dist", "deep"), { recursive: true });
    expect(packageEntryUrl("@x/lib", join(dir, "app", "dist", "deep"))).toBe(
      pathToFileURL(join(real, "dist", "index.js")).href,
    );
  });

  it("says which package it could not find", () => {
    expect(() => packageEntryUrl("@x/no-such-package", join(dir, "app"))).toThrow(/@x\/no-such-package/);
  });
});
