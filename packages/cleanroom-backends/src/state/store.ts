// Backend state under <stateDir>/state.json: environments and services that outlive one CLI call.
// Reads are lock-free (writes are atomic renames); every change goes through `update`, under a file lock.
import { readFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import type { BackendName } from "@ggen/contract";
import { GgenError, parseJson } from "@ggen/contract";
import { type ProcessRef, withLock, writeFileAtomicSync } from "@ggen/support";
import type { Environment, ServiceSpec } from "../backend.js";
import type { SandboxKind } from "../local/isolation.js";
import { environmentsRoot } from "../local/paths.js";
import type { PostgresInstance } from "../services/postgres.js";
import type { RedisInstance } from "../services/redis.js";
import { checkState, type StateRoots } from "./schema.js";

export interface EnvironmentRecord extends Environment {
  /** Host directory holding work/, tmp/, outputs/ (local) or the state of the container (testcontainers). */
  dir: string;
  /** How commands are wrapped (local): bubblewrap, a mount namespace (root, or a user namespace), or none. */
  sandbox?: SandboxKind;
  /** Network namespace path (local, isolated, root). */
  netns?: string;
  /** Container id of the environment container (testcontainers). */
  containerId?: string;
  /** cgroup (v1) relative path holding the environment's limits (local). */
  cgroup?: string;
  /** The process a throwaway environment belongs to: once it is gone the environment is stale. */
  owner?: ProcessRef;
  /**
   * Commands running now (local): each one's process group and the process that started it, so that a
   * caller killed with SIGKILL leaves groups that `prune` can find and kill.
   */
  commands?: { pgid: number; by: ProcessRef }[];
}

export interface ServiceRecord {
  environment: string;
  name: string;
  kind: string;
  backend: BackendName;
  spec: ServiceSpec;
  /** Hash of the configuration, for `persistent` reuse. */
  configHash: string;
  persistent: boolean;
  startedAt: string;
  local?: PostgresInstance | RedisInstance;
  container?: {
    id: string;
    image: string;
    port: number;
    host: string;
    user?: string;
    password?: string;
    database?: string;
  };
  url: string;
  redactedUrl: string;
  env: Record<string, string>;
  readyMs: number;
}

export interface StateFile {
  version: 1;
  environments: Record<string, EnvironmentRecord>;
  /** Keyed by `<environment>/<service name>`. */
  services: Record<string, ServiceRecord>;
}

export const serviceKey = (env: string, name: string) => `${env}/${name}`;

export class StateStore {
  readonly file: string;
  constructor(readonly dir: string) {
    this.file = join(dir, "state.json");
  }

  read(): StateFile {
    let text: string;
    try {
      text = readFileSync(this.file, "utf8");
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "ENOENT") return { version: 1, environments: {}, services: {} };
      throw new GgenError(
        "CLEANROOM_STATE",
        code === "EISDIR" ? "is a directory, not the state file" : `cannot be read (${code})`,
        { location: { file: this.file }, hint: "remove it to start from a clean state", cause: error },
      );
    }
    return checkState(parseJson(text, this.file, "CLEANROOM_STATE", "failure"), this.file, this.roots());
  }

  /** What this state dir owns, for checking the paths its entries name (see uncontained). */
  private roots(): StateRoots {
    if (!this.owned) {
      const root = environmentsRoot(this.dir);
      this.owned = { stateDir: this.dir, envRootTail: [basename(dirname(root)), basename(root)] };
    }
    return this.owned;
  }
  private owned: StateRoots | undefined;

  /** Read-modify-write under the lock; `fn` may mutate the state and return a value. */
  update<T>(fn: (state: StateFile) => T | Promise<T>): Promise<T> {
    return withLock(
      this.file,
      async () => {
        const state = this.read();
        const result = await fn(state);
        // Service entries hold credentials: readable by the owner only. Atomic, not fsync'ed: the file is
        // rewritten as every command starts and ends (an fsync costs ~10 ms each), and what it describes
        // (processes, containers) does not outlive a power loss either; prune finds what would be left.
        writeFileAtomicSync(this.file, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600, fsync: false });
        return result;
      },
      { what: this.file, code: "CLEANROOM_LOCKED" },
    );
  }

  /** Hold the lock of a named resource (e.g. a persistent service's config hash) while `fn` runs. */
  lock<T>(name: string, fn: () => Promise<T>): Promise<T> {
    return withLock(join(this.dir, "locks", name), fn, {
      what: `${name} (${this.dir})`,
      code: "CLEANROOM_LOCKED",
    });
  }
}
