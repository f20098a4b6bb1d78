// A stage is one named step with declared inputs and outputs; the runner shows and times it, cuts it
// off on abort when it may be cut off, keeps what it started in view for teardown, and records its
// output for the report. A new kind of project (a Rust crate: build, test, clippy…) is new Stage
// files and a composition of them, next to the Node service's, never a branch inside these.

import type { StageStatus } from "@ggen/contract";
import type { StageView } from "@ggen/reporter";
import { GgenError } from "@ggen/support";
import type { PipelineContext } from "./context.js";

/** A result that is a failure all the same (tests that failed, a release rolled back). */
export interface StageFailure {
  readonly error: unknown;
  /** How the stage ends (default: failed, or timed-out for a timeout). */
  readonly status?: StageStatus;
  /** The stage's line, when it differs from the error's message. */
  readonly message?: string;
}

export interface Stage<In, Out, Name extends string = string> {
  /** The name on the terminal and in the report. */
  readonly name: Name;
  /**
   * What an abort (timeout, Ctrl-C, a failed stage) does to it: "stop-waiting" leaves it at once (what
   * it started is awaited before teardown); "finish" lets it answer ctx.signal itself, and its result
   * stands (a test run that records what it killed, a deploy that is never cut off half-way).
   */
  readonly onAbort: "stop-waiting" | "finish";
  run(ctx: PipelineContext, input: In): Promise<Out>;
  verdict?(output: Out, ctx: PipelineContext): StageFailure | undefined;
  /** The stage's line when it passed. */
  describe?(output: Out, input: In, ctx: PipelineContext): string;
}

/** The run's abort signal: --timeout, the caller's signal (Ctrl-C), or cancel() after a failure. */
export class RunSignal {
  private readonly controller = new AbortController();
  private readonly timeout = new GgenError("TIMEOUT", "timed out");
  private readonly timer: NodeJS.Timeout;
  readonly signal: AbortSignal = this.controller.signal;

  constructor(timeoutMs: number, parent?: AbortSignal) {
    parent?.addEventListener("abort", () => this.controller.abort(parent.reason), { once: true });
    this.timer = setTimeout(() => this.controller.abort(this.timeout), timeoutMs);
    this.timer.unref();
  }

  get timedOut(): boolean {
    return this.signal.reason === this.timeout;
  }

  cancel(reason: unknown): void {
    if (!this.signal.aborted) this.controller.abort(reason);
  }

  dispose(): void {
    clearTimeout(this.timer);
  }
}

export class StageRunner<Outputs extends object> {
  /** What each stage produced, as far as the run got (also a failed stage's, when it has one). */
  readonly outputs: Partial<Outputs> = {};
  private readonly inflight: Promise<unknown>[] = [];

  constructor(
    private readonly ctx: PipelineContext,
    private readonly view: StageView,
  ) {}

  /** Keeps `p` in view: teardown waits for it, so what it started is there when the cleanup runs. */
  track<T>(p: Promise<T>): Promise<T> {
    this.inflight.push(p.catch(() => undefined));
    return p;
  }

  /** `p`, or the abort reason as soon as the run is aborted (`p` itself goes on). */
  guard<T>(p: Promise<T>): Promise<T> {
    const signal = this.ctx.signal;
    return new Promise<T>((res, rej) => {
      if (signal.aborted) return rej(signal.reason);
      const onAbort = () => rej(signal.reason);
      signal.addEventListener("abort", onAbort, { once: true });
      p.then(
        (v) => {
          signal.removeEventListener("abort", onAbort);
          res(v);
        },
        (e) => {
          signal.removeEventListener("abort", onAbort);
          rej(e);
        },
      );
    });
  }

  /** Runs `stage` on `input` as a shown and timed stage. */
  run<K extends keyof Outputs & string, In>(stage: Stage<In, Outputs[K], K>, input: In): Promise<Outputs[K]> {
    return this.view.run(
      stage.name,
      async () => {
        const work = this.track(stage.run(this.ctx, input));
        const output = await (stage.onAbort === "stop-waiting" ? this.guard(work) : work);
        this.outputs[stage.name] = output;
        const failure = stage.verdict?.(output, this.ctx);
        if (failure) {
          if (failure.status || failure.message !== undefined) {
            const message = failure.message ?? (failure.error instanceof Error ? failure.error.message : "");
            this.view.end(stage.name, failure.status ?? "failed", message);
          }
          throw failure.error;
        }
        return output;
      },
      stage.describe ? (output) => stage.describe!(output, input, this.ctx) : undefined,
    );
  }

  /** Waits for everything tracked to land. */
  async settled(): Promise<void> {
    await Promise.allSettled(this.inflight);
  }
}

/** Ends what is still running with `status`, and marks what never started skipped — all but the
 * reporting stage, which runs whatever happened. */
export function settle(view: StageView, status: StageStatus, message?: string): void {
  for (const s of view.records()) {
    if (s.status === "running") view.end(s.name, status, message);
    else if (s.status === "pending" && s.name !== "reporting") view.end(s.name, "skipped");
  }
}
