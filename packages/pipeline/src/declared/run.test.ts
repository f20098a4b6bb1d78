import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ExecOptions, ExecResult } from "@ggen/cleanroom-backends";
import { afterAll, describe, expect, it } from "vitest";
import { planPipeline } from "./plan.js";
import { runDeclared, YIELD } from "./run.js";
import { TOOLCHAINS } from "./toolchains.js";

const root = mkdtempSync(join(tmpdir(), "declared-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** An exec that answers from a table by the command's first word, and logs starts and ends. */
function fakeExec(answers: Record<string, Partial<ExecResult>>, log: string[]) {
  const running = new Set<string>();
  let most = 0;
  const exec = async (argv: string[], _o?: ExecOptions): Promise<ExecResult> => {
    // A stage off the critical path starts under `nice`: logged as such, answered by its own name.
    const yielded = argv.slice(0, YIELD.length).join(" ") === YIELD.join(" ");
    const name = argv[yielded ? YIELD.length : 0]!;
    if (yielded) log.push(`yield ${name}`);
    log.push(`start ${name}`);
    running.add(name);
    most = Math.max(most, running.size);
    // Let the others start before this one ends.
    await new Promise((r) => setTimeout(r, 5));
    running.delete(name);
    log.push(`end ${name}`);
    return {
      exitCode: 0,
      signal: null,
      stdout: "",
      stderr: "",
      durationMs: 5,
      timedOut: false,
      ...answers[name],
    };
  };
  return { exec, most: () => most };
}

const none = await TOOLCHAINS.none({
  root,
  visibleRoot: root,
  lanes: [],
  signal: new AbortController().signal,
  nodeModulesCache: root,
});

/** The plan's stages run through `exec`, in `root`, with `toolchain` (the "none" toolchain by default). */
const runPlan = (
  plan: ReturnType<typeof planPipeline>,
  exec: Parameters<typeof runDeclared>[0]["exec"],
  more: Partial<Parameters<typeof runDeclared>[0]> = {},
) =>
  runDeclared({
    plan,
    root,
    visibleRoot: root,
    workdir: root,
    exec,
    toolchain: none,
    signal: new AbortController().signal,
    ...more,
  });

describe("runDeclared", () => {
  it("runs what it can at once, one stage of a lane at a time, and skips what comes after a failure", async () => {
    const plan = planPipeline({
      version: 1,
      stages: [
        { name: "a", run: ["a"], lane: "one", gate: "build" },
        { name: "b", run: ["b"], lane: "one", gate: "lint" },
        { name: "c", run: ["c"], gate: "format" },
        { name: "d", run: ["d"], after: ["c"], gate: "tests", parse: "tap" },
        { name: "e", run: ["e"], after: ["d"], gate: "docs" },
      ],
    });
    const log: string[] = [];
    const tap = "TAP version 13\nok 1 - adds\nnot ok 2 - subtracts\n1..2\n";
    const f = fakeExec({ d: { exitCode: 1, stdout: tap } }, log);
    const ended: string[] = [];
    const r = await runPlan(plan, f.exec, {
      onEnd: (name, res) => ended.push(`${name}:${res.status}`),
    });
    // a and b share a lane: b starts only after a ended.
    expect(log.indexOf("start b")).toBeGreaterThan(log.indexOf("end a"));
    // a (lane one) and c (no lane) ran side by side.
    expect(log.indexOf("start c")).toBeLessThan(log.indexOf("end a"));
    expect(f.most()).toBeGreaterThanOrEqual(2);
    expect(r.stages.get("d")).toMatchObject({ status: "failed", summary: "1/2 passed; failed: subtracts" });
    expect(r.stages.get("e")).toMatchObject({ status: "skipped", summary: "not run: d did not pass" });
    expect(log).not.toContain("start e");
    expect(r.tests.map((t) => `${t.name}:${t.status}`)).toEqual(["adds:passed", "subtracts:failed"]);
    expect(ended).toContain("e:skipped");
  });

  it("a stage over its timeout is timed out; an aborted run starts nothing more", async () => {
    const plan = planPipeline({
      version: 1,
      stages: [
        { name: "slow", run: ["slow"], timeout: "1s" },
        { name: "next", run: ["next"], after: ["slow"] },
      ],
    });
    const log: string[] = [];
    const f = fakeExec({ slow: { exitCode: null, signal: "SIGKILL", timedOut: true } }, log);
    const r = await runPlan(plan, f.exec);
    expect(r.stages.get("slow")?.status).toBe("timed-out");
    expect(r.stages.get("next")?.status).toBe("skipped");

    const ctrl = new AbortController();
    ctrl.abort(new Error("stop"));
    const cut = await runPlan(plan, f.exec, {
      signal: ctrl.signal,
    });
    expect([...cut.stages.values()].map((s) => s.summary)).toEqual([
      "not started: the run was cut off",
      "not started: the run was cut off",
    ]);
  });

  it("a command that cannot start fails its stage with the reason", async () => {
    const plan = planPipeline({ version: 1, stages: [{ name: "x", run: ["x"] }] });
    const r = await runPlan(plan, async () => {
      throw new Error("spawn x ENOENT");
    });
    expect(r.stages.get("x")).toMatchObject({ status: "failed", summary: "spawn x ENOENT" });
  });

  it("a toolchain's work before the lanes runs once through the stages' exec and shows as a stage no gate reads", async () => {
    const plan = planPipeline({
      version: 1,
      stages: [
        { name: "build", run: ["build"], lane: "build", gate: "build" },
        { name: "fmt", run: ["fmt"], gate: "format" },
      ],
    });
    const log: string[] = [];
    const f = fakeExec({}, log);
    let release = () => {};
    const built = new Promise<void>((r) => {
      release = r;
    });
    const ended: string[] = [];
    const r = await runPlan(plan, f.exec, {
      onStart: (name) => ended.push(`start ${name}`),
      onEnd: (name, res) => ended.push(`${name}:${res.status}:${res.summary}`),
      toolchain: {
        ...none,
        begin: (exec) => {
          const done = exec(["deps"], { cwd: root, env: {} }).then(() => "built once");
          void done.then(() => release());
          return done;
        },
        // The lane's first stage waits for it.
        laneReady: () => built,
      },
    });
    expect(log.filter((l) => l === "start deps")).toHaveLength(1);
    expect(log.indexOf("start build")).toBeGreaterThan(log.indexOf("end deps"));
    expect(ended).toContain("start dependencies");
    expect(ended).toContain("dependencies:passed:built once");
    expect(r.stages.has("dependencies")).toBe(false);
  });

  it("a lane's first stage after a stage of another lane starts from that lane's build, copied in between", async () => {
    const plan = planPipeline({
      version: 1,
      stages: [
        { name: "clippy", run: ["clippy"], after: ["build"], lane: "check", gate: "lint" },
        { name: "doc", run: ["doc"], after: ["build"], lane: "check", gate: "docs" },
        { name: "build", run: ["build"], lane: "build", gate: "build" },
        { name: "test", run: ["test"], after: ["build"], lane: "build", gate: "tests" },
        // A lane that already builds on its own is never copied into.
        { name: "package", run: ["package"], lane: "package" },
        { name: "publish", run: ["publish"], after: ["build"], lane: "package" },
      ],
    });
    const log: string[] = [];
    const f = fakeExec({}, log);
    const r = await runPlan(plan, f.exec, {
      toolchain: {
        ...none,
        seedLane: async (lane, from) => {
          log.push(`seed ${lane} from ${from}`);
        },
      },
    });
    expect([...r.stages.values()].every((s) => s.status === "passed")).toBe(true);
    // Once, after build ended and before either lane went on; not into the package lane, started already.
    expect(log.filter((l) => l.startsWith("seed"))).toEqual(["seed check from build"]);
    const at = log.indexOf("seed check from build");
    expect(at).toBeGreaterThan(log.indexOf("end build"));
    expect(at).toBeLessThan(log.indexOf("start clippy"));
    expect(at).toBeLessThan(log.indexOf("start test"));
    // The lane others wait for (build, then its tests) keeps its priority; the rest yield.
    expect(log.filter((l) => l.startsWith("yield")).sort()).toEqual([
      "yield clippy",
      "yield doc",
      "yield package",
      "yield publish",
    ]);
  });
});
