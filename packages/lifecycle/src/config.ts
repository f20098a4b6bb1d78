// make.toml (or [lifecycle] in ggen.toml): parsing and checking, with every complaint at the key's
// file:line:col; .ggen/config.toml and .ggen/deployment-profiles.toml are merged in (settings.ts).
// Pure apart from reading the files.
import { promises as fs } from "node:fs";
import { isAbsolute, join } from "node:path";
import { GgenError, type SourceLocation, schemaKeys } from "@ggen/contract";
import { closest, isInside } from "@ggen/support";
import { DEFAULT_LINE_CHARS } from "./exec.js";
import { DEFAULT_LOG_CHARS } from "./output.js";
import {
  emptySettings,
  loadSettings,
  type ProfileSource,
  type ProjectSettings,
  parseProfileTable,
} from "./settings.js";
import { isTable, type KeyPath, type Table, TomlReader } from "./toml-reader.js";

export interface PhaseConfig {
  name: string;
  description?: string;
  commands: string[];
  /** Relative to the project (checked to stay inside it). */
  cwd?: string;
  env: Record<string, string>;
  dependsOn: string[];
  /** The whole phase, hooks included; absent means no limit. */
  timeoutMs?: number;
  inputs: string[];
  outputs: string[];
}

export interface VerifyConfig {
  url: string;
  retries: number;
  intervalMs: number;
  timeoutMs: number;
  expectStatus: number;
  expectBody?: string;
}

export type DeployProviderName = "command" | "release-dir" | "process";

export interface DeployConfig {
  provider: DeployProviderName;
  /** command: the commands to run. */
  commands: string[];
  /** command: commands undoing the last deploy (rollback). */
  rollbackCommands: string[];
  /** release-dir/process: the directory copied into each release (relative to the project). */
  source: string;
  /** release-dir/process: where releases/ and current live. */
  dir: string;
  keep: number;
  /** process: how to start the service, run inside the release directory. */
  start?: string;
  port?: number;
}

export interface EnvironmentConfig {
  name: string;
  vars: Record<string, string>;
  requireTests: boolean;
  requireSecurity: boolean;
  requireApproval: boolean;
  rollback: boolean;
  deploy?: DeployConfig;
  verify?: VerifyConfig;
}

export interface ProfileConfig {
  name: string;
  description?: string;
  /** Phases left out of a run under this profile. */
  skip: string[];
  /** Phases run at once (default 2). */
  jobs?: number;
  env: Record<string, string>;
  requireTests?: boolean;
  requireSecurity?: boolean;
  requireApproval?: boolean;
  rollback?: boolean;
  /** Overrides verify retries. */
  verifyRetries?: number;
  /** Ignore the input cache and run every phase. */
  noCache?: boolean;
}

export interface ValidationConfig {
  testsReport: string[];
  coverageThreshold?: number;
  buildPhase: string;
  sources: string[];
  forbidden: Record<string, string[]>;
  allowSecrets: string[];
  advisories?: string;
}

/** How much of a phase's output is held: one line, and what its log keeps (characters). */
export interface OutputLimitsConfig {
  lineChars: number;
  logChars: number;
}

/** What the deploy phase does beyond the environment's own rules ([deployment] of .ggen/config.toml). */
export interface DeployPolicy {
  /** Run every validate check (not only the environment's gates) before deploying. */
  validateBeforeDeploy: boolean;
  /** A time limit on rollback commands. */
  rollbackTimeoutMs?: number;
}

export interface LifecycleConfig {
  /** Project root (absolute). */
  root: string;
  /** The file the config came from (relative to root). */
  file: string;
  name: string;
  defaultEnv: string;
  /** The profile a run uses when none is asked for. */
  defaultProfile?: string;
  /** Rotating backups of the state; 0 keeps none. */
  stateBackups: number;
  requirementsFile: string;
  phases: Map<string, PhaseConfig>;
  hooks: Map<string, string[]>;
  /** A limit on each hook command (the phase's own timeout applies too). */
  hookTimeoutMs?: number;
  environments: Map<string, EnvironmentConfig>;
  profiles: Map<string, ProfileConfig>;
  validation: ValidationConfig;
  limits: OutputLimitsConfig;
  deployPolicy: DeployPolicy;
  /** Where each phase/env/profile/hook is declared, for error locations. */
  locations: Map<string, SourceLocation>;
}

// The keys each table may hold come from the make-toml/v1 schema (what editors check make.toml against):
// a key added there is known here, and a key refused here is flagged in the editor.
const MAKE = "make-toml/v1";
const PHASE_KEYS = schemaKeys(MAKE, "/$defs/phase");
const ENV_KEYS = schemaKeys(MAKE, "/$defs/environment");
const DEPLOY_KEYS = schemaKeys(MAKE, "/$defs/deploy");
const VERIFY_KEYS = schemaKeys(MAKE, "/$defs/verify");
const VALIDATION_KEYS = schemaKeys(MAKE, "/properties/validation");
const LIMIT_KEYS = schemaKeys(MAKE, "/properties/limits");
const PROJECT_KEYS = schemaKeys(MAKE, "/properties/project");
const TOP_KEYS = schemaKeys(MAKE, "");

export const PHASE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** A relative path that stays inside the project when read as written (symlinks are checked at use). */
function projectPath(r: TomlReader, root: string, v: unknown, path: KeyPath): string | undefined {
  const p = r.optStr(v, path);
  if (p === undefined) return undefined;
  if (isAbsolute(p)) r.fail(`${r.name(path)} '${p}' must be relative to the project`, path);
  if (!isInside(root, join(root, p))) r.fail(`${r.name(path)} '${p}' leads outside the project`, path);
  return p;
}

function parsePhase(r: TomlReader, root: string, name: string, raw: unknown): PhaseConfig {
  const at = (k: string): KeyPath => ["phases", name, k];
  if (!PHASE_NAME.test(name))
    r.fail(`phase name '${name}' may only use letters, digits, '.', '_' and '-'`, ["phases", name]);
  if (!isTable(raw)) r.fail(`phase '${name}' must be a table`, ["phases", name]);
  r.known(raw, ["phases", name], PHASE_KEYS, `phase '${name}'`);
  const phase: PhaseConfig = {
    name,
    commands: [...r.strList(raw.command, at("command")), ...r.strList(raw.commands, at("commands"))],
    env: r.strMap(raw.env, at("env")),
    dependsOn: r.strList(raw.depends_on, at("depends_on")),
    inputs: r.strList(raw.inputs, at("inputs")),
    outputs: r.strList(raw.outputs, at("outputs")),
  };
  const timeoutMs = r.duration(raw.timeout, at("timeout"), "s", true);
  if (timeoutMs !== undefined) phase.timeoutMs = timeoutMs;
  const description = r.optStr(raw.description, at("description"));
  if (description) phase.description = description;
  const cwd = projectPath(r, root, raw.cwd, at("cwd"));
  if (cwd) phase.cwd = cwd;
  return phase;
}

function parseHooks(r: TomlReader, doc: Table, phases: Map<string, PhaseConfig>, config: LifecycleConfig) {
  for (const [hook, raw] of Object.entries(
    r.table(doc.hooks, ["hooks"], "hooks must be a table ([hooks])"),
  )) {
    const path = ["hooks", hook];
    config.locations.set(`hook:${hook}`, r.where(path));
    const m = /^(before|after)_(.+)$/.exec(hook);
    if (!m && hook !== "on_error")
      r.fail(`unknown hook '${hook}'`, path, "hooks are before_<phase>, after_<phase> or on_error");
    if (m && !phases.has(m[2]!)) {
      const near = closest(m[2]!, [...phases.keys()]);
      r.fail(
        `hook '${hook}' names an unknown phase '${m[2]}'`,
        path,
        near ? `did you mean '${m[1]}_${near}'?` : undefined,
      );
    }
    config.hooks.set(hook, r.strList(raw, path));
  }
}

function parseEnvironment(
  r: TomlReader,
  root: string,
  name: string,
  raw: unknown,
  defaults: ProjectSettings["environmentDefaults"],
): EnvironmentConfig {
  const path = ["environments", name];
  const at = (k: string): KeyPath => [...path, k];
  if (!isTable(raw)) r.fail(`environment '${name}' must be a table`, path);
  r.known(raw, path, ENV_KEYS, `environment '${name}'`);
  const env: EnvironmentConfig = {
    name,
    vars: r.strMap(raw.vars, at("vars")),
    requireTests: r.bool(raw.require_tests, at("require_tests")) ?? defaults.requireTests ?? false,
    requireSecurity:
      r.bool(raw.require_security, at("require_security")) ?? defaults.requireSecurity ?? false,
    requireApproval: r.bool(raw.require_approval, at("require_approval")) ?? false,
    rollback: r.bool(raw.rollback, at("rollback")) ?? defaults.rollback ?? false,
  };
  if (raw.deploy !== undefined) env.deploy = parseDeploy(r, root, raw.deploy, name);
  if (raw.verify !== undefined) env.verify = parseVerify(r, raw.verify, name);
  return env;
}

function parseDeploy(r: TomlReader, root: string, raw: unknown, env: string): DeployConfig {
  const path = ["environments", env, "deploy"];
  const at = (k: string): KeyPath => [...path, k];
  const d = r.table(raw, path);
  r.known(d, path, DEPLOY_KEYS, `environments.${env}.deploy`);
  const provider = r.str(d.provider ?? "command", at("provider"));
  if (provider !== "command" && provider !== "release-dir" && provider !== "process")
    r.fail(`unknown deploy provider '${provider}'`, at("provider"), "use command, release-dir or process");
  const deploy: DeployConfig = {
    provider,
    commands: [...r.strList(d.command, at("command")), ...r.strList(d.commands, at("commands"))],
    rollbackCommands: r.strList(d.rollback, at("rollback")),
    source: projectPath(r, root, d.source, at("source")) ?? "dist",
    dir: projectPath(r, root, d.dir, at("dir")) ?? `.ggen/deploy/${env}`,
    // The current and the previous release are never pruned, so fewer than 2 cannot be kept.
    keep: r.int(d.keep, at("keep"), 2) ?? 5,
  };
  const start = r.optStr(d.start, at("start"));
  if (start) deploy.start = start;
  const port = r.int(d.port, at("port"), 1, 65535);
  if (port !== undefined) deploy.port = port;
  if (provider === "command" && deploy.commands.length === 0)
    r.fail(`environments.${env}.deploy: provider 'command' needs command or commands`, path);
  if (provider === "process" && !deploy.start)
    r.fail(
      `environments.${env}.deploy: provider 'process' needs start (the command that runs the service)`,
      path,
    );
  return deploy;
}

function parseVerify(r: TomlReader, raw: unknown, env: string): VerifyConfig {
  const path = ["environments", env, "verify"];
  const at = (k: string): KeyPath => [...path, k];
  const v = r.table(raw, path);
  r.known(v, path, VERIFY_KEYS, `environments.${env}.verify`);
  const url = r.str(v.url, at("url"));
  try {
    const u = new URL(url);
    if (u.protocol !== "http:" && u.protocol !== "https:") throw new Error("scheme");
  } catch {
    r.fail(`environments.${env}.verify.url '${url}' is not an http(s) URL`, at("url"));
  }
  const verify: VerifyConfig = {
    url,
    retries: r.int(v.retries, at("retries"), 1) ?? 10,
    intervalMs: r.duration(v.interval_ms, at("interval_ms"), "ms") ?? 300,
    timeoutMs: r.duration(v.timeout_ms, at("timeout_ms"), "ms") ?? 2000,
    expectStatus: r.int(v.expect_status, at("expect_status"), 100, 599) ?? 200,
  };
  const body = r.optStr(v.expect_body, at("expect_body"));
  if (body !== undefined) verify.expectBody = body;
  return verify;
}

function parseValidation(r: TomlReader, doc: Table): ValidationConfig {
  const v = r.table(doc.validation, ["validation"], "validation must be a table ([validation])");
  const at = (k: string): KeyPath => ["validation", k];
  r.known(v, ["validation"], VALIDATION_KEYS, "[validation]");
  const forbidden: Record<string, string[]> = {};
  for (const [ext, pats] of Object.entries(
    r.table(v.forbidden, at("forbidden"), "validation.forbidden must be a table of extension = [patterns]"),
  )) {
    forbidden[ext] = r.strList(pats, ["validation", "forbidden", ext]);
  }
  const validation: ValidationConfig = {
    testsReport: r.strList(v.tests_report, at("tests_report")),
    buildPhase: r.optStr(v.build_phase, at("build_phase")) ?? "build",
    sources: r.strList(v.sources, at("sources")),
    forbidden,
    allowSecrets: r.strList(v.allow_secrets, at("allow_secrets")),
  };
  if (validation.testsReport.length === 0) {
    validation.testsReport = [".ggen/cleanroom-run.json", "cleanroom-run.json"];
  }
  const cov = r.num(v.coverage_threshold, at("coverage_threshold"), 0, 100);
  if (cov !== undefined) validation.coverageThreshold = cov;
  const adv = r.optStr(v.advisories, at("advisories"));
  if (adv) validation.advisories = adv;
  return validation;
}

function parseLimits(r: TomlReader, doc: Table): OutputLimitsConfig {
  const t = r.table(doc.limits, ["limits"], "limits must be a table ([limits])");
  r.known(t, ["limits"], LIMIT_KEYS, "[limits]");
  return {
    lineChars: r.size(t.line, ["limits", "line"]) ?? DEFAULT_LINE_CHARS,
    logChars: r.size(t.log, ["limits", "log"]) ?? DEFAULT_LOG_CHARS,
  };
}

/**
 * Parses config text (`file` names it in errors). `embedded` means the `[lifecycle]` table of ggen.toml.
 * `settings` are what .ggen/config.toml and .ggen/deployment-profiles.toml add (defaults when absent).
 */
export function parseConfig(
  text: string,
  file: string,
  root: string,
  embedded = false,
  settings: ProjectSettings = emptySettings(),
): LifecycleConfig {
  const outer = new TomlReader(file, text, "LIFECYCLE_CONFIG");
  if (embedded && !isTable(outer.doc.lifecycle))
    outer.fail("ggen.toml has no [lifecycle] table", [], "run 'ggen lifecycle init'");
  const r = embedded ? new TomlReader(file, text, "LIFECYCLE_CONFIG", ["lifecycle"]) : outer;
  const doc = embedded ? (outer.doc.lifecycle as Table) : outer.doc;
  r.known(doc, [], TOP_KEYS, "the config");
  const rawProject = r.table(doc.project, ["project"], "[project] must be a table");
  r.known(rawProject, ["project"], PROJECT_KEYS, "[project]");
  // These settings may sit in [project] or at the top level.
  const proj = (k: string): { value: unknown; path: KeyPath } =>
    rawProject[k] !== undefined
      ? { value: rawProject[k], path: ["project", k] }
      : { value: doc[k], path: [k] };
  const name = r.optStr(proj("name").value, proj("name").path) ?? root.split("/").pop() ?? "app";

  const config: LifecycleConfig = {
    root,
    file,
    name,
    defaultEnv:
      r.optStr(proj("default_env").value, proj("default_env").path) ?? settings.defaultEnv ?? "development",
    stateBackups:
      r.int(proj("state_backups").value, proj("state_backups").path, 0) ?? settings.stateBackups ?? 5,
    requirementsFile:
      r.optStr(proj("requirements").value, proj("requirements").path) ??
      settings.requirementsFile ??
      ".ggen/production-requirements.yaml",
    phases: new Map(),
    hooks: new Map(),
    environments: new Map(),
    profiles: new Map(),
    validation: parseValidation(r, doc),
    limits: parseLimits(r, doc),
    deployPolicy: settings.deployPolicy,
    locations: new Map(),
  };
  if (settings.hookTimeoutMs !== undefined) config.hookTimeoutMs = settings.hookTimeoutMs;

  for (const [pname, raw] of Object.entries(
    r.table(doc.phases, ["phases"], "phases must be a table ([phases.<name>])"),
  )) {
    config.locations.set(`phase:${pname}`, r.where(["phases", pname]));
    config.locations.set(`cwd:${pname}`, r.where(["phases", pname, "cwd"]));
    config.phases.set(pname, parsePhase(r, root, pname, raw));
  }
  parseHooks(r, doc, config.phases, config);
  for (const [ename, raw] of Object.entries(
    r.table(doc.environments, ["environments"], "environments must be a table ([environments.<name>])"),
  )) {
    config.locations.set(`env:${ename}`, r.where(["environments", ename]));
    config.environments.set(ename, parseEnvironment(r, root, ename, raw, settings.environmentDefaults));
  }
  const profiles: ProfileSource[] = Object.entries(
    r.table(doc.profiles, ["profiles"], "profiles must be a table ([profiles.<name>])"),
  ).map(([pname, raw]) => ({ name: pname, raw, reader: r, path: ["profiles", pname] }));
  for (const p of [...profiles, ...settings.profiles]) {
    const seen = config.locations.get(`profile:${p.name}`);
    if (seen) {
      p.reader.fail(
        `profile '${p.name}' is declared twice`,
        p.path,
        `also at ${seen.file}${seen.line ? `:${seen.line}` : ""}`,
      );
    }
    config.locations.set(`profile:${p.name}`, p.reader.where(p.path));
    const profile = parseProfileTable(p);
    for (const s of profile.skip) {
      if (!config.phases.has(s))
        p.reader.fail(`profile '${p.name}' skips an unknown phase '${s}'`, [...p.path, "skip"]);
    }
    config.profiles.set(p.name, profile);
  }
  if (settings.defaultProfile) {
    const { value, location } = settings.defaultProfile;
    if (!config.profiles.has(value)) {
      const near = closest(value, [...config.profiles.keys()]);
      throw new GgenError(
        "LIFECYCLE_CONFIG",
        `[deployment] default_profile '${value}' is not a declared profile`,
        {
          kind: "usage",
          location,
          hint: near
            ? `did you mean '${near}'?`
            : `profiles: ${[...config.profiles.keys()].join(", ") || "none"}`,
        },
      );
    }
    config.defaultProfile = value;
  }
  checkGraph(config, r);
  return config;
}

/** Unknown dependencies, dependency cycles and hook recursion are configuration errors. */
function checkGraph(config: LifecycleConfig, r: TomlReader): void {
  const names = [...config.phases.keys()];
  for (const p of config.phases.values()) {
    for (const d of p.dependsOn) {
      if (!config.phases.has(d)) {
        const near = closest(d, names);
        r.fail(
          `phase '${p.name}' depends on an unknown phase '${d}'`,
          ["phases", p.name],
          near ? `did you mean '${near}'?` : undefined,
        );
      }
    }
  }
  const cycle = findCycle(names, (n) => config.phases.get(n)?.dependsOn ?? []);
  if (cycle) r.fail(`dependency cycle: ${cycle.join(" → ")}`, ["phases", cycle[0]!]);
  // Hooks may run phases; a phase reachable from its own hooks would recurse forever.
  const hookEdges = (n: string): string[] => {
    const out: string[] = [];
    for (const h of [`before_${n}`, `after_${n}`]) {
      for (const entry of config.hooks.get(h) ?? []) if (config.phases.has(entry)) out.push(entry);
    }
    for (const d of config.phases.get(n)?.dependsOn ?? []) out.push(d);
    return out;
  };
  const hookCycle = findCycle(names, hookEdges);
  if (hookCycle) {
    const first = hookCycle[0]!;
    r.fail(
      `hook recursion: ${hookCycle.join(" → ")}`,
      ["hooks", config.hooks.has(`before_${first}`) ? `before_${first}` : `after_${first}`],
      "a hook may not run a phase that leads back to itself",
    );
  }
}

/** A cycle (first node repeated at the end) in the graph, or undefined. */
export function findCycle(
  nodes: readonly string[],
  edges: (n: string) => readonly string[],
): string[] | undefined {
  const state = new Map<string, 1 | 2>();
  const stack: string[] = [];
  const visit = (n: string): string[] | undefined => {
    state.set(n, 1);
    stack.push(n);
    for (const m of edges(n)) {
      const s = state.get(m);
      if (s === 1) return [...stack.slice(stack.indexOf(m)), m];
      if (s === undefined) {
        const c = visit(m);
        if (c) return c;
      }
    }
    stack.pop();
    state.set(n, 2);
    return undefined;
  };
  for (const n of nodes) {
    if (!state.has(n)) {
      const c = visit(n);
      if (c) return c;
    }
  }
  return undefined;
}

export const CONFIG_FILES = ["make.toml", "ggen.toml"] as const;

/**
 * Loads make.toml, or the [lifecycle] table of ggen.toml, from `dir`, with .ggen/config.toml and
 * .ggen/deployment-profiles.toml merged in.
 */
export async function loadConfig(dir: string): Promise<LifecycleConfig> {
  for (const f of CONFIG_FILES) {
    let text: string;
    try {
      text = await fs.readFile(join(dir, f), "utf8");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") continue;
      throw e;
    }
    if (f === "ggen.toml" && !/^\s*\[\s*lifecycle[\].]/m.test(text)) continue;
    return parseConfig(text, f, dir, f === "ggen.toml", await loadSettings(dir));
  }
  throw new GgenError("LIFECYCLE_NO_CONFIG", `no make.toml (or [lifecycle] in ggen.toml) in ${dir}`, {
    kind: "usage",
    hint: "run 'ggen lifecycle init --name <name>'",
  });
}

/** A loaded config, or the directory to load it from. */
export type ConfigSource = LifecycleConfig | string;

export async function asConfig(source: ConfigSource): Promise<LifecycleConfig> {
  return typeof source === "string" ? loadConfig(source) : source;
}

/** Where a phase is declared, for a failure's location. */
export function phaseLocation(config: LifecycleConfig, phase: string): SourceLocation {
  return config.locations.get(`phase:${phase}`) ?? { file: config.file };
}
