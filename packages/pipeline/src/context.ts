// What every stage of one run sees: the options as given, where things go, the run's identity and its
// abort signal. Made once per run and never changed afterwards: what a stage produces is its return
// value, handed to the stages that need it, never a field written here.

import { randomUUID } from "node:crypto";
import { join, resolve } from "node:path";
import type { BackendChoice } from "@ggen/cleanroom-backends";
import type { TemplateRef } from "@ggen/contract";
import type { StageView } from "@ggen/reporter";

export interface UltraFastOptions {
  /** The pack asked for (`pack` or `pack:template`; with --first, `pack` is a search query). */
  pack: TemplateRef;
  name: string;
  /** The release's version (also a template var). */
  version?: string;
  vars: Record<string, string>;
  /** The make.toml environment to deploy to. */
  env: string;
  backend: BackendChoice;
  timeoutMs: number;
  /** Where the pipeline-report/v1 goes (default target/ultra-fast/<name>/report.json). */
  report?: string;
  profile?: string;
  /** The output dir (default target/generated/<name>). */
  output?: string;
  /** Treat `pack.pack` as a search query and take the best match. */
  first: boolean;
  keepRunning: boolean;
  /** The tests get no network but loopback. */
  isolated: boolean;
  registries?: string[];
  offline?: boolean;
  cwd: string;
  ggenVersion: string;
  /** Caches kept between runs (the app decides where: $GGEN_HOME/cache/…). */
  cache: {
    /** Compiled templates. */
    templates: string;
    /** One prepared node_modules tree per dependency set. */
    nodeModules: string;
  };
  /** Where stage progress is shown and timed (the report's stage table comes from it). */
  view: StageView;
  onNote: (text: string) => void;
  /** Ctrl-C: the run stops, cleans up and still writes its report. */
  signal?: AbortSignal;
}

export interface PipelinePaths {
  readonly cwd: string;
  /** The generated project. */
  readonly output: string;
  readonly report: string;
  /** cleanroom's state (.cleanroom/ under cwd). */
  readonly state: string;
}

export interface PipelineContext {
  readonly options: Readonly<UltraFastOptions>;
  readonly sessionId: string;
  readonly startedAt: Date;
  readonly paths: PipelinePaths;
  /** The cleanroom environment the tests and services run in. */
  readonly environmentName: string;
  /** Aborted on --timeout, Ctrl-C, or a failed stage: whatever still runs stops. */
  readonly signal: AbortSignal;
}

export function createContext(options: UltraFastOptions, signal: AbortSignal): PipelineContext {
  const sessionId = randomUUID();
  const cwd = options.cwd;
  return Object.freeze({
    options,
    sessionId,
    startedAt: new Date(),
    paths: Object.freeze({
      cwd,
      output: resolve(cwd, options.output ?? join("target", "generated", options.name)),
      report: resolve(cwd, options.report ?? join("target", "ultra-fast", options.name, "report.json")),
      state: join(cwd, ".cleanroom"),
    }),
    environmentName: `ufd-${options.name}-${sessionId.slice(0, 6)}`,
    signal,
  });
}
