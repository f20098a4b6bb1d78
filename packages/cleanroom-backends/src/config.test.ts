import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { schemaKeys, validate } from "@ggen/contract";
import type { GgenError } from "@ggen/support";
import { stringify as stringifyToml } from "smol-toml";
import { describe, expect, it } from "vitest";
import { configKey, configKeys, defaultConfig, engineSettings, loadConfig, parseConfig } from "./config.js";

describe("config.toml", () => {
  it("defaults to public images with local fallbacks, and reads overrides", () => {
    const dir = mkdtempSync(join(tmpdir(), "ggen-config-"));
    try {
      expect(loadConfig(dir)).toEqual(defaultConfig());
      expect(defaultConfig().containers.images.postgres).toBe("postgres:16-alpine");
      writeFileSync(
        join(dir, "config.toml"),
        [
          "[backend]",
          'type = "local"',
          "[containers]",
          "pull = false",
          "[containers.images]",
          'postgres = "ggen/postgres:15-debian"',
          "[environment]",
          "default_memory_mb = 256",
          "[local]",
          'redis_binary = "/opt/redis-server"',
        ].join("\n"),
      );
      const c = loadConfig(dir, { environment: { defaultPids: 10 } });
      expect(c.backend.type).toBe("local");
      expect(c.containers.pull).toBe(false);
      expect(c.containers.images.postgres).toBe("ggen/postgres:15-debian");
      expect(c.containers.images.redis).toBe("redis:7-alpine");
      expect(c.environment.defaultMemoryMb).toBe(256);
      expect(c.environment.defaultPids).toBe(10);
      expect(c.local.redisBinary).toBe("/opt/redis-server");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("reports a TOML error with its location as a usage error", () => {
    const dir = mkdtempSync(join(tmpdir(), "ggen-config-"));
    try {
      writeFileSync(join(dir, "config.toml"), "[backend]\ntype = \n");
      expect(() => loadConfig(dir)).toThrow(
        expect.objectContaining({ code: "CLEANROOM_CONFIG", kind: "usage" }),
      );
      try {
        loadConfig(dir);
      } catch (error) {
        expect((error as { location: { file: string; line?: number } }).location.line).toBe(2);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** The `.cleanroom/config.toml` documented in seed 002, as a user would copy it. */
const SEED_CONFIG = `[backend]
# Container backend selection
type = "testcontainers"  # Options: testcontainers, docker, podman

[environment]
default_isolated = true
default_network = "isolated"
default_memory_mb = 1024
default_cpus = 2
default_timeout_seconds = 300

[containers]
registry = "docker.io"
always_pull_latest = false
pull_timeout_seconds = 300
start_timeout_seconds = 60
stop_timeout_seconds = 30

[testing]
default_parallel = true
max_parallel_tests = 8
test_timeout_seconds = 60
collect_logs = true
collect_metrics = true
results_dir = ".cleanroom/test-results"

[policy]
enforce_isolation = true
allow_host_network = false
allow_privileged = false
max_memory_mb = 4096
max_cpus = 8
max_containers = 20

[metrics]
enabled = true
detailed = false
output_format = "json"
metrics_file = ".cleanroom/metrics.json"
`;

describe("config.toml: every key the seeds document is implemented or refused where it stands", () => {
  const file = "/p/.cleanroom/config.toml";

  it("reads the seed's file into typed values", () => {
    const c = parseConfig(SEED_CONFIG, file);
    expect(c.backend.type).toBe("testcontainers");
    expect(c.environment).toMatchObject({
      defaultIsolated: true,
      defaultMemoryMb: 1024,
      defaultCpus: 2,
      defaultTimeoutSeconds: 300,
    });
    expect(c.containers).toMatchObject({
      alwaysPull: false,
      pullTimeoutSeconds: 300,
      startTimeoutSeconds: 60,
      stopTimeoutSeconds: 30,
    });
    expect(c.containers.registry).toBeUndefined(); // docker.io: names stay as they are
    expect(c.testing).toEqual({
      defaultParallel: true,
      maxParallelTests: 8,
      testTimeoutSeconds: 60,
      collectLogs: true,
      collectMetrics: true,
      resultsDir: ".cleanroom/test-results",
    });
    expect(c.metrics).toEqual({
      enabled: true,
      detailed: false,
      outputFormat: "json",
      metricsFile: ".cleanroom/metrics.json",
    });
    expect(c.policy).toEqual({
      enforceIsolation: true,
      allowHostNetwork: false,
      maxMemoryMb: 4096,
      maxCpus: 8,
      maxContainers: 20,
    });
    expect(c.locations["policy.max_memory_mb"]).toEqual({ file, line: 31, column: 1 });
    expect(configKey(c, "policy.enforce_isolation")).toBe(`policy.enforce_isolation (${file}:28:1)`);
  });

  const refusals: [string, string, RegExp][] = [
    ['[backend]\ndocker_api_version = "1.41"\n', "2:1", /\[backend\] docker_api_version is not supported/],
    ['[backend]\ntype = "podman"\n', "2:1", /podman is not a backend of its own/],
    [
      "[testing]\nmax_paralel_tests = 8\n",
      "2:1",
      /not a key of \[testing\] \(did you mean 'max_parallel_tests'\?\)/,
    ],
    ["[polcy]\nmax_cpus = 1\n", "1:1", /\[polcy\] is not a section .*did you mean 'policy'/],
    ["[policy]\nallow_privileged = true\n", "2:1", /never runs privileged/],
    ['[policy]\n  max_memory_mb = "4G"\n', "2:3", /expected a positive number, got "4G"/],
    ["[testing]\nmax_parallel_tests = 2.5\n", "2:1", /expected a positive whole number/],
    ['[testing]\nresults_dir = "../elsewhere"\n', "2:1", /outside the project/],
    ['[metrics]\noutput_format = "xml"\n', "2:1", /expected "json" or "jsonl"/],
    [
      '[environment]\ndefault_isolated = false\ndefault_network = "isolated"\n',
      "3:1",
      /contradicts default_isolated = false/,
    ],
    ["backend = 3\n", "1:1", /\[backend\] must be a table/],
    ["[containers.images]\npostgres = 5\n", "1:1", /postgres: expected an image name/],
  ];
  it.each(refusals)("refuses %j at its line and column", (source, where, message) => {
    let caught: GgenError | undefined;
    try {
      parseConfig(source, file);
    } catch (error) {
      caught = error as GgenError;
    }
    expect(caught?.code).toBe("CLEANROOM_CONFIG");
    expect(caught?.kind).toBe("usage");
    expect(caught?.message).toMatch(message);
    const [line, column] = where.split(":").map(Number);
    expect(caught?.location).toEqual({ file, line, column });
  });

  it('takes "docker" for the Docker backend, and a registry for unqualified image names', () => {
    const c = parseConfig(
      '[backend]\ntype = "docker"\ndocker_host = "tcp://127.0.0.1:2375"\n[containers]\nregistry = "registry.example:5000/"\n',
      file,
    );
    expect(c.backend).toEqual({ type: "testcontainers", dockerHost: "tcp://127.0.0.1:2375" });
    expect(c.containers.registry).toBe("registry.example:5000");
  });
});

describe("config.toml and the cleanroom-config/v1 schema editors check it against", () => {
  const KIND = "cleanroom-config/v1";
  it("know the same sections and keys", () => {
    const keys = configKeys();
    expect(Object.keys(keys).sort()).toEqual(schemaKeys(KIND, "").sort());
    for (const [section, rules] of Object.entries(keys))
      expect(Object.keys(rules).sort(), section).toEqual(schemaKeys(KIND, `/properties/${section}`).sort());
  });
  it("refuse a key the parser refuses, whatever its value", () => {
    const refused = Object.entries(configKeys()).flatMap(([section, rules]) =>
      Object.entries(rules)
        .filter(([, how]) => how === "refuse")
        .map(([key]) => [section, key] as const),
    );
    expect(refused.length).toBeGreaterThan(0);
    for (const [section, key] of refused) {
      const r = validate(KIND, { [section]: { [key]: "anything" } });
      expect(r.ok, `${section}.${key}`).toBe(false);
      expect(() => parseConfig(`[${section}]\n${key} = "anything"\n`, "c.toml")).toThrow(key);
    }
  });
  it("accept the schema's example, and refuse what the schema's wrong example gets wrong", () => {
    const examples = join(import.meta.dirname, "..", "..", "contract", "examples");
    const good = JSON.parse(readFileSync(join(examples, "cleanroom-config.v1.json"), "utf8"));
    expect(validate(KIND, good).ok).toBe(true);
    const config = parseConfig(stringifyToml(good), "/p/.cleanroom/config.toml");
    expect(config.backend.type).toBe("testcontainers");
    expect(config.policy.maxContainers).toBe(10);
    const bad = JSON.parse(readFileSync(join(examples, "cleanroom-config.v1.invalid.json"), "utf8"));
    for (const [section, table] of Object.entries(bad.value as Record<string, Record<string, unknown>>))
      for (const [key, value] of Object.entries(table)) {
        const text = stringifyToml({ [section]: { [key]: value } });
        expect(() => parseConfig(text, "/p/.cleanroom/config.toml"), `${section}.${key}`).toThrow();
      }
  });
});

describe("engineSettings: what the test engine takes from config.toml", () => {
  it("moves runs and metrics under the project root, turns metrics off, defaults to neither", () => {
    const project = mkdtempSync(join(tmpdir(), "ggen-engine-settings-"));
    const state = join(project, ".cleanroom");
    try {
      expect(engineSettings(state)).toEqual({ testing: {}, metrics: {} });
      mkdirSync(state);
      writeFileSync(
        join(state, "config.toml"),
        '[testing]\nresults_dir = "out/runs"\ndefault_parallel = true\n[metrics]\nmetrics_file = "out/m.jsonl"\n',
      );
      expect(engineSettings(state)).toEqual({
        testing: { resultsDir: "out/runs", defaultParallel: true },
        metrics: { metricsFile: "out/m.jsonl" },
        runsDir: join(project, "out/runs"),
        metricsFile: join(project, "out/m.jsonl"),
      });
      writeFileSync(join(state, "config.toml"), '[metrics]\nenabled = false\nmetrics_file = "m.jsonl"\n');
      expect(engineSettings(state).metricsFile).toBe(false);
      writeFileSync(join(state, "config.toml"), "[testing]\ncollect_metrics = false\n");
      expect(engineSettings(state).metricsFile).toBe(false);
    } finally {
      rmSync(project, { recursive: true, force: true });
    }
  });
});
