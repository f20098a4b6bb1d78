import { isGgenError } from "@ggen/contract";
import { describe, expect, it } from "vitest";
import { findCycle, parseScenario } from "./scenario.js";

function fails(text: string): string {
  try {
    parseScenario(text, "s.yaml");
  } catch (e) {
    if (isGgenError(e)) {
      expect(e.kind).toBe("usage");
      return e.toLine();
    }
    throw e;
  }
  throw new Error("expected a failure");
}

describe("parseScenario", () => {
  it("reads the seeds' shape under `scenario:` with every step field", () => {
    const s = parseScenario(
      `scenario:
  name: fast
  concurrent: true
  timeout_ms: 20000
  steps:
    - name: build
      cmd: ["cargo", "build"]
      timeout_ms: 10000
    - name: test
      run: echo hi && exit 3
      depends: [build]
      retries: 2
      env: { A: 1, B: x }
      cwd: sub
      parallel: false
      continue_on_error: true
      expect:
        exit_code: [0, 3]
        stdout_contains: hi
        stderr_matches: ["^$"]
`,
      "s.yaml",
    );
    expect(s.name).toBe("fast");
    expect(s.concurrent).toBe(true);
    expect(s.timeoutMs).toBe(20000);
    expect(s.steps.map((x) => x.name)).toEqual(["build", "test"]);
    expect(s.steps[0]!.argv).toEqual(["cargo", "build"]);
    const t = s.steps[1]!;
    expect(t.argv).toEqual(["sh", "-c", "echo hi && exit 3"]);
    expect(t.shell).toBe(true);
    expect(t.depends).toEqual(["build"]);
    expect(t.env).toEqual({ A: "1", B: "x" });
    expect(t.expect.exitCodes).toEqual([0, 3]);
    expect(t.expect.stdoutContains).toEqual(["hi"]);
    expect(t.expect.stderrMatches[0]!.source).toBe("^$");
    expect(t.parallel).toBe(false);
    expect(t.retries).toBe(2);
    expect(t.continueOnError).toBe(true);
    expect(t.cwd).toBe("sub");
    expect(t.line).toBe(9);
  });

  it("points at the line of invalid YAML", () => {
    expect(fails("name: x\nsteps:\n  - name: a\n    cmd: [echo\n")).toMatch(/^s\.yaml:\d+:\d+: invalid YAML/);
    expect(fails("name: x\nsteps:\n  - name: a\n    run: x\n   bad: 1\n")).toMatch(
      /^s\.yaml:5:\d+: invalid YAML/,
    );
  });

  it("names an unknown dependency with its line and a suggestion", () => {
    const line = fails(
      "steps:\n  - name: build\n    run: 'true'\n  - name: test\n    run: 'true'\n    depends: [biuld]\n",
    );
    expect(line).toBe("s.yaml:6:15: step 'test' depends on unknown step 'biuld' (did you mean 'build'?)");
  });

  it("refuses cyclic depends, showing the cycle", () => {
    const line = fails(
      "steps:\n  - name: a\n    run: 'true'\n    depends: [c]\n  - name: b\n    run: 'true'\n    depends: [a]\n  - name: c\n    run: 'true'\n    depends: [b]\n",
    );
    expect(line).toMatch(/^s\.yaml:2:5: cyclic depends: a → c → b → a$/);
  });

  it("refuses unknown keys, duplicate names, and steps with nothing to run", () => {
    expect(fails("steps:\n  - name: a\n    comand: [x]\n")).toMatch(
      /^s\.yaml:3:5: unknown key 'comand' in a step/,
    );
    expect(fails("steps:\n  - name: a\n    run: x\n  - name: a\n    run: y\n")).toMatch(
      /^s\.yaml:4:11: step 'a' is defined twice/,
    );
    expect(fails("steps:\n  - name: a\n")).toMatch(/^s\.yaml:2:5: step 'a' has neither/);
    expect(fails("name: x\n")).toMatch(/has no `steps`/);
    expect(fails("steps:\n  - name: a\n    run: x\n    timeout_ms: -1\n")).toMatch(
      /^s\.yaml:4:17: timeout_ms must be an integer/,
    );
    expect(fails("steps:\n  - name: a\n    run: x\n    expect: { stdout_matches: '(' }\n")).toMatch(
      /^s\.yaml:4:\d+: expect.stdout_matches \/\(\/ is not a supported pattern/,
    );
  });

  it("runs expected-output patterns on RE2: backreferences refused, no catastrophic backtracking", () => {
    expect(fails("steps:\n  - name: a\n    run: x\n    expect: { stdout_matches: '(a)\\1' }\n")).toMatch(
      /^s\.yaml:4:31: expect.stdout_matches \/\(a\)\\1\/ is not a supported pattern/,
    );
    const s = parseScenario(
      "steps:\n  - name: a\n    run: x\n    expect: { stdout_matches: '^(a+)+$' }\n",
      "s.yaml",
    );
    // 50k characters: a backtracking engine would not return; RE2 does (and says no).
    expect(s.steps[0]!.expect.stdoutMatches[0]!.test(`${"a".repeat(50_000)}!`)).toBe(false);
    expect(s.steps[0]!.expect.stdoutMatches[0]!.test("aaa")).toBe(true);
  });

  it("findCycle finds none in a DAG", () => {
    expect(
      findCycle([
        { name: "a", depends: [] },
        { name: "b", depends: ["a"] },
      ]),
    ).toBeUndefined();
    expect(findCycle([{ name: "a", depends: ["a"] }])).toEqual(["a"]);
  });
});
