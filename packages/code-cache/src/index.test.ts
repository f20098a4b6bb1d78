import { spawnSync } from "node:child_process";
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
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
function runInNode(
  bundle: string,
  cacheDir: string,
  exitCode = 0,
  env: Record<string, string> = {},
): { cache: string; value: string } {
  const script = `import { createRequire } from "node:module";
import { runCached } from ${JSON.stringify(entry)};
const bundle = ${JSON.stringify(bundle)};
const r = runCached(bundle, { require: createRequire(bundle), cacheDir: ${JSON.stringify(cacheDir)}, params: { __greeting: "hi" } });
console.log(JSON.stringify({ cache: r.cache, value: r.exports.value() }));
process.exitCode = ${exitCode};`;
  const run = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
    encoding: "utf8",
    env: { ...process.env, ...env },
  });
  expect(run.status).toBe(exitCode);
  return JSON.parse(run.stdout.trim().split("\n").pop() as string);
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
      require: createRequire(bundle),
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
    const entry = cacheFileFor(bundle, cacheDir).split("/").pop()!;
    expect(runInNode(bundle, cacheDir)).toEqual({ cache: "miss", value: "hi one" });
    // The first run's entry is provisional; the run that reads it first settles it, with what it compiled.
    expect(readdirSync(cacheDir)).toEqual([entry.replace(/\.v8$/, ".1.v8")]);
    expect(runInNode(bundle, cacheDir)).toEqual({ cache: "hit", value: "hi one" });
    expect(readdirSync(cacheDir)).toEqual([entry]);
    const settled = statSync(join(cacheDir, entry)).mtimeMs;
    expect(runInNode(bundle, cacheDir)).toEqual({ cache: "hit", value: "hi one" });
    expect(statSync(join(cacheDir, entry)).mtimeMs).toBe(settled);

    // Same length, other code (V8 alone would take the old cache for it): a new entry, the old one gone.
    writeFileSync(bundle, `module.exports = { value: () => __greeting + " two" };`);
    utimesSync(bundle, new Date(), new Date(Date.now() + 5000));
    expect(runInNode(bundle, cacheDir)).toEqual({ cache: "miss", value: "hi two" });
    expect(runInNode(bundle, cacheDir)).toEqual({ cache: "hit", value: "hi two" });
    expect(readdirSync(cacheDir)).toEqual([cacheFileFor(bundle, cacheDir).split("/").pop()]);
  });

  it("settles with what the second run compiled beyond the first", () => {
    const cacheDir = join(dir, "second");
    const bundle = join(dir, "second.cjs");
    // Two paths: the first run takes one, the second the other (its functions compiled only then).
    const fns = (p: string) =>
      Array.from(
        { length: 40 },
        (_, i) => `function ${p}${i}(x) { return [x, ${i}, "${p}"].join("-"); }`,
      ).join("\n");
    writeFileSync(
      bundle,
      `${fns("a")}\n${fns("b")}\nconst all = { a: [${Array.from({ length: 40 }, (_, i) => `a${i}`)}], b: [${Array.from({ length: 40 }, (_, i) => `b${i}`)}] };
module.exports = { value: () => all[process.env.PART].map((f) => f(__greeting)).length };`,
    );
    const entry = cacheFileFor(bundle, cacheDir);
    expect(runInNode(bundle, cacheDir, 0, { PART: "a" }).value).toBe(40);
    const first = statSync(entry.replace(/\.v8$/, ".1.v8")).size;
    expect(runInNode(bundle, cacheDir, 0, { PART: "b" })).toEqual({ cache: "hit", value: 40 });
    expect(statSync(entry).size).toBeGreaterThan(first);
  });

  it("writes no cache from a run that fails: it stopped early, and its cache would miss what a full run compiles", () => {
    const cacheDir = join(dir, "failing");
    const bundle = join(dir, "failing.cjs");
    writeFileSync(bundle, `module.exports = { value: () => __greeting + " six" };`);
    expect(runInNode(bundle, cacheDir, 2)).toEqual({ cache: "miss", value: "hi six" });
    expect(runInNode(bundle, cacheDir, 1)).toEqual({ cache: "miss", value: "hi six" });
    expect(runInNode(bundle, cacheDir)).toEqual({ cache: "miss", value: "hi six" });
    expect(runInNode(bundle, cacheDir, 1)).toEqual({ cache: "hit", value: "hi six" });
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
          require: createRequire(f),
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
    expect(() => runCached(other, { require: createRequire(other), params: { __b: 1 } })).toThrow(
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
