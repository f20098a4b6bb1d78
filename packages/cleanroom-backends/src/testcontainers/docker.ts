// The Docker engine as one state dir sees it: its client (testcontainers-node's), the labels that mark
// what this state dir started (so prune finds it), images with a local fallback, and the container
// operations every part of the backend needs (run a command, check, remove and wait). One process may
// talk to several engines (one per shard): testcontainers-node keeps one client per process, so a backend
// given an engine builds its own client from testcontainers' clients, and starts containers on it.
import { isIPv6 } from "node:net";
import { resolve } from "node:path";
import { GgenError, sha256 } from "@ggen/support";
import Dockerode from "dockerode";
import {
  ContainerRuntimeClient,
  GenericContainer,
  getContainerRuntimeClient,
  ImageName,
  type StartedTestContainer,
} from "testcontainers";
import { DockerContainerClient } from "testcontainers/build/container-runtime/clients/container/docker-container-client.js";
import { DockerImageClient } from "testcontainers/build/container-runtime/clients/image/docker-image-client.js";
import { DockerNetworkClient } from "testcontainers/build/container-runtime/clients/network/docker-network-client.js";
import type { CleanroomConfig } from "../config.js";
import { engineEndpoint, engineHost, engineIsRemote, engineUrl } from "./detect.js";
import { LABEL } from "./owner.js";
import { ProbeWaitStrategy, started } from "./probe.js";

export type DockerContainer = ReturnType<ContainerRuntimeClient["container"]["getById"]>;

/** A pull that failed once in this process is not tried again (no registry here is the common case). */
const pullFailures = new Map<string, Error>();

/** A Docker mount (HostConfig.Mounts): here, overlay volumes of the local driver. */
export interface DockerMount {
  Type: "volume";
  Target: string;
  VolumeOptions: { DriverConfig: { Name: string; Options: Record<string, string> } };
}

/** A container's mount (HostConfig.Mounts): an overlay volume of the local driver, or an anonymous volume. */
export type AnyMount = DockerMount | { Type: "volume"; Target: string };

/**
 * GenericContainer plus a process-count limit (Docker's PidsLimit), Docker mounts, a read-only root, and a
 * start on a given engine's client.
 */
export class CleanroomContainer extends GenericContainer {
  constructor(image: string) {
    super(image);
    // testcontainers' default (host ports) asks its process-wide client; this backend may have another.
    this.withWaitStrategy(new ProbeWaitStrategy("container", started));
  }

  withPidsLimit(pids: number | undefined): this {
    if (pids) this.hostConfig.PidsLimit = pids;
    return this;
  }

  withMounts(mounts: AnyMount[]): this {
    if (mounts.length > 0) {
      const hc = this.hostConfig as { Mounts?: AnyMount[] };
      hc.Mounts = [...(hc.Mounts ?? []), ...mounts];
    }
    return this;
  }

  /** The root filesystem read-only (the seed's `read_only_root_fs`); writable places are volumes. */
  withReadOnlyRoot(): this {
    this.hostConfig.ReadonlyRootfs = true;
    return this;
  }

  /**
   * What GenericContainer.start() does, on `client` rather than the process-wide one, and without
   * testcontainers' reaper (what this backend starts is labelled, and `prune` removes it).
   */
  async startOn(client: ContainerRuntimeClient): Promise<StartedTestContainer> {
    this.hostConfig.NetworkMode = this.networkMode;
    const start = (
      this as unknown as { startContainer(c: ContainerRuntimeClient): Promise<StartedTestContainer> }
    ).startContainer;
    return await start.call(this, client);
  }
}

/** A client of the engine at `url`, made from testcontainers' own clients (it keeps one per process). */
async function clientFor(url: string): Promise<ContainerRuntimeClient> {
  const endpoint = engineEndpoint(url);
  const dockerode = new Dockerode(
    "socketPath" in endpoint
      ? { socketPath: endpoint.socketPath }
      : {
          host: endpoint.host,
          port: endpoint.port,
          protocol: endpoint.tls ? "https" : "http",
          ...(endpoint.tls ?? {}),
        },
  );
  const info = await dockerode.info();
  const index = info.IndexServerAddress || "https://index.docker.io/v1/";
  const host = engineHost(url);
  return new ContainerRuntimeClient(
    {
      node: { version: process.version, architecture: process.arch, platform: process.platform },
      containerRuntime: {
        host,
        hostIps: [{ address: host, family: isIPv6(host) ? 6 : 4 }],
        remoteSocketPath: "/var/run/docker.sock",
        indexServerAddress: index,
        serverVersion: info.ServerVersion,
        operatingSystem: info.OperatingSystem,
        operatingSystemType: info.OSType,
        architecture: info.Architecture,
        cpus: info.NCPU,
        memory: info.MemTotal,
        runtimes: Object.keys(info.Runtimes ?? {}),
        labels: info.Labels ?? [],
      },
    },
    // Compose is never used here.
    undefined as never,
    new DockerContainerClient(dockerode),
    new DockerImageClient(dockerode, index),
    new DockerNetworkClient(dockerode),
  );
}

export class Docker {
  /** Labels every container of this state dir carries: a hash of the state dir's path. */
  readonly scope: string;
  /** The engine given (option or config.toml), or undefined: testcontainers' own discovery (DOCKER_HOST…). */
  readonly engine: string | undefined;
  /** Where services on the engine's host network are reached (see detect.ts: engineHost). */
  readonly serviceHost: string;
  /** The engine's host is another machine: services there must listen beyond loopback. */
  readonly remote: boolean;
  private clientPromise: Promise<ContainerRuntimeClient> | undefined;

  constructor(
    stateDir: string,
    private readonly config: CleanroomConfig,
    engine?: string,
  ) {
    this.scope = sha256(resolve(stateDir)).slice(0, 12);
    this.engine = engine ?? config.backend.dockerHost;
    this.serviceHost = engineHost(engineUrl(this.engine));
    this.remote = engineIsRemote(engineUrl(this.engine));
  }

  client(): Promise<ContainerRuntimeClient> {
    this.clientPromise ??= this.engine ? clientFor(this.engine) : getContainerRuntimeClient();
    return this.clientPromise;
  }

  /** Forgets the client (testcontainers-node shares one per process; it is asked for again on next use). */
  release(): void {
    this.clientPromise = undefined;
  }

  async container(id: string): Promise<DockerContainer> {
    return (await this.client()).container.getById(id);
  }

  labels(role: string, env: string, extra: Record<string, string> = {}): Record<string, string> {
    return { [LABEL]: this.scope, [`${LABEL}.role`]: role, [`${LABEL}.environment`]: env, ...extra };
  }

  /** Every container labelled for this state dir, running or not (prune must see stopped ones too). */
  async labelled(): Promise<{ Id: string; Labels: Record<string, string> }[]> {
    const client = await this.client();
    return await client.container.dockerode.listContainers({
      all: true,
      filters: { label: [`${LABEL}=${this.scope}`] },
    });
  }

  async exists(id: string): Promise<boolean> {
    return await (await this.container(id)).inspect().then(
      () => true,
      () => false,
    );
  }

  async running(id: string | undefined): Promise<boolean> {
    if (!id) return false;
    try {
      const info = await (await this.container(id)).inspect();
      return info.State.Running;
    } catch {
      return false;
    }
  }

  async execIn(id: string, argv: string[], env: Record<string, string> = {}) {
    const client = await this.client();
    return await client.container.exec(client.container.getById(id), argv, { env });
  }

  /**
   * Removes a container with its anonymous volumes, and waits until Docker has really removed it;
   * `graceSeconds`: stopped first (SIGTERM, then SIGKILL after the grace: `stop_timeout_seconds`).
   */
  async removeContainer(id: string, graceSeconds = 0): Promise<void> {
    const client = await this.client();
    const container = client.container.getById(id);
    // An id from the state file is input: only what this state dir labelled is ever removed.
    const labels = await container.inspect().then(
      (info) => info.Config.Labels ?? {},
      () => undefined,
    );
    if (labels === undefined) return; // gone already
    if (labels[LABEL] !== this.scope) {
      throw new GgenError(
        "CLEANROOM_STATE",
        `container ${id.slice(0, 12)} was not started for this state dir: not removed`,
        {
          hint: "remove the state entry that names it (or the state file)",
        },
      );
    }
    if (graceSeconds > 0) await container.stop({ t: graceSeconds }).catch(() => undefined);
    try {
      await container.remove({ force: true, v: true });
    } catch (error) {
      if (/no such container|404/i.test(String(error))) return;
      if (!/already in progress/i.test(String(error))) throw error;
    }
    // Removal is asynchronous when it was already in progress.
    for (let i = 0; i < 100; i++) {
      try {
        await container.inspect();
      } catch {
        return;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /**
   * The configured image for `kind` (with `[containers] registry` before a name that names none), pulled
   * when absent — or always, with `always_pull_latest` — or the local fallback when it cannot be.
   */
  async resolveImage(kind: string, override?: string): Promise<string> {
    const configured = override ?? this.config.containers.images[kind];
    if (!configured) {
      throw new GgenError("CLEANROOM_IMAGE", `no image configured for ${kind}`, {
        kind: "usage",
        hint: `set [containers.images] ${kind} = "<image>" in .cleanroom/config.toml`,
      });
    }
    const wanted = qualify(configured, this.config.containers.registry);
    const c = this.config.containers;
    const client = await this.client();
    const present = await client.image.exists(ImageName.fromString(wanted));
    if (present && !(c.alwaysPull && c.pull)) return wanted;
    try {
      if (!c.pull) throw new Error("pulling is off ([containers] pull = false)");
      const failed = pullFailures.get(wanted);
      if (failed) throw failed;
      await withTimeout(
        client.image.pull(ImageName.fromString(wanted), { force: present, platform: undefined }),
        c.pullTimeoutSeconds * 1000,
      ).catch((error: Error) => {
        pullFailures.set(wanted, error);
        throw error;
      });
      return wanted;
    } catch (error) {
      if (present) return wanted; // always_pull_latest could not refresh it: the one here is still good
      const fallback = override ? undefined : c.fallbackImages[kind];
      if (fallback && (await client.image.exists(ImageName.fromString(fallback)))) return fallback;
      throw new GgenError(
        "CLEANROOM_IMAGE",
        `image ${wanted} is absent and cannot be pulled (${firstLine(error)})`,
        {
          hint: "build the local images with fixtures/images/build.sh, or set [containers.images] in .cleanroom/config.toml",
          cause: error,
        },
      );
    }
  }
}

/** `registry/name` for a name without a registry (its first part has no '.' or ':' and is not localhost). */
export function qualify(image: string, registry: string | undefined): string {
  if (!registry) return image;
  const first = image.split("/")[0]!;
  const named = image.includes("/") && (first.includes(".") || first.includes(":") || first === "localhost");
  return named ? image : `${registry}/${image}`;
}

export function firstLine(error: unknown): string {
  return String((error as Error)?.message ?? error).split("\n")[0] ?? "";
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
