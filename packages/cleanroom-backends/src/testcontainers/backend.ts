// The testcontainers backend: an environment is a long-running container (network `none` when isolated,
// `host` otherwise) that commands exec in; services are containers sharing the environment's network
// namespace (`container:<id>`, isolated) or the host's (`host`, on a free loopback port) — dockerd runs
// here without a bridge. Everything carries io.ggen.cleanroom labels so prune finds it.
import { existsSync } from "node:fs";
import { posix, resolve } from "node:path";
import { GgenError, processRef } from "@ggen/support";
import type { StartedTestContainer } from "testcontainers";
import { AbstractBackend, type BackendOptions } from "../abstract-backend.js";
import type {
  BackendMetrics,
  EngineTime,
  Environment,
  EnvironmentSpec,
  ExecOptions,
  ExecResult,
  Guarantees,
} from "../backend.js";
import {
  checkName,
  checkVariables,
  commandEnvironment,
  environmentRecord,
  isolationOf,
  lifetimeMetrics,
  limitMessage,
  publicEnv,
  type ServiceInstance,
  type ServiceLaunch,
} from "../state/records.js";
import type { EnvironmentRecord, ServiceRecord } from "../state/store.js";
import { type Bind, CacheLayers } from "./cache-layers.js";
import { CleanroomContainer, Docker, firstLine } from "./docker.js";
import { EngineClock } from "./engine-clock.js";
import {
  containerPath,
  copyIntoContainer,
  copyOutOfContainer,
  demux,
  execInContainer,
  OUTPUTS,
  TEST_TMPDIR,
  WORKDIR,
} from "./exec.js";
import { ExecChannel } from "./exec-channel.js";
import { LABEL, ownerLabels, PERSISTENT, pruneVerdict } from "./owner.js";
import {
  type ContainerService,
  containerHealth,
  resetContainer,
  snapshotContainer,
  startServiceContainer,
} from "./services.js";
import { type DockerStats, parseCgroupUsage, statsMetrics, USAGE_SCRIPT } from "./usage.js";

export { LABEL } from "./owner.js";

export type TestcontainersBackendOptions = BackendOptions;

export class TestcontainersBackend extends AbstractBackend {
  readonly name = "testcontainers" as const;
  readonly docker: Docker;
  /** The copy-on-write layers of environments' package caches. */
  readonly layers: CacheLayers;
  /** Where this object waited on Docker (see Backend.engineTime). */
  readonly clock = new EngineClock();
  /** Open command channels, by container id (see openExecChannel). */
  private readonly channels = new Map<string, Promise<ExecChannel | undefined>>();

  constructor(options: TestcontainersBackendOptions) {
    super(options);
    this.docker = new Docker(options.stateDir, options.config, options.engine);
    this.layers = new CacheLayers(this.docker);
  }

  /** Closes this object's command channels and forgets the Docker client; environments and services go on running. */
  override async close(): Promise<void> {
    await Promise.all([...this.channels.keys()].map((id) => this.closeChannel(id)));
    this.docker.release();
  }

  engineTime(): EngineTime {
    return this.clock.snapshot();
  }

  async openExecChannel(envName: string): Promise<boolean> {
    const id = this.containerOf(envName);
    let channel = this.channels.get(id);
    // One that closed (its program was killed) is opened again.
    if (channel && (await channel)?.open !== true) channel = undefined;
    if (!channel) {
      channel = this.clock
        .time("exec channel", () => ExecChannel.open(this.docker, id))
        .catch(() => undefined);
      this.channels.set(id, channel);
    }
    return (await channel)?.open === true;
  }

  private async closeChannel(containerId: string): Promise<void> {
    const channel = this.channels.get(containerId);
    this.channels.delete(containerId);
    (await channel)?.close();
  }

  /** Environment `envName`'s container id (every testcontainers entry has one). */
  private containerOf(envName: string, rec = this.record(envName)): string {
    if (!rec.containerId) {
      throw new GgenError("CLEANROOM_NO_ENV", `environment ${envName} has no container`, {
        kind: "usage",
        hint: "delete it and create it again",
      });
    }
    return rec.containerId;
  }

  async createEnvironment(asked: EnvironmentSpec): Promise<Environment> {
    checkName("environment", asked.name);
    const { spec, defaults } = this.resolveSpec(asked);
    if (this.state.read().environments[spec.name]) {
      throw new GgenError("CLEANROOM_ENV_EXISTS", `environment ${spec.name} already exists`, {
        kind: "usage",
        hint: "delete it first, or use another name",
      });
    }
    this.checkCapacity(`environment ${spec.name}`);
    for (const m of spec.mounts ?? []) {
      if (!existsSync(m.host)) {
        throw new GgenError("CLEANROOM_MOUNT", `mount source ${m.host} does not exist`, {
          kind: "usage",
          hint: "create it first, or give a path that exists",
        });
      }
    }
    const isolated = spec.isolated === true;
    const image = await this.docker.resolveImage("node");
    const memoryMb = spec.memoryMb;
    const cpus = spec.cpus;
    const pids = spec.pids ?? defaults.pids;
    // A throwaway environment belongs to this process: once it is gone, even by kill -9, the
    // environment and its containers are stale and prune removes them. The label is there before the
    // state entry is, so a kill in between still leaves a container prune can judge.
    const owner = spec.throwaway ? processRef() : undefined;
    let container = new CleanroomContainer(image)
      .withCommand(["sleep", "infinity"])
      .withEntrypoint([])
      .withNetworkMode(isolated ? "none" : "host")
      .withWorkingDir(WORKDIR)
      .withLabels(this.docker.labels("environment", spec.name, owner ? ownerLabels(owner) : {}))
      .withEnvironment({ TZ: "UTC", LANG: "C.UTF-8", LC_ALL: "C.UTF-8" })
      .withPidsLimit(pids)
      .withAutoRemove(false);
    if (isolated) {
      // The seed's read_only_root_fs and no_new_privileges: the image is read-only, the places commands
      // write are the container's own volumes (removed with it).
      container = container
        .withReadOnlyRoot()
        .withSecurityOpt("no-new-privileges")
        .withMounts([WORKDIR, "/tmp", OUTPUTS].map((Target) => ({ Type: "volume" as const, Target })));
    }
    if (memoryMb || cpus) {
      container = container.withResourcesQuota({
        ...(memoryMb ? { memory: memoryMb / 1024 } : {}),
        ...(cpus ? { cpu: cpus } : {}),
      });
    }
    const binds: Bind[] = (spec.mounts ?? []).map((m) => ({
      source: resolve(m.host),
      target: posix.isAbsolute(m.target) ? m.target : posix.join(WORKDIR, m.target),
      mode: m.writable ? "rw" : "ro",
    }));
    const cow = this.layers.dir(spec.name);
    const mounts = await this.layers.mounts(spec, binds);
    if (binds.length > 0) container = container.withBindMounts(binds);
    container = container.withMounts(mounts);
    let started: StartedTestContainer;
    try {
      const client = await this.docker.client();
      started = await this.clock.time("environment container", () => container.startOn(client));
    } catch (error) {
      await this.layers.remove(cow);
      throw error;
    }
    await this.clock.time("exec round trip", () =>
      this.docker.execIn(started.getId(), ["mkdir", "-p", WORKDIR, TEST_TMPDIR, OUTPUTS]),
    );
    const guarantees: Guarantees = {
      network: isolated,
      pid: true,
      filesystem: true,
      readOnlyRoot: isolated,
      privateTmp: true,
      readOnlyMounts: true,
      mountTargets: true,
      limits: {
        ...(memoryMb ? { memoryMb: { value: memoryMb, by: "docker" as const } } : {}),
        ...(cpus ? { cpus: { value: cpus, by: "docker" as const } } : {}),
        ...(pids ? { pids: { value: pids, by: "docker" as const } } : {}),
      },
      kill: "process-group+marker",
      mechanism: `docker:${isolated ? "none" : "host"}-network${isolated ? "+read-only-root" : ""}`,
    };
    const rec = environmentRecord(
      "testcontainers",
      { ...spec, ...(pids ? { pids } : {}) },
      {
        workdir: WORKDIR,
        dir: "",
        isolation: isolationOf(guarantees),
        guarantees,
        containerId: started.getId(),
        owner,
      },
    );
    try {
      await this.state.update((s) => {
        if (s.environments[spec.name]) {
          throw new GgenError("CLEANROOM_ENV_EXISTS", `environment ${spec.name} already exists`, {
            kind: "usage",
          });
        }
        s.environments[spec.name] = rec;
      });
    } catch (error) {
      await this.docker.removeContainer(started.getId());
      await this.layers.remove(cow);
      throw error;
    }
    return publicEnv(rec);
  }

  /**
   * The environment's container goes while its services do (nothing runs in it any more once it is being
   * deleted): two engine removals at once instead of one after the other.
   */
  override async deleteEnvironment(name: string, options: { force?: boolean } = {}): Promise<void> {
    const rec = this.state.read().environments[name];
    const early = rec?.backend === this.name ? this.removeContainerOf(rec) : undefined;
    early?.catch(() => undefined);
    try {
      await super.deleteEnvironment(name, options);
    } finally {
      await early?.catch(() => undefined);
    }
  }

  private removeContainerOf(rec: EnvironmentRecord): Promise<void> | undefined {
    const id = rec.containerId;
    if (!id) return undefined;
    return this.closeChannel(id).then(() =>
      this.clock.time("removal", () => this.docker.removeContainer(id)),
    );
  }

  /** Its container (with anonymous volumes; gone already when deleteEnvironment removed it), then its cache layers. */
  protected async removeEnvironment(rec: EnvironmentRecord): Promise<void> {
    if (rec.containerId && (await this.docker.exists(rec.containerId))) await this.removeContainerOf(rec);
    await this.layers.remove(this.layers.dir(rec.name));
  }

  protected async environmentGone(rec: EnvironmentRecord): Promise<string | undefined> {
    return (await this.docker.running(rec.containerId)) ? undefined : "its container is gone";
  }

  protected serviceLocation(rec: EnvironmentRecord): Record<string, string> {
    return { network: rec.spec.isolated ? `container:${rec.containerId}` : "host" };
  }

  protected async startInstance(rec: EnvironmentRecord, want: ServiceLaunch): Promise<ServiceInstance> {
    // A persistent service is shared by design and outlives whoever started it: it carries no owner.
    const owner = want.persistent ? undefined : rec.owner;
    const labels = this.docker.labels("service", rec.name, {
      [`${LABEL}.service`]: want.name,
      [`${LABEL}.config-hash`]: want.hash,
      ...(want.persistent ? { [PERSISTENT]: "true" } : {}),
      ...(owner ? ownerLabels(owner) : {}),
    });
    return await this.clock.time(`${want.spec.kind} until ready`, () =>
      startServiceContainer(this.docker, want.spec, {
        network: this.serviceLocation(rec).network!,
        isolated: rec.spec.isolated ?? false,
        labels,
        timeoutMs: want.spec.timeoutMs ?? this.config.containers.startTimeoutSeconds * 1000,
      }),
    );
  }

  /**
   * Found again by its configuration hash label, whoever started it — a persistent one only: a
   * throwaway environment's own service of the same configuration goes when its owner does.
   */
  protected async sharedService(hash: string, services: ServiceRecord[]): Promise<ServiceRecord | undefined> {
    const client = await this.docker.client();
    const found = (await client.container.list()).find(
      (c) =>
        c.Labels[`${LABEL}.config-hash`] === hash &&
        c.Labels[LABEL] === this.docker.scope &&
        c.Labels[PERSISTENT] === "true" &&
        c.State === "running",
    );
    return found ? services.find((s) => s.container?.id === found.Id) : undefined;
  }

  protected instanceId(svc: ServiceRecord): string | undefined {
    return svc.container?.id;
  }

  protected async instanceAlive(svc: ServiceRecord): Promise<boolean> {
    return await this.docker.running(svc.container?.id);
  }

  protected async stopInstance(svc: ServiceRecord): Promise<void> {
    if (!svc.container) return;
    const id = svc.container.id;
    // A throwaway environment's own service is removed at once: its data goes with it, so a clean
    // shutdown (PostgreSQL's checkpoint) would only cost time.
    const throwaway = !svc.persistent && this.state.read().environments[svc.environment]?.owner !== undefined;
    const grace = throwaway ? 0 : this.config.containers.stopTimeoutSeconds;
    await this.clock.time("removal", () => this.docker.removeContainer(id, grace));
  }

  private containerService(envName: string, name: string): ContainerService {
    return this.service(envName, name) as ContainerService;
  }

  async serviceLogs(envName: string, name: string): Promise<string> {
    const svc = this.containerService(envName, name);
    const container = await this.docker.container(svc.container.id);
    const raw = (await container.logs({ follow: false, stdout: true, stderr: true })) as unknown as Buffer;
    return demux(Buffer.isBuffer(raw) ? raw : Buffer.from(String(raw)));
  }

  async serviceHealth(envName: string, name: string) {
    return await containerHealth(this.docker, this.containerService(envName, name));
  }

  async snapshotService(envName: string, name: string): Promise<void> {
    await snapshotContainer(this.docker, this.containerService(envName, name));
  }

  async resetService(envName: string, name: string): Promise<void> {
    await resetContainer(this.docker, this.containerService(envName, name));
  }

  commandEnv(rec: EnvironmentRecord, options: ExecOptions): Record<string, string> {
    const caches: Record<string, string> = {};
    for (const c of rec.spec.caches ?? []) {
      if (c === "npm") Object.assign(caches, { npm_config_cache: "/caches/npm", npm_config_offline: "true" });
      if (c === "cargo") Object.assign(caches, { CARGO_HOME: "/caches/cargo", CARGO_NET_OFFLINE: "true" });
    }
    return commandEnvironment(rec, Object.values(this.state.read().services), options, {
      host: { PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" },
      tmp: TEST_TMPDIR,
      outputs: OUTPUTS,
      caches,
    });
  }

  async exec(envName: string, argv: string[], options: ExecOptions = {}): Promise<ExecResult> {
    checkVariables(`a command in ${envName}`, options.env, { portable: false });
    if (argv.length === 0) throw new GgenError("CLEANROOM_EXEC", "nothing to run", { kind: "usage" });
    const rec = this.record(envName);
    const timeoutMs = options.timeoutMs ?? this.config.environment.defaultTimeoutSeconds * 1000;
    const env = this.commandEnv(rec, options);
    const id = this.containerOf(envName, rec);
    const channel = await this.channels.get(id);
    if (channel?.open) {
      const r = await channel.run(argv, {
        env,
        cwd: options.cwd ? containerPath(options.cwd) : WORKDIR,
        timeoutMs,
        ...(options.stdin !== undefined ? { stdin: options.stdin } : {}),
        ...(options.onOutput ? { onOutput: options.onOutput } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
      });
      const limit = r.timedOut ? ("timeout" as const) : r.limit;
      const limitValue =
        limit === "timeout"
          ? timeoutMs
          : limit === "memory" && rec.spec.memoryMb
            ? rec.spec.memoryMb * 1024 * 1024
            : limit === "pids"
              ? rec.spec.pids
              : undefined;
      return {
        exitCode: r.exitCode,
        signal: r.exitCode === 137 ? "SIGKILL" : null,
        stdout: r.stdout,
        stderr: r.stderr,
        durationMs: r.durationMs,
        timedOut: r.timedOut,
        ...(limit
          ? {
              limit,
              ...(limitValue !== undefined ? { limitValue } : {}),
              limitMessage: limitMessage(limit, limitValue),
            }
          : {}),
      };
    }
    return await execInContainer(this.docker, id, argv, env, timeoutMs, {
      ...options,
      limits: { memoryMb: rec.spec.memoryMb, pids: rec.spec.pids },
      onEngineMs: (ms) => this.clock.add("exec round trip", ms),
    });
  }

  async copyIn(envName: string, hostPath: string, target: string): Promise<void> {
    await copyIntoContainer(this.docker, this.containerOf(envName), hostPath, target);
  }

  async copyOut(envName: string, source: string, hostPath: string): Promise<void> {
    await copyOutOfContainer(
      this.docker,
      { name: envName, containerId: this.containerOf(envName) },
      source,
      hostPath,
    );
  }

  /** A command of the backend's own in the container: through its channel when one is open. */
  private async runIn(id: string, argv: string[]): Promise<{ exitCode: number | null; stdout: string }> {
    const channel = await this.channels.get(id);
    if (channel?.open) return await channel.run(argv, { env: {}, cwd: "/", timeoutMs: 60_000 });
    return await this.clock.time("exec round trip", () => this.docker.execIn(id, argv));
  }

  async outputs(envName: string): Promise<{ dir: string; files: string[] }> {
    const r = await this.runIn(this.containerOf(envName), ["find", OUTPUTS, "-type", "f"]);
    const files = r.stdout
      .split("\n")
      .filter(Boolean)
      .map((f) => posix.relative(OUTPUTS, f))
      .sort();
    return { dir: OUTPUTS, files };
  }

  async metrics(envName: string): Promise<BackendMetrics> {
    const rec = this.record(envName);
    const id = this.containerOf(envName, rec);
    const read = await this.runIn(id, ["sh", "-c", USAGE_SCRIPT]).catch(() => undefined);
    const usage = read?.exitCode === 0 ? parseCgroupUsage(read.stdout) : undefined;
    if (usage) return lifetimeMetrics(usage, rec.createdAt);
    // No readable cgroup inside (an image without sh, say): Docker's stats, a second slower.
    const container = await this.docker.container(id);
    return statsMetrics((await container.stats({ stream: false })) as unknown as DockerStats);
  }

  async prune(options: { all?: boolean } = {}): Promise<{ removed: string[] }> {
    const removed: string[] = [];
    const failed: string[] = [];
    const all = options.all === true;
    const stale = await this.stale();
    const before = this.state.read();
    // An environment whose owner died may still run: delete it the normal way (its non-persistent
    // services, then its container) before forgetting it. A failure here is not final: its containers
    // still carry the dead owner's labels (or lose their entry below), so the sweep tries them again and
    // reports what it cannot remove.
    for (const name of stale.environments) {
      const rec = before.environments[name];
      if (!rec) continue;
      const why = (await this.staleReason(rec)) ?? "stale";
      await this.deleteEnvironment(name, { force: true }).catch(() => undefined);
      removed.push(`environment ${name} (${why})`);
    }
    const after = this.state.read();
    await this.state.update((s) => {
      for (const key of stale.services) {
        if (!after.services[key]) continue;
        delete s.services[key];
        removed.push(`service ${key} (container gone)`);
      }
      for (const name of stale.environments) delete s.environments[name];
    });
    const state = this.state.read();
    const owned = new Set<string>();
    for (const e of Object.values(state.environments)) if (e.containerId) owned.add(e.containerId);
    for (const s of Object.values(state.services)) if (s.container) owned.add(s.container.id);
    // Every container labelled for this state dir, stopped ones too: pruneVerdict decides (a dead owner,
    // no entry, or --all removes; a live owner or an entry keeps; persistent services have no owner).
    const gone = new Set<string>();
    for (const info of await this.docker.labelled()) {
      const verdict = pruneVerdict(info.Labels, owned.has(info.Id), { all });
      if (!verdict.remove) continue;
      try {
        await this.docker.removeContainer(info.Id);
      } catch (error) {
        failed.push(`container ${info.Id.slice(0, 12)}: ${firstLine(error)}`);
        continue;
      }
      gone.add(info.Id);
      removed.push(
        `container ${info.Id.slice(0, 12)} (${info.Labels[`${LABEL}.role`]} ${info.Labels[`${LABEL}.environment`]}: ${verdict.why})`,
      );
    }
    await this.state.update((s) => {
      for (const [k, v] of Object.entries(s.services)) {
        // An entry whose container the sweep removed (a dead owner's service) names nothing any more.
        if (v.backend === "testcontainers" && (all || (v.container && gone.has(v.container.id))))
          delete s.services[k];
      }
      if (all) {
        for (const [k, v] of Object.entries(s.environments))
          if (v.backend === "testcontainers") delete s.environments[k];
      }
    });
    const layers = await this.layers.prune(this.state.read().environments, { all });
    removed.push(...layers.removed);
    failed.push(...layers.failed);
    if (failed.length > 0) {
      throw new GgenError("CLEANROOM_PRUNE", `prune could not remove ${failed.join("; ")}`, {
        hint: "check that Docker answers (`docker ps`), then run `cleanroom container prune` again",
      });
    }
    return { removed };
  }

  /** Containers this backend's state dir owns (label io.ggen.cleanroom=<scope>), stopped ones too, for leak checks. */
  async containers(): Promise<string[]> {
    return (await this.docker.labelled()).map((c) => c.Id);
  }
}
