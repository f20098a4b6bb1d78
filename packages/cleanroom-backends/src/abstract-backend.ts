// What both backends do the same way, around the state file: finding an environment's or a service's
// entry, deleting an environment (its own services first), status and staleness, starting a service
// once per configuration (under a lock, shared when persistent), stopping one that others may share.
// A backend supplies the parts that touch processes or containers (like testcontainers-node's
// AbstractStartedContainer, which implements the container interface by delegating to a started one).
import type { BackendName } from "@ggen/contract";
import { formatSize, GgenError } from "@ggen/support";
import type {
  Backend,
  BackendMetrics,
  Environment,
  EnvironmentSpec,
  ExecOptions,
  ExecResult,
  Service,
  ServiceSpec,
} from "./backend.js";
import { type CleanroomConfig, configKey } from "./config.js";
import {
  checkName,
  checkVariables,
  ownerGone,
  publicEnv,
  type ServiceInstance,
  type ServiceLaunch,
  serviceHash,
  serviceRecord,
  toService,
} from "./state/records.js";
import { type EnvironmentRecord, type ServiceRecord, StateStore, serviceKey } from "./state/store.js";

export interface BackendOptions {
  stateDir: string;
  config: CleanroomConfig;
  /**
   * The Docker engine (testcontainers backend), as DOCKER_HOST names one: `unix:///…/docker.sock`,
   * `tcp://host:2375`. Default: config.toml's `docker_host`, else DOCKER_HOST, else the system socket.
   */
  engine?: string | undefined;
}

export abstract class AbstractBackend implements Backend {
  abstract readonly name: BackendName;
  readonly state: StateStore;
  readonly config: CleanroomConfig;

  constructor(options: BackendOptions) {
    this.state = new StateStore(options.stateDir);
    this.config = options.config;
  }

  // What a backend supplies.
  abstract createEnvironment(spec: EnvironmentSpec): Promise<Environment>;
  /** Removes what the environment holds (processes, container, directories); its entry goes after. */
  protected abstract removeEnvironment(rec: EnvironmentRecord): Promise<void>;
  /** Why a live-owned environment is gone anyway (its directory, namespace or container), or undefined. */
  protected abstract environmentGone(rec: EnvironmentRecord): Promise<string | undefined>;
  /** Where a service runs, as part of its configuration hash (a network namespace, a Docker network). */
  protected abstract serviceLocation(rec: EnvironmentRecord): Record<string, string>;
  /** Starts a service's process or container, ready, and says how to reach it. */
  protected abstract startInstance(rec: EnvironmentRecord, want: ServiceLaunch): Promise<ServiceInstance>;
  /** A running persistent service of this configuration, started by anyone, that a new name may share. */
  protected abstract sharedService(
    hash: string,
    services: ServiceRecord[],
  ): Promise<ServiceRecord | undefined>;
  /** What runs a service (its process, its container): equal ids are one service under two names. */
  protected abstract instanceId(svc: ServiceRecord): string | undefined;
  protected abstract instanceAlive(svc: ServiceRecord): Promise<boolean>;
  protected abstract stopInstance(svc: ServiceRecord): Promise<void>;
  /** A dead service's leftovers, before a new one takes its name. */
  protected async discardService(_svc: ServiceRecord): Promise<void> {}
  abstract serviceLogs(env: string, name: string): Promise<string>;
  abstract serviceHealth(env: string, name: string): Promise<{ healthy: boolean; detail: string }>;
  abstract resetService(env: string, name: string): Promise<void>;
  abstract exec(env: string, argv: string[], options?: ExecOptions): Promise<ExecResult>;
  abstract copyIn(env: string, hostPath: string, target: string): Promise<void>;
  abstract copyOut(env: string, source: string, hostPath: string): Promise<void>;
  abstract metrics(env: string): Promise<BackendMetrics>;
  abstract prune(options?: { all?: boolean }): Promise<{ removed: string[] }>;

  /**
   * The spec with config.toml's defaults and [policy] applied: `isolated` decided (default_isolated;
   * enforce_isolation makes an unset one isolated and refuses an explicit false; allow_host_network = false
   * refuses a non-isolated one), limits asked (the spec's, else config.toml's, else the policy's maximum)
   * checked against the policy's maximums. `defaults` are built-in defaults, applied only where they can be.
   */
  protected resolveSpec(spec: EnvironmentSpec): { spec: EnvironmentSpec; defaults: { pids?: number } } {
    checkSpec(spec);
    const { policy, environment: env } = this.config;
    const isolated = spec.isolated ?? (env.defaultIsolated || policy.enforceIsolation);
    const refuse = (key: string, message: string): never => {
      throw new GgenError(
        "CLEANROOM_POLICY",
        `environment ${spec.name}: ${message} (${configKey(this.config, key)})`,
        {
          kind: "usage",
          hint: "change the request, or the policy in .cleanroom/config.toml",
        },
      );
    };
    if (!isolated && policy.enforceIsolation)
      refuse("policy.enforce_isolation", "is not isolated, and the policy requires isolation");
    if (!isolated && !policy.allowHostNetwork)
      refuse(
        "policy.allow_host_network",
        "is not isolated, so it would use the host's network, which the policy forbids",
      );
    const capped = (asked: number | undefined, max: number | undefined, key: string, what: string) => {
      if (asked !== undefined && max !== undefined && asked > max)
        refuse(key, `${what} ${asked} is over the policy's maximum ${max}`);
      return asked ?? max;
    };
    const memoryMb = capped(
      spec.memoryMb ?? env.defaultMemoryMb,
      policy.maxMemoryMb,
      "policy.max_memory_mb",
      "memory (MiB)",
    );
    const cpus = capped(spec.cpus ?? env.defaultCpus, policy.maxCpus, "policy.max_cpus", "CPUs");
    // default_pids counts as asked when config.toml sets it; the built-in one applies where it can.
    const pidsAsked =
      spec.pids ??
      (isolated && this.config.locations["environment.default_pids"] ? env.defaultPids : undefined);
    const resolved: EnvironmentSpec = {
      ...spec,
      isolated,
      ...(memoryMb !== undefined ? { memoryMb } : {}),
      ...(cpus !== undefined ? { cpus } : {}),
      ...(pidsAsked !== undefined ? { pids: pidsAsked } : {}),
    };
    return { spec: resolved, defaults: isolated && pidsAsked === undefined ? { pids: env.defaultPids } : {} };
  }

  /** `policy.max_containers`: environments plus services this state dir holds, before one more is made. */
  protected checkCapacity(what: string): void {
    const max = this.config.policy.maxContainers;
    if (max === undefined) return;
    const state = this.state.read();
    const n = Object.keys(state.environments).length + Object.keys(state.services).length;
    if (n >= max)
      throw new GgenError(
        "CLEANROOM_POLICY",
        `${what}: ${n} environments and services exist, the policy's maximum is ${max} (${configKey(this.config, "policy.max_containers")})`,
        {
          hint: "delete some (`cleanroom environment list`, `cleanroom container prune`), or raise the maximum",
        },
      );
  }

  /** Nothing is held in-process by default: state lives in files. */
  async close(): Promise<void> {}

  /** This backend's entry for environment `name`; a usage error when there is none. */
  protected record(name: string): EnvironmentRecord {
    const rec = this.state.read().environments[name];
    if (rec?.backend !== this.name) {
      const flag = this.name === "local" ? "" : ` --backend ${this.name}`;
      throw new GgenError("CLEANROOM_NO_ENV", `no ${this.name} environment named ${name}`, {
        kind: "usage",
        hint: `create it with \`cleanroom environment create --name <name>${flag}\``,
      });
    }
    return rec;
  }

  /** This backend's entry for service `name` of environment `envName`; a usage error when there is none. */
  protected service(envName: string, name: string): ServiceRecord {
    const svc = this.state.read().services[serviceKey(envName, name)];
    if (!svc || this.instanceId(svc) === undefined) {
      throw new GgenError("CLEANROOM_NO_SERVICE", `no service ${name} in environment ${envName}`, {
        kind: "usage",
      });
    }
    return svc;
  }

  /** Why an environment is stale (its owner process gone, or what environmentGone says), or undefined. */
  protected async staleReason(rec: EnvironmentRecord): Promise<string | undefined> {
    return ownerGone(rec.owner) ?? (await this.environmentGone(rec));
  }

  async deleteEnvironment(name: string, options: { force?: boolean } = {}): Promise<void> {
    const state = this.state.read();
    const rec = state.environments[name];
    if (rec?.backend !== this.name) {
      if (!options.force) this.record(name);
      return;
    }
    for (const svc of Object.values(state.services)) {
      if (svc.environment === name && !svc.persistent) await this.stopService(name, svc.name);
    }
    await this.removeEnvironment(rec);
    await this.state.update((s) => {
      delete s.environments[name];
    });
  }

  async environmentStatus(name: string) {
    const state = this.state.read();
    const rec = state.environments[name];
    if (rec?.backend !== this.name) return undefined;
    const services = Object.values(state.services)
      .filter((s) => s.environment === name)
      .map(toService);
    const stale = await this.staleReason(rec);
    return { ...publicEnv(rec), services, alive: stale === undefined, ...(stale ? { stale } : {}) };
  }

  async listEnvironments(): Promise<Environment[]> {
    return Object.values(this.state.read().environments)
      .filter((e) => e.backend === this.name)
      .map(publicEnv);
  }

  async startService(envName: string, spec: ServiceSpec): Promise<Service> {
    const rec = this.record(envName);
    const name = spec.name ?? spec.kind;
    checkName("service", name);
    checkVariables(`service ${name}`, spec.env);
    const persistent = spec.persistent ?? rec.spec.persistent ?? false;
    const hash = serviceHash(spec, this.serviceLocation(rec));
    const start = async (): Promise<Service> => {
      const current = this.state.read();
      const existing = current.services[serviceKey(envName, name)];
      if (existing && this.instanceId(existing) !== undefined) {
        if (!(await this.instanceAlive(existing))) {
          // A stale entry (its process or container died): a new service takes the name.
          await this.discardService(existing);
        } else if (existing.configHash === hash) {
          return toService(existing);
        } else {
          throw new GgenError(
            "CLEANROOM_SERVICE_EXISTS",
            `service ${name} already runs in ${envName} with another configuration`,
            { kind: "usage", hint: "stop it first, or give the new one another --name" },
          );
        }
      }
      this.checkCapacity(`service ${name}`);
      // Another environment (or process) may already run the same configuration: share it.
      const shared = persistent ? await this.sharedService(hash, Object.values(current.services)) : undefined;
      const want = { name, spec, hash, persistent };
      const svc = shared
        ? { ...shared, environment: envName, name }
        : serviceRecord(this.name, envName, want, await this.startInstance(rec, want));
      await this.state.update((s) => {
        s.services[serviceKey(envName, name)] = svc;
      });
      return toService(svc);
    };
    // One lock per configuration: parallel workers wait and then share instead of starting duplicates.
    return persistent
      ? await this.state.lock(`service-${hash}`, start)
      : await this.state.lock(`svc-${envName}-${name}`, start);
  }

  /** Stops the service, unless another name shares its process or container: then only this name goes. */
  async stopService(envName: string, name: string): Promise<void> {
    const svc = this.service(envName, name);
    const key = serviceKey(envName, name);
    const id = this.instanceId(svc);
    const shared = Object.entries(this.state.read().services).some(
      ([k, s]) => k !== key && this.instanceId(s) === id,
    );
    if (!shared) await this.stopInstance(svc);
    await this.state.update((s) => {
      delete s.services[key];
    });
  }

  /** Stale entries: environments whose owner (or what holds them) is gone, services whose instance died. */
  async stale(): Promise<{ environments: string[]; services: string[] }> {
    const state = this.state.read();
    const environments: string[] = [];
    for (const e of Object.values(state.environments)) {
      if (e.backend === this.name && (await this.staleReason(e))) environments.push(e.name);
    }
    const services: string[] = [];
    for (const [key, s] of Object.entries(state.services)) {
      if (s.backend === this.name && !(await this.instanceAlive(s))) services.push(key);
    }
    return { environments, services };
  }
}

/** Limits a kernel (or Docker) can apply: 6 MiB is Docker's least memory, below which no process starts. */
export const MEMORY_MB_RANGE = [6, 2 ** 33] as const;
export const CPUS_RANGE = [0.01, 4096] as const;
// C0 controls, DEL and C1 controls: never part of a path someone meant to type.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** An environment's own request, whatever reads it (flags, config, an API caller): in range, or refused. */
function checkSpec(spec: EnvironmentSpec): void {
  const refuse = (message: string, hint?: string): never => {
    throw new GgenError("CLEANROOM_SPEC", `environment ${spec.name}: ${message}`, {
      kind: "usage",
      ...(hint ? { hint } : {}),
    });
  };
  const range = (
    asked: number | undefined,
    [min, max]: readonly [number, number],
    what: string,
    show: (n: number) => string,
  ) => {
    if (asked !== undefined && !(Number.isFinite(asked) && asked >= min && asked <= max))
      refuse(`${what} ${show(asked)} is out of range (${show(min)} to ${show(max)})`);
  };
  range(spec.memoryMb, MEMORY_MB_RANGE, "memory", (mb) => formatSize(mb * 1024 * 1024));
  range(spec.cpus, CPUS_RANGE, "CPUs", String);
  for (const [key, value] of [
    ["pids", spec.pids],
    ["cpu seconds", spec.cpuSeconds],
  ] as const) {
    if (value !== undefined && !(Number.isSafeInteger(value) && value > 0))
      refuse(`${key} ${value} is not a positive whole number`);
  }
  for (const m of spec.mounts ?? []) {
    for (const [what, path] of [
      ["source", m.host],
      ["target", m.target],
    ] as const) {
      if (path === "" || CONTROL.test(path))
        refuse(`mount ${what} ${JSON.stringify(path)} is empty or holds a control character`);
    }
  }
  checkVariables(`environment ${spec.name}`, spec.env);
}
