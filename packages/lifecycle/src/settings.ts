// .ggen/config.toml ([lifecycle], [template], [deployment]) and .ggen/deployment-profiles.toml: every
// key the documentation shows is either implemented or refused at its file:line:col — a key ggen does
// not implement is accepted only when its value is what ggen does anyway (`trim_blocks = false`).
// [marketplace] belongs to the marketplace, which reads it itself.
import { promises as fs } from "node:fs";
import { join } from "node:path";
import { type SourceLocation, schemaKeys } from "@ggen/contract";
import type { DeployPolicy, ProfileConfig } from "./config.js";
import { type KeyPath, type Table, TomlReader } from "./toml-reader.js";

/** What a generation takes from [template] (options @ggen/generator already has). */
export interface TemplateSettings {
  /** Files rendered at once (`max_parallel_files`; 1 with `parallel_generation = false`). */
  maxParallel?: number;
}

/** A profile table as written, with the reader that locates its keys. */
export interface ProfileSource {
  name: string;
  raw: unknown;
  reader: TomlReader;
  path: KeyPath;
  /** From .ggen/deployment-profiles.toml (its own keys are allowed too). */
  deploymentProfile?: boolean;
}

export interface ProjectSettings {
  defaultEnv?: string;
  stateBackups?: number;
  requirementsFile?: string;
  hookTimeoutMs?: number;
  defaultProfile?: { value: string; location: SourceLocation };
  /** Where an environment says nothing: require_tests, require_security, rollback. */
  environmentDefaults: { requireTests?: boolean; requireSecurity?: boolean; rollback?: boolean };
  deployPolicy: DeployPolicy;
  profiles: ProfileSource[];
  template: TemplateSettings;
}

/** The settings of a project without .ggen/config.toml or .ggen/deployment-profiles.toml. */
export function emptySettings(): ProjectSettings {
  return {
    environmentDefaults: {},
    deployPolicy: { validateBeforeDeploy: false },
    profiles: [],
    template: {},
  };
}

export const SETTINGS_FILE = ".ggen/config.toml";
export const PROFILES_FILE = ".ggen/deployment-profiles.toml";
const STATE_PATH = ".ggen/lifecycle-state.json";

// Key lists come from the schemas editors check these files against (make-toml/v1, ggen-config/v1).
export const PROFILE_KEYS = schemaKeys("make-toml/v1", "/$defs/profile");

/** The keys of .ggen/deployment-profiles.toml's profiles that ggen does not implement, and why. */
const UNSUPPORTED_PROFILE_KEYS: Record<string, string> = {
  marketplace_cache: "a lifecycle run installs no packs (the registry index is always cached)",
  template_optimize: "a lifecycle run renders no templates",
  parallel_tests: "tests run in phases; pass --parallel to the command a phase runs",
  max_parallel_tests: "tests run in phases; set jobs for phases at once",
  skip_optional_validation: "validation gates fail on errors only; optional requirements only warn",
  deployment_mode: "use the profile's own keys (jobs, no_cache, rollback, require_*)",
};

/** A profile table (make.toml's [profiles.*] or a deployment profile) → ProfileConfig. */
export function parseProfileTable(p: ProfileSource): ProfileConfig {
  const { reader: r, path, name } = p;
  const at = (k: string): KeyPath => [...path, k];
  const raw = r.table(p.raw, path, `profile '${name}' must be a table`);
  const keys = p.deploymentProfile
    ? [...PROFILE_KEYS, "run_security_scan", ...Object.keys(UNSUPPORTED_PROFILE_KEYS)]
    : PROFILE_KEYS;
  r.known(raw, path, keys, `profile '${name}'`);
  for (const [k, why] of Object.entries(UNSUPPORTED_PROFILE_KEYS)) r.unsupported(raw, path, k, why);
  const profile: ProfileConfig = {
    name,
    skip: r.strList(raw.skip, at("skip")),
    env: r.strMap(raw.env, at("env")),
  };
  const description = r.optStr(raw.description, at("description"));
  if (description) profile.description = description;
  const jobs = r.int(raw.jobs, at("jobs"), 1);
  if (jobs !== undefined) profile.jobs = jobs;
  const flags = [
    ["requireTests", "require_tests"],
    ["requireSecurity", "require_security"],
    ["requireApproval", "require_approval"],
    ["rollback", "rollback"],
    ["noCache", "no_cache"],
  ] as const;
  for (const [key, tomlKey] of flags) {
    const b = r.bool(raw[tomlKey], at(tomlKey));
    if (b !== undefined) profile[key] = b;
  }
  const scan = r.bool(raw.run_security_scan, at("run_security_scan"));
  if (scan !== undefined) {
    if (profile.requireSecurity !== undefined && profile.requireSecurity !== scan)
      r.fail(`profile '${name}': run_security_scan and require_security disagree`, at("run_security_scan"));
    profile.requireSecurity = scan;
  }
  const vr = r.int(raw.verify_retries, at("verify_retries"), 1);
  if (vr !== undefined) profile.verifyRetries = vr;
  return profile;
}

const LIFECYCLE_KEYS = schemaKeys("ggen-config/v1", "/properties/lifecycle");
const TEMPLATE_KEYS = schemaKeys("ggen-config/v1", "/properties/template");
const DEPLOYMENT_KEYS = schemaKeys("ggen-config/v1", "/properties/deployment");
const isFalse = (v: unknown) => v === false;

function readLifecycle(r: TomlReader, s: ProjectSettings): void {
  const path = ["lifecycle"];
  const t = r.table(r.doc.lifecycle, path);
  const at = (k: string): KeyPath => [...path, k];
  r.known(t, path, LIFECYCLE_KEYS, "[lifecycle]");
  const env = r.optStr(t.default_env, at("default_env"));
  if (env !== undefined) s.defaultEnv = env;
  r.unsupported(t, path, "state_file", `the state is always ${STATE_PATH}`, (v) => v === STATE_PATH);
  r.unsupported(t, path, "hooks_dir", "hooks are declared in make.toml's [hooks]");
  const backup = r.bool(t.state_backup, at("state_backup"));
  const count = r.int(t.state_backup_count, at("state_backup_count"), 1);
  if (backup === false && count !== undefined)
    r.fail("[lifecycle] state_backup_count is set but state_backup = false", at("state_backup_count"));
  if (backup === false) s.stateBackups = 0;
  else if (count !== undefined) s.stateBackups = count;
  const readiness = r.optStr(t.readiness_file, at("readiness_file"));
  if (readiness !== undefined) s.requirementsFile = readiness;
  const hooks = r.duration(t.hooks_timeout_seconds, at("hooks_timeout_seconds"), "s");
  if (hooks !== undefined) s.hookTimeoutMs = hooks;
}

function readTemplate(r: TomlReader, s: ProjectSettings): void {
  const path = ["template"];
  const t = r.table(r.doc.template, path);
  const at = (k: string): KeyPath => [...path, k];
  r.known(t, path, TEMPLATE_KEYS, "[template]");
  r.unsupported(t, path, "engine", "ggen renders Handlebars", (v) => v === "handlebars");
  r.unsupported(t, path, "strict_variables", "a var a template uses but nobody set renders empty", isFalse);
  r.unsupported(t, path, "trim_blocks", "Handlebars trims with {{~ … ~}}", isFalse);
  r.unsupported(t, path, "lstrip_blocks", "Handlebars trims with {{~ … ~}}", isFalse);
  r.unsupported(t, path, "output_buffer_size", "each file is rendered whole and written atomically");
  r.unsupported(
    t,
    path,
    "rdf_cache_enabled",
    "graphs are loaded once per run, not cached between runs",
    isFalse,
  );
  r.unsupported(t, path, "rdf_cache_ttl_seconds", "graphs are not cached between runs");
  const parallel = r.bool(t.parallel_generation, at("parallel_generation"));
  const max = r.int(t.max_parallel_files, at("max_parallel_files"), 1);
  if (parallel === false && max !== undefined && max > 1)
    r.fail("[template] max_parallel_files > 1 but parallel_generation = false", at("max_parallel_files"));
  if (parallel === false) s.template.maxParallel = 1;
  else if (max !== undefined) s.template.maxParallel = max;
}

function readDeployment(r: TomlReader, s: ProjectSettings): void {
  const path = ["deployment"];
  const t = r.table(r.doc.deployment, path);
  const at = (k: string): KeyPath => [...path, k];
  r.known(t, path, DEPLOYMENT_KEYS, "[deployment]");
  r.unsupported(
    t,
    path,
    "profiles_dir",
    `profiles are read from make.toml's [profiles] and ${PROFILES_FILE}`,
  );
  const profile = r.optStr(t.default_profile, at("default_profile"));
  if (profile !== undefined) s.defaultProfile = { value: profile, location: r.where(at("default_profile")) };
  const validate = r.bool(t.validate_before_deploy, at("validate_before_deploy"));
  if (validate !== undefined) s.deployPolicy.validateBeforeDeploy = validate;
  const tests = r.bool(t.require_tests_passing, at("require_tests_passing"));
  if (tests !== undefined) s.environmentDefaults.requireTests = tests;
  const security = r.bool(t.require_security_scan, at("require_security_scan"));
  if (security !== undefined) s.environmentDefaults.requireSecurity = security;
  const rollback = r.bool(t.enable_automatic_rollback, at("enable_automatic_rollback"));
  if (rollback !== undefined) s.environmentDefaults.rollback = rollback;
  const limit = r.duration(t.rollback_timeout_seconds, at("rollback_timeout_seconds"), "s");
  if (limit !== undefined) s.deployPolicy.rollbackTimeoutMs = limit;
}

/** .ggen/config.toml's text → the settings it gives the lifecycle (and [template] for generation). */
export function parseSettings(text: string, file = SETTINGS_FILE, into?: ProjectSettings): ProjectSettings {
  const s = into ?? emptySettings();
  const r = new TomlReader(file, text, "CONFIG_INVALID");
  r.known(r.doc, [], schemaKeys("ggen-config/v1", ""), file);
  readLifecycle(r, s);
  readTemplate(r, s);
  readDeployment(r, s);
  return s;
}

/** .ggen/deployment-profiles.toml's text → its profiles (parsed with make.toml's, which see them). */
export function parseDeploymentProfiles(text: string, file = PROFILES_FILE): ProfileSource[] {
  const r = new TomlReader(file, text, "CONFIG_INVALID");
  r.known(r.doc, [], ["profiles"], file);
  const profiles: Table = r.table(
    r.doc.profiles,
    ["profiles"],
    "profiles must be a table ([profiles.<name>])",
  );
  return Object.entries(profiles).map(([name, raw]) => ({
    name,
    raw,
    reader: r,
    path: ["profiles", name],
    deploymentProfile: true,
  }));
}

async function readIfThere(path: string): Promise<string | undefined> {
  try {
    return await fs.readFile(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
}

/** The project's settings: .ggen/config.toml and .ggen/deployment-profiles.toml, each when present. */
export async function loadSettings(dir: string): Promise<ProjectSettings> {
  const s = emptySettings();
  const config = await readIfThere(join(dir, SETTINGS_FILE));
  if (config !== undefined) parseSettings(config, SETTINGS_FILE, s);
  const profiles = await readIfThere(join(dir, PROFILES_FILE));
  if (profiles !== undefined) s.profiles = parseDeploymentProfiles(profiles);
  return s;
}
