// The Docker engine as one state dir sees it: its client (testcontainers-node's), the labels that mark
// what this state dir started (so prune finds it), images with a local fallback, and the container
// operations every part of the backend needs (run a command, check, remove and wait).
import { resolve } from "node:path";
import { GgenError, sha256 } from "@ggen/support";
import {
  type ContainerRuntimeClient,
  GenericContainer,
  getContainerRuntimeClient,
  ImageName,
} from "testcontainers";
import type { CleanroomConfig } from "../config.js";
import { LABEL } from "./owner.js";

export type DockerContainer = ReturnType<ContainerRuntimeClient["container"]["getById"]>;

/** A pull that failed once in this process is not tried again (no registry here is the common case). */
const pullFailures = new Map<string, Error>();

/** A Docker mount (HostConfig.Mounts): here, overlay volumes of the local driver. */
export interface DockerMount {
  Type: "volume";
  Target: string;
  VolumeOptions: { DriverConfig: { Name: string; Options: Record<string, string> } };
}

/** GenericContainer plus a process-count limit (Docker's PidsLimit) and Docker mounts. */
export class CleanroomContainer extends GenericContainer {
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

export class Docker {
  /** Labels every container of this state dir carries: a hash of the state dir's path. */
  readonly scope: string;
  private clientPromise: Promise<ContainerRuntimeClient> | undefined;

  constructor(
    stateDir: string,
    private readonly config: CleanroomConfig,
  ) {
    this.scope = sha256(resolve(stateDir)).slice(0, 12);
  }

  client(): Promise<ContainerRuntimeClient> {
    this.clientPromise ??= getContainerRuntimeClient();
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

  /** Removes a container with its anonymous volumes, and waits until Docker has really removed it. */
  async removeContainer(id: string): Promise<void> {
    const client = await this.client();
    const container = client.container.getById(id);
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
