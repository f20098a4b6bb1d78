// Environments, services and tests connect (issue 14), through the built program: one rule for the
// current environment (--env/--env-name, CLEANROOM_ENV, the only live one, else a throwaway one), the seed's
// Phase 3 as written, `container stop --all` over the whole project, named environments running commands in
// the project, --env meaning an environment everywhere, units, exit codes, limits and long timeouts.
import type { CleanroomRun } from "@ggen/contract";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { oneLine, type Project, project } from "./helpers.js";

vi.setConfig({ testTimeout: 180_000, hookTimeout: 60_000 });

let p: Project;
beforeEach(() => {
  p = project("cleanroom-envs-");
});
afterEach(() => {
  for (const e of p.json<{ name: string }[]>("environment", "list", "--backend", "local"))
    p.run("environment", "delete", "--name", e.name, "--force", "--backend", "local");
  p.cleanup();
});

const DB_TEST = `import { test } from "node:test";
import assert from "node:assert";
test("sees the database", () => assert.match(process.env.DATABASE_URL ?? "", /\\/testdb$/));
test("sees redis", () => assert.match(process.env.REDIS_URL ?? "", /^redis:/));
`;

describe("the current environment", () => {
  it("seed 000 Phase 3 as written: PostgreSQL and Redis land in test-env and the test sees DATABASE_URL", () => {
    p.write("tests/integration.test.mjs", DB_TEST);
    const made = p.run("environment", "create", "--name", "test-env", "--isolated", "--backend", "local");
    expect(made.status, made.stderr).toBe(0);
    // The seed's commands, no environment named: the only live one is used, and said.
    const pg = p.run(
      "container",
      "start",
      "postgres",
      "--db",
      "testdb",
      "--user",
      "testuser",
      "--password",
      "testpass",
    );
    expect(pg.status, pg.stderr).toBe(0);
    expect(pg.stdout).toMatch(/^started postgres in test-env \(local\)/);
    expect(pg.stderr).toContain("using environment test-env (the only live one in this project)");
    expect(p.run("container", "start", "redis").status).toBe(0);
    const services = p.json<{ environment: string; name: string }[]>(
      "container",
      "list",
      "--backend",
      "local",
    );
    expect(services.map((s) => `${s.environment}/${s.name}`).sort()).toEqual([
      "test-env/postgres",
      "test-env/redis",
    ]);
    const t = p.run("test", "run", "--file", "tests/integration.test.mjs", "--parallel", "--timeout", "60");
    expect(t.status, t.stdout + t.stderr).toBe(0);
    expect(t.stderr).toContain("using environment test-env (the only live one in this project)");
    const run = p.json<CleanroomRun>("test", "results");
    expect(run.environment.name).toBe("test-env");
    expect(run.summary).toMatchObject({ total: 2, passed: 2 });
    expect(run.services.map((s) => s.name).sort()).toEqual(["postgres", "redis"]);
  });

  it("container stop --all stops the services of every environment of the project", () => {
    for (const name of ["one", "two"]) {
      expect(p.run("environment", "create", "--name", name, "--backend", "local").status).toBe(0);
      const r = p.run("container", "start", "redis", "--env", name);
      expect(r.status, r.stderr).toBe(0);
    }
    // Two live environments: a service command that must pick one says which ones there are.
    const which = p.run("container", "start", "postgres");
    expect(which.status).toBe(2);
    expect(oneLine(which)).toMatch(
      /2 live environments \(one, two\): name the one for this service with --env/,
    );
    const stop = p.json<{ stopped: { environment: string; name: string }[] }>("container", "stop", "--all");
    expect(stop.stopped).toEqual([
      { environment: "one", name: "redis" },
      { environment: "two", name: "redis" },
    ]);
    expect(p.json<unknown[]>("container", "list", "--backend", "local")).toEqual([]);
  });

  it("a named environment runs commands in the project (mounted), like a throwaway one", () => {
    p.write("package.json", JSON.stringify({ name: "demo", scripts: { test: "node check.mjs" } }));
    p.write(
      "check.mjs",
      `import { readFileSync } from "node:fs";\nconsole.log("project", JSON.parse(readFileSync("package.json", "utf8")).name);\n`,
    );
    expect(p.run("environment", "create", "--name", "ci", "--backend", "local").status).toBe(0);
    const r = p.run("exec", "--env", "ci", "--", "npm", "test");
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain("project demo");
    // Mounted elsewhere: still the project.
    expect(
      p.run("environment", "create", "--name", "code", "--mount", ".:/code", "--backend", "local").status,
    ).toBe(0);
    const c = p.run("exec", "--env", "code", "--", "node", "check.mjs");
    expect(c.status, c.stderr).toBe(0);
    expect(c.stdout).toBe("project demo\n");
  });

  it("CLEANROOM_ENV names the environment; several live ones and none named: a throwaway one, said", () => {
    p.write("t/env.test.mjs", `import { test } from "node:test";\ntest("ok", () => {});\n`);
    for (const name of ["a", "b"])
      expect(p.run("environment", "create", "--name", name, "--backend", "local").status).toBe(0);
    const byVar = p.runWith({ CLEANROOM_ENV: "b" }, "test", "run", "--file", "t/env.test.mjs");
    expect(byVar.status, byVar.stderr).toBe(0);
    expect(byVar.stderr).toContain("using environment b (from CLEANROOM_ENV)");
    expect(p.json<CleanroomRun>("test", "results").environment.name).toBe("b");
    // The flag wins over the variable, and says nothing (it is what was typed).
    const byFlag = p.runWith({ CLEANROOM_ENV: "b" }, "test", "run", "--env", "a", "--file", "t/env.test.mjs");
    expect(byFlag.status).toBe(0);
    expect(byFlag.stderr).not.toContain("using environment");
    expect(p.json<CleanroomRun>("test", "results").environment.name).toBe("a");
    const neither = p.run("test", "run", "--file", "t/env.test.mjs");
    expect(neither.status).toBe(0);
    expect(neither.stderr).toContain(
      "using a throwaway environment (2 live ones: a, b; name one with --env or CLEANROOM_ENV)",
    );
    const missing = p.runWith({ CLEANROOM_ENV: "nope" }, "test", "run", "--file", "t/env.test.mjs");
    expect(missing.status).toBe(2);
    expect(oneLine(missing)).toMatch(/no environment 'nope' \(named by CLEANROOM_ENV\)/);
  });
});

describe("--env means an environment in every command", () => {
  it("container start's variables are --set-env (-e); the old --env K=V is a usage error saying so", () => {
    const old = p.run("container", "start", "redis", "--env", "MAXMEMORY=1mb", "--backend", "local");
    expect(old.status).toBe(2);
    expect(oneLine(old)).toBe(
      `cleanroom: error: --env "MAXMEMORY=1mb": --env names an environment; give a service's variables with --set-env KEY=VALUE`,
    );
    const bad = p.run("container", "start", "redis", "-e", "novalue", "--backend", "local");
    expect(bad.status).toBe(2);
    expect(oneLine(bad)).toMatch(/--set-env 'novalue': expected key=value/);
    // --env-name is the same flag as --env.
    expect(p.run("environment", "create", "--name", "svc", "--backend", "local").status).toBe(0);
    const ok = p.run("container", "start", "redis", "--env-name", "svc", "--set-env", "A=1");
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^started redis in svc/);
    const h = p.run("container", "health", "redis", "--env", "svc");
    expect(h.stdout).toMatch(/^redis \(svc\): healthy/);
  });

  it("container run X --version is not the program's version", () => {
    const r = p.run("container", "run", "mytool:latest", "--version");
    expect(r.status).toBe(2);
    expect(r.stdout).toBe("");
    expect(oneLine(r)).toMatch(/unknown command 'run'/);
    const s = p.run("container", "start", "redis", "--version");
    expect(s.status).toBe(2);
    expect(oneLine(s)).toMatch(
      /unknown option '--version' here \('cleanroom --version' is the program's version\)/,
    );
    expect(p.run("--version").stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });
});

describe("units, exit codes, limits", () => {
  it("sizes and durations take units; an error echoes what was typed, never NaN", () => {
    const made = p.json<{ spec: { memoryMb: number } }>(
      "environment",
      "create",
      "--name",
      "big",
      "--memory",
      "4G",
      "--backend",
      "local",
    );
    expect(made.spec.memoryMb).toBe(4096);
    const slow = p.run("exec", "--backend", "local", "--timeout", "1s", "--", "sleep", "10");
    expect(slow.status).toBe(124);
    expect(slow.stderr).toContain("timed out after 1s; killed");
    expect(p.run("exec", "--backend", "local", "--timeout", "2m", "--", "true").status).toBe(0);
    for (const [args, line] of [
      [
        ["environment", "create", "--name", "x", "--memory", "lots"],
        `--memory "lots": expected a size such as 512M or 4G`,
      ],
      [
        ["environment", "create", "--name", "x", "--cpus", "many"],
        `--cpus "many": expected a positive number`,
      ],
      [
        ["exec", "--timeout", "soon", "--", "true"],
        `--timeout "soon": expected a duration such as 50s, 2m or 1500ms`,
      ],
      [["test", "run", "--timeout", "-1"], `--timeout "-1": expected a duration such as 50s, 2m or 1500ms`],
      [["container", "start", "redis", "--port", "x"], `--port "x": expected a positive integer up to 65535`],
      [["metrics", "show", "--last", "x"], `--last "x": expected a positive integer`],
    ] as const) {
      const r = p.run(...args, ...(args[0] === "metrics" ? [] : ["--backend", "local"]));
      expect(r.status, args.join(" ")).toBe(2);
      expect(oneLine(r)).toBe(`cleanroom: error: ${line}`);
      expect(r.stderr).not.toContain("NaN");
    }
  });

  it("test results exits 1 when the last run failed, with --json too", () => {
    p.write("t/pass.test.mjs", `import { test } from "node:test";\ntest("ok", () => {});\n`);
    p.write(
      "t/fail.test.mjs",
      `import { test } from "node:test";\ntest("no", () => { throw new Error("x"); });\n`,
    );
    expect(p.run("test", "run", "--host", "--file", "t/pass.test.mjs").status).toBe(0);
    expect(p.run("test", "results").status).toBe(0);
    expect(p.run("test", "run", "--host", "--file", "t/fail.test.mjs").status).toBe(1);
    expect(p.run("test", "results").status).toBe(1);
    const json = p.run("--json", "test", "results");
    expect(json.status).toBe(1);
    expect((JSON.parse(json.stdout) as CleanroomRun).summary.failed).toBe(1);
    expect(p.run("test", "results", "--format", "tap").status).toBe(1);
  });

  it("a process killed by its environment's memory limit says so in text mode", () => {
    expect(
      p.run("environment", "create", "--name", "small", "--memory", "64M", "--backend", "local").status,
    ).toBe(0);
    const hog = "const a = []; for (;;) a.push(Buffer.alloc(1 << 20, 1));";
    const r = p.run("exec", "--env", "small", "--", "node", "-e", hog);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("memory limit 64 MiB reached: killed");
    p.write("t/hog.test.mjs", `import { test } from "node:test";\ntest("hog", () => { ${hog} });\n`);
    const t = p.run("test", "run", "--env", "small", "--file", "t/hog.test.mjs");
    expect(t.status).toBe(1);
    expect(t.stdout).toContain("memory limit 64 MiB reached: killed");
  });

  it("timeouts past Node's 24.8-day clamp do not fire at once: exec, test run, a scenario", () => {
    const e = p.run(
      "exec",
      "--backend",
      "local",
      "--timeout",
      "2678400",
      "--",
      "sh",
      "-c",
      "sleep 0.3; echo done",
    );
    expect(e.status, e.stderr).toBe(0);
    expect(e.stdout).toBe("done\n");
    p.write(
      "t/slow.test.mjs",
      `import { test } from "node:test";\ntest("waits", async () => { await new Promise((r) => setTimeout(r, 300)); });\n`,
    );
    const t = p.run("test", "run", "--backend", "local", "--file", "t/slow.test.mjs", "--timeout", "2678400");
    expect(t.status, t.stdout).toBe(0);
    p.write(
      "long.yaml",
      "timeout_ms: 2678400000\nsteps:\n  - name: wait\n    run: sleep 0.3 && echo done\n    timeout_ms: 2678400000\n    expect: { stdout_matches: '^done$' }\n",
    );
    const s = p.run("exec", "--scenario", "long.yaml", "--backend", "local");
    expect(s.status, s.stdout).toBe(0);
    expect(s.stdout).toMatch(/^PASSED {2}1 tests/);
  });
});
