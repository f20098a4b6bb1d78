// `ggen lifecycle` on hostile input: output floods and endless lines, timers past Node's clamp, phases
// escaping with setsid, kill -9 in the middle of a deploy, bad shapes in make.toml, the state, metrics
// files, flags and .ggen/*.toml. Each case: the right exit code, one clean line, nothing outside the
// project, nothing left running or locked, and the ordinary command after it working.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { bins, expectRefused, run, Sandbox } from "./harness.js";

const boxes: Sandbox[] = [];
afterAll(() => {
  for (const b of boxes) b.dispose();
});

const OK_PHASE = `[phases.ok]\ncommand = "echo fine"\n`;

/** A project with `files`, and an ordinary phase `ok` that must keep working after each case. */
function sandbox(name: string, files: Record<string, string | Buffer>): Sandbox {
  const box = new Sandbox(`lifecycle-${name}`);
  boxes.push(box);
  const all = { "make.toml": "", ...files };
  all["make.toml"] = `${OK_PHASE}${all["make.toml"]}`;
  for (const [rel, text] of Object.entries(all)) {
    mkdirSync(join(box.root, rel, ".."), { recursive: true });
    writeFileSync(join(box.root, rel), text);
  }
  return box;
}

const ggen = (box: Sandbox, args: string[], env: NodeJS.ProcessEnv = {}, limitMs = 60_000) =>
  run("ggen", ["lifecycle", ...args], { cwd: box.root, env: { CI: "", ...env }, limitMs });

/** Nothing outside, nothing left behind, and the ordinary command works (quickly: no stale lock wait). */
async function afterwards(box: Sandbox): Promise<void> {
  box.check();
  const ok = await ggen(box, ["run", "ok"], {}, 20_000);
  expect(ok.code, ok.stderr).toBe(0);
  box.check();
}

describe("lifecycle: output and time", () => {
  it("one 200 MB line is cut, in linear time, and the log stays small", async () => {
    const box = sandbox("long-line", {
      "make.toml": `[phases.line]\ncommand = "head -c 200000000 /dev/zero | tr '\\\\0' a; echo"\n`,
    });
    const r = await ggen(box, ["run", "line"], {}, 90_000);
    expect(r.code, r.stderr).toBe(0);
    const log = join(box.root, ".ggen/logs/line.log");
    expect(statSync(log).size).toBeLessThan(2 * 1024 * 1024);
    expect(readFileSync(log, "utf8")).toContain("more characters cut]");
    await afterwards(box);
  });

  it("a phase flooding stdout is stopped by its timeout: one line, nothing left, a bounded log", async () => {
    const box = sandbox("flood", { "make.toml": `[phases.flood]\ncommand = "yes flood"\ntimeout = "2s"\n` });
    const r = await ggen(box, ["run", "flood"]);
    expectRefused(r, 1);
    expect(r.stderr).toContain("phase 'flood' timed out after 2s");
    expect(statSync(join(box.root, ".ggen/logs/flood.log")).size).toBeLessThan(2 * 1024 * 1024);
    await afterwards(box);
  });

  it("a timeout of 31 days does not fire at once", async () => {
    const box = sandbox("long-timeout", {
      "make.toml": `[phases.wait]\ncommand = "sleep 1; echo waited"\ntimeout = 2678400\n`,
    });
    const r = await ggen(box, ["run", "wait"]);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(join(box.root, ".ggen/logs/wait.log"), "utf8")).toBe("waited\n");
    await afterwards(box);
  });

  it("a phase escaping with setsid does not survive its timeout", async () => {
    const box = sandbox("setsid", {
      "make.toml": `[phases.escape]\ncommand = "setsid sh -c 'sleep 600' >/dev/null 2>&1 & sh -c 'setsid sleep 601 >/dev/null 2>&1 &'; sleep 600"\ntimeout = "1s"\n`,
    });
    expectRefused(await ggen(box, ["run", "escape"]), 1);
    // Sandbox.check(): no process works under the project any more.
    await afterwards(box);
  });
});

describe("lifecycle: kill -9 in the middle of a deploy", () => {
  it("the next deploy takes the dead owner's lock at once and leaves nothing staged", async () => {
    const box = sandbox("kill-deploy", {
      "make.toml": `[phases.deploy]\n[environments.development.deploy]\nprovider = "release-dir"\nsource = "dist"\n`,
    });
    const chunk = Buffer.alloc(2 * 1024 * 1024, 7);
    mkdirSync(join(box.root, "dist"));
    for (let i = 0; i < 60; i++) writeFileSync(join(box.root, "dist", `blob-${i}`), chunk);
    const releases = join(box.root, ".ggen/deploy/development/releases");
    const child = spawn(process.execPath, [bins.ggen, "lifecycle", "run", "deploy"], {
      cwd: box.root,
      stdio: "ignore",
    });
    let sawCopy = false;
    for (let i = 0; i < 2000 && !sawCopy; i++) {
      sawCopy = existsSync(releases) && readdirSync(releases).some((e) => e.endsWith(".partial"));
      if (!sawCopy) await new Promise((r) => setTimeout(r, 5));
    }
    child.kill("SIGKILL");
    await new Promise((r) => child.once("close", r));
    expect(sawCopy, "the copy was caught in the middle").toBe(true);
    expect(existsSync(join(box.root, ".ggen/deploy-development.lock"))).toBe(true);

    const next = await ggen(box, ["run", "deploy"], {}, 30_000);
    expect(next.code, next.stderr).toBe(0);
    expect(next.stderr).not.toMatch(/^\s+at /m);
    expect(readdirSync(releases).filter((e) => e.startsWith("."))).toEqual([]);
    await afterwards(box);
  });

  it("a deploy while another (live) one holds the lock is one line, at once", async () => {
    const box = sandbox("busy-deploy", {
      "make.toml": `[phases.deploy]\n[environments.development.deploy]\nprovider = "command"\ncommand = "true"\n`,
    });
    // A live owner: this test's own process.
    mkdirSync(join(box.root, ".ggen"), { recursive: true });
    const start = readFileSync(`/proc/${process.pid}/stat`, "utf8").split(") ")[1]!.split(" ")[19];
    const { hostname } = await import("node:os");
    const lock = join(box.root, ".ggen/deploy-development.lock");
    writeFileSync(lock, JSON.stringify({ pid: process.pid, start, host: hostname(), since: "now" }));
    const r = await ggen(box, ["run", "deploy"], {}, 20_000);
    expectRefused(r, 1);
    expect(r.stderr).toMatch(/the deploy of 'development' is locked by process \d+/);
    const { rmSync } = await import("node:fs");
    rmSync(lock);
    await afterwards(box);
  });
});

describe("lifecycle: bad shapes and flags", () => {
  it.each([
    ["missing", `cwd = "nowhere"`, "phases.where.cwd 'nowhere' does not exist"],
    ["absolute", `cwd = "/tmp"`, "phases.where.cwd '/tmp' must be relative to the project"],
    ["outside", `cwd = "../outside"`, "phases.where.cwd '../outside' leads outside the project"],
  ])("a phase cwd that is %s: one line, exit 2", async (name, cwd, message) => {
    const box = sandbox(`cwd-${name}`, { "make.toml": `[phases.where]\ncommand = "touch ran"\n${cwd}\n` });
    const r = await ggen(box, ["run", "where"]);
    expectRefused(r, 2);
    expect(r.stderr).toContain(message);
    expect(existsSync(join(box.root, "ran"))).toBe(false);
    writeFileSync(join(box.root, "make.toml"), OK_PHASE);
    await afterwards(box);
  });

  it.each(["0", "-3", "1.5", "many"])("--jobs %s: usage error", async (jobs) => {
    const box = sandbox(`jobs${jobs}`, {});
    const r = await ggen(box, ["run", "ok", `--jobs=${jobs}`]);
    expectRefused(r, 2);
    expect(r.stderr).toContain(`--jobs "${jobs}": expected a whole number of phases, 1 or more`);
    await afterwards(box);
  });

  it.each([
    ["a table", `[phases.x]\ncommand = "true"\nsh_before = { run = "id" }\n`],
    ["a number", `sh_before = 5\n`],
    ["a hook of tables", `[hooks]\nbefore_ok = [{ run = "id" }]\n`],
    ["a command of tables", `[phases.x]\ncommand = [{ run = "id" }]\n`],
  ])("a non-string shell hook or command in make.toml (%s) is refused at parse", async (_, toml) => {
    const box = sandbox("sh-before", { "make.toml": toml });
    const r = await ggen(box, ["run", "ok"]);
    expectRefused(r, 2);
    expect(r.stderr).toMatch(/^ggen: error: make\.toml:\d+:\d+: /);
    expect(r.stderr).not.toContain("[object");
    writeFileSync(join(box.root, "make.toml"), OK_PHASE);
    await afterwards(box);
  });

  it.each([
    ["malformed JSON", '{"kind": "deployment-metrics/v1", '],
    ["binary", Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x1b, 0x5b, 0x33, 0x31, 0x6d, 0x00])],
    ["an array of numbers", "[1, 2, 3]"],
  ])("metrics analyze --file of %s: exit 2", async (_, content) => {
    const box = sandbox("metrics", { "m.json": content });
    expectRefused(await ggen(box, ["metrics", "analyze", "--file", "m.json"]), 2);
    await afterwards(box);
  });

  it("a state of the wrong shape is one line; --restore brings the last good one back", async () => {
    const box = sandbox("state-shape", {});
    expect((await ggen(box, ["run", "ok"])).code).toBe(0);
    expect((await ggen(box, ["run", "ok"])).code).toBe(0);
    const file = join(box.root, ".ggen/lifecycle-state.json");
    const state = JSON.parse(readFileSync(file, "utf8"));
    state.environments = { e2: 5 };
    state.phases.ok = 7;
    writeFileSync(file, JSON.stringify(state));
    const r = await ggen(box, ["status"]);
    expectRefused(r, 1);
    expect(r.stderr).toContain("the lifecycle state is corrupt: /");
    expect((await ggen(box, ["status", "--restore"])).code).toBe(0);
    await afterwards(box);
  });

  it.each([
    [
      ".ggen/config.toml",
      `[template]\nengine = "tera"\n`,
      '.ggen/config.toml:2:1: template.engine = "tera" is not supported',
    ],
    [
      ".ggen/config.toml",
      `[deployment]\nprofiles_dir = "x"\n`,
      ".ggen/config.toml:2:1: deployment.profiles_dir",
    ],
    [
      ".ggen/config.toml",
      `[lifecycle]\ndefault_env = 5\n`,
      ".ggen/config.toml:2:1: lifecycle.default_env must be a string",
    ],
    [
      ".ggen/deployment-profiles.toml",
      `[profiles.fast]\ndeployment_mode = "fast"\n`,
      ".ggen/deployment-profiles.toml:2:1: profiles.fast.deployment_mode",
    ],
  ])("%s that a run cannot honour is refused at its key", async (file, toml, message) => {
    const box = sandbox("settings", { [file]: toml });
    const r = await ggen(box, ["run", "ok"]);
    expectRefused(r, 2);
    expect(r.stderr).toContain(message);
    writeFileSync(join(box.root, file), "");
    await afterwards(box);
  });

  it("readiness exits 1 when not ready with --strict or CI=true, 0 otherwise", async () => {
    const box = sandbox("readiness", {
      ".ggen/production-requirements.yaml": `requirements:\n  - id: docs\n    name: Docs\n    required: true\n    check: { file: README.md }\n`,
    });
    expect((await ggen(box, ["readiness"])).code).toBe(0);
    expectRefused(await ggen(box, ["readiness", "--strict"]), 1);
    expectRefused(await ggen(box, ["readiness", "--json"], { CI: "true" }), 1);
    await afterwards(box);
  });
});
