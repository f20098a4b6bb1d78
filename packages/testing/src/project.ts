// Testing a project as it stands (generated output, a checked-out repo): its dependencies installed
// offline first, then every test file with the runner its type calls for. Shared by
// `cleanroom ultra-fast-test` and `ggen ultra-fast-deploy`.

import type { TestResult } from "@ggen/contract";
import { installDependencies } from "./install.js";
import type { TimelineEntry } from "./result.js";
import type { WorkContext } from "./session.js";
import { runTests, type UnitEvent } from "./testrun.js";

export interface ProjectTestOptions {
  /** Test files relative to `root` (see selectFiles). */
  files: readonly string[];
  parallel?: boolean;
  /** node's ES module test files in one runner process (see planUnits). */
  batch?: boolean;
  /** Per runner invocation. */
  timeoutMs?: number;
  /** The node binary for host runs (commands on the host use the caller's node). */
  node?: string;
  onEvent?: (e: UnitEvent) => void;
}

export async function testProject(
  root: string,
  ctx: WorkContext,
  options: ProjectTestOptions,
): Promise<{ tests: TestResult[]; timeline: TimelineEntry[] }> {
  const install = await installDependencies(root, ctx.exec, ctx.workdir, {
    ...(ctx.signal ? { signal: ctx.signal } : {}),
  });
  if (!install.ok) return { tests: install.tests, timeline: install.timeline };
  const shift = install.timeline.reduce((ms, t) => ms + t.durationMs, 0);
  const r = await runTests(options.files, {
    root,
    exec: ctx.exec,
    workdir: ctx.workdir,
    env: ctx.env,
    ...(ctx.signal ? { signal: ctx.signal } : {}),
    ...(options.parallel !== undefined ? { parallel: options.parallel } : {}),
    ...(options.batch ? { batch: true } : {}),
    ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
    ...(options.node ? { node: options.node } : {}),
    ...(options.onEvent ? { onEvent: options.onEvent } : {}),
  });
  return {
    tests: r.tests,
    timeline: [...install.timeline, ...r.timeline.map((t) => ({ ...t, startMs: t.startMs + shift }))],
  };
}
