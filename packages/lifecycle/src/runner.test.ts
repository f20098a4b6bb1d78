import { promises as fs } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadConfig } from "./config.js";
import { processAlive } from "./fsutil.js";
import { type LifecycleEvent, runPhases } from "./runner.js";
import { loadState, STATE_FILE } from "./state.js";
import { cleanupProjects, project } from "./test-util.js";

afterAll(cleanupProjects);

const read = (dir: string, f: string) => fs.readFile(join(dir, f), "utf8");

describe("runPhases", () => {
  it("runs independent phases at the same time", async () => {
    // a and b each wait for the other's marker: only concurrent execution lets both finish.
    const wait = (mine: string, other: string) =>
      `touch ${mine}; i=0; while [ ! -f ${other} ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done; [ -f ${other} ]`;
    const dir = await project({
      "make.toml": `[phases.a]\ncommand = "${wait("a.flag", "b.flag")}"\n[phases.b]\ncommand = "${wait("b.flag", "a.flag")}"\n[phases.all]\ndepends_on = ["a", "b"]\ncommand = "echo done > all.txt"\n`,
    });
    const r = await runPhases(await loadConfig(dir), ["all"], { jobs: 2 });
    expect(r.phases.map((p) => `${p.phase}:${p.status}`)).toEqual(["a:success", "b:success", "all:success"]);
    expect(await read(dir, "all.txt")).toBe("done\n");
  });

  it("runs dependencies first and passes env, cwd and environment vars", async () => {
    const dir = await project({
      "sub/.keep": "",
      "make.toml": `
[phases.first]
command = "echo first >> ../order.txt"
cwd = "sub"
[phases.second]
depends_on = ["first"]
command = "echo second $GREETING $LEVEL $GGEN_ENV $GGEN_PHASE >> order.txt"
env = { GREETING = "hi" }
[environments.staging]
vars = { LEVEL = "info" }
`,
    });
    const events: LifecycleEvent[] = [];
    const r = await runPhases(await loadConfig(dir), ["second"], {
      env: "staging",
      onEvent: (e) => events.push(e),
    });
    expect(r.ok).toBe(true);
    expect(await read(dir, "order.txt")).toBe("first\nsecond hi info staging second\n");
    const kinds = events
      .filter((e) => e.type === "phase-start" || e.type === "phase-finish")
      .map((e) => `${e.type}:${"phase" in e ? e.phase : ""}`);
    expect(kinds).toEqual([
      "phase-start:first",
      "phase-finish:first",
      "phase-start:second",
      "phase-finish:second",
    ]);
  });

  it("skips a phase whose inputs hash as at its last success, and reruns when they change", async () => {
    const dir = await project({
      "src/a.txt": "one",
      "make.toml": `[phases.build]\ncommand = "echo run >> runs.txt; mkdir -p out; cp src/a.txt out/a.txt"\ninputs = ["src/**"]\noutputs = ["out/a.txt"]\n`,
    });
    const c = await loadConfig(dir);
    expect((await runPhases(c, ["build"])).phases[0]!.status).toBe("success");
    expect((await runPhases(c, ["build"])).phases[0]!.status).toBe("cached");
    expect(await read(dir, "runs.txt")).toBe("run\n");
    await fs.writeFile(join(dir, "src/a.txt"), "two");
    expect((await runPhases(c, ["build"])).phases[0]!.status).toBe("success");
    await fs.rm(join(dir, "out"), { recursive: true });
    expect((await runPhases(c, ["build"])).phases[0]!.status).toBe("success");
    expect((await runPhases(c, ["build"], { noCache: true })).phases[0]!.status).toBe("success");
    expect(await read(dir, "runs.txt")).toBe("run\nrun\nrun\nrun\n");
  });

  it("runs before/after hooks, and on_error when a hook fails", async () => {
    const dir = await project({
      "make.toml": `
[phases.prep]
command = "echo prep >> log.txt"
[phases.build]
command = "echo build >> log.txt"
[phases.test]
command = "echo test >> log.txt"
[hooks]
before_build = ["echo before >> log.txt", "prep"]
after_build = "echo after >> log.txt"
before_test = "echo nope; exit 7"
on_error = "echo \\"error in $GGEN_FAILED_PHASE\\" >> log.txt"
`,
    });
    const c = await loadConfig(dir);
    expect((await runPhases(c, ["build"])).ok).toBe(true);
    expect(await read(dir, "log.txt")).toBe("before\nprep\nbuild\nafter\n");
    const r = await runPhases(c, ["test"]);
    expect(r.ok).toBe(false);
    expect(r.failure?.message).toBe("hook before_test failed: 'echo nope; exit 7' exited with 7: nope");
    expect(await read(dir, "log.txt")).toBe("before\nprep\nbuild\nafter\nerror in test\n");
    // The phase's own command never ran.
    expect(
      (await read(dir, "log.txt")).includes("test\n") && !(await read(dir, "log.txt")).includes("\ntest\n"),
    ).toBe(true);
  });

  it("kills a phase at its timeout, children included, and records it", async () => {
    const dir = await project({
      "make.toml": `[phases.slow]\ncommand = "sleep 30 & echo $! > child.pid; wait"\ntimeout = 0.5\n[phases.after]\ndepends_on = ["slow"]\ncommand = "touch after.txt"\n`,
    });
    const r = await runPhases(await loadConfig(dir), ["after"]);
    expect(r.failure?.code).toBe("LIFECYCLE_TIMEOUT");
    expect(r.failure?.toLine()).toBe(
      "make.toml:1:1: phase 'slow' timed out after 500ms running 'sleep 30 & echo $! > child.pid; wait'",
    );
    expect(r.phases.map((p) => p.status)).toEqual(["timed-out", "blocked"]);
    const childPid = Number(await read(dir, "child.pid"));
    let alive = processAlive(childPid);
    for (let i = 0; i < 100 && alive; i++) {
      await new Promise((res) => setTimeout(res, 20));
      alive = processAlive(childPid);
    }
    expect(alive).toBe(false);
    const s = await loadState(dir);
    expect(s.phases.slow?.status).toBe("timed-out");
    expect(s.currentPhase).toBeNull();
    expect(s.runs.at(-1)?.status).toBe("failed");
    await expect(fs.access(join(dir, "after.txt"))).rejects.toThrow();
  });

  it("reports a failing command with its exit code and last output line", async () => {
    const dir = await project({
      "make.toml": `[phases.build]\ncommands = ["echo ok", "echo 'src/x.c:3:1: error: boom' >&2; exit 4", "touch never"]\n`,
    });
    const r = await runPhases(await loadConfig(dir), ["build"]);
    expect(r.exitCode).toBe(1);
    expect(r.failure?.message).toBe(
      "phase 'build' failed: 'echo 'src/x.c:3:1: error: boom' >&2; exit 4' exited with 4: src/x.c:3:1: error: boom",
    );
    expect(await read(dir, ".ggen/logs/build.log")).toContain("src/x.c:3:1: error: boom");
    JSON.parse(await read(dir, STATE_FILE));
  });

  it("honours a profile's skip list and a dry run writes nothing", async () => {
    const dir = await project({
      "make.toml": `[phases.lint]\ncommand = "touch lint.txt"\n[phases.build]\ncommand = "touch build.txt"\n[phases.all]\ndepends_on = ["lint", "build"]\n[profiles.fast]\nskip = ["lint"]\n`,
    });
    const c = await loadConfig(dir);
    const dry = await runPhases(c, ["all"], { dryRun: true, profile: "fast" });
    expect(dry.plan.skipped).toEqual(["lint"]);
    await expect(fs.access(join(dir, STATE_FILE))).rejects.toThrow();
    await expect(fs.access(join(dir, "build.txt"))).rejects.toThrow();
    const r = await runPhases(c, ["all"], { profile: "fast" });
    expect(r.phases.find((p) => p.phase === "lint")?.status).toBe("skipped");
    await fs.access(join(dir, "build.txt"));
    await expect(fs.access(join(dir, "lint.txt"))).rejects.toThrow();
    await expect(runPhases(c, ["all"], { profile: "fsat" })).rejects.toThrow(/unknown profile 'fsat'/);
  });

  it("asks for approval before deploying where the environment requires it", async () => {
    const dir = await project({
      "make.toml": `[phases.deploy]\n[environments.production]\nrequire_approval = true\n[environments.production.deploy]\nprovider = "command"\ncommand = "touch deployed.txt"\n`,
    });
    const c = await loadConfig(dir);
    await expect(runPhases(c, ["deploy"], { env: "production" })).rejects.toThrow(/requires approval/);
    await expect(runPhases(c, ["deploy"], { env: "production", confirm: async () => false })).rejects.toThrow(
      /not approved/,
    );
    await expect(fs.access(join(dir, "deployed.txt"))).rejects.toThrow();
    const questions: string[] = [];
    const ok = await runPhases(c, ["deploy"], {
      env: "production",
      confirm: async (q) => {
        questions.push(q);
        return true;
      },
    });
    expect(ok.ok).toBe(true);
    expect(questions).toHaveLength(1);
    await fs.access(join(dir, "deployed.txt"));
  });
});

describe("logs", () => {
  it("redacts the values of secret-looking variables in phase output and logs", async () => {
    const dir = await project({
      "make.toml": `[phases.build]\ncommand = "echo token=$API_TOKEN user=$USER_NAME"\nenv = { API_TOKEN = "s3cr3t-value", USER_NAME = "ada" }\n`,
    });
    const lines: string[] = [];
    await runPhases(await loadConfig(dir), ["build"], {
      onEvent: (e) => e.type === "phase-output" && lines.push(e.line),
    });
    expect(lines).toEqual(["token=*** user=ada"]);
    expect(await read(dir, ".ggen/logs/build.log")).toBe("token=*** user=ada\n");
  });
});

describe("pipeline (sequential)", () => {
  it("runs phases one at a time in the order given and stops at the first failure", async () => {
    const dir = await project({
      "make.toml": `[phases.a]\ncommand = "echo a >> seq.txt"\n[phases.b]\ncommand = "echo b >> seq.txt"\n[phases.bad]\ncommand = "exit 1"\n[phases.c]\ncommand = "echo c >> seq.txt"\n`,
    });
    const c = await loadConfig(dir);
    const ok = await runPhases(c, ["b", "a"], { sequential: true });
    expect(ok.plan.waves).toEqual([["b"], ["a"]]);
    expect(await read(dir, "seq.txt")).toBe("b\na\n");
    const bad = await runPhases(c, ["bad", "c"], { sequential: true });
    expect(bad.phases.map((p) => `${p.phase}:${p.status}`)).toEqual(["bad:failed", "c:not-run"]);
    expect(await read(dir, "seq.txt")).toBe("b\na\n");
  });
});

describe("profiles", () => {
  it("switch options: env, rules and jobs", async () => {
    const dir = await project({
      "make.toml": `
[phases.deploy]
command = "echo $MODE > mode.txt"
[environments.production]
require_approval = true
[environments.production.deploy]
provider = "command"
command = "touch deployed"
[profiles.ci]
env = { MODE = "ci" }
require_approval = false
jobs = 1
`,
    });
    const c = await loadConfig(dir);
    await expect(runPhases(c, ["deploy"], { env: "production" })).rejects.toThrow(/requires approval/);
    const r = await runPhases(c, ["deploy"], { env: "production", profile: "ci" });
    expect(r.ok).toBe(true);
    expect(r.profile).toBe("ci");
    expect(await read(dir, "mode.txt")).toBe("ci\n");
    await fs.access(join(dir, "deployed"));
  });
});

describe("hook timeouts", () => {
  it("a hanging before-hook is stopped by the phase's timeout", async () => {
    const dir = await project({
      "make.toml": `[phases.build]\ncommand = "touch built"\ntimeout = 0.5\n[hooks]\nbefore_build = "sleep 30"\n`,
    });
    const r = await runPhases(await loadConfig(dir), ["build"]);
    expect(r.failure?.message).toBe("hook before_build failed: 'sleep 30' ran past the phase's timeout");
    await expect(fs.access(join(dir, "built"))).rejects.toThrow();
  });
});

describe("settings a run honours", () => {
  it("[lifecycle] hooks_timeout_seconds stops a hook on its own", async () => {
    const dir = await project({
      "make.toml": `[phases.build]\ncommand = "touch built"\n[hooks]\nbefore_build = "sleep 30"\n`,
      ".ggen/config.toml": `[lifecycle]\nhooks_timeout_seconds = "300ms"\n`,
    });
    const r = await runPhases(await loadConfig(dir), ["build"]);
    expect(r.failure?.message).toBe(
      "hook before_build failed: 'sleep 30' ran past [lifecycle] hooks_timeout_seconds (300ms)",
    );
  });

  it("[deployment] default_profile is the profile of a run that names none", async () => {
    const dir = await project({
      "make.toml": `[phases.a]\ncommand = "echo $MODE > mode.txt"\n[profiles.quiet]\nenv = { MODE = "quiet" }\n`,
      ".ggen/config.toml": `[deployment]\ndefault_profile = "quiet"\n`,
    });
    const r = await runPhases(await loadConfig(dir), ["a"]);
    expect(r.profile).toBe("quiet");
    expect(await read(dir, "mode.txt")).toBe("quiet\n");
  });

  it("[deployment] validate_before_deploy blocks a deploy the validation fails", async () => {
    const dir = await project({
      "make.toml": `[phases.deploy]\n[environments.staging.deploy]\nprovider = "command"\ncommand = "touch deployed"\n`,
      ".ggen/config.toml": `[deployment]\nvalidate_before_deploy = true\n`,
      ".ggen/production-requirements.yaml": `requirements:\n  - id: docs\n    name: Docs\n    required: true\n    check: { file: README.md }\n`,
    });
    const r = await runPhases(await loadConfig(dir), ["deploy"], { env: "staging" });
    expect(r.ok).toBe(false);
    expect(r.failure?.message).toMatch(
      /^phase 'deploy' blocked: \[deployment\] validate_before_deploy requires validation to pass \(\d+ error\(s\); /,
    );
    await expect(fs.access(join(dir, "deployed"))).rejects.toThrow();
  });
});

describe("bad input refused before anything runs", () => {
  it.each([
    ["missing", `cwd = "nope"`, "make.toml:4:1: phases.b.cwd 'nope' does not exist"],
    ["a file", `cwd = "make.toml"`, "make.toml:4:1: phases.b.cwd 'make.toml' is not a directory"],
    ["a symlink out", `cwd = "out"`, "make.toml:4:1: phases.b.cwd 'out' leads outside the project"],
  ])("a phase cwd that is %s", async (_, cwd, line) => {
    const dir = await project({
      "make.toml": `[phases.a]\ncommand = "touch ran"\n[phases.b]\n${cwd}\ndepends_on = ["a"]\ncommand = "true"\n`,
    });
    await fs.symlink("/tmp", join(dir, "out"));
    const err = await runPhases(await loadConfig(dir), ["b"]).catch((e) => e);
    expect(err.toLine()).toBe(line);
    expect(err.kind).toBe("usage");
    await expect(fs.access(join(dir, "ran"))).rejects.toThrow();
  });

  it.each([0, -3, 1.5, Number.NaN])("jobs %s", async (jobs) => {
    const dir = await project({ "make.toml": `[phases.a]\ncommand = "touch ran"\n` });
    await expect(runPhases(await loadConfig(dir), ["a"], { jobs })).rejects.toThrow(
      /^--jobs ".*": expected a whole number of phases, 1 or more$/,
    );
    await expect(fs.access(join(dir, "ran"))).rejects.toThrow();
  });
});
