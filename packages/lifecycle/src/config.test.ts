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
