// Progress for anything that may take over a second: a live line on a TTY, updated in place, shown
// only once the task has run for `delayMs`; plain start/finish lines with --verbose when not a TTY;
// nothing with --quiet or --json.

import { stdio, type Writer } from "./output.js";

export interface ProgressOptions {
  stream?: Writer;
  enabled?: boolean;
  delayMs?: number;
  /** Print plain lines when not on a TTY (for logs); off by default. */
  plain?: boolean;
}

const FRAMES = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

export class Progress {
  private readonly stream: Writer;
  private readonly live: boolean;
  private readonly plain: boolean;
  private readonly delayMs: number;
  private timer: NodeJS.Timeout | undefined;
  private label = "";
  private started = 0;
  private frame = 0;
  private shown = false;

  constructor(options: ProgressOptions = {}) {
    this.stream = options.stream ?? stdio().stderr;
    const enabled = options.enabled ?? true;
    this.live = enabled && this.stream.isTTY === true;
    this.plain = enabled && !this.live && options.plain === true;
    this.delayMs = options.delayMs ?? 1000;
  }

  start(label: string): this {
    this.label = label;
    this.started = Date.now();
    if (this.plain) this.stream.write(`${label}…\n`);
    if (this.live && !this.timer) {
      this.timer = setInterval(() => this.draw(), 100);
      this.timer.unref();
    }
    return this;
  }

  update(label: string): void {
    this.label = label;
  }

  private draw(): void {
    const elapsed = Date.now() - this.started;
    if (elapsed < this.delayMs) return;
    this.shown = true;
    this.frame = (this.frame + 1) % FRAMES.length;
    this.stream.write(`\r\x1b[2K${FRAMES[this.frame]} ${this.label} ${(elapsed / 1000).toFixed(1)}s`);
  }

  stop(final?: string): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.shown) this.stream.write("\r\x1b[2K");
    this.shown = false;
    if (final && (this.live || this.plain)) this.stream.write(`${final}\n`);
  }

  /** Runs `task` with a progress line labelled `label`. */
  async run<T>(label: string, task: () => Promise<T>): Promise<T> {
    this.start(label);
    try {
      return await task();
    } finally {
      this.stop();
    }
  }
}
