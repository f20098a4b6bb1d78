// .ggen/config.toml and .ggen/deployment-profiles.toml as the seeds document them: each key does what it
// says or is refused at its file:line:col — none is silently ignored.
import { GgenError } from "@ggen/contract";
import { afterAll, describe, expect, it } from "vitest";
import { loadConfig, parseConfig } from "./config.js";
import { parseDeploymentProfiles, parseSettings } from "./settings.js";
import { cleanupProjects, project } from "./test-util.js";

afterAll(cleanupProjects);

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof GgenError) return e.toLine();
    throw e;
  }
  throw new Error("expected a refusal");
}

/** The one line a rejected promise's GgenError prints. */
const lineOf = (p: Promise<unknown>) =>
  p.then(
    () => "no error",
    (e: GgenError) => e.toLine(),
  );

const MAKE = `[phases.build]\ncommand = "true"\n[phases.deploy]\n[environments.production]\n[environments.staging]\nrollback = false\n`;

describe(".ggen/config.toml", () => {
  it("implements [lifecycle], [deployment] and [template] keys", () => {
    const s = parseSettings(`
[marketplace]
registry_url = "https://example.org/index.json"

[template]
engine = "handlebars"
strict_variables = false
parallel_generation = true
max_parallel_files = 3

[lifecycle]
default_env = "staging"
state_file = ".ggen/lifecycle-state.json"
state_backup_count = 7
readiness_file = "ops/ready.yaml"
hooks_timeout_seconds = 300

[deployment]
validate_before_deploy = true
require_tests_passing = true
require_security_scan = false
enable_automatic_rollback = true
rollback_timeout_seconds = "2m"
`);
    expect(s.template).toEqual({ maxParallel: 3 });
    const c = parseConfig(MAKE, "make.toml", "/p", false, s);
    expect(c).toMatchObject({
      defaultEnv: "staging",
      stateBackups: 7,
      requirementsFile: "ops/ready.yaml",
      hookTimeoutMs: 300_000,
      deployPolicy: { validateBeforeDeploy: true, rollbackTimeoutMs: 120_000 },
    });
    // Defaults where an environment says nothing; an environment's own key wins.
    expect(c.environments.get("production")).toMatchObject({
      requireTests: true,
      requireSecurity: false,
      rollback: true,
    });
    expect(c.environments.get("staging")).toMatchObject({ rollback: false });
  });

  it("make.toml's own default_env wins over .ggen/config.toml's", () => {
    const c = parseConfig(
      `default_env = "production"\n${MAKE}`,
      "make.toml",
      "/p",
      false,
      parseSettings(`[lifecycle]\ndefault_env = "staging"\n`),
    );
    expect(c.defaultEnv).toBe("production");
  });

  it("state_backup = false keeps no backups", () => {
    const c = parseConfig(
      MAKE,
      "make.toml",
      "/p",
      false,
      parseSettings(`[lifecycle]\nstate_backup = false\n`),
    );
    expect(c.stateBackups).toBe(0);
  });

  it.each([
    [
      `[template]\nengine = "tera"\n`,
      '.ggen/config.toml:2:1: template.engine = "tera" is not supported: ggen renders Handlebars',
    ],
    [
      `[template]\ntrim_blocks = true\n`,
      ".ggen/config.toml:2:1: template.trim_blocks = true is not supported: Handlebars trims with {{~ … ~}}",
    ],
    [`[template]\nstrict_variables = true\n`, "template.strict_variables = true is not supported"],
    [`[template]\noutput_buffer_size = 8192\n`, "template.output_buffer_size = 8192 is not supported"],
    [`[template]\nrdf_cache_ttl_seconds = 1800\n`, "template.rdf_cache_ttl_seconds = 1800 is not supported"],
    [
      `[lifecycle]\nhooks_dir = ".ggen/hooks"\n`,
      `lifecycle.hooks_dir = ".ggen/hooks" is not supported: hooks are declared in make.toml's [hooks]`,
    ],
    [
      `[lifecycle]\nstate_file = "state.json"\n`,
      'lifecycle.state_file = "state.json" is not supported: the state is always .ggen/lifecycle-state.json',
    ],
    [`[deployment]\nprofiles_dir = ".ggen/deployment-profiles"\n`, "deployment.profiles_dir"],
    [
      `[lifecycle]\nstate_backup_count = 0\n`,
      ".ggen/config.toml:2:1: lifecycle.state_backup_count must be a whole number >= 1",
    ],
    [
      `[deployment]\nrollback_timeout_seconds = "soon"\n`,
      '.ggen/config.toml:2:1: deployment.rollback_timeout_seconds "soon": expected a duration such as 50s, 2m or 1500ms',
    ],
    [
      `[lifecycle]\ndefault_envv = "x"\n`,
      ".ggen/config.toml:2:1: unknown key 'default_envv' in [lifecycle] (did you mean 'default_env'?)",
    ],
    [
      `[lifecycel]\n`,
      ".ggen/config.toml:1:1: unknown key 'lifecycel' in .ggen/config.toml (did you mean 'lifecycle'?)",
    ],
  ])("refuses %j", (text, message) => {
    expect(refusal(() => parseSettings(text))).toContain(message);
  });

  it("default_profile picks the profile of a run, and must name one", async () => {
    const dir = await project({
      "make.toml": `${MAKE}[profiles.fast]\njobs = 4\n`,
      ".ggen/config.toml": `[deployment]\ndefault_profile = "fast"\n`,
    });
    expect((await loadConfig(dir)).defaultProfile).toBe("fast");
    const bad = await project({
      "make.toml": `${MAKE}[profiles.fast]\n`,
      ".ggen/config.toml": `[deployment]\ndefault_profile = "fsat"\n`,
    });
    expect(await lineOf(loadConfig(bad))).toBe(
      ".ggen/config.toml:2:1: [deployment] default_profile 'fsat' is not a declared profile (did you mean 'fast'?)",
    );
  });
});

describe(".ggen/deployment-profiles.toml", () => {
  it("adds profiles with the make.toml keys and run_security_scan", async () => {
    const dir = await project({
      "make.toml": MAKE,
      ".ggen/deployment-profiles.toml": `[profiles.production-safe]\njobs = 1\nno_cache = true\nrun_security_scan = true\n`,
    });
    expect((await loadConfig(dir)).profiles.get("production-safe")).toMatchObject({
      jobs: 1,
      noCache: true,
      requireSecurity: true,
    });
  });

  it("refuses the seed's keys a lifecycle run cannot honour, at their line", () => {
    const profiles = parseDeploymentProfiles(
      `[profiles.ultra-fast]\nmarketplace_cache = true\ntemplate_optimize = "speed"\n`,
    );
    expect(
      refusal(() => parseConfig(MAKE, "make.toml", "/p", false, { ...parseSettings(""), profiles })),
    ).toBe(
      ".ggen/deployment-profiles.toml:2:1: profiles.ultra-fast.marketplace_cache = true is not supported: a lifecycle run installs no packs (the registry index is always cached)",
    );
  });

  it("a profile declared in both files is an error naming the other place", async () => {
    const dir = await project({
      "make.toml": `${MAKE}[profiles.fast]\njobs = 2\n`,
      ".ggen/deployment-profiles.toml": `\n[profiles.fast]\njobs = 4\n`,
    });
    expect(await lineOf(loadConfig(dir))).toBe(
      ".ggen/deployment-profiles.toml:2:1: profile 'fast' is declared twice (also at make.toml:7)",
    );
  });
});
