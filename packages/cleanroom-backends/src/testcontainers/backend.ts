// The testcontainers backend: an environment is a long-running container (network `none` when isolated,
// `host` otherwise) that commands exec in; services are containers sharing the environment's network
// namespace (`container:<id>`, isolated) or the host's (`host`, on a free loopback port) — dockerd runs
// here without a bridge. Everything carries io.ggen.cleanroom labels so prune finds it.
import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join, posix, resolve } from "node:path";
import { GgenError } from "@ggen/contract";
import {
  type ContainerRuntimeClient,
  GenericContainer,
  getContainerRuntimeClient,
  ImageName,
  type StartedTestContainer,
  Wait,
} from "testcontainers";
import type {
  Backend,
  BackendMetrics,
  Environment,
  EnvironmentSpec,
  ExecOptions,
  ExecResult,
  Service,
  ServiceSpec,
} from "../backend.js";
import { lifetimeMetrics } from "../backend.js";
import type { CleanroomConfig } from "../config.js";
import { checkName, configHash, publicEnv, toService } from "../local/backend.js";
import { type EnvironmentRecord, type ServiceRecord, StateStore, serviceKey } from "../state/store.js";
import { freePort, type ProcessRef, processRef, redactUrl } from "../util/proc.js";
import { LABEL, ownerGone, ownerLabels, PERSISTENT, pruneVerdict } from "./owner.js";
import { ProbeWaitStrategy, postgresProbe, redisProbe } from "./probe.js";
import { parseCgroupUsage, USAGE_SCRIPT } from "./usage.js";

type DockerContainer = ReturnType<ContainerRuntimeClient["container"]["getById"]>;

export { LABEL } from "./owner.js";

/** A pull that failed once in this process is not tried again (no registry here is the common case). */
const pullFailures = new Map<string, Error>();
const WORKDIR = "/work";
const TEST_TMPDIR = "/tmp/cleanroom";
const OUTPUTS = "/outputs";

/** A Docker mount (HostConfig.Mounts): here, overlay volumes of the local driver. */
interface DockerMount {
  Type: "volume";
  Target: string;
  VolumeOptions: { DriverConfig: { Name: string; Options: Record<string, string> } };
}

/** GenericContainer plus a process-count limit (Docker's PidsLimit) and Docker mounts. */
class CleanroomContainer extends GenericContainer {
  withPidsLimit(pids: number | undefined): this {
    if (pids) this.hostConfig.PidsLimit = pids;
    return this;
  }

  withMounts(mounts: DockerMount[]): this {
    if (mounts.length > 0) {
      const hc = this.hostConfig as { Mounts?: DockerMount[] };
      hc.Mounts = [...(hc.Mounts ?? []), ...mounts];
    }
    return this;
  }
}

/** Overlay mount options cannot hold these in a path. */
const OVERLAY_UNSAFE = /[,:\\\s]/;

export interface TestcontainersBackendOptions {
  stateDir: string;
  config: CleanroomConfig;
}

export class TestcontainersBackend implements Backend {
  readonly name = "testcontainers" as const;
  readonly state: StateStore;
  readonly config: CleanroomConfig;
  private clientPromise: Promise<ContainerRuntimeClient> | undefined;
  private readonly scope: string;

  constructor(options: TestcontainersBackendOptions) {
    this.state = new StateStore(options.stateDir);
    this.config = options.config;
    this.scope = createHash("sha256").update(resolve(options.stateDir)).digest("hex").slice(0, 12);
  }

  private client(): Promise<ContainerRuntimeClient> {
    this.clientPromise ??= getContainerRuntimeClient();
    return this.clientPromise;
  }

  private async container(id: string): Promise<DockerContainer> {
    return (await this.client()).container.getById(id);
  }

  private record(name: string): EnvironmentRecord {
    const rec = this.state.read().environments[name];
    if (rec?.backend !== "testcontainers" || !rec.containerId) {
      throw new GgenError("CLEANROOM_NO_ENV", `no testcontainers environment named ${name}`, {
        kind: "usage",
        hint: "create it with `cleanroom environment create --name <name> --backend testcontainers`",
      });
    }
    return rec;
  }

  /** The configured image for `kind`, or the local fallback when it is absent and cannot be pulled. */
  async resolveImage(kind: string, override?: string): Promise<string> {
    const wanted = override ?? this.config.containers.images[kind];
    if (!wanted) {
      throw new GgenError("CLEANROOM_IMAGE", `no image configured for ${kind}`, {
        kind: "usage",
        hint: `set [containers.images] ${kind} = "<image>" in .cleanroom/config.toml`,
      });
    }
    const client = await this.client();
    if (await client.image.exists(ImageName.fromString(wanted))) return wanted;
    try {
      if (!this.config.containers.pull) throw new Error("pulling is off ([containers] pull = false)");
      const failed = pullFailures.get(wanted);
      if (failed) throw failed;
      await withTimeout(client.image.pull(ImageName.fromString(wanted)), 30_000).catch((error: Error) => {
        pullFailures.set(wanted, error);
        throw error;
      });
      return wanted;
    } catch (error) {
      const fallback = override ? undefined : this.config.containers.fallbackImages[kind];
      if (fallback && (await client.image.exists(ImageName.fromString(fallback)))) return fallback;
      throw new GgenError(
        "CLEANROOM_IMAGE",
        `image ${wanted} is absent and cannot be pulled (${(error as Error).message})`,
        {
          hint: "build the local images with fixtures/images/build.sh, or set [containers.images] in .cleanroom/config.toml",
          cause: error,
        },
      );
    }
  }

  private labels(role: string, env: string, extra: Record<string, string> = {}): Record<string, string> {
    return { [LABEL]: this.scope, [`${LABEL}.role`]: role, [`${LABEL}.environment`]: env, ...extra };
  }

  async createEnvironment(spec: EnvironmentSpec): Promise<Environment> {
    checkName("environment", spec.name);
    if (this.state.read().environments[spec.name]) {
      throw new GgenError("CLEANROOM_ENV_EXISTS", `environment ${spec.name} already exists`, {
        kind: "usage",
        hint: "delete it first, or use another name",
      });
    }
    const isolated = spec.isolated ?? false;
    const image = await this.resolveImage("node");
    const memoryMb = spec.memoryMb ?? this.config.environment.defaultMemoryMb;
    const cpus = spec.cpus ?? this.config.environment.defaultCpus;
    const pids = spec.pids ?? (isolated ? this.config.environment.defaultPids : undefined);
    // A throwaway environment belongs to this process: once it is gone, even by kill -9, the
    // environment and its containers are stale and prune removes them. The label is there before the
    // state entry is, so a kill in between still leaves a container prune can judge.
    const owner = spec.throwaway ? processRef() : undefined;
    let container = new CleanroomContainer(image)
      .withCommand(["sleep", "infinity"])
      .withEntrypoint([])
      .withNetworkMode(isolated ? "none" : "host")
      .withWorkingDir(WORKDIR)
      .withLabels(this.labels("environment", spec.name, owner ? ownerLabels(owner) : {}))
      .withEnvironment({ TZ: "UTC", LANG: "C.UTF-8", LC_ALL: "C.UTF-8" })
      .withPidsLimit(pids)
      .withAutoRemove(false);
    if (memoryMb || cpus) {
      container = container.withResourcesQuota({
        ...(memoryMb ? { memory: memoryMb / 1024 } : {}),
        ...(cpus ? { cpu: cpus } : {}),
      });
    }
    const binds = (spec.mounts ?? []).map((m) => ({
      source: resolve(m.host),
      target: posix.isAbsolute(m.target) ? m.target : posix.join(WORKDIR, m.target),
      mode: (m.writable ? "rw" : "ro") as "rw" | "ro",
    }));
    const cow = this.cowDir(spec.name);
    const mounts = await this.cacheMounts(spec, cow, binds);
    if (binds.length > 0) container = container.withBindMounts(binds);
    container = container.withMounts(mounts);
    let started: StartedTestContainer;
    try {
      started = await container.start();
    } catch (error) {
      await this.removeCow(cow);
      throw error;
    }
    await (await this.client()).container.exec(await this.container(started.getId()), [
      "mkdir",
      "-p",
      WORKDIR,
      TEST_TMPDIR,
      OUTPUTS,
    ]);
    const rec: EnvironmentRecord = {
      name: spec.name,
      backend: "testcontainers",
      workdir: WORKDIR,
      createdAt: new Date().toISOString(),
      isolation: {
        network: isolated,
        pid: true,
        filesystem: true,
        limits: Boolean(memoryMb || cpus || pids),
        mechanism: `docker:${isolated ? "none" : "host"}-network`,
      },
      spec,
      dir: "",
      containerId: started.getId(),
      ...(owner ? { owner } : {}),
    };
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
      await this.removeContainer(started.getId());
      await this.removeCow(cow);
      throw error;
    }
    return publicEnv(rec);
  }

  /**
   * The environment's package caches, copy-on-write: an overlay volume over the host's cache, whose
   * upper layer (in `cow`, removed with the environment) takes every write — npm writes to its cache
   * even offline, and a read-only one fails installs without a lockfile (ENOTCACHED). The host's cache
   * is never written. A cache whose path overlayfs cannot name is bound read-only instead (into `binds`).
   */
  private async cacheMounts(
    spec: EnvironmentSpec,
    cow: string,
    binds: { source: string; target: string; mode: "rw" | "ro" }[],
  ): Promise<DockerMount[]> {
    if (existsSync(cow)) {
      // Left by a run that died before its state entry (else the name check stopped us), or another
      // process creating this very environment right now.
      const owner = readOwner(join(cow, OWNER_FILE));
      if (owner && !ownerGone(owner)) {
        throw new GgenError(
          "CLEANROOM_ENV_EXISTS",
          `environment ${spec.name} is being created by process ${owner.pid}`,
          { kind: "usage" },
        );
      }
      await this.removeCow(cow);
    }
    const caches = cacheDirs();
    const mounts: DockerMount[] = [];
    for (const c of spec.caches ?? []) {
      const lower = caches[c];
      const target = `/caches/${c}`;
      if (!existsSync(lower) || OVERLAY_UNSAFE.test(lower) || OVERLAY_UNSAFE.test(cow)) {
        binds.push({ source: lower, target, mode: "ro" });
        continue;
      }
      const upper = join(cow, c, "upper");
      const work = join(cow, c, "work");
      mkdirSync(upper, { recursive: true });
      mkdirSync(work, { recursive: true });
      const o = `lowerdir=${realpathSync(lower)},upperdir=${upper},workdir=${work}`;
      mounts.push({
        Type: "volume",
        Target: target,
        VolumeOptions: {
          DriverConfig: { Name: "local", Options: { type: "overlay", device: "overlay", o } },
        },
      });
    }
    // Until the state entry exists, prune knows the layers by their creator (see prune).
    if (mounts.length > 0) writeFileSync(join(cow, OWNER_FILE), JSON.stringify(processRef()));
    return mounts;
  }

  /** Where an environment's copy-on-write cache layers live (on the Docker host: this machine). */
  private cowDir(envName: string): string {
    return join(cowRoot(this.scope), envName);
  }

  /**
   * Removes copy-on-write layers. What the container wrote there belongs to its root, which this
   * process may not be: then a one-off container of the environment image removes it.
   */
  async removeCow(dir: string): Promise<void> {
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch (error) {
      if (!/EACCES|EPERM/.test(String((error as Error).message))) throw error;
      await this.removeInContainer(dir);
    }
    // The state dir's layer root goes with its last environment (another one's layers keep it).
    try {
      rmdirSync(dirname(dir));
    } catch {
      // not empty, or already gone
    }
  }

  /** Removes `dir` (on the Docker host) from inside a one-off container, as the container's root. */
  async removeInContainer(dir: string): Promise<void> {
    const image = await this.resolveImage("node");
    const done = await new GenericContainer(image)
      .withNetworkMode("none")
      .withEntrypoint([])
      .withCommand(["rm", "-rf", `/cow/${basename(dir)}`])
      .withBindMounts([{ source: dirname(dir), target: "/cow", mode: "rw" }])
      .withLabels({ [LABEL]: this.scope, [`${LABEL}.role`]: "cleanup" })
      .withWaitStrategy(Wait.forOneShotStartup())
      .start();
    // Removed once it is done (and waited for, so nothing of it outlives this call).
    await this.removeContainer(done.getId());
    rmSync(dir, { recursive: true, force: true });
  }

  private async removeContainer(id: string): Promise<void> {
    const client = await this.client();
    const container = client.container.getById(id);
    try {
      await container.remove({ force: true, v: true });
    } catch (error) {
      if (/no such container|404/i.test(String(error))) return;
      if (!/already in progress/i.test(String(error))) throw error;
    }
    // Wait until Docker has really removed it (removal is asynchronous when already in progress).
    for (let i = 0; i < 100; i++) {
      try {
        await container.inspect();
      } catch {
        return;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async deleteEnvironment(name: string, options: { force?: boolean } = {}): Promise<void> {
    const state = this.state.read();
    const rec = state.environments[name];
    if (!rec) {
      if (options.force) return;
      this.record(name);
      return;
    }
    for (const svc of Object.values(state.services)) {
      if (svc.environment === name && !svc.persistent) await this.stopService(name, svc.name);
    }
    if (rec.containerId) await this.removeContainer(rec.containerId);
    await this.removeCow(this.cowDir(name));
    await this.state.update((s) => {
      delete s.environments[name];
    });
  }

  private async running(id: string | undefined): Promise<boolean> {
    if (!id) return false;
    try {
      const info = await (await this.container(id)).inspect();
      return info.State.Running;
    } catch {
      return false;
    }
  }

  async environmentStatus(name: string) {
    const state = this.state.read();
    const rec = state.environments[name];
    if (rec?.backend !== "testcontainers") return undefined;
    const services = Object.values(state.services)
      .filter((s) => s.environment === name)
      .map(toService);
    const running = await this.running(rec.containerId);
    const why = await this.staleReason(rec);
    return { ...publicEnv(rec), services, alive: running && !why, ...(why ? { stale: why } : {}) };
  }

  /** Why an environment is stale (its owner process or its container is gone), or undefined. */
  private async staleReason(rec: EnvironmentRecord): Promise<string | undefined> {
    const gone = ownerGone(rec.owner);
    if (gone) return gone;
    if (!(await this.running(rec.containerId))) return "its container is gone";
    return undefined;
  }

  async listEnvironments(): Promise<Environment[]> {
    return Object.values(this.state.read().environments)
      .filter((e) => e.backend === "testcontainers")
      .map(publicEnv);
  }

  async startService(envName: string, spec: ServiceSpec): Promise<Service> {
    const rec = this.record(envName);
    const name = spec.name ?? spec.kind;
    checkName("service", name);
    const persistent = spec.persistent ?? rec.spec.persistent ?? false;
    const isolated = rec.spec.isolated ?? false;
    const network = isolated ? `container:${rec.containerId}` : "host";
    const hash = configHash({
      kind: spec.kind,
      database: spec.database,
      user: spec.user,
      password: spec.password,
      image: spec.image,
      env: spec.env,
      port: spec.port,
      network,
    });
    const start = async (): Promise<Service> => {
      const current = this.state.read();
      const existing = current.services[serviceKey(envName, name)];
      if (existing?.container && (await this.running(existing.container.id))) {
        if (existing.configHash === hash) return toService(existing);
        throw new GgenError(
          "CLEANROOM_SERVICE_EXISTS",
          `service ${name} already runs in ${envName} with another configuration`,
          {
            kind: "usage",
          },
        );
      }
      if (persistent) {
        // Found again by its configuration hash label, whoever started it — a persistent one only: a
        // throwaway environment's own service of the same configuration goes when its owner does.
        const client = await this.client();
        const found = (await client.container.list()).find(
          (c) =>
            c.Labels[`${LABEL}.config-hash`] === hash &&
            c.Labels[LABEL] === this.scope &&
            c.Labels[PERSISTENT] === "true" &&
            c.State === "running",
        );
        const known = Object.values(current.services).find((s) => s.container?.id === found?.Id);
        if (found && known) {
          const alias: ServiceRecord = { ...known, environment: envName, name };
          await this.state.update((s) => {
            s.services[serviceKey(envName, name)] = alias;
          });
          return toService(alias);
        }
      }
      // A persistent service is shared by design and outlives whoever started it: it carries no owner.
      const owner = persistent ? undefined : rec.owner;
      const svc = await this.launch(envName, name, spec, { network, isolated, persistent, hash, owner });
      await this.state.update((s) => {
        s.services[serviceKey(envName, name)] = svc;
      });
      return toService(svc);
    };
    return persistent
      ? await this.state.lock(`service-${hash}`, start)
      : await this.state.lock(`svc-${envName}-${name}`, start);
  }

  private async launch(
    envName: string,
    name: string,
    spec: ServiceSpec,
    o: {
      network: string;
      isolated: boolean;
      persistent: boolean;
      hash: string;
      owner?: ProcessRef | undefined;
    },
  ): Promise<ServiceRecord> {
    const t0 = performance.now();
    const image = await this.resolveImage(spec.kind, spec.image);
    const timeoutMs = spec.timeoutMs ?? this.config.containers.startTimeoutSeconds * 1000;
    const labels = this.labels("service", envName, {
      [`${LABEL}.service`]: name,
      [`${LABEL}.config-hash`]: o.hash,
      ...(o.persistent ? { [PERSISTENT]: "true" } : {}),
      ...(o.owner ? ownerLabels(o.owner) : {}),
    });
    let container: GenericContainer;
    let port: number;
    let url: string;
    let env: Record<string, string>;
    let extra: { user?: string; password?: string; database?: string } = {};
    if (spec.kind === "postgres") {
      const user = spec.user ?? "test";
      const password = spec.password ?? randomBytes(12).toString("hex");
      const database = spec.database ?? "test";
      port = spec.port ?? (o.isolated ? 5432 : await freePort());
      container = new GenericContainer(image)
        .withEnvironment({
          POSTGRES_USER: user,
          POSTGRES_PASSWORD: password,
          POSTGRES_DB: database,
          PGPORT: String(port),
          ...(spec.env ?? {}),
        })
        .withCommand([
          "postgres",
          "-c",
          "listen_addresses=127.0.0.1",
          "-c",
          "fsync=off",
          "-c",
          "synchronous_commit=off",
          "-c",
          "full_page_writes=off",
        ])
        // Ready when its user can open its database: asked from here over the host's loopback (a real
        // connection every 20 ms), or with pg_isready inside an isolated environment's network. Polled
        // while starting only: a Docker health check would go on exec'ing for the container's whole life
        // (half a core at 100 ms, taken from the tests). Over TCP, so the official image's socket-only
        // init server does not count as ready.
        .withWaitStrategy(
          o.isolated
            ? Wait.forSuccessfulCommand(
                `pg_isready -q -h 127.0.0.1 -p ${port} -U ${shellQuote(user)} -d ${shellQuote(database)}`,
              )
            : new ProbeWaitStrategy("postgres", postgresProbe({ port, user, password, database })),
        );
      url = `postgresql://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${port}/${encodeURIComponent(database)}`;
      env = {
        DATABASE_URL: url,
        PGHOST: "127.0.0.1",
        PGPORT: String(port),
        PGUSER: user,
        PGPASSWORD: password,
        PGDATABASE: database,
      };
      extra = { user, password, database };
    } else if (spec.kind === "redis") {
      port = spec.port ?? (o.isolated ? 6379 : await freePort());
      const args = [
        "redis-server",
        "--port",
        String(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
      ];
      if (spec.password) args.push("--requirepass", spec.password);
      container = new GenericContainer(image)
        .withCommand(args)
        .withEnvironment(spec.env ?? {})
        .withWaitStrategy(
          o.isolated
            ? Wait.forSuccessfulCommand(
                `redis-cli -p ${port} ${spec.password ? '-a "$REDIS_PASSWORD" --no-auth-warning' : ""} ping | grep -q PONG`,
              )
            : new ProbeWaitStrategy(
                "redis",
                redisProbe({ port, ...(spec.password ? { password: spec.password } : {}) }),
              ),
        );
      if (spec.password)
        container = container.withEnvironment({ REDIS_PASSWORD: spec.password, ...(spec.env ?? {}) });
      url = `redis://${spec.password ? `:${encodeURIComponent(spec.password)}@` : ""}127.0.0.1:${port}`;
      env = { REDIS_URL: url, REDIS_HOST: "127.0.0.1", REDIS_PORT: String(port) };
      if (spec.password) extra = { password: spec.password };
    } else {
      // Any other image: started as is, ready when its container health check (if any) passes.
      if (!spec.image) {
        throw new GgenError(
          "CLEANROOM_SERVICE_KIND",
          `unknown service ${JSON.stringify(spec.kind)} and no image given`,
          {
            kind: "usage",
            hint: "services: postgres, redis, or any image with --image",
          },
        );
      }
      port = 0;
      container = new GenericContainer(image).withEnvironment(spec.env ?? {});
      url = "";
      env = {};
    }
    const started: StartedTestContainer = await container
      .withNetworkMode(o.network)
      .withLabels(labels)
      .withStartupTimeout(timeoutMs)
      .withAutoRemove(false)
      .start();
    return {
      environment: envName,
      name,
      kind: spec.kind,
      backend: "testcontainers",
      spec,
      configHash: o.hash,
      persistent: o.persistent,
      startedAt: new Date().toISOString(),
      container: { id: started.getId(), image, port, host: "127.0.0.1", ...extra },
      url,
      redactedUrl: redactUrl(url),
      env,
      readyMs: Math.round(performance.now() - t0),
    };
  }

  private service(
    envName: string,
    name: string,
  ): ServiceRecord & { container: NonNullable<ServiceRecord["container"]> } {
    const svc = this.state.read().services[serviceKey(envName, name)];
    if (!svc?.container) {
      throw new GgenError("CLEANROOM_NO_SERVICE", `no service ${name} in environment ${envName}`, {
        kind: "usage",
      });
    }
    return svc as ServiceRecord & { container: NonNullable<ServiceRecord["container"]> };
  }

  async stopService(envName: string, name: string): Promise<void> {
    const svc = this.service(envName, name);
    const state = this.state.read();
    const shared = Object.entries(state.services).some(
      ([key, s]) => key !== serviceKey(envName, name) && s.container?.id === svc.container.id,
    );
    if (!shared) await this.removeContainer(svc.container.id);
    await this.state.update((s) => {
      delete s.services[serviceKey(envName, name)];
    });
  }

  async serviceLogs(envName: string, name: string): Promise<string> {
    const svc = this.service(envName, name);
    const raw = (await (
      await this.container(svc.container.id)
    ).logs({
      follow: false,
      stdout: true,
      stderr: true,
    })) as unknown as Buffer;
    return demux(Buffer.isBuffer(raw) ? raw : Buffer.from(String(raw)));
  }

  private async execIn(id: string, argv: string[], env: Record<string, string> = {}) {
    const client = await this.client();
    return await client.container.exec(client.container.getById(id), argv, { env });
  }

  async serviceHealth(envName: string, name: string) {
    const svc = this.service(envName, name);
    if (!(await this.running(svc.container.id)))
      return { healthy: false, detail: "container is not running" };
    const c = svc.container;
    if (svc.kind === "postgres") {
      const r = await this.execIn(c.id, [
        "pg_isready",
        "-h",
        "127.0.0.1",
        "-p",
        String(c.port),
        "-U",
        c.user ?? "test",
        "-d",
        c.database ?? "test",
      ]);
      return { healthy: r.exitCode === 0, detail: r.output.trim() };
    }
    if (svc.kind === "redis") {
      const r = await this.execIn(c.id, [
        "redis-cli",
        "-p",
        String(c.port),
        "--no-auth-warning",
        ...(c.password ? ["-a", c.password] : []),
        "ping",
      ]);
      return { healthy: r.output.includes("PONG"), detail: r.output.trim() };
    }
    const info = await (await this.container(c.id)).inspect();
    const health = info.State.Health?.Status;
    return {
      healthy: health ? health === "healthy" : info.State.Running,
      detail: health ?? info.State.Status,
    };
  }

  private async psql(
    svc: ServiceRecord & { container: NonNullable<ServiceRecord["container"]> },
    sql: string,
  ): Promise<void> {
    const c = svc.container;
    const r = await this.execIn(
      c.id,
      [
        "psql",
        "-v",
        "ON_ERROR_STOP=1",
        "-h",
        "127.0.0.1",
        "-p",
        String(c.port),
        "-U",
        c.user ?? "test",
        "-d",
        "postgres",
        "-c",
        sql,
      ],
      { PGPASSWORD: c.password ?? "" },
    );
    if (r.exitCode !== 0) {
      throw new GgenError("CLEANROOM_PG_RESET", `psql failed in ${svc.name}: ${r.output.trim()}`);
    }
  }

  async snapshotService(envName: string, name: string): Promise<void> {
    const svc = this.service(envName, name);
    if (svc.kind !== "postgres") return;
    const db = svc.container.database ?? "test";
    const snap = ident(`${db}__cleanroom_snapshot`.slice(0, 63));
    await this.psql(svc, `DROP DATABASE IF EXISTS ${snap}`);
    await this.psql(
      svc,
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${db.replaceAll("'", "''")}' AND pid <> pg_backend_pid()`,
    );
    await this.psql(svc, `CREATE DATABASE ${snap} TEMPLATE ${ident(db)} STRATEGY FILE_COPY`);
  }

  async resetService(envName: string, name: string): Promise<void> {
    const svc = this.service(envName, name);
    const c = svc.container;
    if (svc.kind === "postgres") {
      const db = c.database ?? "test";
      const snapName = `${db}__cleanroom_snapshot`.slice(0, 63);
      const r = await this.execIn(
        c.id,
        [
          "psql",
          "-tA",
          "-h",
          "127.0.0.1",
          "-p",
          String(c.port),
          "-U",
          c.user ?? "test",
          "-d",
          "postgres",
          "-c",
          `SELECT count(*) FROM pg_database WHERE datname = '${snapName}'`,
        ],
        { PGPASSWORD: c.password ?? "" },
      );
      const template = r.output.trim() === "1" ? snapName : "template1";
      await this.psql(svc, `DROP DATABASE IF EXISTS ${ident(db)} WITH (FORCE)`);
      await this.psql(
        svc,
        `CREATE DATABASE ${ident(db)} OWNER ${ident(c.user ?? "test")} TEMPLATE ${ident(template)} STRATEGY FILE_COPY`,
      );
    } else if (svc.kind === "redis") {
      const r = await this.execIn(c.id, [
        "redis-cli",
        "-p",
        String(c.port),
        "--no-auth-warning",
        ...(c.password ? ["-a", c.password] : []),
        "FLUSHALL",
      ]);
      if (!r.output.includes("OK"))
        throw new GgenError("CLEANROOM_REDIS_RESET", `FLUSHALL failed: ${r.output.trim()}`);
    } else {
      throw new GgenError("CLEANROOM_RESET", `no reset for service kind ${svc.kind}`, { kind: "usage" });
    }
  }

  commandEnv(rec: EnvironmentRecord, options: ExecOptions): Record<string, string> {
    const env: Record<string, string> = {
      PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
      HOME: TEST_TMPDIR,
      TMPDIR: TEST_TMPDIR,
      TEST_TMPDIR,
      TEST_UNDECLARED_OUTPUTS_DIR: OUTPUTS,
      TZ: "UTC",
      LANG: "C.UTF-8",
      LC_ALL: "C.UTF-8",
      CI: "true",
      CLEANROOM_ENVIRONMENT: rec.name,
    };
    for (const c of rec.spec.caches ?? []) {
      if (c === "npm") Object.assign(env, { npm_config_cache: "/caches/npm", npm_config_offline: "true" });
      if (c === "cargo") Object.assign(env, { CARGO_HOME: "/caches/cargo", CARGO_NET_OFFLINE: "true" });
    }
    for (const svc of Object.values(this.state.read().services)) {
      if (svc.environment === rec.name) Object.assign(env, svc.env);
    }
    if (options.shard) {
      env.TEST_SHARD_INDEX = String(options.shard.index);
      env.TEST_TOTAL_SHARDS = String(options.shard.total);
      env.TEST_SHARD_STATUS_FILE = `${TEST_TMPDIR}/.shard-status`;
    }
    Object.assign(env, rec.spec.env ?? {}, options.env ?? {});
    return env;
  }

  async exec(envName: string, argv: string[], options: ExecOptions = {}): Promise<ExecResult> {
    if (argv.length === 0) throw new GgenError("CLEANROOM_EXEC", "nothing to run", { kind: "usage" });
    const rec = this.record(envName);
    const t0 = performance.now();
    const timeoutMs = options.timeoutMs ?? this.config.environment.defaultTimeoutSeconds * 1000;
    const cwd = options.cwd ? containerPath(options.cwd) : WORKDIR;
    const client = await this.client();
    const container = client.container.getById(rec.containerId!);
    let stdinFile: string | undefined;
    if (options.stdin !== undefined) {
      stdinFile = `${TEST_TMPDIR}/.stdin-${process.pid}-${Math.random().toString(36).slice(2)}`;
      await putFile(client, container, stdinFile, options.stdin);
    }
    // GNU timeout runs the command in its own process group and kills the whole group.
    const seconds = Math.max(0.1, timeoutMs / 1000).toFixed(2);
    const script = stdinFile ? 'f=$1; shift; exec "$@" < "$f"' : 'shift; exec "$@" < /dev/null';
    const full = ["timeout", "-s", "KILL", seconds, "sh", "-c", script, "sh", stdinFile ?? "-", ...argv];
    const env = this.commandEnv(rec, options);
    const exec = await container.exec({
      Cmd: full,
      Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
      WorkingDir: cwd,
      AttachStdin: false,
      AttachStdout: true,
      AttachStderr: true,
    });
    const stream = (await exec.start({ hijack: true, stdin: false })) as NodeJS.ReadableStream;
    let stdout = "";
    let stderr = "";
    // Docker multiplexes both streams: 8-byte frame headers (stream id, size), parsed as data arrives.
    let pending = Buffer.alloc(0);
    const onAbort = () => {
      void exec.inspect().then((info) => {
        // The exec's leader is GNU timeout, leader of its own process group (a host pid here).
        if (info.Pid > 0) {
          try {
            process.kill(-info.Pid, "SIGKILL");
          } catch {
            // gone
          }
        }
      });
    };
    options.signal?.addEventListener("abort", onAbort, { once: true });
    await new Promise<void>((ok, fail) => {
      stream.on("data", (chunk: Buffer) => {
        pending = Buffer.concat([pending, chunk]);
        while (pending.length >= 8) {
          const size = pending.readUInt32BE(4);
          if (pending.length < 8 + size) break;
          const text = pending.subarray(8, 8 + size).toString("utf8");
          if (pending[0] === 2) {
            stderr += text;
            options.onOutput?.(text, "stderr");
          } else {
            stdout += text;
            options.onOutput?.(text, "stdout");
          }
          pending = pending.subarray(8 + size);
        }
      });
      stream.on("end", () => ok());
      stream.on("close", () => ok());
      stream.on("error", fail);
    });
    options.signal?.removeEventListener("abort", onAbort);
    let exitCode: number | null = null;
    for (let i = 0; i < 100; i++) {
      const info = await exec.inspect();
      if (!info.Running) {
        exitCode = info.ExitCode;
        break;
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    if (stdinFile) await client.container.exec(container, ["rm", "-f", stdinFile]).catch(() => undefined);
    const durationMs = Math.round(performance.now() - t0);
    const timedOut = exitCode === 137 && durationMs >= timeoutMs - 50;
    return {
      exitCode,
      signal: exitCode === 137 ? "SIGKILL" : null,
      stdout,
      stderr,
      durationMs,
      timedOut,
      ...(timedOut ? { limit: "timeout" as const } : {}),
    };
  }

  async copyIn(envName: string, hostPath: string, target: string): Promise<void> {
    const rec = this.record(envName);
    const dest = containerPath(target);
    const client = await this.client();
    const container = client.container.getById(rec.containerId!);
    await client.container.exec(container, ["mkdir", "-p", posix.dirname(dest)]);
    // tar the source under the target's name, then unpack at the target's directory.
    const stage = mkdtempSync(join(tmpdir(), "ggen-copyin-"));
    try {
      const staged = join(stage, posix.basename(dest));
      const { cpSync } = await import("node:fs");
      cpSync(hostPath, staged, { recursive: true });
      const tar = spawn("tar", ["-C", stage, "-c", posix.basename(dest)], {
        stdio: ["ignore", "pipe", "inherit"],
      });
      await client.container.putArchive(container, tar.stdout, posix.dirname(dest));
    } finally {
      rmSync(stage, { recursive: true, force: true });
    }
  }

  async copyOut(envName: string, source: string, hostPath: string): Promise<void> {
    const rec = this.record(envName);
    const src = source.startsWith("@outputs/")
      ? posix.join(OUTPUTS, containerRel(source.slice(9)))
      : containerPath(source);
    const client = await this.client();
    const container = client.container.getById(rec.containerId!);
    let stream: NodeJS.ReadableStream;
    try {
      stream = await client.container.fetchArchive(container, src);
    } catch (error) {
      throw new GgenError("CLEANROOM_COPY", `${source} does not exist in environment ${envName}`, {
        kind: "usage",
        cause: error,
      });
    }
    const stage = mkdtempSync(join(tmpdir(), "ggen-copyout-"));
    try {
      await new Promise<void>((ok, fail) => {
        const tar = spawn("tar", ["-x", "-C", stage], { stdio: ["pipe", "ignore", "inherit"] });
        stream.pipe(tar.stdin);
        tar.on("close", (code) => (code === 0 ? ok() : fail(new Error(`tar exited ${code}`))));
        tar.on("error", fail);
      });
      const [entry] = readdirSync(stage);
      if (!entry) throw new GgenError("CLEANROOM_COPY", `${source} is empty`);
      mkdirSync(dirname(resolve(hostPath)), { recursive: true });
      rmSync(hostPath, { recursive: true, force: true });
      renameSync(join(stage, entry), hostPath);
    } finally {
      rmSync(stage, { recursive: true, force: true });
    }
  }

  async outputs(envName: string): Promise<{ dir: string; files: string[] }> {
    const rec = this.record(envName);
    const r = await this.execIn(rec.containerId!, ["find", OUTPUTS, "-type", "f"]);
    const files = r.stdout
      .split("\n")
      .filter(Boolean)
      .map((f) => posix.relative(OUTPUTS, f))
      .sort();
    return { dir: OUTPUTS, files };
  }

  async metrics(envName: string): Promise<BackendMetrics> {
    const rec = this.record(envName);
    const read = await this.execIn(rec.containerId!, ["sh", "-c", USAGE_SCRIPT]).catch(() => undefined);
    const usage = read?.exitCode === 0 ? parseCgroupUsage(read.stdout) : undefined;
    if (usage) return lifetimeMetrics(usage, rec.createdAt);
    // No readable cgroup inside (an image without sh, say): Docker's stats, a second slower.
    const stats = (await (
      await this.container(rec.containerId!)
    ).stats({ stream: false })) as unknown as DockerStats;
    const mem = stats.memory_stats?.max_usage ?? stats.memory_stats?.usage ?? 0;
    const cpuDelta =
      (stats.cpu_stats?.cpu_usage?.total_usage ?? 0) - (stats.precpu_stats?.cpu_usage?.total_usage ?? 0);
    const sysDelta = (stats.cpu_stats?.system_cpu_usage ?? 0) - (stats.precpu_stats?.system_cpu_usage ?? 0);
    const cpus = stats.cpu_stats?.online_cpus ?? 1;
    return {
      peakMemoryMb: Math.round((mem / 1024 / 1024) * 10) / 10,
      cpuPercent: sysDelta > 0 ? Math.round((cpuDelta / sysDelta) * cpus * 1000) / 10 : 0,
      cpuUserMs: Math.round((stats.cpu_stats?.cpu_usage?.usage_in_usermode ?? 0) / 1e6),
      cpuSystemMs: Math.round((stats.cpu_stats?.cpu_usage?.usage_in_kernelmode ?? 0) / 1e6),
    };
  }

  async stale(): Promise<{ environments: string[]; services: string[] }> {
    const state = this.state.read();
    const environments: string[] = [];
    for (const e of Object.values(state.environments)) {
      if (e.backend === "testcontainers" && (await this.staleReason(e))) environments.push(e.name);
    }
    const services: string[] = [];
    for (const [key, s] of Object.entries(state.services)) {
      if (s.backend === "testcontainers" && !(await this.running(s.container?.id))) services.push(key);
    }
    return { environments, services };
  }

  async prune(options: { all?: boolean } = {}): Promise<{ removed: string[] }> {
    const removed: string[] = [];
    const failed: string[] = [];
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
    for (const info of await this.labelled()) {
      const verdict = pruneVerdict(info.Labels, owned.has(info.Id), { all: options.all === true });
      if (!verdict.remove) continue;
      try {
        await this.removeContainer(info.Id);
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
        if (v.backend === "testcontainers" && (options.all || (v.container && gone.has(v.container.id))))
          delete s.services[k];
      }
      if (options.all) {
        for (const [k, v] of Object.entries(s.environments))
          if (v.backend === "testcontainers") delete s.environments[k];
      }
    });
    // Copy-on-write cache layers: judged like containers, by a state entry and by their creator.
    const entries = this.state.read().environments;
    const root = cowRoot(this.scope);
    for (const name of existsSync(root) ? readdirSync(root) : []) {
      const dir = join(root, name);
      const owner = readOwner(join(dir, OWNER_FILE));
      const verdict = pruneVerdict(owner ? ownerLabels(owner) : {}, entries[name] !== undefined, {
        all: options.all === true,
      });
      if (!verdict.remove) continue;
      try {
        await this.removeCow(dir);
        removed.push(`cache layers of ${name} (${verdict.why})`);
      } catch (error) {
        failed.push(`cache layers of ${name}: ${firstLine(error)}`);
      }
    }
    if (failed.length > 0) {
      throw new GgenError("CLEANROOM_PRUNE", `prune could not remove ${failed.join("; ")}`, {
        hint: "check that Docker answers (`docker ps`), then run `cleanroom container prune` again",
      });
    }
    return { removed };
  }

  /** Every container labelled for this state dir, running or not (prune must see stopped ones too). */
  private async labelled() {
    const client = await this.client();
    return await client.container.dockerode.listContainers({
      all: true,
      filters: { label: [`${LABEL}=${this.scope}`] },
    });
  }

  /** Containers this backend's state dir owns (label io.ggen.cleanroom=<scope>), stopped ones too, for leak checks. */
  async containers(): Promise<string[]> {
    return (await this.labelled()).map((c) => c.Id);
  }
}

function firstLine(error: unknown): string {
  return String((error as Error)?.message ?? error).split("\n")[0] ?? "";
}

interface DockerStats {
  memory_stats?: { usage?: number; max_usage?: number };
  cpu_stats?: {
    online_cpus?: number;
    system_cpu_usage?: number;
    cpu_usage?: { total_usage?: number; usage_in_usermode?: number; usage_in_kernelmode?: number };
  };
  precpu_stats?: { system_cpu_usage?: number; cpu_usage?: { total_usage?: number } };
}

/** Docker's multiplexed log format: 8-byte headers (stream, 0, 0, 0, size) before each frame. */
export function demux(buf: Buffer): string {
  const parts: Buffer[] = [];
  let at = 0;
  while (at + 8 <= buf.length) {
    const type = buf[at];
    const size = buf.readUInt32BE(at + 4);
    if (type === undefined || type > 2 || buf[at + 1] !== 0) return buf.toString("utf8");
    parts.push(buf.subarray(at + 8, at + 8 + size));
    at += 8 + size;
  }
  return Buffer.concat(parts).toString("utf8");
}

/** One word for `sh -c`, whatever it holds. */
function shellQuote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

function ident(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

function containerRel(p: string): string {
  const norm = posix.normalize(p.replace(/^\/+/, ""));
  if (norm.startsWith(".."))
    throw new GgenError("CLEANROOM_PATH", `${p} escapes the environment`, { kind: "usage" });
  return norm;
}

/** A path inside the environment's workdir (relative, or absolute under /work); no escapes. */
function containerPath(p: string): string {
  if (posix.isAbsolute(p)) {
    const norm = posix.normalize(p);
    if (norm === WORKDIR || norm.startsWith(`${WORKDIR}/`)) return norm;
    throw new GgenError("CLEANROOM_PATH", `${p} escapes the environment`, { kind: "usage" });
  }
  return posix.join(WORKDIR, containerRel(p));
}

async function putFile(
  client: ContainerRuntimeClient,
  container: DockerContainer,
  path: string,
  content: string,
) {
  const stage = mkdtempSync(join(tmpdir(), "ggen-stdin-"));
  try {
    writeFileSync(join(stage, basename(path)), content);
    const tar = spawn("tar", ["-C", stage, "-c", basename(path)], { stdio: ["ignore", "pipe", "inherit"] });
    await client.container.putArchive(container, tar.stdout, posix.dirname(path));
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

const OWNER_FILE = "owner.json";

function readOwner(file: string): ProcessRef | undefined {
  try {
    const ref = JSON.parse(readFileSync(file, "utf8")) as ProcessRef;
    return Number.isInteger(ref.pid) && ref.pid > 0
      ? { pid: ref.pid, start: String(ref.start ?? "") }
      : undefined;
  } catch {
    return undefined;
  }
}

/** Per user and state dir, under the temp dir: the copy-on-write layers of its environments. */
function cowRoot(scope: string): string {
  return join(tmpdir(), `ggen-cleanroom-${process.getuid?.() ?? "user"}`, `tc-cow-${scope}`);
}

function cacheDirs(): Record<"npm" | "cargo", string> {
  const home = process.env.HOME ?? "/root";
  return {
    npm: process.env.npm_config_cache ?? join(home, ".npm"),
    cargo: process.env.CARGO_HOME ?? join(home, ".cargo"),
  };
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise((ok, fail) => {
    const t = setTimeout(() => fail(new Error(`timed out after ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        ok(v);
      },
      (e) => {
        clearTimeout(t);
        fail(e);
      },
    );
  });
}
