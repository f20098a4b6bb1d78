import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { keepTypecheckState, restoreTypecheckState } from "./dependencies.js";

const dir = mkdtempSync(join(tmpdir(), "ggen-tsstate-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
const cache = { cacheDir: join(dir, "cache"), key: "k1" };

const TSCONFIG = JSON.stringify({
  compilerOptions: {
    allowJs: true,
    checkJs: true,
    noEmit: true,
    strict: true,
    types: [],
    lib: ["ES2022"],
    incremental: true,
    tsBuildInfoFile: ".ggen/tsc.tsbuildinfo",
  },
  include: ["src"],
});

/** A project as a generation writes it: every file new. */
function project(name: string, source: string): string {
  const p = join(dir, name);
  mkdirSync(join(p, "src"), { recursive: true });
  writeFileSync(join(p, "tsconfig.json"), TSCONFIG);
  writeFileSync(join(p, "package.json"), '{ "type": "module" }');
  writeFileSync(join(p, "src", "a.mjs"), source);
  writeFileSync(join(p, "src", "b.mjs"), "/** @param {number} n */\nexport const twice = (n) => n * 2;\n");
  return p;
}

const check = (p: string) => spawnSync(process.execPath, [tsc, "-b", "-v", p], { encoding: "utf8" });

describe("the type checker's state kept with the dependency set", () => {
  it("lets an unchanged project skip the check, and still checks every source whose content changed", async () => {
    const ok = 'import { twice } from "./b.mjs";\nexport const four = twice(2);\n';
    const first = project("first", ok);
    expect(await restoreTypecheckState(first, cache)).toMatchObject({ restored: false });
    const made = check(first);
    expect(made.status, made.stdout).toBe(0);
    await keepTypecheckState((await restoreTypecheckState(first, cache))!);

    const same = project("same", ok);
    expect(await restoreTypecheckState(same, cache)).toMatchObject({ restored: true });
    const again = check(same);
    expect(again.status, again.stdout).toBe(0);
    expect(again.stdout).toMatch(/is up to date/);

    // Same names, another content with a type error: the state must not hide it.
    const bad = project("bad", 'import { twice } from "./b.mjs";\nexport const four = twice("2");\n');
    expect(await restoreTypecheckState(bad, cache)).toMatchObject({ restored: true });
    const failed = check(bad);
    expect(failed.status).not.toBe(0);
    expect(failed.stdout).toMatch(/a\.mjs.*TS2345/);
  });

  it("keeps nothing for a project without an incremental tsconfig, or without a dependency set", async () => {
    const p = project("plain", "export {};\n");
    writeFileSync(join(p, "tsconfig.json"), JSON.stringify({ compilerOptions: { noEmit: true } }));
    expect(await restoreTypecheckState(p, cache)).toBeUndefined();
    expect(
      await restoreTypecheckState(project("nokey", "export {};\n"), { cacheDir: cache.cacheDir }),
    ).toBeUndefined();
    expect(existsSync(join(p, ".ggen"))).toBe(false);
  });
});
