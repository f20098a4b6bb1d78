// .cleanroom/config.toml: backend choice and engine, images, default limits, local binaries, and the keys
// the seeds document for the test engine ([testing], [metrics]) and for policy ([policy]). Every key is
// either implemented or refused at file:line:col — a key this parser does not know is an error, never
// silently ignored. The test engine reads `testing` and `metrics` from the typed result.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { parseToml, tomlKeyLocation } from "@ggen/contract";
import { didYouMean, formatLocation, GgenError, type SourceLocation, staysInside } from "@ggen/support";
import type { BackendChoice } from "./backend.js";

export interface CleanroomConfig {
  /** The file read, when there was one. */
  file?: string;
  backend: {
    type: BackendChoice;
    /** The Docker engine for the testcontainers backend (DOCKER_HOST form: unix:///…, tcp://host:port). */
    dockerHost?: string;
  };
  containers: {
    /** Image per service kind (and `node`, the environment image). */
    images: Record<string, string>;
    /** Local images (fixtures/images/build.sh) used when the configured one is absent and cannot be pulled. */
    fallbackImages: Record<string, string>;
    startTimeoutSeconds: number;
    /** Grace before a stopping container or service is killed. */
    stopTimeoutSeconds: number;
    /** Try `docker pull` when the configured image is absent (else go straight to the fallback). */
    pull: boolean;
    /** Pull even when the image is present (`always_pull_latest`). */
    alwaysPull: boolean;
    pullTimeoutSeconds: number;
    /** Registry prefixed to image names that name none (`registry`; docker.io: none). */
    registry?: string;
  };
  environment: {
    /** Environments are isolated unless the request says otherwise (`default_isolated`). */
    defaultIsolated: boolean;
    defaultMemoryMb?: number;
    defaultCpus?: number;
    /** Process-count limit for isolated environments. */
    defaultPids: number;
    defaultTimeoutSeconds: number;
  };
  local: { postgresBinDir?: string; redisBinary?: string };
  /** For the test engine (@ggen/testing): unset keys are undefined, so its own defaults apply. */
  testing: {
    defaultParallel?: boolean;
    maxParallelTests?: number;
    testTimeoutSeconds?: number;
    collectLogs?: boolean;
    collectMetrics?: boolean;
    /** Relative to the project root (the state dir's parent), contained in it. */
    resultsDir?: string;
  };
  /** For the test engine's metrics: unset keys are undefined. */
  metrics: {
    enabled?: boolean;
    detailed?: boolean;
    outputFormat?: "json" | "jsonl";
    /** Relative to the project root, contained in it. */
    metricsFile?: string;
  };
  /** Enforced by both backends when an environment is created or a service started. */
  policy: {
    enforceIsolation: boolean;
    allowHostNetwork: boolean;
    maxMemoryMb?: number;
    maxCpus?: number;
    /** Environments plus services per state dir. */
    maxContainers?: number;
  };
  /** Where each key was written (`policy.max_memory_mb` → file:line:col), for messages naming the key. */
  locations: Record<string, SourceLocation>;
}

export const defaultConfig = (): CleanroomConfig => ({
  backend: { type: "auto" },
  containers: {
    images: { postgres: "postgres:16-alpine", redis: "redis:7-alpine", node: "node:20-bookworm-slim" },
    fallbackImages: {
      postgres: "ggen/postgres:15-debian",
      redis: "ggen/redis:7-debian",
      node: "ggen/node:20-bookworm",
    },
    startTimeoutSeconds: 60,
    stopTimeoutSeconds: 0,
    pull: !process.env.GGEN_CLEANROOM_NO_PULL,
    alwaysPull: false,
    pullTimeoutSeconds: 30,
  },
  environment: { defaultIsolated: false, defaultPids: 1024, defaultTimeoutSeconds: 300 },
  local: {},
  testing: {},
  metrics: {},
  policy: { enforceIsolation: false, allowHostNetwork: true },
  locations: {},
});

export type ConfigOverrides = {
  [K in Exclude<keyof CleanroomConfig, "file" | "locations">]?: Partial<CleanroomConfig[K]>;
};

/** Checks a key's value and stores it into the config; `fail` refuses it at the key's location. */
type Reader = (value: unknown, fail: (message: string) => never, config: CleanroomConfig) => void;

/** How one key is read, or why it is refused. */
type KeyRule = { refuse: string } | { read: Reader };

const bool =
  (set: (c: CleanroomConfig, v: boolean) => void): Reader =>
  (v, fail, c) => {
    if (typeof v !== "boolean") fail(`expected true or false, got ${show(v)}`);
    set(c, v as boolean);
  };

const positive =
  (set: (c: CleanroomConfig, v: number) => void, integer = false): Reader =>
  (v, fail, c) => {
    if (typeof v !== "number" || !Number.isFinite(v) || v <= 0 || (integer && !Number.isInteger(v)))
      fail(`expected a positive ${integer ? "whole number" : "number"}, got ${show(v)}`);
    set(c, v as number);
  };

const text =
  (set: (c: CleanroomConfig, v: string) => void): Reader =>
  (v, fail, c) => {
    if (typeof v !== "string" || v === "") fail(`expected a string, got ${show(v)}`);
    set(c, v as string);
  };

const images =
  (set: (c: CleanroomConfig, v: Record<string, string>) => void): Reader =>
  (v, fail, c) => {
    if (!isTable(v)) fail(`expected a table of image names, got ${show(v)}`);
    const out: Record<string, string> = {};
    for (const [k, image] of Object.entries(v as Record<string, unknown>)) {
      if (typeof image !== "string" || image === "") fail(`${k}: expected an image name, got ${show(image)}`);
      out[k] = image as string;
    }
    set(c, out);
  };

/** A path under the project root (the state dir's parent): relative, not escaping it. */
const projectPath =
  (set: (c: CleanroomConfig, v: string) => void): Reader =>
  (v, fail, c) => {
    if (typeof v !== "string" || v === "") fail(`expected a path, got ${show(v)}`);
    const root = dirname(dirname(c.file ?? "/x/.cleanroom/config.toml"));
    if ((v as string).startsWith("/") || !staysInside(root, join(root, v as string)))
      fail(`${show(v)} is outside the project (give a path relative to ${root})`);
    set(c, v as string);
  };

const RULES: Record<string, Record<string, KeyRule>> = {
  backend: {
    type: {
      read: (v, fail, c) => {
        if (v === "docker")
          c.backend.type = "testcontainers"; // the Docker backend is testcontainers'
        else if (v === "auto" || v === "local" || v === "testcontainers") c.backend.type = v;
        else if (v === "podman")
          fail(
            'podman is not a backend of its own: Podman answers the Docker API, so use type = "testcontainers" with docker_host = its socket',
          );
        else fail(`unknown backend type ${show(v)} (use auto, local, testcontainers or docker)`);
      },
    },
    docker_host: {
      read: text((c, v) => {
        c.backend.dockerHost = v;
      }),
    },
    docker_api_version: {
      refuse:
        "is not supported: the API version is negotiated with the engine (remove the key, or set DOCKER_API_VERSION)",
    },
  },
  environment: {
    default_isolated: {
      read: bool((c, v) => {
        c.environment.defaultIsolated = v;
      }),
    },
    // Network isolation comes with isolation here: the key must agree with default_isolated.
    default_network: {
      read: (v, fail) => {
        if (v !== "isolated" && v !== "host")
          fail(`expected "isolated" or "host", got ${show(v)} (network isolation comes with isolation)`);
      },
    },
    default_memory_mb: {
      read: positive((c, v) => {
        c.environment.defaultMemoryMb = v;
      }),
    },
    default_cpus: {
      read: positive((c, v) => {
        c.environment.defaultCpus = v;
      }),
    },
    default_pids: {
      read: positive((c, v) => {
        c.environment.defaultPids = v;
      }, true),
    },
    default_timeout_seconds: {
      read: positive((c, v) => {
        c.environment.defaultTimeoutSeconds = v;
      }),
    },
  },
  containers: {
    images: {
      read: images((c, v) => {
        Object.assign(c.containers.images, v);
      }),
    },
    fallback_images: {
      read: images((c, v) => {
        Object.assign(c.containers.fallbackImages, v);
      }),
    },
    registry: {
      read: text((c, v) => {
        if (v !== "docker.io" && v !== "index.docker.io") c.containers.registry = v.replace(/\/+$/, "");
      }),
    },
    pull: {
      read: bool((c, v) => {
        // GGEN_CLEANROOM_NO_PULL wins: it says no registry is reachable here.
        c.containers.pull = v && !process.env.GGEN_CLEANROOM_NO_PULL;
      }),
    },
    always_pull_latest: {
      read: bool((c, v) => {
        c.containers.alwaysPull = v;
      }),
    },
    pull_timeout_seconds: {
      read: positive((c, v) => {
        c.containers.pullTimeoutSeconds = v;
      }),
    },
    start_timeout_seconds: {
      read: positive((c, v) => {
        c.containers.startTimeoutSeconds = v;
      }),
    },
    stop_timeout_seconds: {
      read: (v, fail, c) => {
        if (typeof v !== "number" || !Number.isFinite(v) || v < 0)
          fail(`expected a number of seconds (0 or more), got ${show(v)}`);
        c.containers.stopTimeoutSeconds = v as number;
      },
    },
  },
  local: {
    postgres_bin_dir: {
      read: text((c, v) => {
        c.local.postgresBinDir = v;
      }),
    },
    redis_binary: {
      read: text((c, v) => {
        c.local.redisBinary = v;
      }),
    },
  },
  testing: {
    default_parallel: {
      read: bool((c, v) => {
        c.testing.defaultParallel = v;
      }),
    },
    max_parallel_tests: {
      read: positive((c, v) => {
        c.testing.maxParallelTests = v;
      }, true),
    },
    test_timeout_seconds: {
      read: positive((c, v) => {
        c.testing.testTimeoutSeconds = v;
      }),
    },
    collect_logs: {
      read: bool((c, v) => {
        c.testing.collectLogs = v;
      }),
    },
    collect_metrics: {
      read: bool((c, v) => {
        c.testing.collectMetrics = v;
      }),
    },
    results_dir: {
      read: projectPath((c, v) => {
        c.testing.resultsDir = v;
      }),
    },
  },
  metrics: {
    enabled: {
      read: bool((c, v) => {
        c.metrics.enabled = v;
      }),
    },
    detailed: {
      read: bool((c, v) => {
        c.metrics.detailed = v;
      }),
    },
    output_format: {
      read: (v, fail, c) => {
        if (v !== "json" && v !== "jsonl") fail(`expected "json" or "jsonl", got ${show(v)}`);
        c.metrics.outputFormat = v as "json" | "jsonl";
      },
    },
    metrics_file: {
      read: projectPath((c, v) => {
        c.metrics.metricsFile = v;
      }),
    },
  },
  policy: {
    enforce_isolation: {
      read: bool((c, v) => {
        c.policy.enforceIsolation = v;
      }),
    },
    allow_host_network: {
      read: bool((c, v) => {
        c.policy.allowHostNetwork = v;
      }),
    },
    // Nothing here ever runs privileged: false is what happens; true would promise a permission
    // nothing uses.
    allow_privileged: {
      read: (v, fail) => {
        if (v !== false)
          fail(
            `${show(v)} is not supported: cleanroom never runs privileged containers or commands (set it to false or remove it)`,
          );
      },
    },
    max_memory_mb: {
      read: positive((c, v) => {
        c.policy.maxMemoryMb = v;
      }),
    },
    max_cpus: {
      read: positive((c, v) => {
        c.policy.maxCpus = v;
      }),
    },
    max_containers: {
      read: positive((c, v) => {
        c.policy.maxContainers = v;
      }, true),
    },
  },
};

/**
 * Each section's keys and whether each is read or refused: the cleanroom-config/v1 schema (what editors
 * check .cleanroom/config.toml against) must say the same, and a test holds them together.
 */
export const configKeys = (): Record<string, Record<string, "read" | "refuse">> =>
  Object.fromEntries(
    Object.entries(RULES).map(([section, rules]) => [
      section,
      Object.fromEntries(Object.entries(rules).map(([k, rule]) => [k, "refuse" in rule ? "refuse" : "read"])),
    ]),
  );

function isTable(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value) && !(value instanceof Date);
}

function show(value: unknown): string {
  if (isTable(value)) return "a table";
  if (Array.isArray(value)) return "an array";
  return JSON.stringify(value) ?? String(value);
}

/** Reads the config text of `file` into `config`; every key implemented or refused at its location. */
export function parseConfig(textOf: string, file: string, config = defaultConfig()): CleanroomConfig {
  config.file = file;
  const doc = parseToml(textOf, file, "CLEANROOM_CONFIG", "usage");
  const at = (path: string[]): SourceLocation => ({ file, ...(tomlKeyLocation(textOf, path) ?? {}) });
  const refuse = (path: string[], message: string, hint?: string): never => {
    const key = path.length > 1 ? `[${path.slice(0, -1).join(".")}] ${path.at(-1)}` : `[${path[0]}]`;
    throw new GgenError("CLEANROOM_CONFIG", `${key} ${message}`, {
      kind: "usage",
      location: at(path),
      ...(hint ? { hint } : {}),
    });
  };
  for (const [section, value] of Object.entries(doc)) {
    const rules = RULES[section];
    if (!rules) {
      refuse(
        [section],
        `is not a section of .cleanroom/config.toml${didYouMean(section, Object.keys(RULES))}`,
        `sections: ${Object.keys(RULES).join(", ")}`,
      );
    }
    if (!isTable(value)) refuse([section], `must be a table, got ${show(value)}`);
    for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
      const rule = rules![key];
      const path = [section, key];
      if (!rule) {
        refuse(
          path,
          `is not a key of [${section}]${didYouMean(key, Object.keys(rules!))}`,
          `keys: ${Object.keys(rules!).join(", ")}`,
        );
      }
      if ("refuse" in rule!) refuse(path, rule.refuse);
      else rule!.read(v, (message) => refuse(path, message), config);
      config.locations[`${section}.${key}`] = at(path);
    }
  }
  // default_network says the same as default_isolated here: they must agree.
  const environment = isTable(doc.environment) ? doc.environment : {};
  if (environment.default_network !== undefined) {
    const isolated = environment.default_network === "isolated";
    if (environment.default_isolated !== undefined && environment.default_isolated !== isolated)
      refuse(
        ["environment", "default_network"],
        `${show(environment.default_network)} contradicts default_isolated = ${String(environment.default_isolated)}: network isolation comes with isolation`,
      );
    config.environment.defaultIsolated = isolated;
  }
  return config;
}

/** Load `<stateDir>/config.toml` (missing → defaults), then apply overrides. */
export function loadConfig(stateDir: string, overrides: ConfigOverrides = {}): CleanroomConfig {
  let config = defaultConfig();
  const file = join(stateDir, "config.toml");
  if (existsSync(file)) {
    let source: string;
    try {
      source = readFileSync(file, "utf8");
    } catch (error) {
      throw new GgenError("CLEANROOM_CONFIG", `cannot read it: ${(error as NodeJS.ErrnoException).code}`, {
        location: { file },
        cause: error,
      });
    }
    config = parseConfig(source, file, config);
  }
  const sections = ["backend", "environment", "local", "testing", "metrics", "policy"] as const;
  for (const s of sections) if (overrides[s]) Object.assign(config[s], overrides[s]);
  if (overrides.containers) {
    const { images, fallbackImages, ...rest } = overrides.containers;
    Object.assign(config.containers, rest);
    if (images) Object.assign(config.containers.images, images);
    if (fallbackImages) Object.assign(config.containers.fallbackImages, fallbackImages);
  }
  return config;
}

/** What the test engine takes from config.toml: `[testing]`'s defaults, `[metrics]`, and where runs and
 * metrics are stored (absolute; `metricsFile: false` when recording is off, undefined for the default). */
export interface EngineSettings {
  testing: CleanroomConfig["testing"];
  metrics: CleanroomConfig["metrics"];
  runsDir?: string;
  metricsFile?: string | false;
}

/** The engine's settings from `<stateDir>/config.toml` (the one parser of that file; paths are relative to
 * the project root, the state dir's parent). */
export function engineSettings(stateDir: string): EngineSettings {
  const { testing, metrics } = loadConfig(stateDir);
  const root = dirname(resolve(stateDir));
  const record = metrics.enabled !== false && testing.collectMetrics !== false;
  return {
    testing,
    metrics,
    ...(testing.resultsDir ? { runsDir: resolve(root, testing.resultsDir) } : {}),
    ...(!record
      ? { metricsFile: false }
      : metrics.metricsFile
        ? { metricsFile: resolve(root, metrics.metricsFile) }
        : {}),
  };
}

/** "<section>.<key> (<file>:<line>:<col>)" of a key that decided something, for messages. */
export function configKey(config: CleanroomConfig, key: string): string {
  const at = config.locations[key];
  return at ? `${key} (${formatLocation(at)})` : key;
}
