// The copy-on-write layers of a testcontainers environment's package caches: an overlay volume of
// Docker's local driver over the host's cache, whose upper and work dirs live on the Docker host (this
// machine) under $TMPDIR/ggen-cleanroom-<uid>/tc-cow-<scope>/<env>, removed with the environment. Until
// the environment's state entry exists, the layers name their creator (owner.json) so prune can judge them.
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { GgenError, type ProcessRef, processRef } from "@ggen/support";
import type { EnvironmentSpec } from "../backend.js";
import { hostCacheDirs } from "../host-caches.js";
import { ownerGone } from "../state/records.js";
import type { EnvironmentRecord } from "../state/store.js";
import { CleanroomContainer, type Docker, type DockerMount, firstLine } from "./docker.js";
import { LABEL, ownerLabels, pruneVerdict } from "./owner.js";
import { exitedProbe, ProbeWaitStrategy } from "./probe.js";

/** Overlay mount options cannot hold these in a path. */
const OVERLAY_UNSAFE = /[,:\\\s]/;
const OWNER_FILE = "owner.json";

/** A bind mount as testcontainers-node takes it. */
export interface Bind {
  source: string;
  target: string;
  mode: "rw" | "ro";
}

export class CacheLayers {
  /** Per user and state dir, under the temp dir: the layers of its environments. */
  readonly root: string;

  constructor(private readonly docker: Docker) {
    this.root = join(tmpdir(), `ggen-cleanroom-${process.getuid?.() ?? "user"}`, `tc-cow-${docker.scope}`);
  }

  /** Where an environment's layers live. */
  dir(envName: string): string {
    return join(this.root, envName);
  }

  /**
   * The environment's package caches, copy-on-write: an overlay volume over the host's cache, whose
   * upper layer takes every write — npm writes to its cache even offline, and a read-only one fails
   * installs without a lockfile (ENOTCACHED). The host's cache is never written. A cache whose path
   * overlayfs cannot name is bound read-only instead (pushed onto `binds`).
   */
  async mounts(spec: EnvironmentSpec, binds: Bind[]): Promise<DockerMount[]> {
    const cow = this.dir(spec.name);
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
      await this.remove(cow);
    }
    const caches = hostCacheDirs();
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

  /**
   * Removes layers. What the container wrote there belongs to its root, which this process may not
   * be: then a one-off container of the environment image removes it.
   */
  async remove(dir: string): Promise<void> {
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
    const image = await this.docker.resolveImage("node");
    const done = await new CleanroomContainer(image)
      .withNetworkMode("none")
      .withEntrypoint([])
      .withCommand(["rm", "-rf", `/cow/${basename(dir)}`])
      .withBindMounts([{ source: dirname(dir), target: "/cow", mode: "rw" }])
      .withLabels({ [LABEL]: this.docker.scope, [`${LABEL}.role`]: "cleanup" })
      .withWaitStrategy(new ProbeWaitStrategy("cleanup", exitedProbe(this.docker), 50, true))
      .startOn(await this.docker.client());
    // Removed once it is done (and waited for, so nothing of it outlives this call).
    await this.docker.removeContainer(done.getId());
    rmSync(dir, { recursive: true, force: true });
  }

  /** Layers judged like containers: by a state entry (`entries`) and by their creator. */
  async prune(
    entries: Record<string, EnvironmentRecord>,
    options: { all: boolean },
  ): Promise<{ removed: string[]; failed: string[] }> {
    const removed: string[] = [];
    const failed: string[] = [];
    for (const name of existsSync(this.root) ? readdirSync(this.root) : []) {
      const dir = join(this.root, name);
      const owner = readOwner(join(dir, OWNER_FILE));
      const verdict = pruneVerdict(owner ? ownerLabels(owner) : {}, entries[name] !== undefined, options);
      if (!verdict.remove) continue;
      try {
        await this.remove(dir);
        removed.push(`cache layers of ${name} (${verdict.why})`);
      } catch (error) {
        failed.push(`cache layers of ${name}: ${firstLine(error)}`);
      }
    }
    return { removed, failed };
  }
}

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
