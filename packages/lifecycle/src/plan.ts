// Pure planning: which phases a request needs (with their dependencies), in which order, in which waves.
import { GgenError } from "@ggen/contract";
import { closest } from "@ggen/support";
import type { LifecycleConfig } from "./config.js";

export function suggestPhase(config: LifecycleConfig, word: string): string | undefined {
  return closest(word, config.phases.keys());
}

export function unknownPhase(config: LifecycleConfig, name: string): GgenError {
  const near = suggestPhase(config, name);
  return new GgenError("LIFECYCLE_UNKNOWN_PHASE", `unknown phase '${name}'`, {
    kind: "usage",
    location: { file: config.file },
    hint: near
      ? `did you mean '${near}'?`
      : config.phases.size
        ? `phases: ${[...config.phases.keys()].join(", ")}`
        : "no phases are declared",
  });
}

export interface Plan {
  /** Every phase to run, dependencies first. */
  order: string[];
  /** Groups that may run at the same time (each wave depends only on earlier waves). */
  waves: string[][];
  /** Phases left out by the profile. */
  skipped: string[];
}

/** The phases `names` need, in dependency order, minus those a profile skips. */
export function planPhases(
  config: LifecycleConfig,
  names: readonly string[],
  skip: readonly string[] = [],
): Plan {
  if (names.length === 0) {
    throw new GgenError("LIFECYCLE_NO_PHASE", "name at least one phase", {
      kind: "usage",
      hint: `phases: ${[...config.phases.keys()].join(", ")}`,
    });
  }
  for (const n of names) if (!config.phases.has(n)) throw unknownPhase(config, n);
  const order: string[] = [];
  const seen = new Set<string>();
  const visit = (n: string) => {
    if (seen.has(n)) return;
    seen.add(n);
    for (const d of config.phases.get(n)!.dependsOn) visit(d);
    order.push(n);
  };
  for (const n of names) visit(n);
  const depth = new Map<string, number>();
  for (const n of order) {
    const deps = config.phases.get(n)!.dependsOn;
    depth.set(n, deps.length ? Math.max(...deps.map((d) => depth.get(d)!)) + 1 : 0);
  }
  const skipped = order.filter((n) => skip.includes(n));
  const kept = order.filter((n) => !skip.includes(n));
  const waves: string[][] = [];
  for (const n of kept) {
    const w = depth.get(n)!;
    waves[w] ??= [];
    waves[w].push(n);
  }
  return { order: kept, waves: waves.filter((w) => w && w.length > 0), skipped };
}
