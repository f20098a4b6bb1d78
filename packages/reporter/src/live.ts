// A live view of running steps: on a TTY, finished steps scroll up as lines while the steps still
// running are redrawn below them with their elapsed time; elsewhere, one plain line per finished
// step (and per started step with `plain: "verbose"`). Silent when disabled (--quiet, --json).

import { stdio, type Writer } from "./terminal/output.js";

export interface LiveStepsOptions {
  stream?: Writer;
  enabled?: boolean;
  /** Also print a line when a step starts (not on a TTY). */
  verbose?: boolean;
  intervalMs?: number;
}

const FRAMES = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
const MARK: Record<string, string> = {
  passed: "✓",
  success: "✓",
  failed: "✗",
  errored: "✗",
  "timed-out": "⏱",
  skipped: "-",
};

export class LiveSteps {
  private readonly stream: Writer;
  private readonly enabled: boolean;
  private readonly live: boolean;
  private readonly verbose: boolean;
  private readonly running = new Map<string, number>();
  private drawn = 0;
  private frame = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly intervalMs: number;

  constructor(options: LiveStepsOptions = {}) {
    this.stream = options.stream ?? stdio().stderr;
    this.enabled = options.enabled ?? true;
    this.live = this.enabled && this.stream.isTTY === true;
    this.verbose = options.verbose ?? false;
    this.intervalMs = options.intervalMs ?? 120;
  }

  start(name: string): void {
    if (!this.enabled) return;
    this.running.set(name, Date.now());
    if (this.live) {
      if (!this.timer) {
        this.timer = setInterval(() => this.redraw(), this.intervalMs);
        this.timer.unref();
      }
      this.redraw();
    } else if (this.verbose) this.stream.write(`… ${name}\n`);
  }

  finish(name: string, status: string, durationMs: number, note?: string): void {
    if (!this.enabled) return;
    this.running.delete(name);
    const line = `${MARK[status] ?? "•"} ${name} ${status} (${formatDuration(durationMs)})${note ? ` — ${note}` : ""}`;
    if (this.live) {
      this.clear();
      this.stream.write(`${line}\n`);
      this.redraw();
    } else this.stream.write(`${line}\n`);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.live) this.clear();
    this.running.clear();
  }

  private clear(): void {
    if (this.drawn > 0) this.stream.write(`\x1b[${this.drawn}A\x1b[0J`);
    this.drawn = 0;
  }

  private redraw(): void {
    this.clear();
    if (this.running.size === 0) return;
    this.frame = (this.frame + 1) % FRAMES.length;
    const now = Date.now();
    const names = [...this.running.entries()].slice(0, 12);
    const lines = names.map(([n, t]) => `${FRAMES[this.frame]} ${n} ${formatDuration(now - t)}`);
    if (this.running.size > names.length) lines.push(`  … ${this.running.size - names.length} more running`);
    this.stream.write(`${lines.join("\n")}\n`);
    this.drawn = lines.length;
  }
}

function formatDuration(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}
