// Scenario files: YAML with `name`, `concurrent`, `timeout_ms` and `steps`, validated with the line
// and column of every problem. The steps may sit at the top level or under a `scenario:` key (the
// seeds' shape). Pure: text in, a checked Scenario (or a GgenError pointing into the file) out.

import { variableProblem } from "@ggen/cleanroom-backends";
import { compilePattern, GgenError, type SafePattern, schemaKeys } from "@ggen/contract";
import { closest } from "@ggen/support";
import { isMap, isScalar, isSeq, LineCounter, type Node, parseDocument, type YAMLMap } from "yaml";

export interface StepExpect {
  /** Exit codes that count as success (default [0]). */
  exitCodes: number[];
  stdoutContains: string[];
  /** Users' patterns run on RE2 (compilePattern): linear time, no catastrophic backtracking. */
  stdoutMatches: SafePattern[];
  stderrContains: string[];
  stderrMatches: SafePattern[];
}

export interface ScenarioStep {
  name: string;
  /** What runs: `cmd` as given, or `run` through `sh -c`. */
  argv: string[];
  shell: boolean;
  env: Record<string, string>;
  cwd?: string;
  timeoutMs?: number;
  depends: string[];
  /** false: runs alone, never beside another step. */
  parallel: boolean;
  retries: number;
  expect: StepExpect;
  continueOnError: boolean;
  line: number;
}

export interface Scenario {
  file: string;
  name: string;
  concurrent: boolean;
  timeoutMs?: number;
  steps: ScenarioStep[];
}

// The keys come from the scenario/v1 schema, the one editors check scenario files against.
const SCENARIO_KEYS = schemaKeys("scenario/v1", "/$defs/scenario");
const STEP_KEYS = schemaKeys("scenario/v1", "/$defs/step");
const EXPECT_KEYS = schemaKeys("scenario/v1", "/$defs/expect");

class Checker {
  constructor(
    readonly file: string,
    readonly lines: LineCounter,
  ) {}

  fail(node: Node | undefined | null, message: string, hint?: string): never {
    const offset = node?.range?.[0] ?? 0;
    const pos = this.lines.linePos(offset);
    throw new GgenError("SCENARIO_INVALID", message, {
      kind: "usage",
      location: { file: this.file, line: pos.line, column: pos.col },
      ...(hint ? { hint } : {}),
    });
  }

  line(node: Node | undefined | null): number {
    return this.lines.linePos(node?.range?.[0] ?? 0).line;
  }

  map(node: unknown, what: string, keys: string[]): YAMLMap {
    if (!isMap(node)) this.fail(node as Node, `${what} must be a mapping`);
    for (const pair of node.items) {
      const k = pair.key;
      const key = isScalar(k) ? String(k.value) : "";
      if (!keys.includes(key))
        this.fail(k as Node, `unknown key '${key}' in ${what}`, `expected one of ${keys.join(", ")}`);
    }
    return node;
  }

  get(map: YAMLMap, key: string): Node | undefined {
    return map.get(key, true) as Node | undefined;
  }

  string(node: Node | undefined, what: string): string | undefined {
    if (node === undefined) return undefined;
    if (!isScalar(node) || typeof node.value !== "string" || node.value === "")
      this.fail(node, `${what} must be a non-empty string`);
    return node.value;
  }

  bool(node: Node | undefined, what: string): boolean | undefined {
    if (node === undefined) return undefined;
    if (!isScalar(node) || typeof node.value !== "boolean") this.fail(node, `${what} must be true or false`);
    return node.value;
  }

  int(node: Node | undefined, what: string, min = 0): number | undefined {
    if (node === undefined) return undefined;
    if (
      !isScalar(node) ||
      typeof node.value !== "number" ||
      !Number.isInteger(node.value) ||
      node.value < min
    )
      this.fail(node, `${what} must be an integer ≥ ${min}`);
    return node.value;
  }

  strings(node: Node | undefined, what: string): string[] {
    if (node === undefined) return [];
    if (isScalar(node) && typeof node.value === "string") return [node.value];
    if (!isSeq(node)) this.fail(node, `${what} must be a string or a list of strings`);
    return node.items.map((item) => {
      if (!isScalar(item) || (typeof item.value !== "string" && typeof item.value !== "number"))
        this.fail(item as Node, `${what} must be a list of strings`);
      return String(item.value);
    });
  }

  patterns(node: Node | undefined, what: string): SafePattern[] {
    const sources = this.strings(node, what);
    return sources.map((s, i) => {
      const item = isSeq(node) ? (node.items[i] as Node) : node;
      const pos = this.lines.linePos(item?.range?.[0] ?? 0);
      return compilePattern(s, {
        flags: "m",
        what,
        location: { file: this.file, line: pos.line, column: pos.col },
      });
    });
  }

  env(node: Node | undefined, what: string): Record<string, string> {
    if (node === undefined) return {};
    if (!isMap(node)) this.fail(node, `${what} must be a mapping of names to values`);
    const out: Record<string, string> = {};
    for (const pair of node.items) {
      const k = pair.key as Node;
      const v = pair.value as Node | null;
      if (!isScalar(k) || typeof k.value !== "string" || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(k.value))
        this.fail(k, `${what}: '${isScalar(k) ? String(k.value) : "?"}' is not a valid variable name`);
      if (!isScalar(v) || v.value === null || typeof v.value === "object")
        this.fail(v ?? k, `${what}.${k.value} must be a string, number or boolean`);
      const problem = variableProblem(k.value, String(v.value));
      if (problem) this.fail(v, `${what}: ${problem}`);
      out[k.value] = String(v.value);
    }
    return out;
  }
}

function parseExpect(c: Checker, node: Node | undefined, step: string): StepExpect {
  const expect: StepExpect = {
    exitCodes: [0],
    stdoutContains: [],
    stdoutMatches: [],
    stderrContains: [],
    stderrMatches: [],
  };
  if (node === undefined) return expect;
  const m = c.map(node, `expect of step '${step}'`, EXPECT_KEYS);
  const code = c.get(m, "exit_code");
  if (code !== undefined) {
    if (isSeq(code)) expect.exitCodes = code.items.map((i) => c.int(i as Node, "expect.exit_code") ?? 0);
    else expect.exitCodes = [c.int(code, "expect.exit_code") ?? 0];
  }
  expect.stdoutContains = c.strings(c.get(m, "stdout_contains"), "expect.stdout_contains");
  expect.stderrContains = c.strings(c.get(m, "stderr_contains"), "expect.stderr_contains");
  expect.stdoutMatches = c.patterns(c.get(m, "stdout_matches"), "expect.stdout_matches");
  expect.stderrMatches = c.patterns(c.get(m, "stderr_matches"), "expect.stderr_matches");
  return expect;
}

/** Parses and checks a scenario; errors carry file:line:col. */
export function parseScenario(text: string, file: string): Scenario {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const c: Checker = new Checker(file, lines);
  const first = doc.errors[0];
  if (first) {
    const pos = lines.linePos(first.pos[0]);
    const msg = first.message.split("\n")[0] ?? "invalid YAML";
    throw new GgenError("SCENARIO_YAML", `invalid YAML: ${msg.replace(/ at line \d+, column \d+:?$/, "")}`, {
      kind: "usage",
      location: { file, line: pos.line, column: pos.col },
    });
  }
  let root = doc.contents as Node | null;
  if (!root) c.fail(null, "the scenario is empty", "it needs at least `steps:`");
  if (isMap(root) && root.items.length === 1 && root.has("scenario"))
    root = root.get("scenario", true) as Node;
  const top = c.map(root, "the scenario", SCENARIO_KEYS);
  const name = c.string(c.get(top, "name"), "name") ?? file.replace(/^.*\//, "").replace(/\.ya?ml$/, "");
  const concurrent = c.bool(c.get(top, "concurrent"), "concurrent") ?? false;
  const timeoutMs = c.int(c.get(top, "timeout_ms"), "timeout_ms", 1);
  const scenarioEnv = c.env(c.get(top, "env"), "env");
  const stepsNode = c.get(top, "steps");
  if (stepsNode === undefined) c.fail(top, "the scenario has no `steps`");
  if (!isSeq(stepsNode) || stepsNode.items.length === 0)
    c.fail(stepsNode, "`steps` must be a non-empty list of steps");

  const steps: ScenarioStep[] = [];
  const nodes = new Map<string, Node>();
  const dependNodes = new Map<string, Node[]>();
  for (const item of stepsNode.items) {
    const m = c.map(item, "a step", STEP_KEYS);
    const nameNode = c.get(m, "name");
    if (nameNode === undefined) c.fail(m, "a step has no `name`");
    const stepName = c.string(nameNode, "step name")!;
    if (nodes.has(stepName)) c.fail(nameNode, `step '${stepName}' is defined twice`);
    nodes.set(stepName, m);
    const cmdNode = c.get(m, "cmd");
    const runNode = c.get(m, "run");
    if (cmdNode && runNode) c.fail(runNode, `step '${stepName}' has both \`cmd\` and \`run\`; give one`);
    let argv: string[];
    let shell = false;
    if (cmdNode) {
      argv = isScalar(cmdNode) ? [c.string(cmdNode, "cmd")!] : c.strings(cmdNode, "cmd");
      if (argv.length === 0 || argv[0] === "") c.fail(cmdNode, `step '${stepName}': \`cmd\` is empty`);
    } else if (runNode) {
      argv = ["sh", "-c", c.string(runNode, "run")!];
      shell = true;
    } else c.fail(m, `step '${stepName}' has neither \`cmd\` (argv) nor \`run\` (shell)`);
    const dependsNode = c.get(m, "depends");
    const depends = c.strings(dependsNode, "depends");
    if (dependsNode) {
      const perItem = isSeq(dependsNode) ? (dependsNode.items as Node[]) : [dependsNode];
      dependNodes.set(stepName, perItem);
    }
    const step: ScenarioStep = {
      name: stepName,
      argv,
      shell,
      env: { ...scenarioEnv, ...c.env(c.get(m, "env"), `env of step '${stepName}'`) },
      depends,
      parallel: c.bool(c.get(m, "parallel"), "parallel") ?? true,
      retries: c.int(c.get(m, "retries"), "retries") ?? 0,
      expect: parseExpect(c, c.get(m, "expect"), stepName),
      continueOnError: c.bool(c.get(m, "continue_on_error"), "continue_on_error") ?? false,
      line: c.line(m),
    };
    const cwd = c.string(c.get(m, "cwd"), "cwd");
    if (cwd !== undefined) step.cwd = cwd;
    const t = c.int(c.get(m, "timeout_ms"), "timeout_ms", 1);
    if (t !== undefined) step.timeoutMs = t;
    steps.push(step);
  }

  // Every dependency names a step; no cycles.
  const names = [...nodes.keys()];
  for (const step of steps) {
    step.depends.forEach((d, i) => {
      if (!nodes.has(d)) {
        const near = closest(d, names);
        c.fail(
          dependNodes.get(step.name)?.[i],
          `step '${step.name}' depends on unknown step '${d}'`,
          near ? `did you mean '${near}'?` : `steps are ${names.join(", ")}`,
        );
      }
      if (d === step.name) c.fail(dependNodes.get(step.name)?.[i], `step '${step.name}' depends on itself`);
    });
  }
  const cycle = findCycle(steps);
  if (cycle) {
    const at = cycle[0]!;
    c.fail(nodes.get(at), `cyclic depends: ${[...cycle, at].join(" → ")}`);
  }
  const scenario: Scenario = { file, name, concurrent, steps };
  if (timeoutMs !== undefined) scenario.timeoutMs = timeoutMs;
  return scenario;
}

/** A cycle among the steps' `depends` (as a list of step names), or undefined. */
export function findCycle(
  steps: readonly { name: string; depends: readonly string[] }[],
): string[] | undefined {
  const deps = new Map(steps.map((s) => [s.name, s.depends]));
  const state = new Map<string, 1 | 2>();
  const stack: string[] = [];
  const visit = (n: string): string[] | undefined => {
    const s = state.get(n);
    if (s === 2) return undefined;
    if (s === 1) return stack.slice(stack.indexOf(n));
    state.set(n, 1);
    stack.push(n);
    for (const d of deps.get(n) ?? []) {
      const found = visit(d);
      if (found) return found;
    }
    stack.pop();
    state.set(n, 2);
    return undefined;
  };
  for (const s of steps) {
    const found = visit(s.name);
    if (found) return found;
  }
  return undefined;
}
