// Public surface of the engine: createBackend (auto | local | testcontainers), standalone services for
// other packages' tests, configuration.
import { resolve } from "node:path";
import { GgenError } from "@ggen/contract";
import type { Backend, BackendChoice } from "./backend.js";
import { type CleanroomConfig, type ConfigOverrides, loadConfig } from "./config.js";
import { LocalBackend } from "./local/backend.js";
import { environmentsRoot } from "./local/paths.js";
import { dockerUnavailable, engineEndpoint } from "./testcontainers/detect.js";

export type { CleanroomConfig, ConfigOverrides, EngineSettings } from "./config.js";
export { configKey, defaultConfig, engineSettings, loadConfig, parseConfig } from "./config.js";
export type { Capabilities, SandboxKind } from "./local/isolation.js";
export { planIsolation } from "./local/isolation.js";
export { capabilities, plannedIsolation } from "./local/sandbox.js";
export type { PostgresHandle, PostgresInstance, PostgresOptions } from "./services/postgres.js";
export { postgresTemplate, startPostgres } from "./services/postgres.js";
export type { RedisHandle, RedisInstance, RedisOptions } from "./services/redis.js";
export { startRedis } from "./services/redis.js";
export { checkVariables, MAX_VARIABLE_BYTES, variableProblem } from "./state/records.js";
export { dockerUnavailable, engineHost } from "./testcontainers/detect.js";
export { onInterrupt } from "./util/interrupt.js";
export { environmentsRoot, LocalBackend };

export interface CreateBackendOptions {
  /** Where state and config.toml live (default `<cwd>/.cleanroom`). */
  stateDir?: string;
  /** Overrides applied over `<stateDir>/config.toml`. */
  config?: ConfigOverrides;
  /**
   * The Docker engine for testcontainers (and for `auto`'s choice), as DOCKER_HOST names one:
   * `unix:///…/docker.sock` or `tcp://host:port` — one per shard, say. Default: config.toml's
   * `[backend] docker_host`, else DOCKER_HOST, else /var/run/docker.sock.
   */
  engine?: string;
}

/** The backend plus why it was chosen (for `auto`: whether Docker answered). */
export type ChosenBackend = Backend & { readonly chosenBecause?: string };

export async function createBackend(
  name: BackendChoice,
  options: CreateBackendOptions = {},
): Promise<ChosenBackend> {
  const stateDir = resolve(options.stateDir ?? ".cleanroom");
  const config: CleanroomConfig = loadConfig(stateDir, options.config);
  const engine = options.engine ?? config.backend.dockerHost;
  if (engine) engineEndpoint(engine); // a malformed address is a usage error, whatever the choice
  let choice = name === "auto" ? config.backend.type : name;
  let because = name === "auto" ? "" : `asked for ${name}`;
  if (choice === "auto") {
    const reason = await dockerUnavailable(1500, engine);
    choice = reason ? "local" : "testcontainers";
    because = reason ? `auto: ${reason}, using local` : "auto: Docker answers, using testcontainers";
  }
  let backend: Backend;
  if (choice === "local") {
    backend = new LocalBackend({ stateDir, config });
  } else if (choice === "testcontainers") {
    const reason = await dockerUnavailable(1500, engine);
    if (reason) {
      throw new GgenError("CLEANROOM_NO_DOCKER", `the testcontainers backend needs Docker: ${reason}`, {
        hint: "start Docker (scripts/ci/docker.sh) and set DOCKER_HOST, or use --backend local",
      });
    }
    const { TestcontainersBackend } = await import("./testcontainers/backend.js");
    backend = new TestcontainersBackend({ stateDir, config, engine });
  } else {
    throw new GgenError("CLEANROOM_BACKEND", `unknown backend ${JSON.stringify(name)}`, {
      kind: "usage",
      hint: "auto, local or testcontainers",
    });
  }
  Object.defineProperty(backend, "chosenBecause", { value: because, enumerable: false });
  return backend as ChosenBackend;
}
