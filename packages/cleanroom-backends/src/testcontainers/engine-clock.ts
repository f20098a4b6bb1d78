// Where the testcontainers backend waits on Docker, by part (container starts, services until ready,
// command round trips, removals), so a pipeline can say how much of its time was the engine's.
import type { EngineTime } from "../backend.js";

export class EngineClock {
  private readonly parts = new Map<string, { count: number; ms: number }>();

  add(part: string, ms: number): void {
    const p = this.parts.get(part) ?? { count: 0, ms: 0 };
    p.count += 1;
    p.ms += ms;
    this.parts.set(part, p);
  }

  /** Runs `fn`, counting its time (also when it fails) under `part`. */
  async time<T>(part: string, fn: () => Promise<T>): Promise<T> {
    const t0 = performance.now();
    try {
      return await fn();
    } finally {
      this.add(part, performance.now() - t0);
    }
  }

  snapshot(): EngineTime {
    const parts: EngineTime["parts"] = {};
    let totalMs = 0;
    for (const [name, p] of this.parts) {
      parts[name] = { count: p.count, ms: Math.round(p.ms) };
      totalMs += p.ms;
    }
    return { totalMs: Math.round(totalMs), parts };
  }
}
