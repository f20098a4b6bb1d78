// Test runs, scenarios, results, reports, attestations and metrics through the built program.

import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, realpathSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { CleanroomRun } from "@ggen/contract";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { NODE_TESTS, type Project, project } from "./helpers.js";

// Each test runs the program several times; on a busy 2-core machine that takes seconds.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 60_000 });

let p: Project;
beforeAll(() => {
  p = project();
  p.write("test/math.test.mjs", NODE_TESTS);
  p.write(
    "test/ok.test.mjs",
    `import { test } from "node:test";\ntest("home is private", () => { if (!process.env.HOME) throw new Error("no HOME"); });\n`,
  );
  p.write("test/check.sh", "#!/bin/sh\ntest -f ../package.json || test -f package.json\n");
  p.write("package.json", JSON.stringify({ name: "demo", type: "module" }));
  p.write(
    "pipeline.yaml",
    `scenario:
  name: pipeline
  concurrent: true
  steps:
    - name: build
      run: echo built > build.out
    - name: lint
      cmd: [sh, -c, "echo lint clean"]
      expect: { stdout_contains: clean }
    - name: unit
      run: cat build.out
      depends: [build]
      expect: { stdout_matches: "^built$" }
    - name: flaky-check
      run: exit 3
      continue_on_error: true
`,
  );
});
afterAll(() => p.cleanup());

describe("test run and results", () => {
  it("runs files in a throwaway local environment, per-test results, exit 1 on failure, environment removed", () => {
    const r = p.run("test", "run", "--backend", "local", "--files", "test/*", "--parallel");
    expect(r.status).toBe(1);
    expect(r.stdout.split("\n")[0]).toMatch(
      /^FAILED {2}6 tests: 4 passed, 1 failed, 1 skipped in .* \(local, run-/,
    );
    expect(r.stdout).toContain("✗ test/math.test.mjs › fails [failed]");
    // plain progress lines on stderr (not a TTY)
    expect(r.stderr).toMatch(/✗ test\/math\.test\.mjs failed/);
    expect(r.stderr).toMatch(/✓ test\/check\.sh passed/);
    expect(p.envDirs()).toEqual([]);
    const envs = p.json<unknown[]>("environment", "list", "--backend", "local");
    expect(envs).toEqual([]);
  });

  it("test results reads the last run: JSON is a cleanroom-run/v1, JUnit, text", () => {
    const run = p.json<CleanroomRun>("test", "results");
    expect(run.kind).toBe("cleanroom-run/v1");
    expect(run.environment.backend).toBe("local");
    expect(run.summary).toMatchObject({ total: 6, passed: 4, failed: 1, skipped: 1 });
    expect(run.sources?.map((s) => s.path)).toEqual([
      "test/check.sh",
      "test/math.test.mjs",
      "test/ok.test.mjs",
    ]);
    const junit = p.run("test", "results", "--format", "junit", "--output", "out/junit.xml");
    // The report is written; the exit code is the run's outcome (it failed).
    expect(junit.status).toBe(1);
    const xml = readFileSync(join(p.dir, "out/junit.xml"), "utf8");
    expect(xml).toMatch(/<testsuites name="run-[^"]+" tests="6" failures="1" errors="0" skipped="1"/);
    expect(xml).toContain('<testcase name="group &gt; inner ok" classname="test/math.test.mjs"');
    const text = p.run("test", "results");
    expect(text.stdout).toMatch(/^FAILED/);
  });

  it("runs on the host with --host, sharded", () => {
    const one = p.json<CleanroomRun>("test", "run", "--host", "--files", "test/*.test.mjs", "--shard", "1/2");
    const two = p.json<CleanroomRun>("test", "run", "--host", "--files", "test/*.test.mjs", "--shard", "2/2");
    expect(one.environment.isolation.mechanism).toBe("none");
    const files = [...new Set([...one.tests, ...two.tests].map((t) => t.file))].sort();
    expect(files).toEqual(["test/math.test.mjs", "test/ok.test.mjs"]);
    expect(new Set(one.tests.map((t) => t.file)).size).toBe(1);
  });
});

describe("exec", () => {
  it("without --env runs in a throwaway environment that sees the project, passes the exit code, removes it", () => {
    const r = p.run(
      "exec",
      "--backend",
      "local",
      "--",
      "sh",
      "-c",
      'cat package.json; echo "home=$HOME"; exit 3',
    );
    expect(r.status).toBe(3);
    expect(r.stdout).toContain('"name":"demo"');
    // The environment lived outside the project.
    expect(r.stdout).toContain(`home=${p.envRoot}/exec-`);
    expect(p.json<unknown[]>("environment", "list", "--backend", "local")).toEqual([]);
    const none = p.run("exec", "--backend", "local");
    expect(none.status).toBe(2);
    expect(none.stderr).toMatch(/nothing to run/);
  });
});

describe("ultra-fast-test without services", () => {
  it("installs the generated project's dependencies offline, then runs its tests", () => {
    const u = project("cleanroom-uft-");
    try {
      u.write(
        "out/vendor/greet/package.json",
        JSON.stringify({ name: "greet", version: "1.0.0", type: "module", main: "index.js" }),
      );
      u.write("out/vendor/greet/index.js", 'export const greet = (n) => "hi " + n;\n');
      const files = {
        "package.json": JSON.stringify({
          name: "gen",
          type: "module",
          dependencies: { greet: "file:./vendor/greet" },
        }),
        "test/greet.test.mjs":
          'import { test } from "node:test";\nimport assert from "node:assert";\nimport { greet } from "greet";\ntest("greets", () => assert.equal(greet("x"), "hi x"));\n',
      };
      for (const [f, t] of Object.entries(files)) u.write(`out/${f}`, t);
      u.write(
        "out/.ggen/manifest.json",
        JSON.stringify({
          kind: "generation-manifest/v1",
          tool: { name: "ggen", version: "0.1.0" },
          startedAt: "2026-01-13T10:00:00.000Z",
          finishedAt: "2026-01-13T10:00:01.000Z",
          outputRoot: "out",
          inputs: { templates: [], graphs: [], varFiles: [] },
          vars: {},
          files: Object.entries(files).map(([path, t]) => ({
            path,
            sha256: createHash("sha256").update(t).digest("hex"),
            bytes: t.length,
            action: "created",
          })),
          timings: { parseMs: 0, rdfLoadMs: 0, sparqlMs: 0, renderMs: 0, writeMs: 0, totalMs: 0 },
          counts: { templates: 0, files: 2, triples: 0, queries: 0 },
        }),
      );
      const r = u.run(
        "--json",
        "ultra-fast-test",
        "--manifest",
        "out/.ggen/manifest.json",
        "--backend",
        "local",
      );
      expect(r.status).toBe(0);
      const run = JSON.parse(r.stdout) as CleanroomRun;
      expect(run.tests.map((t) => `${t.name}:${t.status}`)).toEqual(["greets:passed"]);
      expect(run.services).toEqual([]);
      expect(existsSync(join(u.dir, "out/node_modules/greet"))).toBe(true);
      expect(existsSync(join(u.dir, "out/package-lock.json"))).toBe(false);
      const timeline = JSON.parse(
        readFileSync(join(u.dir, ".cleanroom/runs", `${run.runId}.timeline.json`), "utf8"),
      );
      expect(timeline[0].name).toBe("npm install");
    } finally {
      u.cleanup();
    }
  });
});

describe("vitest projects", () => {
  it("per-test results from vitest's JSON, each test once, through a local environment", () => {
    const v = project("cleanroom-vitest-");
    try {
      v.write(
        "package.json",
        JSON.stringify({ name: "v", type: "module", devDependencies: { vitest: "*" } }),
      );
      mkdirSync(join(v.dir, "node_modules"));
      symlinkSync(
        realpathSync(join(import.meta.dirname, "../../../node_modules/vitest")),
        join(v.dir, "node_modules/vitest"),
      );
      v.write(
        "src/math.test.mjs",
        'import { describe, expect, it } from "vitest";\ndescribe("math", () => { it("adds", () => expect(1 + 1).toBe(2)); it("breaks", () => expect(1).toBe(2)); });\n',
      );
      const r = v.run("--json", "test", "run", "--backend", "local");
      expect(r.status).toBe(1);
      const run = JSON.parse(r.stdout) as CleanroomRun;
      expect(run.tests.map((t) => `${t.file}#${t.suite} > ${t.name}:${t.status}`).sort()).toEqual([
        "src/math.test.mjs#math > adds:passed",
        "src/math.test.mjs#math > breaks:failed",
      ]);
    } finally {
      v.cleanup();
    }
  }, 60_000);
});

describe("scenarios", () => {
  it("exec --scenario runs the DAG, dependents after their dependencies, allowed failures pass", () => {
    const r = p.run("exec", "--scenario", "pipeline.yaml", "--backend", "local");
    expect(r.status).toBe(0);
    const run = p.json<CleanroomRun>("test", "results");
    const by = Object.fromEntries(run.tests.map((t) => [t.name, t]));
    expect(by.build!.status).toBe("passed");
    expect(by.unit!.status).toBe("passed");
    expect(by["flaky-check"]!.status).toBe("passed");
    expect(by["flaky-check"]!.failureMessage).toMatch(/^allowed failure: exit code 3/);
    expect(run.tests.every((t) => t.suite === "pipeline" && t.file === "pipeline.yaml")).toBe(true);
  });

  it("a failing step skips its dependents and fails the run", () => {
    p.write(
      "fail.yaml",
      "steps:\n  - name: a\n    run: exit 1\n  - name: b\n    run: 'true'\n    depends: [a]\n",
    );
    const r = p.run("exec", "--scenario", "fail.yaml", "--host");
    expect(r.status).toBe(1);
    const run = p.json<CleanroomRun>("test", "results");
    expect(run.tests.map((t) => t.status)).toEqual(["failed", "skipped"]);
  });
});

describe("reports and attestations", () => {
  it("HTML report of the last run is self-contained", () => {
    const r = p.run("report", "--format", "html", "--output", "out/report.html");
    expect(r.status).toBe(0);
    const html = readFileSync(join(p.dir, "out/report.html"), "utf8");
    expect(html).toContain("<!doctype html>");
    expect(html).toContain('data-testid="timeline"');
    expect(html).not.toMatch(/<script|<link /);
  });

  it("a signed attestation verifies, then names the changed file", () => {
    p.run("test", "run", "--host", "--file", "test/ok.test.mjs");
    const r = p.run("report", "--attestation", "--sign", "--output", "att.json");
    expect(r.status).toBe(0);
    expect(existsSync(join(p.dir, ".cleanroom/keys/attestation.key"))).toBe(true);
    const env = JSON.parse(readFileSync(join(p.dir, "att.json"), "utf8"));
    expect(env.payloadType).toBe("application/vnd.in-toto+json");
    const statement = JSON.parse(Buffer.from(env.payload, "base64").toString());
    expect(statement.predicate.result).toBe("PASSED");
    expect(statement.subject.map((s: { name: string }) => s.name)).toEqual(["test/ok.test.mjs"]);
    const ok = p.run("report", "--verify", "att.json");
    expect(ok.status).toBe(0);
    expect(ok.stdout).toMatch(/^VERIFIED {2}2\/2 files match/);
    expect(ok.stdout).toContain("signature valid");
    writeFileSync(join(p.dir, "test/ok.test.mjs"), "// changed\n");
    const bad = p.run("report", "--verify", "att.json");
    expect(bad.status).toBe(1);
    expect(bad.stdout).toMatch(/^NOT VERIFIED/);
    expect(bad.stdout).toMatch(
      /changed: test\/ok\.test\.mjs \(subject\) sha256 [0-9a-f]{12}… → [0-9a-f]{12}…/,
    );
    expect(bad.stderr).toBe("cleanroom: error: attestation does not verify: test/ok.test.mjs changed\n");
  });

  it("metrics show --detailed gives p50 / p95 per step across runs", () => {
    const m = p.json<{ runs: number; steps: { name: string; runs: number; p50: number; p95: number }[] }>(
      "metrics",
      "show",
      "--detailed",
    );
    expect(m.runs).toBeGreaterThanOrEqual(5);
    const build = m.steps.find((s) => s.name === "build");
    expect(build?.runs).toBe(1);
    expect(build!.p95).toBeGreaterThanOrEqual(build!.p50);
    const text = p.run("metrics", "show", "--detailed");
    expect(text.stdout).toMatch(/STEP\s+RUNS\s+P50\s+P95/);
  });
});
