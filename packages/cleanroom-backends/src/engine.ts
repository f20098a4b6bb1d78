// Public surface of the engine: createBackend (auto | local | testcontainers), standalone services for
// other packages' tests, configuration.
import { resolve } from "node:path";
import { GgenError } from "@ggen/contract";
import type { Backend, BackendChoice } from "./backend.js";
import { type CleanroomConfig, type ConfigOverrides, loadConfig } from "./config.js";
import { LocalBackend } from "./local/backend.js";
import { environmentsRoot } from "./local/paths.js";
import { dockerUnavailable } from "./testcontainers/detect.js";

export type { CleanroomConfig, ConfigOverrides } from "./config.js";
export { defaultConfig, loadConfig } from "./config.js";
export { capabilities, plannedIsolation } from "./local/sandbox.js";
export type { PostgresHandle, PostgresInstance, PostgresOptions } from "./services/postgres.js";
export { postgresTemplate, startPostgres } from "./services/postgres.js";
export type { RedisHandle, RedisInstance, RedisOptions } from "./services/redis.js";
export { startRedis } from "./services/redis.js";
export { dockerUnavailable } from "./testcontainers/detect.js";
export { onInterrupt } from "./util/interrupt.js";
export { environmentsRoot, LocalBackend };

export interface CreateBackendOptions {
  /** Where state and config.toml live (default `<cwd>/.cleanroom`). */
  stateDir?: string;
  /** Overrides applied over `<stateDir>/config.toml`. */
  config?: ConfigOverrides;
}

/** The backend plus why it was chosen (for `auto`: whether Docker answered). */
export type ChosenBackend = Backend & { readonly chosenBecause?: string };

export async function createBackend(
  name: BackendChoice,
  options: CreateBackendOptions = {},
): Promise<ChosenBackend> {
  const stateDir = resolve(options.stateDir ?? ".cleanroom");
  const config: CleanroomConfig = loadConfig(stateDir, options.config);
  let choice = name === "auto" ? config.backend.type : name;
  let because = name === "auto" ? "" : `asked for ${name}`;
  if (choice === "auto") {
    const reason = await dockerUnavailable();
    choice = reason ? "local" : "testcontainers";
    because = reason ? `auto: ${reason}, using local` : "auto: Docker answers, using testcontainers";
  }
  let backend: Backend;
  if (choice === "local") {
    backend = new LocalBackend({ stateDir, config });
  } else if (choice === "testcontainers") {
    const reason = await dockerUnavailable();
    if (reason) {
      throw new GgenError("CLEANROOM_NO_DOCKER", `the testcontainers backend needs Docker: ${reason}`, {
        hint: "start Docker (scripts/ci/docker.sh) and set DOCKER_HOST, or use --backend local",
      });
    }
    const { TestcontainersBackend } = await import("./testcontainers/backend.js");
    backend = new TestcontainersBackend({ stateDir, config });
  } else {
    throw new GgenError("CLEANROOM_BACKEND", `unknown backend ${JSON.stringify(name)}`, {
      kind: "usage",
      hint: "auto, local or testcontainers",
    });
  }
  Object.defineProperty(backend, "chosenBecause", { value: because, enumerable: false });
  return backend as ChosenBackend;
}
