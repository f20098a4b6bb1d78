// .cleanroom/config.toml: backend choice, images per service, default limits, local binaries.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { GgenError } from "@ggen/contract";
import { parse } from "smol-toml";
import type { BackendChoice } from "./backend.js";

export interface CleanroomConfig {
  backend: { type: BackendChoice };
  containers: {
    /** Image per service kind (and `node`, the environment image). */
    images: Record<string, string>;
    /** Local images (fixtures/images/build.sh) used when the configured one is absent and cannot be pulled. */
    fallbackImages: Record<string, string>;
    startTimeoutSeconds: number;
    /** Try `docker pull` when the configured image is absent (else go straight to the fallback). */
    pull: boolean;
  };
  environment: {
    defaultMemoryMb?: number;
    defaultCpus?: number;
    /** Process-count limit for isolated environments. */
    defaultPids: number;
    defaultTimeoutSeconds: number;
  };
  local: { postgresBinDir?: string; redisBinary?: string };
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
    pull: !process.env.GGEN_CLEANROOM_NO_PULL,
  },
  environment: { defaultPids: 1024, defaultTimeoutSeconds: 300 },
  local: {},
});

export type ConfigOverrides = {
  [K in keyof CleanroomConfig]?: Partial<CleanroomConfig[K]>;
};

function table(value: unknown): Record<string, unknown> {
  return value && typeof value === "object" && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

function strings(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(table(value))) if (typeof v === "string") out[k] = v;
  return out;
}

const num = (v: unknown): number | undefined => (typeof v === "number" ? v : undefined);

/** Load `<stateDir>/config.toml` (missing → defaults), then apply overrides. */
export function loadConfig(stateDir: string, overrides: ConfigOverrides = {}): CleanroomConfig {
  const config = defaultConfig();
  const file = join(stateDir, "config.toml");
  if (existsSync(file)) {
    let doc: Record<string, unknown>;
    try {
      doc = parse(readFileSync(file, "utf8")) as Record<string, unknown>;
    } catch (error) {
      const e = error as { line?: number; column?: number; message: string };
      throw new GgenError("CLEANROOM_CONFIG", `invalid TOML: ${e.message.split("\n")[0]}`, {
        kind: "usage",
        location: { file, ...(e.line ? { line: e.line } : {}), ...(e.column ? { column: e.column } : {}) },
        cause: error,
      });
    }
    const backend = table(doc.backend);
    if (backend.type !== undefined) {
      if (backend.type !== "auto" && backend.type !== "local" && backend.type !== "testcontainers") {
        throw new GgenError("CLEANROOM_CONFIG", `unknown backend type ${JSON.stringify(backend.type)}`, {
          kind: "usage",
          location: { file },
          hint: "use auto, local or testcontainers",
        });
      }
      config.backend.type = backend.type;
    }
    const containers = table(doc.containers);
    Object.assign(config.containers.images, strings(containers.images));
    Object.assign(config.containers.fallbackImages, strings(containers.fallback_images));
    config.containers.startTimeoutSeconds =
      num(containers.start_timeout_seconds) ?? config.containers.startTimeoutSeconds;
    if (typeof containers.pull === "boolean") config.containers.pull = containers.pull;
    const env = table(doc.environment);
    const mem = num(env.default_memory_mb);
    const cpus = num(env.default_cpus);
    if (mem !== undefined) config.environment.defaultMemoryMb = mem;
    if (cpus !== undefined) config.environment.defaultCpus = cpus;
    config.environment.defaultPids = num(env.default_pids) ?? config.environment.defaultPids;
    config.environment.defaultTimeoutSeconds =
      num(env.default_timeout_seconds) ?? config.environment.defaultTimeoutSeconds;
    const local = table(doc.local);
    if (typeof local.postgres_bin_dir === "string") config.local.postgresBinDir = local.postgres_bin_dir;
    if (typeof local.redis_binary === "string") config.local.redisBinary = local.redis_binary;
  }
  if (overrides.backend) Object.assign(config.backend, overrides.backend);
  if (overrides.containers) {
    const { images, fallbackImages, ...rest } = overrides.containers;
    Object.assign(config.containers, rest);
    if (images) Object.assign(config.containers.images, images);
    if (fallbackImages) Object.assign(config.containers.fallbackImages, fallbackImages);
  }
  if (overrides.environment) Object.assign(config.environment, overrides.environment);
  if (overrides.local) Object.assign(config.local, overrides.local);
  return config;
}
