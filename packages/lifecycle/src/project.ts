// `init` (scaffold make.toml and .ggen/) and `status` (what the state says, including interrupted runs).
import { promises as fs } from "node:fs";
import { join } from "node:path";
import { GgenError, schemaUrl } from "@ggen/contract";
import { refAlive, writeFileAtomic } from "@ggen/support";
import { loadConfig } from "./config.js";
import { exists } from "./fsutil.js";
import { metricsFileOf } from "./metrics.js";
import { type LifecycleState, loadState, STATE_FILE, updateState } from "./state.js";

export function makeTomlTemplate(name: string): string {
  // The first line tells Taplo (and editors built on it) the schema to complete and check the file with.
  return `#:schema ${schemaUrl("make-toml/v1")}
# Lifecycle of ${name}: phases run with 'ggen lifecycle run <phase>…' (dependencies first).
[project]
name = ${JSON.stringify(name)}

default_env = "development"

[phases.init]
description = "Prepare the workspace"
command = "mkdir -p dist"

[phases.setup]
description = "Install dependencies"
command = "echo 'nothing to install'"
depends_on = ["init"]

[phases.build]
description = "Build into dist/"
command = "echo 'build ${name}' > dist/BUILD"
depends_on = ["setup"]
inputs = ["src/**"]
outputs = ["dist/BUILD"]
timeout = 600

[phases.lint]
command = "echo 'lint ok'"
depends_on = ["setup"]

[phases.test]
command = "echo 'tests ok'"
depends_on = ["build"]
timeout = 900

[phases.package]
command = "echo 'package ok'"
depends_on = ["build", "test", "lint"]

[phases.deploy]
description = "Deploy with the environment's provider"
depends_on = ["package"]

[phases.verify]
description = "Health-check the deployed service"

[hooks]
# before_<phase>, after_<phase> and on_error: commands, or names of phases.
on_error = ["echo \\"lifecycle: $GGEN_FAILED_PHASE failed\\" >&2"]

[environments.development]
vars = { LOG_LEVEL = "debug" }

[environments.development.deploy]
provider = "release-dir"
source = "dist"
dir = ".ggen/deploy/development"
keep = 5

[environments.production]
vars = { LOG_LEVEL = "info" }
require_tests = true
require_security = true
require_approval = true
rollback = true

[environments.production.deploy]
provider = "release-dir"
source = "dist"
dir = ".ggen/deploy/production"
keep = 5

[profiles.fast]
description = "Skip lint, run more at once"
skip = ["lint"]
jobs = 4

[profiles.safe]
description = "One at a time, no cache, always roll back"
jobs = 1
no_cache = true
rollback = true
require_tests = true
require_security = true

[validation]
coverage_threshold = 70
`;
}

export const REQUIREMENTS_TEMPLATE = `# Production requirements: 'ggen lifecycle readiness' scores them, 'readiness-update' records a status.
# check: { command: "..." } | { file: "path" } | { pattern: "regex", files: "glob", absent: true|false }
requirements:
  - id: build
    name: The project builds
    required: true
    category: build
    check: { file: dist/BUILD }
  - id: health
    name: Health check endpoint
    required: true
    category: operations
  - id: logging
    name: Structured logging
    required: true
    category: operations
  - id: no-todo
    name: No TODO left in the sources
    required: false
    category: quality
    check: { pattern: "TODO", files: "src/**", absent: true }
`;

export interface InitResult {
  name: string;
  created: string[];
  kept: string[];
}

/** Scaffolds make.toml, .ggen/ and the requirements file; never overwrites without `force`. */
export async function initProject(dir: string, opts: { name: string; force?: boolean }): Promise<InitResult> {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(opts.name)) {
    throw new GgenError(
      "LIFECYCLE_BAD_NAME",
      `project name '${opts.name}' may only use letters, digits, '.', '_' and '-'`,
      {
        kind: "usage",
      },
    );
  }
  const created: string[] = [];
  const kept: string[] = [];
  const files: [string, string][] = [
    ["make.toml", makeTomlTemplate(opts.name)],
    [".ggen/production-requirements.yaml", REQUIREMENTS_TEMPLATE],
  ];
  for (const [rel, text] of files) {
    if ((await exists(join(dir, rel))) && !opts.force) {
      kept.push(rel);
      continue;
    }
    await writeFileAtomic(join(dir, rel), text);
    created.push(rel);
  }
  await fs.mkdir(join(dir, ".ggen", "logs"), { recursive: true });
  if (!(await exists(join(dir, STATE_FILE)))) {
    await updateState(dir, () => undefined);
    created.push(STATE_FILE);
  }
  return { name: opts.name, created, kept };
}

export interface StatusReport {
  project: string;
  configFile: string;
  environment: string | null;
  currentPhase: string | null;
  /** Runs recorded as running whose process is gone (killed mid-run). */
  interrupted: { id: string; phases: string[]; startedAt: string; pid: number; phase?: string }[];
  running: { id: string; phases: string[]; startedAt: string; pid: number }[];
  phases: { name: string; status: string; durationMs?: number; exitCode?: number | null; at?: string }[];
  environments: { name: string; current?: string; releases: number; lastDeployAt?: string }[];
  deployments: number;
  updatedAt: string;
}

/** Reads config and state (state read without the lock: renames make every read whole). */
export async function status(dir: string): Promise<StatusReport> {
  const config = await loadConfig(dir);
  const state: LifecycleState = await loadState(dir);
  const running = state.runs.filter((r) => r.status === "running");
  const interrupted = running.filter(
    (r) => r.pid !== process.pid && !refAlive({ pid: r.pid, start: r.start ?? "" }),
  );
  const live = running.filter((r) => !interrupted.includes(r));
  const phases = [...config.phases.keys()].map((name) => {
    const rec = state.phases[name];
    return rec
      ? { name, status: rec.status, durationMs: rec.durationMs, exitCode: rec.exitCode, at: rec.startedAt }
      : { name, status: "never run" };
  });
  const envNames = new Set([...config.environments.keys(), ...Object.keys(state.environments)]);
  const environments = [...envNames].map((name) => {
    const e = state.environments[name];
    return {
      name,
      ...(e?.current ? { current: e.current } : {}),
      releases: e?.releases.length ?? 0,
      ...(e?.lastDeployAt ? { lastDeployAt: e.lastDeployAt } : {}),
    };
  });
  let deployments = 0;
  try {
    deployments = (await fs.readFile(metricsFileOf(dir), "utf8")).split("\n").filter((l) => l.trim()).length;
  } catch {
    // no deployments yet
  }
  const strip = (r: (typeof running)[number]) => ({
    id: r.id,
    phases: r.phases,
    startedAt: r.startedAt,
    pid: r.pid,
  });
  return {
    project: config.name,
    configFile: config.file,
    environment: state.environment,
    currentPhase: interrupted.length && !live.length ? null : state.currentPhase,
    interrupted: interrupted.map((r) => ({
      ...strip(r),
      ...(state.currentPhase ? { phase: state.currentPhase } : {}),
    })),
    running: live.map(strip),
    phases,
    environments,
    deployments,
    updatedAt: state.updatedAt,
  };
}
