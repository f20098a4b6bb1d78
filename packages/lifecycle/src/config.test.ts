import { GgenError } from "@ggen/contract";
import { describe, expect, it } from "vitest";
import { parseConfig } from "./config.js";
import { planPhases } from "./plan.js";

const parse = (text: string, file = "make.toml") => parseConfig(text, file, "/p");

function errorOf(fn: () => unknown): GgenError {
  try {
    fn();
  } catch (e) {
    if (e instanceof GgenError) return e;
    throw e;
  }
  throw new Error("expected an error");
}

describe("parseConfig", () => {
  it("reads phases, hooks, environments and profiles", () => {
    const c = parse(`
[project]
name = "shop"
default_env = "staging"
state_backups = 3
[phases.build]
commands = ["a", "b"]
env = { X = "1" }
depends_on = "setup"
timeout = 5
inputs = ["src/**"]
[phases.setup]
command = "s"
[hooks]
before_build = "echo hi"
on_error = ["setup"]
[environments.production]
vars = { A = "b" }
require_approval = true
rollback = true
[environments.production.deploy]
provider = "release-dir"
keep = 3
[environments.production.verify]
url = "http://127.0.0.1:1/health"
retries = 2
[profiles.fast]
skip = ["setup"]
jobs = 4
`);
    expect(c).toMatchObject({ name: "shop", defaultEnv: "staging", stateBackups: 3 });
    expect(c.phases.get("build")).toMatchObject({
      commands: ["a", "b"],
      env: { X: "1" },
      dependsOn: ["setup"],
      timeoutMs: 5000,
    });
    expect(c.hooks.get("before_build")).toEqual(["echo hi"]);
    const prod = c.environments.get("production")!;
    expect(prod.requireApproval).toBe(true);
    expect(prod.deploy).toMatchObject({ provider: "release-dir", keep: 3, dir: ".ggen/deploy/production" });
    expect(prod.verify).toMatchObject({ retries: 2, expectStatus: 200 });
    expect(c.profiles.get("fast")).toMatchObject({ skip: ["setup"], jobs: 4 });
  });

  it("reads [lifecycle] from ggen.toml", () => {
    const c = parseConfig(
      `[templates]\nx = 1\n[lifecycle.phases.build]\ncommand = "make"\n`,
      "ggen.toml",
      "/p",
      true,
    );
    expect([...c.phases.keys()]).toEqual(["build"]);
  });

  it("reports bad TOML with its line and column", () => {
    const e = errorOf(() => parse(`[phases.build]\ncommand = "x"\n[phases.test\ncommand = "y"\n`));
    expect(e.kind).toBe("usage");
    expect(e.location).toMatchObject({ file: "make.toml", line: 3 });
    expect(e.toLine()).toMatch(/^make\.toml:3:\d+: invalid TOML/);
  });

  it("names a dependency cycle and where it starts", () => {
    const e = errorOf(() =>
      parse(
        `[phases.a]\ndepends_on = ["c"]\n[phases.b]\ndepends_on = ["a"]\n[phases.c]\ndepends_on = ["b"]\n`,
      ),
    );
    expect(e.message).toBe("dependency cycle: a → c → b → a");
    expect(e.location?.line).toBe(1);
  });

  it("suggests the phase an unknown dependency probably meant", () => {
    const e = errorOf(() => parse(`[phases.build]\n[phases.test]\ndepends_on = ["biuld"]\n`));
    expect(e.toLine()).toBe(
      "make.toml:2:1: phase 'test' depends on an unknown phase 'biuld' (did you mean 'build'?)",
    );
  });

  it("detects hook recursion through phases", () => {
    const e = errorOf(() =>
      parse(`[phases.build]\n[phases.lint]\n[hooks]\nbefore_build = ["lint"]\nafter_lint = ["build"]\n`),
    );
    expect(e.message).toMatch(/^hook recursion: (build → lint → build|lint → build → lint)$/);
  });

  it("rejects unknown keys with a suggestion and the key's line", () => {
    const e = errorOf(() => parse(`[phases.build]\ncomand = "make"\n`));
    expect(e.toLine()).toBe("make.toml:2:1: unknown key 'comand' in phase 'build' (did you mean 'command'?)");
  });

  it("rejects a hook on a phase that does not exist", () => {
    const e = errorOf(() => parse(`[phases.build]\n[hooks]\nbefore_biuld = "x"\n`));
    expect(e.toLine()).toContain("make.toml:3:1: hook 'before_biuld' names an unknown phase 'biuld'");
  });
});

describe("values with units and bounds", () => {
  it("takes durations with units (bare numbers: seconds, or ms for *_ms keys) and sizes", () => {
    const c = parse(`
[limits]
line = "16K"
log = "4M"
[phases.a]
timeout = "2m"
[phases.b]
timeout = 90
[phases.c]
timeout = 0
[environments.e.verify]
url = "http://127.0.0.1:1/"
interval_ms = "1s"
timeout_ms = 250
`);
    expect(c.phases.get("a")?.timeoutMs).toBe(120_000);
    expect(c.phases.get("b")?.timeoutMs).toBe(90_000);
    expect(c.phases.get("c")?.timeoutMs).toBeUndefined();
    expect(c.environments.get("e")?.verify).toMatchObject({ intervalMs: 1000, timeoutMs: 250 });
    expect(c.limits).toEqual({ lineChars: 16 * 1024, logChars: 4 * 1024 * 1024 });
  });

  it.each([
    [
      `[phases.a]\ntimeout = "soon"\n`,
      'make.toml:2:1: phases.a.timeout "soon": expected a duration such as 50s, 2m or 1500ms',
    ],
    [`[phases.a]\ncwd = "/tmp"\n`, "make.toml:2:1: phases.a.cwd '/tmp' must be relative to the project"],
    [
      `[phases.a]\ncwd = "../elsewhere"\n`,
      "make.toml:2:1: phases.a.cwd '../elsewhere' leads outside the project",
    ],
    [`[phases.a]\n[profiles.p]\njobs = 0\n`, "make.toml:3:1: profiles.p.jobs must be a whole number >= 1"],
    [`[phases.a]\n[profiles.p]\njobs = 1.5\n`, "make.toml:3:1: profiles.p.jobs must be a whole number >= 1"],
    [
      `[environments.e.deploy]\nprovider = "release-dir"\nkeep = 1\n`,
      "make.toml:3:1: environments.e.deploy.keep must be a whole number >= 2",
    ],
    [
      `[environments.e.deploy]\nprovider = "release-dir"\nport = 70000\n`,
      "make.toml:3:1: environments.e.deploy.port must be a whole number from 1 to 65535",
    ],
    [
      `[environments.e.deploy]\nprovider = "release-dir"\ndir = "/srv"\n`,
      "make.toml:3:1: environments.e.deploy.dir '/srv' must be relative to the project",
    ],
    [`[limits]\nlog = "lots"\n`, 'make.toml:2:1: limits.log "lots": expected a size such as 512M or 4G'],
    [`[phases.a]\nsh_before = { cmd = 1 }\n`, "make.toml:2:1: unknown key 'sh_before' in phase 'a'"],
    [
      `[phases.a]\ncommand = [{ a = 1 }]\n`,
      "make.toml:2:1: phases.a.command must be a string or a list of strings",
    ],
    [
      `[phases.a]\n[hooks]\nbefore_a = { sh = "x" }\n`,
      "make.toml:3:1: hooks.before_a must be a string or a list of strings",
    ],
  ])("refuses %j at its key", (text, line) => {
    expect(errorOf(() => parse(text)).toLine()).toContain(line);
  });
});

describe("planPhases", () => {
  const c = parse(`
[phases.init]
[phases.build]
depends_on = ["init"]
[phases.lint]
depends_on = ["init"]
[phases.test]
depends_on = ["build"]
[phases.package]
depends_on = ["test", "lint"]
`);

  it("orders dependencies first and groups independent phases into waves", () => {
    const p = planPhases(c, ["package"]);
    expect(p.order.indexOf("init")).toBeLessThan(p.order.indexOf("build"));
    expect(p.waves).toEqual([["init"], ["build", "lint"], ["test"], ["package"]]);
  });

  it("leaves out what a profile skips", () => {
    expect(planPhases(c, ["package"], ["lint"]).waves).toEqual([["init"], ["build"], ["test"], ["package"]]);
  });

  it("answers an unknown phase with did-you-mean", () => {
    const e = errorOf(() => planPhases(c, ["tset"]));
    expect(e.toLine()).toBe("make.toml: unknown phase 'tset' (did you mean 'test'?)");
    expect(e.kind).toBe("usage");
  });
});
