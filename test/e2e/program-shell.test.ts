// The program shell as a user meets it, for both programs: version, help, completion, usage errors with
// suggestions (commands, subcommands, flags), one-line errors and the stack only with --debug.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const repo = join(import.meta.dirname, "..", "..");

const programs = [
  {
    name: "ggen",
    typo: "markt",
    meant: "market",
    sub: ["lifecycle", "list"],
    subTypo: ["market", "serch"],
    subMeant: "search",
    badChoice: ["ultra-fast-deploy", "--template", "t", "--name", "n", "--backend", "nope"],
  },
  {
    name: "cleanroom",
    typo: "contaner",
    meant: "container",
    sub: ["environment", "list"],
    subTypo: ["environment", "craete"],
    subMeant: "create",
    badChoice: ["test", "run", "--backend", "nope"],
  },
];

describe.each(programs)("$name program shell", (p) => {
  const bin = join(repo, "apps", p.name, "dist", "bin.js");
  const pkg = JSON.parse(readFileSync(join(repo, "apps", p.name, "package.json"), "utf8"));
  const run = (...args: string[]) =>
    spawnSync(process.execPath, [bin, ...args], { encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });

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

  it("an unknown command is a usage error: exit 2, one line, no stack", () => {
    const r = run("nosuchcommand");
    expect(r.status).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(new RegExp(`^${p.name}: error: unknown command 'nosuchcommand'`));
    expect(r.stderr).not.toMatch(/\bat \S+:\d+:\d+/);
  });

  it("a misspelt command gets a did-you-mean", () => {
    const r = run(p.typo);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`did you mean '${p.meant}'`);
  });

  it("a misspelt subcommand gets a did-you-mean from its own level", () => {
    const r = run(...p.subTypo);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`did you mean '${p.subMeant}'`);
  });

  it("a misspelt flag gets a did-you-mean, and the command does not run", () => {
    const r = run("--verbos", ...p.sub);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/unknown option '--verbos' \(did you mean '--verbose'\?\)/);
  });

  it("a value outside a flag's choices names the flag and the choices, on one line", () => {
    const r = run(...p.badChoice);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe(
      `${p.name}: error: --backend "nope": expected one of auto, local, testcontainers\n`,
    );
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
    const r = run("--cwd", "/nonexistent/dir", ...p.sub);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--cwd \/nonexistent\/dir: no such directory/);
  });

  it("completion prints a shell script", () => {
    const r = run("completion");
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/complete|compdef/);
    expect(r.stdout).toContain(p.name);
  });
});
