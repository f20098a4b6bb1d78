// `ggen pack test` through the built program: every bundled pack's golden tests pass (this is how CI
// runs them), and a pack whose output drifted fails with a unified diff, exit 1 — --json too.
import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const repo = join(import.meta.dirname, "..", "..", "..");
const bin = join(repo, "apps", "ggen", "dist", "bin.js");
const run = (cwd: string, ...args: string[]) =>
  spawnSync(process.execPath, [bin, ...args], {
    cwd,
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1" },
  });

const packsDir = join(repo, "fixtures", "registry", "packs");
const bundled = [
  ...readdirSync(packsDir).map((d) => join("fixtures", "registry", "packs", d)),
  join("fixtures", "templates"),
];

const tmp = mkdtempSync(join(tmpdir(), "ggen-pack-test-cli-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("ggen pack test on every bundled pack", () => {
  for (const dir of bundled) {
    it(dir, () => {
      const r = run(repo, "pack", "test", dir);
      expect(r.stderr).toBe("");
      expect(r.stdout).toMatch(/case\(s\) passed\n$/);
      expect(r.status).toBe(0);
    });
  }
});

describe("ggen pack test", () => {
  const copy = () => {
    const d = mkdtempSync(join(tmp, "pack-"));
    cpSync(join(packsDir, "io.ggen.docs"), d, { recursive: true });
    return d;
  };

  it("a drifted output fails with a unified diff and exit 1; --update accepts it", () => {
    const d = copy();
    const tpl = join(d, "templates", "README.md.tmpl");
    writeFileSync(tpl, readFileSync(tpl, "utf8").replace("## Install", "## Installation"));
    const r = run(d, "pack", "test", "--case", "defaults");
    expect(r.status).toBe(1);
    expect(r.stdout).toContain("FAIL    defaults");
    expect(r.stdout).toContain("--- expected/README.md");
    expect(r.stdout).toContain("-## Install\n+## Installation");
    expect(r.stdout).toContain("1 of 1 case(s) failed");
    const j = run(d, "pack", "test", "--json");
    expect(j.status).toBe(1);
    const report = JSON.parse(j.stdout);
    expect(report.ok).toBe(false);
    expect(report.cases.filter((c: { ok: boolean }) => !c.ok).map((c: { name: string }) => c.name)).toEqual([
      "custom-vars",
      "defaults",
    ]);
    expect(run(d, "pack", "test", "--update").status).toBe(0);
    expect(readFileSync(join(d, "tests", "defaults", "expected", "README.md"), "utf8")).toContain(
      "## Installation",
    );
    expect(run(d, "pack", "test").status).toBe(0);
  });

  it("a missing or extra file, and an expected error that no longer happens, fail", () => {
    const d = copy();
    rmSync(join(d, "tests", "defaults", "expected", "CHANGELOG.md"));
    writeFileSync(join(d, "tests", "defaults", "expected", "NOTES.md"), "x\n");
    writeFileSync(join(d, "tests", "bad-vars", "vars.yaml"), "description: one line\n");
    const r = run(d, "pack", "test");
    expect(r.status).toBe(1);
    expect(r.stdout).toContain("extra: CHANGELOG.md (generated, not expected)");
    expect(r.stdout).toContain("missing: NOTES.md (expected, not generated)");
    expect(r.stdout).toContain("+(generated without an error)");
  });

  it("refuses a directory that is not a pack (exit 2) and a pack without tests (exit 1)", () => {
    const empty = mkdtempSync(join(tmp, "empty-"));
    const notPack = run(empty, "pack", "test");
    expect(notPack.status).toBe(2);
    expect(notPack.stderr).toMatch(/is not a pack \(no ggen.toml\)/);
    writeFileSync(join(empty, "ggen.toml"), '[pack]\nid = "x.y"\nversion = "1.0.0"\n');
    const none = run(empty, "pack", "test");
    expect(none.status).toBe(1);
    expect(none.stderr).toMatch(/has no test cases/);
    expect(run(copy(), "pack", "test", "--case", "nope").status).toBe(2);
  });
});
