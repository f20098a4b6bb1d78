// A live view of a pipeline's stages: on a TTY, one line per stage redrawn in place with its elapsed
// time; elsewhere one plain line as each stage ends. It also keeps the record the report is built from
// (offset from the start, duration, status), so timing is measured once.

import type { StageStatus } from "@ggen/contract";
import { stdio, type Writer } from "./output.js";

export interface StageRecord {
  name: string;
  status: StageStatus | "running" | "pending";
  startedAtMs?: number;
  durationMs?: number;
  message?: string;
}

export interface StageViewOptions {
  stream?: Writer;
  /** false: record only, print nothing (--json, --quiet). */
  enabled?: boolean;
  now?: () => number;
}

const ICON: Record<StageRecord["status"], string> = {
  pending: "·",
  running: "›",
  success: "✓",
  failed: "✗",
  skipped: "-",
  "timed-out": "⏱",
  "rolled-back": "↩",
};

export class StageView {
  readonly startedAt: number;
  private readonly stages = new Map<string, StageRecord>();
  private readonly stream: Writer;
  private readonly live: boolean;
  private readonly enabled: boolean;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private drawnLines = 0;

  constructor(names: readonly string[], options: StageViewOptions = {}) {
    this.stream = options.stream ?? stdio().stderr;
    this.enabled = options.enabled ?? true;
    this.live = this.enabled && this.stream.isTTY === true;
    this.now = options.now ?? (() => performance.now());
    this.startedAt = this.now();
    for (const n of names) this.stages.set(n, { name: n, status: "pending" });
    if (this.live) {
      this.timer = setInterval(() => this.draw(), 100);
      this.timer.unref();
    }
  }

  private get(name: string): StageRecord {
    let s = this.stages.get(name);
    if (!s) {
      s = { name, status: "pending" };
      this.stages.set(name, s);
    }
    return s;
  }

  begin(name: string): void {
    const s = this.get(name);
    s.status = "running";
    s.startedAtMs = this.now() - this.startedAt;
  }

  end(name: string, status: StageStatus, message?: string): void {
    const s = this.get(name);
    if (s.startedAtMs === undefined) s.startedAtMs = this.now() - this.startedAt;
    s.durationMs = this.now() - this.startedAt - s.startedAtMs;
    s.status = status;
    if (message !== undefined) s.message = message;
    if (this.enabled && !this.live) this.stream.write(`${this.line(s)}\n`);
  }

  /** Runs `task` as stage `name`: success when it resolves, failed (and rethrown) when it throws. */
  async run<T>(name: string, task: () => Promise<T>, describe?: (value: T) => string): Promise<T> {
    this.begin(name);
    try {
      const value = await task();
      this.end(name, "success", describe?.(value));
      return value;
    } catch (e) {
      if (this.get(name).status === "running") {
        // A stage cut off by the caller's deadline timed out; anything else failed.
        const timedOut = (e as { code?: unknown } | null)?.code === "TIMEOUT";
        this.end(name, timedOut ? "timed-out" : "failed", e instanceof Error ? e.message : String(e));
      }
      throw e;
    }
  }

  /** Marks every stage still pending or running with `status` (e.g. skipped after a failure, timed-out). */
  settle(status: StageStatus, message?: string): void {
    for (const s of this.stages.values()) {
      if (s.status === "running") this.end(s.name, status, message);
      else if (s.status === "pending") {
        s.status = "skipped";
        if (this.enabled && !this.live) this.stream.write(`${this.line(s)}\n`);
      }
    }
  }

  running(): string[] {
    return [...this.stages.values()].filter((s) => s.status === "running").map((s) => s.name);
  }

  records(): StageRecord[] {
    return [...this.stages.values()];
  }

  elapsedMs(): number {
    return this.now() - this.startedAt;
  }

  private line(s: StageRecord): string {
    const t =
      s.status === "running"
        ? `${((this.now() - this.startedAt - (s.startedAtMs ?? 0)) / 1000).toFixed(1)}s`
        : s.durationMs !== undefined
          ? `${(s.durationMs / 1000).toFixed(2)}s`
          : "";
    const msg = s.message ? `  ${s.message.split("\n")[0]}` : "";
    return `${ICON[s.status]} ${s.name.padEnd(12)} ${t.padStart(7)}${msg}`;
  }

  private draw(): void {
    const lines = [...this.stages.values()].map((s) => this.line(s));
    const up = this.drawnLines > 0 ? `\x1b[${this.drawnLines}F` : "";
    this.stream.write(`${up}${lines.map((l) => `\x1b[2K${l}`).join("\n")}\n`);
    this.drawnLines = lines.length;
  }

  /** Stops redrawing; on a TTY draws the final state once more. */
  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.live) this.draw();
  }
}
