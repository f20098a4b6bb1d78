// make.toml (or [lifecycle] in ggen.toml): parsing and checking. Pure apart from reading the file.
import { promises as fs } from "node:fs";
import { join } from "node:path";
import { GgenError } from "@ggen/contract";
import { closest } from "@ggen/support";
import { parse as parseToml, TomlError } from "smol-toml";

export interface PhaseConfig {
  name: string;
  description?: string;
  commands: string[];
  cwd?: string;
  env: Record<string, string>;
  dependsOn: string[];
  /** Seconds; 0 or absent means no limit. */
  timeout?: number;
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

export interface LifecycleConfig {
  /** Project root (absolute). */
  root: string;
  /** The file the config came from (relative to root). */
  file: string;
  name: string;
  defaultEnv: string;
  stateBackups: number;
  requirementsFile: string;
  phases: Map<string, PhaseConfig>;
  hooks: Map<string, string[]>;
  environments: Map<string, EnvironmentConfig>;
  profiles: Map<string, ProfileConfig>;
  validation: ValidationConfig;
  /** Where each phase/env/profile/hook is declared, for error locations. */
  lines: Map<string, number>;
}

type Table = Record<string, unknown>;

const isTable = (v: unknown): v is Table => typeof v === "object" && v !== null && !Array.isArray(v);

class Reader {
  constructor(
    readonly file: string,
    readonly text: string,
  ) {}

  /** The 1-based line of the first line matching `re`, if any. */
  lineOf(re: RegExp): number | undefined {
    const lines = this.text.split("\n");
    for (let i = 0; i < lines.length; i++) if (re.test(lines[i]!)) return i + 1;
    return undefined;
  }

  fail(message: string, line?: number, hint?: string): never {
    throw new GgenError("LIFECYCLE_CONFIG", message, {
      kind: "usage",
      location: line === undefined ? { file: this.file } : { file: this.file, line, column: 1 },
      ...(hint ? { hint } : {}),
    });
  }
}

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

function headerLine(r: Reader, section: string, name: string): number | undefined {
  return (
    r.lineOf(new RegExp(`^\\s*\\[\\s*(lifecycle\\.)?${esc(section)}\\.("?)${esc(name)}\\2\\s*\\]`)) ??
    r.lineOf(new RegExp(`^\\s*${esc(name)}\\s*=`))
  );
}

function str(r: Reader, v: unknown, what: string, line?: number): string {
  if (typeof v !== "string") r.fail(`${what} must be a string`, line);
  return v;
}

function optStr(r: Reader, v: unknown, what: string, line?: number): string | undefined {
  return v === undefined ? undefined : str(r, v, what, line);
}

function strList(r: Reader, v: unknown, what: string, line?: number): string[] {
  if (v === undefined) return [];
  if (typeof v === "string") return [v];
  if (!Array.isArray(v) || v.some((x) => typeof x !== "string")) {
    r.fail(`${what} must be a string or a list of strings`, line);
  }
  return v as string[];
}

function strMap(r: Reader, v: unknown, what: string, line?: number): Record<string, string> {
  if (v === undefined) return {};
  if (!isTable(v)) r.fail(`${what} must be a table of strings`, line);
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(v)) {
    if (typeof x === "string") out[k] = x;
    else if (typeof x === "number" || typeof x === "boolean") out[k] = String(x);
    else r.fail(`${what}.${k} must be a string`, line);
  }
  return out;
}

function num(r: Reader, v: unknown, what: string, line?: number): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== "number" || !Number.isFinite(v) || v < 0) r.fail(`${what} must be a number >= 0`, line);
  return v;
}

function bool(r: Reader, v: unknown, what: string, line?: number): boolean | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== "boolean") r.fail(`${what} must be true or false`, line);
  return v;
}

function known(r: Reader, t: Table, keys: readonly string[], where: string, line?: number): void {
  for (const k of Object.keys(t)) {
    if (!keys.includes(k)) {
      const near = keys.find((c) => c.replace(/_/g, "") === k.replace(/[-_]/g, "")) ?? closest(k, keys);
      r.fail(
        `unknown key '${k}' in ${where}`,
        r.lineOf(new RegExp(`^\\s*"?${esc(k)}"?\\s*=`)) ?? line,
        near ? `did you mean '${near}'?` : `known keys: ${keys.join(", ")}`,
      );
    }
  }
}

const PHASE_KEYS = [
  "description",
  "command",
  "commands",
  "cwd",
  "env",
  "depends_on",
  "timeout",
  "inputs",
  "outputs",
] as const;
const ENV_KEYS = [
  "vars",
  "require_tests",
  "require_security",
  "require_approval",
  "rollback",
  "deploy",
  "verify",
] as const;
const DEPLOY_KEYS = ["provider", "command", "commands", "rollback", "source", "dir", "keep", "start", "port"];
const VERIFY_KEYS = ["url", "retries", "interval_ms", "timeout_ms", "expect_status", "expect_body"];
const PROFILE_KEYS = [
  "description",
  "skip",
  "jobs",
  "env",
  "require_tests",
  "require_security",
  "require_approval",
  "rollback",
  "verify_retries",
  "no_cache",
];
const VALIDATION_KEYS = [
  "tests_report",
  "coverage_threshold",
  "build_phase",
  "sources",
  "forbidden",
  "allow_secrets",
  "advisories",
];
const TOP_KEYS = [
  "project",
  "name",
  "default_env",
  "state_backups",
  "requirements",
  "phases",
  "hooks",
  "environments",
  "profiles",
  "validation",
];

export const PHASE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** Parses config text (`file` names it in errors). `embedded` means the `[lifecycle]` table of ggen.toml. */
export function parseConfig(text: string, file: string, root: string, embedded = false): LifecycleConfig {
  const r: Reader = new Reader(file, text);
  let doc: Table;
  try {
    doc = parseToml(text) as Table;
  } catch (e) {
    if (e instanceof TomlError) {
      const first = e.message.split("\n")[0]!.replace(/^Invalid TOML document:\s*/, "");
      throw new GgenError("LIFECYCLE_CONFIG", `invalid TOML: ${first}`, {
        kind: "usage",
        location: { file, line: e.line, column: e.column },
      });
    }
    throw e;
  }
  if (embedded) {
    const lc = doc.lifecycle;
    if (!isTable(lc)) r.fail("ggen.toml has no [lifecycle] table", undefined, "run 'ggen lifecycle init'");
    doc = lc;
  }
  known(r, doc, TOP_KEYS, "the config");
  const rawProject = doc.project ?? {};
  if (!isTable(rawProject)) r.fail("[project] must be a table");
  known(r, rawProject, ["name", "default_env", "state_backups", "requirements"], "[project]");
  // These settings may sit in [project] or at the top level.
  const project: Table = { ...doc, ...rawProject };
  const name = optStr(r, project.name, "project.name") ?? root.split("/").pop() ?? "app";

  const lines = new Map<string, number>();
  const phases = new Map<string, PhaseConfig>();
  const rawPhases = doc.phases ?? {};
  if (!isTable(rawPhases)) r.fail("phases must be a table ([phases.<name>])", r.lineOf(/^\s*phases\s*=/));
  for (const [pname, raw] of Object.entries(rawPhases)) {
    const line = headerLine(r, "phases", pname);
    if (line !== undefined) lines.set(`phase:${pname}`, line);
    if (!PHASE_NAME.test(pname))
      r.fail(`phase name '${pname}' may only use letters, digits, '.', '_' and '-'`, line);
    if (!isTable(raw)) r.fail(`phase '${pname}' must be a table`, line);
    known(r, raw, PHASE_KEYS, `phase '${pname}'`, line);
    const commands = [
      ...strList(r, raw.command, `phases.${pname}.command`, line),
      ...strList(r, raw.commands, `phases.${pname}.commands`, line),
    ];
    const timeout = num(r, raw.timeout, `phases.${pname}.timeout`, line);
    const description = optStr(r, raw.description, `phases.${pname}.description`, line);
    const cwd = optStr(r, raw.cwd, `phases.${pname}.cwd`, line);
    phases.set(pname, {
      name: pname,
      commands,
      env: strMap(r, raw.env, `phases.${pname}.env`, line),
      dependsOn: strList(r, raw.depends_on, `phases.${pname}.depends_on`, line),
      inputs: strList(r, raw.inputs, `phases.${pname}.inputs`, line),
      outputs: strList(r, raw.outputs, `phases.${pname}.outputs`, line),
      ...(timeout ? { timeout } : {}),
      ...(description ? { description } : {}),
      ...(cwd ? { cwd } : {}),
    });
  }

  const hooks = new Map<string, string[]>();
  const rawHooks = doc.hooks ?? {};
  if (!isTable(rawHooks)) r.fail("hooks must be a table ([hooks])", r.lineOf(/^\s*hooks\s*=/));
  for (const [hname, raw] of Object.entries(rawHooks)) {
    const line = r.lineOf(new RegExp(`^\\s*"?${esc(hname)}"?\\s*=`)) ?? headerLine(r, "hooks", hname);
    if (line !== undefined) lines.set(`hook:${hname}`, line);
    const m = /^(before|after)_(.+)$/.exec(hname);
    if (!m && hname !== "on_error") {
      r.fail(`unknown hook '${hname}'`, line, "hooks are before_<phase>, after_<phase> or on_error");
    }
    if (m && !phases.has(m[2]!)) {
      const near = closest(m[2]!, [...phases.keys()]);
      r.fail(
        `hook '${hname}' names an unknown phase '${m[2]}'`,
        line,
        near ? `did you mean '${m[1]}_${near}'?` : undefined,
      );
    }
    hooks.set(hname, strList(r, raw, `hooks.${hname}`, line));
  }

  const environments = new Map<string, EnvironmentConfig>();
  const rawEnvs = doc.environments ?? {};
  if (!isTable(rawEnvs)) r.fail("environments must be a table ([environments.<name>])");
  for (const [ename, raw] of Object.entries(rawEnvs)) {
    const line = headerLine(r, "environments", ename);
    if (line !== undefined) lines.set(`env:${ename}`, line);
    if (!isTable(raw)) r.fail(`environment '${ename}' must be a table`, line);
    known(r, raw, ENV_KEYS, `environment '${ename}'`, line);
    const env: EnvironmentConfig = {
      name: ename,
      vars: strMap(r, raw.vars, `environments.${ename}.vars`, line),
      requireTests: bool(r, raw.require_tests, `environments.${ename}.require_tests`, line) ?? false,
      requireSecurity: bool(r, raw.require_security, `environments.${ename}.require_security`, line) ?? false,
      requireApproval: bool(r, raw.require_approval, `environments.${ename}.require_approval`, line) ?? false,
      rollback: bool(r, raw.rollback, `environments.${ename}.rollback`, line) ?? false,
    };
    if (raw.deploy !== undefined) env.deploy = parseDeploy(r, raw.deploy, ename);
    if (raw.verify !== undefined) env.verify = parseVerify(r, raw.verify, ename);
    environments.set(ename, env);
  }

  const profiles = new Map<string, ProfileConfig>();
  const rawProfiles = doc.profiles ?? {};
  if (!isTable(rawProfiles)) r.fail("profiles must be a table ([profiles.<name>])");
  for (const [pname, raw] of Object.entries(rawProfiles)) {
    const line = headerLine(r, "profiles", pname);
    if (line !== undefined) lines.set(`profile:${pname}`, line);
    if (!isTable(raw)) r.fail(`profile '${pname}' must be a table`, line);
    known(r, raw, PROFILE_KEYS, `profile '${pname}'`, line);
    const p: ProfileConfig = {
      name: pname,
      skip: strList(r, raw.skip, `profiles.${pname}.skip`, line),
      env: strMap(r, raw.env, `profiles.${pname}.env`, line),
    };
    const description = optStr(r, raw.description, `profiles.${pname}.description`, line);
    if (description) p.description = description;
    const jobs = num(r, raw.jobs, `profiles.${pname}.jobs`, line);
    if (jobs !== undefined) p.jobs = Math.max(1, Math.floor(jobs));
    const flags = [
      ["requireTests", "require_tests"],
      ["requireSecurity", "require_security"],
      ["requireApproval", "require_approval"],
      ["rollback", "rollback"],
      ["noCache", "no_cache"],
    ] as const;
    for (const [key, tomlKey] of flags) {
      const b = bool(r, raw[tomlKey], `profiles.${pname}.${tomlKey}`, line);
      if (b !== undefined) p[key] = b;
    }
    const vr = num(r, raw.verify_retries, `profiles.${pname}.verify_retries`, line);
    if (vr !== undefined) p.verifyRetries = Math.floor(vr);
    for (const s of p.skip) {
      if (!phases.has(s)) r.fail(`profile '${pname}' skips an unknown phase '${s}'`, line);
    }
    profiles.set(pname, p);
  }

  const rawVal = doc.validation ?? {};
  if (!isTable(rawVal)) r.fail("validation must be a table ([validation])");
  known(r, rawVal, VALIDATION_KEYS, "[validation]");
  const forbidden: Record<string, string[]> = {};
  if (rawVal.forbidden !== undefined) {
    if (!isTable(rawVal.forbidden)) r.fail("validation.forbidden must be a table of extension = [patterns]");
    for (const [ext, pats] of Object.entries(rawVal.forbidden)) {
      forbidden[ext] = strList(r, pats, `validation.forbidden.${ext}`);
    }
  }
  const validation: ValidationConfig = {
    testsReport: strList(r, rawVal.tests_report, "validation.tests_report"),
    buildPhase: optStr(r, rawVal.build_phase, "validation.build_phase") ?? "build",
    sources: strList(r, rawVal.sources, "validation.sources"),
    forbidden,
    allowSecrets: strList(r, rawVal.allow_secrets, "validation.allow_secrets"),
  };
  if (validation.testsReport.length === 0) {
    validation.testsReport = [".ggen/cleanroom-run.json", "cleanroom-run.json"];
  }
  const cov = num(r, rawVal.coverage_threshold, "validation.coverage_threshold");
  if (cov !== undefined) validation.coverageThreshold = cov;
  const adv = optStr(r, rawVal.advisories, "validation.advisories");
  if (adv) validation.advisories = adv;

  const config: LifecycleConfig = {
    root,
    file,
    name,
    defaultEnv: optStr(r, project.default_env, "default_env") ?? "development",
    stateBackups: Math.max(1, Math.floor(num(r, project.state_backups, "state_backups") ?? 5)),
    requirementsFile: optStr(r, project.requirements, "requirements") ?? ".ggen/production-requirements.yaml",
    phases,
    hooks,
    environments,
    profiles,
    validation,
    lines,
  };
  checkGraph(config, r);
  return config;
}

function parseDeploy(r: Reader, raw: unknown, env: string): DeployConfig {
  const line = r.lineOf(new RegExp(`^\\s*\\[\\s*(lifecycle\\.)?environments\\.${esc(env)}\\.deploy\\s*\\]`));
  if (!isTable(raw)) r.fail(`environments.${env}.deploy must be a table`, line);
  known(r, raw, DEPLOY_KEYS, `environments.${env}.deploy`, line);
  const provider = str(r, raw.provider ?? "command", `environments.${env}.deploy.provider`, line);
  if (provider !== "command" && provider !== "release-dir" && provider !== "process") {
    r.fail(`unknown deploy provider '${provider}'`, line, "use command, release-dir or process");
  }
  const d: DeployConfig = {
    provider,
    commands: [
      ...strList(r, raw.command, `environments.${env}.deploy.command`, line),
      ...strList(r, raw.commands, `environments.${env}.deploy.commands`, line),
    ],
    rollbackCommands: strList(r, raw.rollback, `environments.${env}.deploy.rollback`, line),
    source: optStr(r, raw.source, `environments.${env}.deploy.source`, line) ?? "dist",
    dir: optStr(r, raw.dir, `environments.${env}.deploy.dir`, line) ?? `.ggen/deploy/${env}`,
    keep: Math.max(2, Math.floor(num(r, raw.keep, `environments.${env}.deploy.keep`, line) ?? 5)),
  };
  const start = optStr(r, raw.start, `environments.${env}.deploy.start`, line);
  if (start) d.start = start;
  const port = num(r, raw.port, `environments.${env}.deploy.port`, line);
  if (port !== undefined) d.port = Math.floor(port);
  if (provider === "command" && d.commands.length === 0) {
    r.fail(`environments.${env}.deploy: provider 'command' needs command or commands`, line);
  }
  if (provider === "process" && !d.start) {
    r.fail(
      `environments.${env}.deploy: provider 'process' needs start (the command that runs the service)`,
      line,
    );
  }
  return d;
}

function parseVerify(r: Reader, raw: unknown, env: string): VerifyConfig {
  const line = r.lineOf(new RegExp(`^\\s*\\[\\s*(lifecycle\\.)?environments\\.${esc(env)}\\.verify\\s*\\]`));
  if (!isTable(raw)) r.fail(`environments.${env}.verify must be a table`, line);
  known(r, raw, VERIFY_KEYS, `environments.${env}.verify`, line);
  const url = str(r, raw.url, `environments.${env}.verify.url`, line);
  try {
    const u = new URL(url);
    if (u.protocol !== "http:" && u.protocol !== "https:") throw new Error("scheme");
  } catch {
    r.fail(`environments.${env}.verify.url '${url}' is not an http(s) URL`, line);
  }
  const v: VerifyConfig = {
    url,
    retries: Math.floor(num(r, raw.retries, `environments.${env}.verify.retries`, line) ?? 10),
    intervalMs: num(r, raw.interval_ms, `environments.${env}.verify.interval_ms`, line) ?? 300,
    timeoutMs: num(r, raw.timeout_ms, `environments.${env}.verify.timeout_ms`, line) ?? 2000,
    expectStatus: Math.floor(
      num(r, raw.expect_status, `environments.${env}.verify.expect_status`, line) ?? 200,
    ),
  };
  const body = optStr(r, raw.expect_body, `environments.${env}.verify.expect_body`, line);
  if (body !== undefined) v.expectBody = body;
  return v;
}

/** Unknown dependencies, dependency cycles and hook recursion are configuration errors. */
function checkGraph(config: LifecycleConfig, r: Reader): void {
  const names = [...config.phases.keys()];
  for (const p of config.phases.values()) {
    for (const d of p.dependsOn) {
      if (!config.phases.has(d)) {
        const near = closest(d, names);
        r.fail(
          `phase '${p.name}' depends on an unknown phase '${d}'`,
          config.lines.get(`phase:${p.name}`),
          near ? `did you mean '${near}'?` : undefined,
        );
      }
    }
  }
  const cycle = findCycle(names, (n) => config.phases.get(n)?.dependsOn ?? []);
  if (cycle) {
    r.fail(`dependency cycle: ${cycle.join(" → ")}`, config.lines.get(`phase:${cycle[0]}`));
  }
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
    r.fail(
      `hook recursion: ${hookCycle.join(" → ")}`,
      config.lines.get(`hook:before_${hookCycle[0]}`) ?? config.lines.get(`hook:after_${hookCycle[0]}`),
      "a hook may not run a phase that leads back to itself",
    );
  }
  for (const entry of config.hooks.get("on_error") ?? []) {
    if (config.phases.has(entry) && hookEdges(entry).length > 0) {
      // on_error phases run without their own hooks; nothing to check beyond existence.
    }
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

/** Loads make.toml, or the [lifecycle] table of ggen.toml, from `dir`. */
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
    return parseConfig(text, f, dir, f === "ggen.toml");
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
