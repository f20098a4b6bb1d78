import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { dependencyKey, prefetchDependencies, prepareDependencies } from "./dependencies.js";

const dir = mkdtempSync(join(tmpdir(), "ggen-deps-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function project(name: string, manifest: object): string {
  const p = join(dir, name);
  mkdirSync(p, { recursive: true });
  writeFileSync(join(p, "package.json"), JSON.stringify(manifest));
  return p;
}

describe("dependencyKey", () => {
  it("depends on the dependency set only, not on its order or the rest of package.json", () => {
    const a = dependencyKey({ name: "a", dependencies: { pg: "^8.11.0", ms: "^2.0.0" } });
    const b = dependencyKey({ name: "b", version: "2.0.0", dependencies: { ms: "^2.0.0", pg: "^8.11.0" } });
    expect(a).toMatch(/^[0-9a-f]{24}$/);
    expect(b).toBe(a);
    expect(dependencyKey({ dependencies: { pg: "^8.12.0", ms: "^2.0.0" } })).not.toBe(a);
    expect(dependencyKey({ dependencies: { pg: "^8.11.0" }, devDependencies: { ms: "^2.0.0" } })).not.toBe(a);
  });

  it("is undefined when nothing is declared", () => {
    expect(dependencyKey({ name: "x" })).toBeUndefined();
    expect(dependencyKey({ dependencies: {}, devDependencies: {} })).toBeUndefined();
  });
});

describe("prepareDependencies", () => {
  const signal = new AbortController().signal;

  it("copies the prepared tree for the dependency set into the project, leaving no temp dirs", async () => {
    const manifest = { name: "svc", dependencies: { "left-pad": "^1.3.0" } };
    const cacheDir = join(dir, "cache");
    const entry = join(cacheDir, dependencyKey(manifest)!, "node_modules", "left-pad");
    mkdirSync(entry, { recursive: true });
    writeFileSync(join(entry, "index.js"), "module.exports = 1;\n");
    const p = project("svc", manifest);
    expect(await prepareDependencies(p, { cacheDir, signal })).toEqual({
      source: "cache",
      key: dependencyKey(manifest),
    });
    expect(readFileSync(join(p, "node_modules", "left-pad", "index.js"), "utf8")).toBe(
      "module.exports = 1;\n",
    );
    expect(readdirSync(p).sort()).toEqual(["node_modules", "package.json"]);
    // The prepared tree stays for the next run.
    expect(existsSync(join(entry, "index.js"))).toBe(true);
  });

  it("leaves a project alone that has node_modules or declares nothing", async () => {
    const cacheDir = join(dir, "cache-untouched");
    const has = project("has", { dependencies: { pg: "^8.0.0" } });
    mkdirSync(join(has, "node_modules"));
    expect(await prepareDependencies(has, { cacheDir, signal })).toEqual({ source: "none" });
    const none = project("none", { name: "none" });
    expect(await prepareDependencies(none, { cacheDir, signal })).toEqual({ source: "none" });
    expect(existsSync(cacheDir)).toBe(false);
  });

  /** Runs `fn` with an npm that logs its runs to `log` and installs one package of its own: no registry. */
  async function withFakeNpm(fn: (log: string) => Promise<void>): Promise<void> {
    const bin = join(dir, "fake-npm");
    const log = join(dir, "npm-runs.log");
    rmSync(log, { force: true });
    mkdirSync(bin, { recursive: true });
    writeFileSync(
      join(bin, "npm"),
      `#!/bin/sh\necho run >> "${log}"\nsleep 0.2\nmkdir -p node_modules/fake && echo 'module.exports = 2;' > node_modules/fake/index.js\n`,
    );
    chmodSync(join(bin, "npm"), 0o755);
    const path = process.env.PATH;
    process.env.PATH = `${bin}:${path}`;
    try {
      await fn(log);
    } finally {
      process.env.PATH = path;
    }
  }

  it("joins an install started early from package.json's text instead of installing again", () =>
    withFakeNpm(async (log) => {
      const manifest = { name: "early", dependencies: { fake: "^1.0.0" } };
      const cacheDir = join(dir, "cache-early");
      const early = prefetchDependencies(JSON.stringify(manifest), { cacheDir, signal });
      const p = project("early", manifest);
      expect(await prepareDependencies(p, { cacheDir, signal })).toEqual({
        source: "install",
        key: dependencyKey(manifest),
      });
      await early;
      expect(readFileSync(log, "utf8").trim().split("\n")).toEqual(["run"]);
      expect(readFileSync(join(p, "node_modules", "fake", "index.js"), "utf8")).toBe("module.exports = 2;\n");
      expect(readdirSync(cacheDir)).toEqual([dependencyKey(manifest)]);
      // Kept: the next project with the set copies it.
      const next = project("next", manifest);
      expect((await prepareDependencies(next, { cacheDir, signal })).source).toBe("cache");
      expect(readFileSync(log, "utf8").trim().split("\n")).toEqual(["run"]);
    }));

  it("starts the install before returning: a caller busy with synchronous work does not hold it back", () =>
    withFakeNpm(async () => {
      const manifest = { name: "now", dependencies: { fake: "^1.0.0" } };
      const cacheDir = join(dir, "cache-now");
      const started = prefetchDependencies(JSON.stringify(manifest), { cacheDir, signal });
      // Nothing awaited yet: the install's scratch dir and its package.json are there (npm is started
      // right after them, in the same turn).
      const scratch = readdirSync(cacheDir);
      expect(scratch).toEqual([expect.stringMatching(new RegExp(`^\\.tmp-${dependencyKey(manifest)}-`))]);
      expect(JSON.parse(readFileSync(join(cacheDir, scratch[0]!, "package.json"), "utf8"))).toMatchObject({
        dependencies: { fake: "^1.0.0" },
      });
      await started;
      expect(readdirSync(cacheDir)).toEqual([dependencyKey(manifest)]);
    }));
});
