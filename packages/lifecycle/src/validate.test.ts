import { createHash } from "node:crypto";
import { promises as fs } from "node:fs";
import { join } from "node:path";
import type { CleanroomRun } from "@ggen/contract";
import { afterAll, describe, expect, it } from "vitest";
import { inRange } from "./advisories.js";
import { loadConfig } from "./config.js";
import { parseRequirements, readiness, updateRequirement } from "./requirements.js";
import { runPhases } from "./runner.js";
import { cleanupProjects, project } from "./test-util.js";
import { entropy, parseDiagnostics, validate } from "./validate.js";

afterAll(cleanupProjects);

const sha = (s: string) => createHash("sha256").update(s).digest("hex");

function run(
  sources: { path: string; text: string }[],
  over: Partial<CleanroomRun["summary"]> = {},
  failed = false,
): CleanroomRun {
  return {
    kind: "cleanroom-run/v1",
    runId: "run-1",
    startedAt: "2026-01-13T10:00:01.000Z",
    finishedAt: "2026-01-13T10:00:02.000Z",
    sources: sources.map((s) => ({ path: s.path, sha256: sha(s.text) })),
    environment: {
      name: "e",
      backend: "local",
      isolation: { network: false, pid: false, filesystem: true, limits: false },
    },
    services: [],
    tests: [
      {
        id: "t1",
        file: "test/api.test.mjs",
        name: "creates",
        status: failed ? "failed" : "passed",
        durationMs: 1,
        ...(failed ? { failureMessage: "expected 201" } : {}),
      },
    ],
    summary: {
      total: 1,
      passed: failed ? 0 : 1,
      failed: failed ? 1 : 0,
      skipped: 0,
      timedOut: 0,
      errored: 0,
      ...over,
    },
    timings: { setupMs: 0, testMs: 1, teardownMs: 0, totalMs: 1 },
    resources: { peakMemoryMb: 1, cpuPercent: 1 },
  };
}

describe("tests check", () => {
  it("passes a cleanroom run of the current sources and catches stale sources, failures and low coverage", async () => {
    const src = "export const a = 1;\n";
    const dir = await project({
      "src/a.ts": src,
      "make.toml": `[validation]\ncoverage_threshold = 80\n`,
      ".ggen/cleanroom-run.json": JSON.stringify(
        run([{ path: "src/a.ts", text: src }], { coveragePercent: 91 }),
      ),
    });
    const c = await loadConfig(dir);
    expect((await validate(c, { checks: ["tests"] })).findings).toEqual([]);

    await fs.writeFile(join(dir, "src/a.ts"), "export const a = 2;\n");
    let v = await validate(c, { checks: ["tests"] });
    expect(v.passed).toBe(false);
    expect(v.findings).toEqual([
      {
        check: "tests",
        severity: "error",
        message: "src/a.ts changed since test run run-1; re-run the tests",
        file: "src/a.ts",
        line: 1,
      },
    ]);

    const now = "export const a = 2;\n";
    await fs.writeFile(
      join(dir, ".ggen/cleanroom-run.json"),
      JSON.stringify(run([{ path: "src/a.ts", text: now }], { coveragePercent: 50 }, true)),
    );
    v = await validate(c, { checks: ["tests"] });
    expect(v.findings.map((f) => `${f.file}: ${f.message}`)).toEqual([
      "test/api.test.mjs: test 'creates' failed: expected 201",
      ".ggen/cleanroom-run.json: coverage 50% is below the threshold 80%",
    ]);

    await fs.writeFile(
      join(dir, ".ggen/cleanroom-run.json"),
      JSON.stringify({ kind: "cleanroom-run/v1", runId: "x" }),
    );
    v = await validate(c, { checks: ["tests"] });
    expect(v.findings[0]?.message).toMatch(
      /^\.ggen\/cleanroom-run\.json is not a valid cleanroom-run\/v1: .*\/startedAt is required/,
    );
  });

  it("gates a deploy on the tests when the environment requires them", async () => {
    const dir = await project({
      "make.toml": `[phases.deploy]\n[environments.production]\nrequire_tests = true\n[environments.production.deploy]\nprovider = "command"\ncommand = "touch deployed"\n`,
    });
    const r = await runPhases(await loadConfig(dir), ["deploy"], { env: "production" });
    expect(r.ok).toBe(false);
    expect(r.failure?.message).toMatch(/^phase 'deploy' blocked: 'production' requires tests checks to pass/);
    await expect(fs.access(join(dir, "deployed"))).rejects.toThrow();
  });
});

describe("security check", () => {
  it("finds secrets, forbidden patterns per language and vulnerable locked dependencies, each with file:line", async () => {
    const dir = await project({
      "make.toml": "",
      "src/main.rs":
        'fn main() {\n    let v = read().unwrap();\n    let w = parse(v).expect("bad");\n}\n#[cfg(test)]\nmod t { fn x() { y().unwrap(); } }\n',
      "src/app.js":
        'const x = 1;\nconst y = eval("1+1");\nconst retrieval = 2;\nconst db_password = "hunter2hunter2";\nconst msg = "never eval(input)"; // nor eval( here\n',
      "src/keys.ts":
        'export const k = "AKIAIOSFODNN7EXAMPLE";\nexport const t = "Zx8Qp2Lm9Vr4Tn7Ks1Wb6Hy3Jd5Fg0Ac";\nexport const api_token = "<YOUR_TOKEN>";\n',
      "tests/it.rs": "fn t() { a().unwrap(); }\n",
      "package-lock.json": JSON.stringify(
        {
          lockfileVersion: 3,
          packages: {
            "": {},
            "node_modules/lodash": { version: "4.17.20" },
            "node_modules/minimist": { version: "1.2.8" },
          },
        },
        null,
        2,
      ),
    });
    const v = await validate(await loadConfig(dir), { checks: ["security"] });
    const got = v.findings.map((f) => `${f.severity} ${f.file}:${f.line} ${f.message}`);
    expect(got).toContain("error src/main.rs:2 forbidden '.unwrap()' in .rs source");
    expect(got).toContain("error src/main.rs:3 forbidden '.expect(' in .rs source");
    expect(got).toContain("error src/app.js:2 forbidden 'eval(' in .js source");
    expect(got).toContain("error src/app.js:4 hard-coded secret in 'db_password'");
    expect(got).toContain("error src/keys.ts:1 hard-coded AWS access key id");
    expect(got.some((g) => g.startsWith("warning src/keys.ts:2 high-entropy string"))).toBe(true);
    expect(
      got.some((g) => g.includes("package-lock.json") && g.includes("lodash@4.17.20: CVE-2021-23337")),
    ).toBe(true);
    // Test code, ordinary identifiers, placeholders and patched versions are not findings.
    expect(
      got.filter(
        (g) =>
          g.includes("tests/it.rs") ||
          g.includes("src/main.rs:6") ||
          g.includes("src/keys.ts:3") ||
          g.includes("minimist") ||
          g.includes("src/app.js:3") ||
          g.includes("src/app.js:5"),
      ),
    ).toEqual([]);
    expect(v.passed).toBe(false);
  });

  it("compares versions against advisory ranges", () => {
    expect(inRange("4.17.20", "<4.17.21")).toBe(true);
    expect(inRange("4.17.21", "<4.17.21")).toBe(false);
    expect(inRange("2.2.1", "<1.0.2 || >=2.0.0 <2.2.2")).toBe(true);
    expect(inRange("1.5.0", "<1.0.2 || >=2.0.0 <2.2.2")).toBe(false);
  });

  it("measures entropy", () => {
    expect(entropy("aaaaaaaa")).toBe(0);
    expect(entropy("abcdefgh")).toBe(3);
  });
});

describe("errors and warnings of the last build", () => {
  it("parses compiler diagnostics from the build log", async () => {
    expect(
      parseDiagnostics(
        [
          "src/a.ts(3,5): error TS2322: Type 'string' is not assignable",
          "src/b.c:10:2: warning: unused variable 'x'",
          "warning: unused import",
          "  --> src/main.rs:4:5",
          "warning: `app` (bin) generated 1 warning",
        ].join("\n"),
      ),
    ).toEqual([
      {
        severity: "error",
        message: "TS2322: Type 'string' is not assignable",
        file: "src/a.ts",
        line: 3,
        logLine: 1,
      },
      { severity: "warning", message: "unused variable 'x'", file: "src/b.c", line: 10, logLine: 2 },
      { severity: "warning", message: "unused import", file: "src/main.rs", line: 4, logLine: 3 },
    ]);
  });

  it("reports the last build's failure and its diagnostics", async () => {
    const dir = await project({
      "make.toml": `[phases.build]\ncommand = "echo 'src/x.c:3:1: warning: shadowed'; echo 'src/x.c:9:2: error: no such symbol' >&2; exit 2"\n`,
    });
    const c = await loadConfig(dir);
    expect((await validate(c, { checks: ["errors"] })).findings[0]?.message).toBe(
      "phase 'build' has not run; no build to check",
    );
    await runPhases(c, ["build"]);
    const errors = await validate(c, { checks: ["errors"] });
    expect(errors.findings.map((f) => `${f.file}:${f.line} ${f.message}`)).toEqual([
      expect.stringMatching(/^\.ggen\/logs\/build\.log:1 the last 'build' failed \(exit 2\)/),
      "src/x.c:9 no such symbol",
    ]);
    const warnings = await validate(c, { checks: ["warnings"], failOnWarning: true });
    expect(warnings.findings.map((f) => `${f.severity} ${f.file}:${f.line} ${f.message}`)).toEqual([
      "warning src/x.c:3 shadowed",
    ]);
    expect(warnings.passed).toBe(false);
    expect((await validate(c, { checks: ["warnings"] })).passed).toBe(true);
  });
});

describe("requirements and readiness", () => {
  const yaml = `requirements:
  - id: health
    name: Health endpoint
    required: true
    category: ops
    check: { file: src/health.ts }
  - id: logging
    name: Logging
    required: true
    category: ops
  - id: no-todo
    name: No TODO
    required: false
    category: quality
    check: { pattern: "TODO", files: "src/**", absent: true }
  - id: lint
    name: Lint passes
    category: quality
    check: { command: "test -f lint-ok" }
`;

  it("scores requirements from checks and recorded statuses", async () => {
    const dir = await project({
      "make.toml": "",
      ".ggen/production-requirements.yaml": yaml,
      "src/a.ts": "// TODO\n",
    });
    const c = await loadConfig(dir);
    let r = await readiness(c);
    expect(r.requirements.map((q) => `${q.id}:${q.status}:${q.source}`)).toEqual([
      "health:incomplete:check",
      "logging:incomplete:default",
      "no-todo:incomplete:check",
      "lint:incomplete:check",
    ]);
    expect(r.score).toBe(0);
    expect(r.requirements.find((q) => q.id === "no-todo")?.detail).toBe("/TODO/ found in src/a.ts:1");
    await fs.writeFile(join(dir, "src/health.ts"), "export {};\n");
    await fs.writeFile(join(dir, "lint-ok"), "");
    await updateRequirement(c, "logging", "complete");
    await updateRequirement(c, "no-todo", "not-applicable");
    r = await readiness(c);
    expect(r.ready).toBe(true);
    expect(r.score).toBe(100);
    await expect(updateRequirement(c, "loging", "complete")).rejects.toThrow(/unknown requirement 'loging'/);
    const v = await validate(c, { checks: ["requirements"] });
    expect(v.findings).toEqual([]);
  });

  it("reports bad YAML and bad requirements with their line", () => {
    const bad = (text: string) => {
      try {
        parseRequirements(text, "req.yaml");
      } catch (e) {
        return (e as Error & { toLine(): string }).toLine();
      }
      return "no error";
    };
    expect(bad("requirements:\n  - id: a\n    name: [unclosed\n")).toMatch(
      /^req\.yaml:\d+:\d+: invalid YAML: /,
    );
    expect(bad("requirements:\n  - id: a\n   name: x\n")).toMatch(/^req\.yaml:3:\d+: invalid YAML: /);
    expect(bad("requirements:\n  - id: a\n  - id: a\n")).toBe("req.yaml:3:5: duplicate requirement id 'a'");
    expect(bad("requirements:\n  - id: a\n    chek: {}\n")).toMatch(
      /^req\.yaml:3:5: unknown key 'chek' in a requirement/,
    );
  });
});

describe("tests report location", () => {
  it("falls back to cleanroom's own store (.cleanroom/runs/last)", async () => {
    const src = "x\n";
    const r = { ...run([{ path: "a.txt", text: src }]), runId: "run-42" };
    const dir = await project({
      "make.toml": "",
      "a.txt": src,
      ".cleanroom/runs/last": "run-42\n",
      ".cleanroom/runs/run-42.json": JSON.stringify(r),
    });
    const v = await validate(dir, { checks: ["tests"] });
    expect(v).toMatchObject({ passed: true, findings: [] });
    await fs.writeFile(join(dir, ".cleanroom/runs/last"), "run-43\n");
    expect((await validate(dir, { checks: ["tests"] })).findings[0]?.message).toMatch(
      /^no cleanroom-run\/v1 report/,
    );
  });
});
