// What every stage of one run sees: the options as given, where things go, the run's identity and its
// abort signal. Made once per run and never changed afterwards: what a stage produces is its return
// value, handed to the stages that need it, never a field written here.

import { randomUUID } from "node:crypto";
import { join, resolve } from "node:path";
import type { BackendChoice } from "@ggen/cleanroom-backends";
import type { TemplateRef } from "@ggen/contract";
import type { StageView } from "@ggen/reporter";
import { GgenError, staysInside } from "@ggen/support";

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
  /** Sign the attestation with the project's ed25519 key (made when there is none); it is signed anyway when one exists. */
  sign?: boolean;
  /** Where a crate is published (default <cwd>/.ggen/deploy/registry): the one output that may be outside the project. */
  deployRegistry?: string;
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

/** A project name: letters, digits, '.', '_' and '-', starting with a letter or digit — never a path. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/**
 * What the run would write, checked before anything is created: the name is a name (no '/', no '..',
 * not absolute), and the output dir and the report stay inside the project, also through symlinks.
 */
export function pipelinePaths(
  options: Pick<UltraFastOptions, "cwd" | "name" | "output" | "report">,
): PipelinePaths {
  const name = options.name;
  if (!NAME.test(name) || name.includes(".."))
    throw new GgenError("BAD_NAME", `--name ${JSON.stringify(name)}: a name, not a path`, {
      kind: "usage",
      hint: "letters, digits, '.', '_' and '-', starting with a letter or digit, at most 64 characters",
    });
  const cwd = resolve(options.cwd);
  const inside = (p: string, flag: string) => {
    const abs = resolve(cwd, p);
    if (!staysInside(cwd, abs) || abs === cwd)
      throw new GgenError("PATH_ESCAPE", `${flag} ${JSON.stringify(p)} is not inside the project (${cwd})`, {
        kind: "usage",
        hint: "every output of the run stays under the project directory",
      });
    return abs;
  };
  return Object.freeze({
    cwd,
    output: inside(options.output ?? join("target", "generated", name), "--output"),
    report: inside(options.report ?? join("target", "ultra-fast", name, "report.json"), "--report"),
    state: join(cwd, ".cleanroom"),
  });
}

export function createContext(options: UltraFastOptions, signal: AbortSignal): PipelineContext {
  const sessionId = randomUUID();
  return Object.freeze({
    options,
    sessionId,
    startedAt: new Date(),
    paths: pipelinePaths(options),
    environmentName: `ufd-${options.name.toLowerCase().replace(/[^a-z0-9-]/g, "-")}-${sessionId.slice(0, 6)}`,
    signal,
  });
}
