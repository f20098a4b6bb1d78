import { StageView } from "@ggen/reporter";
import { GgenError } from "@ggen/support";
import { describe, expect, it } from "vitest";
import { createContext, type UltraFastOptions } from "./context.js";
import { RunSignal, type Stage, StageRunner, settle } from "./stage.js";

function setupRun(names: string[] = ["a", "b", "reporting"]) {
  const view = new StageView(names, { enabled: false });
  const signal = new RunSignal(600_000);
  const options: UltraFastOptions = {
    pack: { pack: "p" },
    name: "shop",
    vars: {},
    env: "production",
    backend: "local",
    timeoutMs: 600_000,
    first: false,
    keepRunning: false,
    isolated: false,
    cwd: "/tmp/project",
    ggenVersion: "0.0.0",
    cache: { templates: "/tmp/t", nodeModules: "/tmp/n" },
    view,
    onNote: () => undefined,
  };
  const ctx = createContext(options, signal.signal);
  const runner = new StageRunner<{ a: number; b: string }>(ctx, view);
  return { view, signal, ctx, runner };
}

const record = (view: StageView, name: string) => view.records().find((s) => s.name === name);

describe("createContext", () => {
  it("puts output, report and state under cwd, and names the environment after the run", () => {
    const { ctx } = setupRun();
    expect(ctx.paths).toEqual({
      cwd: "/tmp/project",
      output: "/tmp/project/target/generated/shop",
      report: "/tmp/project/target/ultra-fast/shop/report.json",
      state: "/tmp/project/.cleanroom",
    });
    expect(ctx.environmentName).toBe(`ufd-shop-${ctx.sessionId.slice(0, 6)}`);
    expect(Object.isFrozen(ctx)).toBe(true);
  });
});

describe("StageRunner", () => {
  it("records the output and ends the stage with its line", async () => {
    const { view, runner } = setupRun();
    const double: Stage<number, number, "a"> = {
      name: "a",
      onAbort: "stop-waiting",
      run: async (_ctx, n) => n * 2,
      describe: (out, n) => `${n} → ${out}`,
    };
    expect(await runner.run(double, 21)).toBe(42);
    expect(runner.outputs.a).toBe(42);
    expect(record(view, "a")).toMatchObject({ status: "success", message: "21 → 42" });
  });

  it("a verdict makes a result a failure: the stage ends as it says, the output is kept", async () => {
    const { view, runner } = setupRun();
    const deploy: Stage<void, string, "b"> = {
      name: "b",
      onAbort: "finish",
      run: async () => "r2",
      verdict: () => ({ error: new GgenError("DEPLOY_FAILED", "verify failed"), status: "rolled-back" }),
    };
    await expect(runner.run(deploy, undefined)).rejects.toThrow("verify failed");
    expect(runner.outputs.b).toBe("r2");
    expect(record(view, "b")).toMatchObject({ status: "rolled-back", message: "verify failed" });
  });

  it("stop-waiting: an abort ends the wait at once, and settled() still waits for the work", async () => {
    const { signal, runner } = setupRun();
    let release: () => void = () => {};
    let finished = false;
    const slow: Stage<void, number, "a"> = {
      name: "a",
      onAbort: "stop-waiting",
      run: () =>
        new Promise<number>((res) => {
          release = () => {
            finished = true;
            res(1);
          };
        }),
    };
    const p = runner.run(slow, undefined);
    signal.cancel(new GgenError("CANCELLED", "cancelled"));
    await expect(p).rejects.toThrow("cancelled");
    expect(runner.outputs.a).toBeUndefined();
    const settled = runner.settled();
    release();
    await settled;
    expect(finished).toBe(true);
  });

  it("finish: the stage answers the abort itself and its result stands", async () => {
    const { signal, runner } = setupRun();
    const own: Stage<void, string, "b"> = {
      name: "b",
      onAbort: "finish",
      run: (ctx) =>
        new Promise((res) => ctx.signal.addEventListener("abort", () => res("stopped"), { once: true })),
    };
    const p = runner.run(own, undefined);
    signal.cancel(new Error("stop"));
    expect(await p).toBe("stopped");
  });
});

describe("RunSignal", () => {
  it("a timeout aborts with TIMEOUT and says so; the caller's abort passes its reason", async () => {
    const timed = new RunSignal(1);
    await new Promise((res) => timed.signal.addEventListener("abort", res, { once: true }));
    expect(timed.timedOut).toBe(true);
    expect((timed.signal.reason as GgenError).code).toBe("TIMEOUT");

    const parent = new AbortController();
    const run = new RunSignal(600_000, parent.signal);
    parent.abort(new GgenError("INTERRUPTED", "interrupted"));
    expect(run.timedOut).toBe(false);
    expect((run.signal.reason as GgenError).code).toBe("INTERRUPTED");
    run.cancel(new Error("later"));
    expect((run.signal.reason as GgenError).code).toBe("INTERRUPTED");
    run.dispose();
  });
});

describe("settle", () => {
  it("ends what runs, skips what never started, leaves reporting to run", () => {
    const { view } = setupRun();
    view.begin("a");
    settle(view, "timed-out", "over --timeout 1s");
    expect(view.records().map((s) => [s.name, s.status, s.message])).toEqual([
      ["a", "timed-out", "over --timeout 1s"],
      ["b", "skipped", undefined],
      ["reporting", "pending", undefined],
    ]);
  });
});
