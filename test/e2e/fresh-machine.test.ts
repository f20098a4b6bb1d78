// A fresh machine: CI runs README's two commands and nothing else; what the project needs from the system
// is named, never found missing deep in a log. A missing package is simulated with a PATH that hides it.
import { spawnSync } from "node:child_process";
import {
  chmodSync,
  copyFileSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { pathWithout, readmeCommands, repo } from "./repo.js";

const scratch: string[] = [];
afterAll(() => {
  for (const d of scratch) rmSync(d, { recursive: true, force: true });
});
function hiding(...commands: string[]): string {
  const { path, dir } = pathWithout(commands);
  scratch.push(dir);
  return path;
}
const lines = (text: string) => text.split("\n").filter((l) => l.trim() !== "");

describe(".ci/run", () => {
  it("runs README's two commands, in order, and nothing else", () => {
    const readme = readmeCommands();
    expect(readme).toEqual(["npm run quickstart", "npm test"]);
    const script = readFileSync(join(repo, ".ci", "run"), "utf8");
    const commands = lines(script)
      .map((l) => l.trim())
      .filter((l) => !l.startsWith("#"));
    // Allowed besides the commands: strict mode, moving to the checkout, plain environment variables.
    const setup = [
      /^set -euo pipefail$/,
      /^cd "\$\(dirname "\$0"\)\/\.\."$/,
      /^export [A-Z_][A-Z0-9_]*=[\w.:/-]*$/,
    ];
    expect(commands.filter((l) => !setup.some((re) => re.test(l)))).toEqual(readme);
    expect(script).toMatch(/^export CI=true$/m);
  });
});

describe("npm test's preflight", () => {
  it("refuses before any test, one line naming each missing package and one with the command", () => {
    const r = spawnSync(process.execPath, [join(repo, "scripts", "check.mjs"), "--preflight"], {
      cwd: repo,
      encoding: "utf8",
      env: { ...process.env, PATH: hiding("redis-server", "chromium"), GGEN_ALLOW_MISSING: "" },
      timeout: 60_000,
    });
    expect(r.status, r.stderr).toBe(1);
    expect(r.stdout).toBe(""); // nothing started, nothing built
    const err = lines(r.stderr);
    expect(err[0]).toMatch(/^npm test: missing redis-server — Redis/);
    expect(err[1]).toMatch(/^npm test: missing chromium — /);
    expect(err[2]).toMatch(
      /^npm test: install with: (sudo )?apt-get install -y --no-install-recommends redis-server chromium$/,
    );
    expect(err[3]).toMatch(/^npm test: refused before any test ran/);
    expect(err).toHaveLength(4);
  });
});

describe("system packages", () => {
  it("the list parses and names PostgreSQL as the main job's one need", async () => {
    const { systemPackages } = await import("../../scripts/system-packages.mjs");
    const list = systemPackages();
    expect(list.filter((p) => p.neededBy === "main").map((p) => p.name)).toEqual(["postgresql-15"]);
    for (const name of ["redis-server", "bubblewrap", "chromium", "docker.io", "debootstrap", "iproute2"])
      expect(list.map((p) => p.name)).toContain(name);
  });

  it("not root: the command to run says sudo", () => {
    // As root, the check runs as nobody (setpriv from util-linux), from a copy nobody can read wherever the
    // checkout is; otherwise as the caller.
    const path = hiding("redis-server");
    const copy = join(path, "..");
    chmodSync(copy, 0o755);
    for (const f of ["system-packages.mjs", "system-packages.txt"])
      copyFileSync(join(repo, "scripts", f), join(copy, f));
    const argv = [process.execPath, join(copy, "system-packages.mjs"), "check"];
    const asNobody =
      process.getuid?.() === 0 ? ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] : [];
    const [cmd, ...args] = [...asNobody, ...argv];
    const r = spawnSync(cmd!, args, { encoding: "utf8", env: { ...process.env, PATH: path }, cwd: "/" });
    expect(r.status, r.stderr).toBe(1);
    // Others may be missing for nobody too (a toolchain in root's home): each is named, then one command.
    const err = lines(r.stderr);
    const named = err.slice(0, -1).map((l) => /^system packages: missing (\S+) — \S/.exec(l)?.[1]);
    expect(named).toContain("redis-server");
    expect(err.at(-1)).toBe(
      `system packages: install with: sudo apt-get install -y --no-install-recommends ${named.join(" ")}`,
    );
  });
});

describe("examples stop with one line when a prerequisite is missing", () => {
  const cases = [
    ["microservice-redis.sh", "redis-server", "redis-server"],
    ["rest-api-postgres.sh", "curl", "curl"],
    ["complete.sh", "curl", "curl"],
    ["cli-tool.sh", "cargo", "cargo"],
    ["concept-to-crate.sh", "cargo", "cargo"],
  ] as const;
  it.each(cases)("%s without %s", (script, hidden, pkg) => {
    const tmp = mkdtempSync(join(tmpdir(), "ggen-example-tmp-"));
    scratch.push(tmp);
    const r = spawnSync("bash", [join(repo, "examples", script)], {
      encoding: "utf8",
      env: { ...process.env, PATH: hiding(hidden), TMPDIR: tmp },
      timeout: 60_000,
    });
    expect(r.status).toBe(1);
    expect(r.stdout).toBe("");
    expect(lines(r.stderr)).toEqual([
      `${script}: missing ${pkg}: npm run quickstart installs it, or: ${process.getuid?.() === 0 ? "" : "sudo "}apt-get install -y --no-install-recommends ${pkg}`,
    ]);
    expect(readdirSync(tmp)).toEqual([]); // stopped before making its work dir
  });
});

it("an example whose service fails to start stops with that one line, no stack from the script", () => {
  // The report: a redis-server that exits at start ended in a JSON.parse stack from the script.
  const fake = mkdtempSync(join(tmpdir(), "ggen-fake-redis-"));
  scratch.push(fake);
  writeFileSync(join(fake, "redis-server"), "#!/bin/sh\necho cannot start >&2\nexit 1\n", { mode: 0o755 });
  const r = spawnSync("bash", [join(repo, "examples", "microservice-redis.sh")], {
    encoding: "utf8",
    env: { ...process.env, PATH: `${fake}:${process.env.PATH}`, GGEN_HOME: "", NO_COLOR: "1" },
    timeout: 240_000,
  });
  expect(r.status).toBe(1);
  expect(lines(r.stderr)).toEqual([
    expect.stringMatching(/^cleanroom: error: redis-server exited during start: cannot start/),
  ]);
});
