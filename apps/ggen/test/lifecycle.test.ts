// `ggen lifecycle …` as a user meets it: the built binary, real processes, real symlinks and a real
// HTTP service on 127.0.0.1. Every bad input is one line on stderr with the right exit code, and the
// state file is whole afterwards.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseToml, schemaUrl, validate } from "@ggen/contract";
import { freePort } from "@ggen/support";
import { afterAll, describe, expect, it } from "vitest";

const bin = join(import.meta.dirname, "..", "dist", "bin.js");
const dirs: string[] = [];
const cleanups: (() => void)[] = [];

afterAll(() => {
  for (const c of cleanups.splice(0)) c();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function project(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "ggen-lifecycle-cli-"));
  dirs.push(dir);
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(join(dir, rel, ".."), { recursive: true });
    writeFileSync(join(dir, rel), text);
  }
  return dir;
}

const ggen = (dir: string, ...args: string[]) =>
  spawnSync(process.execPath, [bin, "--cwd", dir, ...args], {
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1" },
    timeout: 60_000,
  });

function oneLine(r: ReturnType<typeof ggen>, status: number, pattern: RegExp): void {
  expect(r.status, r.stderr).toBe(status);
  const lines = r.stderr.trim().split("\n");
  expect(lines.filter((l) => l.startsWith("ggen: error:"))).toHaveLength(1);
  expect(lines.at(-1)).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\bat \S+:\d+:\d+\)/);
}

function stateIsWhole(dir: string): void {
  const f = join(dir, ".ggen/lifecycle-state.json");
  if (existsSync(f)) expect(JSON.parse(readFileSync(f, "utf8")).version).toBe(1);
}

async function get(url: string): Promise<string | undefined> {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(1000) });
    return `${r.status} ${await r.text()}`;
  } catch {
    return undefined;
  }
}

describe("ggen lifecycle", () => {
  it("init scaffolds a project whose phases run, cache and report", { timeout: 60_000 }, () => {
    const dir = project({});
    const init = ggen(dir, "lifecycle", "init", "--name", "shop");
    expect(init.status, init.stderr).toBe(0);
    expect(init.stdout).toContain("created make.toml");
    expect(existsSync(join(dir, ".ggen/production-requirements.yaml"))).toBe(true);
    // Editors (Taplo) find make.toml's schema from its first line; what init wrote validates against it.
    const makeToml = readFileSync(join(dir, "make.toml"), "utf8");
    expect(makeToml.split("\n")[0]).toBe(`#:schema ${schemaUrl("make-toml/v1")}`);
    const checked = validate("make-toml/v1", parseToml(makeToml, "make.toml", "X", "usage"));
    expect(checked.ok ? [] : checked.errors).toEqual([]);

    const list = ggen(dir, "lifecycle", "list", "--json");
    expect(JSON.parse(list.stdout).phases.map((p: { name: string }) => p.name)).toContain("package");

    const run = ggen(dir, "lifecycle", "run", "package", "--json");
    expect(run.status, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result.ok).toBe(true);
    expect(result.plan.waves).toContainEqual(["build", "lint"]);

    // Piped, the line per phase is --verbose's; the table on stdout says the same.
    const again = ggen(dir, "lifecycle", "run", "build", "--verbose");
    expect(again.status).toBe(0);
    expect(again.stderr).toContain("build cached (inputs unchanged)");
    expect(ggen(dir, "lifecycle", "run", "build").stdout).toMatch(/^build +cached /m);

    const show = ggen(dir, "lifecycle", "show", "build");
    expect(show.stdout).toContain("run order:  init → setup → build");

    const dry = ggen(dir, "lifecycle", "run", "deploy", "--profile", "fast", "--dry-run");
    expect(dry.status).toBe(0);
    expect(dry.stdout).toContain("skipped by profile: lint");

    const status = ggen(dir, "lifecycle", "status", "--json");
    const s = JSON.parse(status.stdout);
    expect(s.phases.find((p: { name: string }) => p.name === "build").status).toBe("cached");
    stateIsWhole(dir);
  });

  it("readiness, readiness-update and validate", { timeout: 60_000 }, () => {
    const dir = project({});
    ggen(dir, "lifecycle", "init", "--name", "shop");
    const before = JSON.parse(ggen(dir, "lifecycle", "readiness", "--json").stdout);
    expect(before.ready).toBe(false);
    const upd = ggen(dir, "lifecycle", "readiness-update", "logging", "complete");
    expect(upd.stdout.trim()).toBe("logging: unset → complete");
    const unmet = ggen(dir, "lifecycle", "readiness", "--show-unmet");
    expect(unmet.stdout).toContain("health");
    expect(unmet.stdout).not.toMatch(/^logging/m);
    oneLine(
      ggen(dir, "lifecycle", "readiness-update", "helth", "complete"),
      2,
      /unknown requirement 'helth' \(did you mean 'health'\?\)/,
    );

    writeFileSync(join(dir, "src.js"), 'const v = eval("2");\n');
    const v = ggen(dir, "lifecycle", "validate", "--check", "security", "--json");
    expect(v.status).toBe(1);
    const report = JSON.parse(v.stdout);
    expect(report.findings).toContainEqual({
      check: "security",
      severity: "error",
      message: "forbidden 'eval(' in .js source",
      file: "src.js",
      line: 1,
    });
    expect(v.stderr.trim()).toBe("ggen: error: validation failed: 1 error(s), 0 warning(s)");
  });

  it("bad input: one clear line each, and the state is never corrupted", { timeout: 60_000 }, () => {
    const dir = project({
      "make.toml": `[phases.build]\ncommand = "true"\n[phases.test]\ncommand = "true"\ndepends_on = ["build"]\n[phases.slow]\ncommand = "sleep 20"\ntimeout = 0.3\n[phases.hooked]\ncommand = "true"\n[hooks]\nbefore_hooked = "echo 'cannot prepare' >&2; exit 9"\n`,
    });
    expect(ggen(dir, "lifecycle", "run", "build").status).toBe(0);
    oneLine(
      ggen(dir, "lifecycle", "run", "tset"),
      2,
      /^ggen: error: make\.toml: unknown phase 'tset' \(did you mean 'test'\?\)$/,
    );
    oneLine(
      ggen(dir, "lifecycle", "run", "hooked"),
      1,
      /^ggen: error: make\.toml:9:1: hook before_hooked failed: .* exited with 9: cannot prepare$/,
    );
    stateIsWhole(dir);
    oneLine(
      ggen(dir, "lifecycle", "run", "slow"),
      1,
      /^ggen: error: make\.toml:6:1: phase 'slow' timed out after 300ms running 'sleep 20'$/,
    );
    stateIsWhole(dir);

    const cyc = project({
      "make.toml": `[phases.a]\ndepends_on = ["b"]\n\n[phases.b]\ndepends_on = ["a"]\n`,
    });
    oneLine(ggen(cyc, "lifecycle", "list"), 2, /^ggen: error: make\.toml:1:1: dependency cycle: a → b → a$/);

    const toml = project({ "make.toml": `[phases.build]\ncommand = "make"\ntimeout = = 3\n` });
    oneLine(ggen(toml, "lifecycle", "run", "build"), 2, /^ggen: error: make\.toml:3:\d+: invalid TOML: /);

    const yaml = project({
      "make.toml": "",
      ".ggen/production-requirements.yaml": "requirements:\n  - id: a\n    name: x\n   bad: y\n",
    });
    oneLine(
      ggen(yaml, "lifecycle", "readiness"),
      2,
      /^ggen: error: \.ggen\/production-requirements\.yaml:4:\d+: invalid YAML: /,
    );

    writeFileSync(join(dir, ".ggen/lifecycle-state.json"), "{ not json");
    oneLine(
      ggen(dir, "lifecycle", "status"),
      1,
      /corrupt: .*\(newest valid backup is \.ggen\/lifecycle-state\.json\.bak\.1; restore it with 'ggen lifecycle status --restore'\)$/,
    );
    const restored = ggen(dir, "lifecycle", "status", "--restore");
    expect(restored.status, restored.stderr).toBe(0);
    stateIsWhole(dir);
  });

  it("kill -9 in the middle of a run: status still works and the state is whole", {
    timeout: 60_000,
  }, async () => {
    const dir = project({
      "make.toml": `[phases.first]\ncommand = "echo first"\n[phases.slow]\ndepends_on = ["first"]\ncommand = "echo $$ > slow.pid; sleep 30"\n`,
    });
    const child: ChildProcess = spawn(process.execPath, [bin, "--cwd", dir, "lifecycle", "run", "slow"], {
      stdio: "ignore",
    });
    const pidFile = join(dir, "slow.pid");
    // The shell creates the file before it writes the pid into it: wait for a whole line.
    const pidIn = () =>
      existsSync(pidFile) ? /^(\d+)\n/.exec(readFileSync(pidFile, "utf8"))?.[1] : undefined;
    for (let i = 0; i < 400 && !pidIn(); i++) await new Promise((r) => setTimeout(r, 50));
    const shell = Number(pidIn());
    expect(shell).toBeGreaterThan(0);
    cleanups.push(() => {
      try {
        process.kill(-shell, "SIGKILL");
      } catch {
        // already gone
      }
    });
    child.kill("SIGKILL");
    await new Promise((r) => child.once("exit", r));

    stateIsWhole(dir);
    const status = ggen(dir, "lifecycle", "status", "--json");
    expect(status.status, status.stderr).toBe(0);
    const s = JSON.parse(status.stdout);
    expect(s.interrupted).toHaveLength(1);
    expect(s.interrupted[0]).toMatchObject({ phase: "slow", pid: child.pid });
    expect(s.phases.find((p: { name: string }) => p.name === "first").status).toBe("success");
    expect(ggen(dir, "lifecycle", "status").stdout).toContain("in phase slow");
    // The next run is not blocked by the dead one.
    writeFileSync(join(dir, "make.toml"), `[phases.first]\ncommand = "echo first"\n`);
    expect(ggen(dir, "lifecycle", "run", "first").status).toBe(0);
    const after = JSON.parse(ggen(dir, "lifecycle", "status", "--json").stdout);
    expect(after.interrupted).toEqual([]);
    const state = JSON.parse(readFileSync(join(dir, ".ggen/lifecycle-state.json"), "utf8"));
    expect(state.runs.map((r: { status: string }) => r.status)).toEqual(["interrupted", "success"]);
  });

  it("deploys a real service, verifies it, and rolls back a broken release automatically (exit 1)", {
    timeout: 90_000,
  }, async () => {
    const port = await freePort();
    const server = (body: string, status: number) =>
      `require("node:http").createServer((q, s) => { s.writeHead(${status}); s.end(${JSON.stringify(body)}); }).listen(Number(process.env.PORT), "127.0.0.1");\n`;
    const dir = project({
      "app/server.js": server("v1 healthy", 200),
      "make.toml": `
[phases.build]
command = "rm -rf dist && cp -r app dist"
[phases.deploy]
depends_on = ["build"]
[phases.verify]
[environments.production]
rollback = true
require_approval = true
[environments.production.deploy]
provider = "process"
source = "dist"
dir = "srv"
start = "node server.js"
port = ${port}
[environments.production.verify]
url = "http://127.0.0.1:${port}/health"
retries = 20
interval_ms = 100
timeout_ms = 500
`,
    });
    cleanups.push(() => void ggen(dir, "lifecycle", "stop", "--env", "production"));
    oneLine(
      ggen(dir, "lifecycle", "run", "deploy", "--env", "production"),
      2,
      /requires approval \(pass --yes/,
    );

    const first = ggen(dir, "lifecycle", "run", "deploy", "--env", "production", "--yes", "--json");
    expect(first.status, first.stderr).toBe(0);
    const releaseV1 = JSON.parse(first.stdout).deployment.releaseId;
    expect(await get(`http://127.0.0.1:${port}/health`)).toBe("200 v1 healthy");
    expect(ggen(dir, "lifecycle", "run", "verify", "--env", "production").status).toBe(0);

    writeFileSync(join(dir, "app/server.js"), server("v2 broken", 503));
    const second = ggen(dir, "lifecycle", "run", "deploy", "--env", "production", "--yes");
    // A rolled-back deployment is a failure like any other: exit 1, one error line, no stack.
    oneLine(second, 1, new RegExp(`^ggen: error: .*verify failed: .*HTTP 503 .*rolled back to ${releaseV1}`));
    expect(await get(`http://127.0.0.1:${port}/health`)).toBe("200 v1 healthy");

    const metrics = ggen(dir, "lifecycle", "metrics", "--breakdown", "--json");
    const m = JSON.parse(metrics.stdout);
    expect(m).toMatchObject({ deployments: 2, success: 1, rolledBack: 1 });
    expect(m.breakdown.map((b: { phase: string }) => b.phase)).toContain("deployment");
    const analyze = ggen(
      dir,
      "lifecycle",
      "metrics",
      "analyze",
      "--file",
      ".ggen/deployments.jsonl",
      "--trends",
    );
    expect(analyze.status, analyze.stderr).toBe(0);
    expect(analyze.stdout).toContain("TREND");
    writeFileSync(
      join(dir, "baseline.json"),
      readFileSync(join(dir, ".ggen/deployments.jsonl"), "utf8").split("\n")[0]!,
    );
    const cmp = ggen(dir, "lifecycle", "metrics", "compare", "--baseline", "baseline.json", "--json");
    expect(cmp.status, cmp.stderr).toBe(0);
    expect(JSON.parse(cmp.stdout).deltas[0].metric).toBe("total");
    const fast = {
      kind: "deployment-metrics/v1",
      deploymentId: "fast-baseline",
      timestamp: "2026-01-01T00:00:00.000Z",
      status: "success",
      totalTimeSeconds: 0.001,
      phases: { deployment: 0.001 },
      testMetrics: { totalTests: 0, passed: 0, failed: 0, durationSeconds: 0 },
      resourceUsage: { peakMemoryMb: 1, cpuPercent: 1 },
    };
    writeFileSync(join(dir, "fast.json"), JSON.stringify(fast));
    oneLine(
      ggen(dir, "lifecycle", "metrics", "compare", "--baseline", "fast.json", "--fail-on-regression"),
      1,
      /^ggen: error: \d+ metric\(s\) regressed more than 10% against fast\.json$/,
    );

    const rb = ggen(dir, "lifecycle", "rollback", "--env", "production", "--to", "nope");
    oneLine(rb, 2, /no release 'nope'/);
    const stop = ggen(dir, "lifecycle", "stop", "--env", "production");
    expect(stop.stdout.trim()).toBe("stopped");
    expect(await get(`http://127.0.0.1:${port}/health`)).toBeUndefined();
    stateIsWhole(dir);
  });
});

describe("ggen lifecycle usage", () => {
  it("a misspelt subcommand gets a did-you-mean; run needs a phase", () => {
    const dir = project({ "make.toml": `[phases.build]\ncommand = "true"\n` });
    oneLine(
      ggen(dir, "lifecycle", "lsit"),
      2,
      /^ggen: error: unknown lifecycle command 'lsit' \(did you mean 'list'\?\)/,
    );
    oneLine(ggen(dir, "lifecycle", "run"), 2, /^ggen: error: 'ggen lifecycle run' needs an argument/);
    oneLine(
      ggen(dir, "lifecycle", "run", "build", "--env", "prod"),
      2,
      /^ggen: error: make\.toml: unknown environment 'prod'/,
    );
  });
});

describe("approval on a terminal", () => {
  const hasScript = spawnSync("script", ["--version"], { encoding: "utf8" }).status === 0;
  // Skipped only without util-linux `script` (a pseudo-terminal); CI installs util-linux and runs it.
  it.skipIf(!hasScript)("asks on a TTY: 'y' deploys, 'n' does not", { timeout: 60_000 }, () => {
    const dir = project({
      "make.toml": `[phases.deploy]\n[environments.production]\nrequire_approval = true\n[environments.production.deploy]\nprovider = "command"\ncommand = "echo $GGEN_RELEASE >> deployed.txt"\n`,
    });
    // script(1) gives the command a pseudo-terminal; the answer is typed into it.
    const onTty = (answer: string) =>
      spawnSync(
        "script",
        [
          "-qec",
          `${process.execPath} ${bin} --cwd ${dir} lifecycle run deploy --env production`,
          "/dev/null",
        ],
        {
          input: `${answer}\n`,
          encoding: "utf8",
          env: { ...process.env, NO_COLOR: "1" },
          timeout: 30_000,
        },
      );
    const no = onTty("n");
    expect(no.stdout).toContain("Deploy ");
    expect(no.stdout).toContain("was not approved");
    expect(no.status).toBe(1);
    expect(existsSync(join(dir, "deployed.txt"))).toBe(false);
    const yes = onTty("y");
    expect(yes.status, yes.stdout).toBe(0);
    expect(readFileSync(join(dir, "deployed.txt"), "utf8").trim()).toMatch(/^\d{8}-\d{6}-\d{3}-[0-9a-f]{4}$/);
  });
});
