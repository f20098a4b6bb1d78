// The program shell as a user meets it: version, help, completion, usage errors with suggestions,
// one-line errors and the stack only with --debug. Runs the built binary.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const bin = join(import.meta.dirname, "..", "dist", "bin.js");
const pkg = JSON.parse(readFileSync(join(import.meta.dirname, "..", "package.json"), "utf8"));
const run = (...args: string[]) =>
  spawnSync(process.execPath, [bin, ...args], { encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });

describe("ggen program shell", () => {
  it("--version prints the package version", () => {
    const r = run("--version");
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe(pkg.version);
  });

  it("--help lists the commands and examples", () => {
    const r = run("--help");
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/Commands:/);
    expect(r.stdout).toMatch(/Examples:/);
    expect(r.stdout).toMatch(/--json/);
  });

  it("an unknown command is a usage error: exit 2, one line, a suggestion", () => {
    const r = run("nosuchcommand");
    expect(r.status).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/^ggen: error: unknown command 'nosuchcommand'/);
    expect(r.stderr).not.toMatch(/\bat \S+:\d+:\d+/);
  });

  it("a misspelt command gets a did-you-mean", () => {
    const word = "markt";
    const r = run(word);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/did you mean 'market'/);
  });

  it("a misspelt flag gets a did-you-mean", () => {
    const r = run("--verbos", "lifecycle", "list");
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/unknown option '--verbos' \(did you mean '--verbose'\?\)/);
  });

  it("--debug adds the stack trace", () => {
    const r = run("--debug", "nosuchcommand");
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/unknown command 'nosuchcommand'/);
    expect(r.stderr).toMatch(/\n\s+at /);
  });

  it("no command at all is a usage error", () => {
    const r = run();
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/no command given/);
  });

  it("--cwd to a missing directory is a usage error", () => {
    const r = run("--cwd", "/nonexistent/dir", "--help");
    expect([0, 2]).toContain(r.status);
    const r2 = run("--cwd", "/nonexistent/dir", "completion");
    expect(r2.status).toBe(2);
    expect(r2.stderr).toMatch(/--cwd \/nonexistent\/dir: no such directory/);
  });

  it("completion prints a shell script", () => {
    const r = run("completion");
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/complete|compdef/);
    expect(r.stdout).toMatch(/ggen/);
  });
});
