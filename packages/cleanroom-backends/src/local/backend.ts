// The local backend: environments are directories under environmentsRoot(<stateDir>)/<name> — outside
// the project, so nothing walking the project meets them or the links they hold back into it — commands
// run sandboxed (see sandbox.ts), services are native programs (PostgreSQL, Redis) recorded in state
// (<stateDir>/state.json) so they outlive one CLI call. Isolated environments (as root) get their own
// network namespace shared by their services and commands: nothing but its own loopback.
import { execFile } from "node:child_process";
import { createHash, randomUUID } from "node:crypto";
import {
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  renameSync,
  rmdirSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { rm } from "node:fs/promises";
import { homedir, tmpdir } from "node:os";
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { promisify } from "node:util";
import { GgenError } from "@ggen/contract";
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
import {
  type PostgresInstance,
  postgresHandle,
  postgresHealth,
  startPostgres,
} from "../services/postgres.js";
import { type RedisInstance, redisHandle, redisHealth, startRedis } from "../services/redis.js";
import { type EnvironmentRecord, type ServiceRecord, StateStore, serviceKey } from "../state/store.js";
import { removeInstanceDir, removeTree } from "../util/fs.js";
import { groupMembers, isAlive, killTree, processRef, refAlive } from "../util/proc.js";
import { Cgroup, detectCgroups } from "./cgroup.js";
import { capabilities, plannedIsolation, runSandboxed, type SandboxPlan } from "./sandbox.js";

const run = promisify(execFile);

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

export function checkName(what: string, name: string): void {
  if (!NAME.test(name)) {
    throw new GgenError("CLEANROOM_NAME", `invalid ${what} name ${JSON.stringify(name)}`, {
      kind: "usage",
      hint: "letters, digits, '.', '_' and '-', at most 63 characters",
    });
  }
}

export function configHash(parts: unknown): string {
  return createHash("sha256").update(JSON.stringify(parts)).digest("hex").slice(0, 16);
}

const within = (root: string, path: string): boolean => {
  const rel = relative(root, path);
  return rel !== ".." && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
};

/**
 * Resolve `target` inside `root`, refusing escapes, also through symlinks. A path under one of `mounts`
 * is checked against that mount's host directory (the link or placeholder at its target leads there),
 * anything else against `root` — in both cases real path against real path, so a mount reached through
 * a symlink is inside, and a symlink leading out of the root or out of the mount is not.
 */
export function inside(
  root: string,
  target: string,
  mounts: readonly { host: string; target: string }[] = [],
): string {
  const full = resolve(root, target.replace(/^\/+/, ""));
  if (!within(root, full)) {
    throw new GgenError("CLEANROOM_PATH", `${target} escapes the environment`, {
      kind: "usage",
      hint: "give a path inside the environment's workdir",
    });
  }
  const mount = mounts
    .map((m) => ({ host: m.host, at: resolve(root, m.target.replace(/^\/+/, "")) }))
    .filter((m) => within(m.at, full))
    .sort((a, b) => b.at.length - a.at.length)[0];
  const base = mount ? realpathSync(mount.host) : realpathSync(root);
  // The same path as the host sees it, then its deepest existing part (which may be a symlink).
  let probe = join(base, relative(mount ? mount.at : root, full));
  while (!lstatSync(probe, { throwIfNoEntry: false }) && probe !== base) probe = dirname(probe);
  let real: string | undefined;
  try {
    real = realpathSync(probe);
  } catch {
    real = undefined; // a dangling symlink: where it would lead is not known, so refuse it
  }
  if (real === undefined || !within(base, real)) {
    throw new GgenError("CLEANROOM_PATH", `${target} escapes the environment through a symlink`, {
      kind: "usage",
      hint: "links inside an environment (or a mount) must stay inside it",
    });
  }
  return full;
}

/**
 * Where a state dir's environment directories live: under the temp dir, per user, keyed by a hash of
 * the state dir — never inside the project, whose tree would then hold links back into itself.
 */
export function environmentsRoot(stateDir: string): string {
  // The real path of its nearest existing ancestor, so the key does not change once the dir is made.
  let known = resolve(stateDir);
  while (!existsSync(known) && dirname(known) !== known) known = dirname(known);
  const key = configHash(join(realpathSync(known), relative(known, resolve(stateDir))));
  return join(tmpdir(), `ggen-cleanroom-${process.getuid?.() ?? "user"}`, `envs-${key}`);
}

/** Make (or check) the per-user root under the shared temp dir: a real directory that we own. */
function ensureUserRoot(dir: string): void {
  // Traversable by all (PostgreSQL runs as another user), listable by us only.
  mkdirSync(dir, { recursive: true, mode: 0o711 });
  const st = lstatSync(dir);
  const uid = process.getuid?.();
  if (!st.isDirectory() || (uid !== undefined && st.uid !== uid)) {
    throw new GgenError(
      "CLEANROOM_ENV_ROOT",
      `${dir} is not a directory owned by you, so environments cannot live there`,
      { hint: "remove it, or point TMPDIR at a directory of your own" },
    );
  }
}

const ALLOWED_HOST_ENV = ["PATH", "TERM"];

function cacheDirs(): Record<"npm" | "cargo", string> {
  return {
    npm: process.env.npm_config_cache ?? join(homedir(), ".npm"),
    cargo: process.env.CARGO_HOME ?? join(homedir(), ".cargo"),
  };
}

export interface LocalBackendOptions {
  stateDir: string;
  config: CleanroomConfig;
}

export class LocalBackend implements Backend {
  readonly name = "local" as const;
  readonly state: StateStore;
  readonly config: CleanroomConfig;

  constructor(options: LocalBackendOptions) {
    this.state = new StateStore(options.stateDir);
    this.config = options.config;
    this.envRoot = environmentsRoot(options.stateDir);
  }

  /** Where this state dir's environment directories live (see environmentsRoot). */
  readonly envRoot: string;

  private envDir(name: string): string {
    return join(this.envRoot, name);
  }

  private record(name: string): EnvironmentRecord {
    const rec = this.state.read().environments[name];
    if (rec?.backend !== "local") {
      throw new GgenError("CLEANROOM_NO_ENV", `no local environment named ${name}`, {
        kind: "usage",
        hint: "create it with `cleanroom environment create --name <name>`",
      });
    }
    return rec;
  }

  async createEnvironment(spec: EnvironmentSpec): Promise<Environment> {
    checkName("environment", spec.name);
    const isolated = spec.isolated ?? false;
    const limits = {
      memoryMb: spec.memoryMb ?? this.config.environment.defaultMemoryMb,
      cpus: spec.cpus ?? this.config.environment.defaultCpus,
      pids: spec.pids ?? (isolated ? this.config.environment.defaultPids : undefined),
    };
    const wantsLimits = Boolean(limits.memoryMb || limits.cpus || limits.pids || spec.cpuSeconds);
    const dir = this.envDir(spec.name);
    return await this.state.update(async (state) => {
      const existing = state.environments[spec.name];
      if (existing) {
        throw new GgenError("CLEANROOM_ENV_EXISTS", `environment ${spec.name} already exists`, {
          kind: "usage",
          hint: `delete it first, or use another name (backend ${existing.backend})`,
        });
      }
      ensureUserRoot(dirname(this.envRoot));
      removeTree(dir);
      for (const sub of ["work", "tmp", "outputs", "logs", "services"])
        mkdirSync(join(dir, sub), { recursive: true });
      const workdir = join(dir, "work");
      const isolation = plannedIsolation(isolated, wantsLimits);
      const c = capabilities();
      for (const m of spec.mounts ?? []) {
        if (!existsSync(m.host)) {
          throw new GgenError("CLEANROOM_MOUNT", `mount source ${m.host} does not exist`, { kind: "usage" });
        }
        const target = inside(workdir, m.target);
        mkdirSync(dirname(target), { recursive: true });
        if (isolated && c.bwrap) {
          // A placeholder the sandbox mounts over.
          if (statSync(m.host).isDirectory()) mkdirSync(target, { recursive: true });
          else writeFileSync(target, "");
        } else {
          // No mount namespace: a symlink (not read-only; the isolation report says filesystem: false).
          const { symlinkSync } = await import("node:fs");
          symlinkSync(resolve(m.host), target);
        }
      }
      let netns: string | undefined;
      if (isolated && c.netns) {
        const nsName = `ggen-${this.cgroupPrefix()}${configHash([spec.name, randomUUID()]).slice(0, 6)}`;
        await run("ip", ["netns", "add", nsName]);
        await run("ip", ["netns", "exec", nsName, "ip", "link", "set", "lo", "up"]);
        netns = `/run/netns/${nsName}`;
      }
      let cgroup: string | undefined;
      const layout = detectCgroups();
      if (layout) {
        cgroup = `ggen-cleanroom/${this.cgroupPrefix()}${spec.name}`;
        Cgroup.open(layout, cgroup).create(limits);
      }
      const rec: EnvironmentRecord = {
        name: spec.name,
        backend: "local",
        workdir,
        createdAt: new Date().toISOString(),
        isolation,
        spec,
        dir,
        ...(netns ? { netns } : {}),
        ...(cgroup ? { cgroup } : {}),
        ...(spec.throwaway ? { owner: processRef() } : {}),
      };
      state.environments[spec.name] = rec;
      return publicEnv(rec);
    });
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
    await this.teardown(rec);
    await this.state.update((s) => {
      delete s.environments[name];
    });
  }

  private async teardown(rec: EnvironmentRecord): Promise<void> {
    for (const c of rec.commands ?? []) killGroup(c.pgid, rec);
    killMarked(rec);
    const layout = detectCgroups();
    if (layout && rec.cgroup) {
      await Cgroup.open(layout, rec.cgroup).remove();
      Cgroup.open(layout, "ggen-cleanroom").removeIfEmpty();
    }
    if (rec.netns) {
      const nsName = rec.netns.split("/").pop()!;
      await run("ip", ["netns", "del", nsName]).catch(() => undefined);
    }
    removeEnvironmentDir(rec.dir);
    // The last environment of this state dir takes the (then empty) root with it; a racing create
    // makes it again.
    for (const dir of [this.envRoot, dirname(this.envRoot)]) {
      try {
        rmdirSync(dir);
      } catch {
        break; // not empty, or gone
      }
    }
  }

  async environmentStatus(name: string) {
    const state = this.state.read();
    const rec = state.environments[name];
    if (rec?.backend !== "local") return undefined;
    const services = Object.values(state.services)
      .filter((s) => s.environment === name)
      .map(toService);
    const stale = staleReason(rec);
    return { ...publicEnv(rec), services, alive: stale === undefined, ...(stale ? { stale } : {}) };
  }

  async listEnvironments(): Promise<Environment[]> {
    return Object.values(this.state.read().environments)
      .filter((e) => e.backend === "local")
      .map(publicEnv);
  }

  async startService(envName: string, spec: ServiceSpec): Promise<Service> {
    const rec = this.record(envName);
    const name = spec.name ?? spec.kind;
    checkName("service", name);
    const persistent = spec.persistent ?? rec.spec.persistent ?? false;
    const hash = configHash({
      kind: spec.kind,
      database: spec.database,
      user: spec.user,
      password: spec.password,
      image: spec.image,
      env: spec.env,
      port: spec.port,
      netns: rec.netns ?? "host",
    });
    const start = async (): Promise<Service> => {
      const current = this.state.read();
      const existing = current.services[serviceKey(envName, name)];
      if (existing?.local && !isAlive(existing.local.pid)) {
        // A stale entry (the process died): its directory goes, a new service takes the name.
        removeInstanceDir(existing.local.dir);
      }
      if (existing?.local && isAlive(existing.local.pid)) {
        if (existing.configHash === hash) return toService(existing);
        throw new GgenError(
          "CLEANROOM_SERVICE_EXISTS",
          `service ${name} already runs in ${envName} with another configuration`,
          {
            kind: "usage",
            hint: "stop it first, or give the new one another --name",
          },
        );
      }
      if (persistent) {
        // Another environment (or process) may already run the same configuration: share it.
        const shared = Object.values(current.services).find(
          (s) => s.persistent && s.configHash === hash && s.local && isAlive(s.local.pid),
        );
        if (shared) {
          const alias: ServiceRecord = { ...shared, environment: envName, name };
          await this.state.update((s) => {
            s.services[serviceKey(envName, name)] = alias;
          });
          return toService(alias);
        }
      }
      const baseDir = join(rec.dir, "services");
      const timeoutMs = spec.timeoutMs ?? this.config.containers.startTimeoutSeconds * 1000;

      let local: PostgresInstance | RedisInstance;
      let url: string;
      let redactedUrl: string;
      let env: Record<string, string>;
      if (spec.kind === "postgres") {
        const h = await startPostgres({
          detached: true,
          baseDir: persistent ? join(this.state.dir, "services") : baseDir,
          timeoutMs,
          ...(spec.database ? { database: spec.database } : {}),
          ...(spec.user ? { user: spec.user } : {}),
          ...(spec.password ? { password: spec.password } : {}),
          ...(spec.image
            ? { binDir: spec.image }
            : this.config.local.postgresBinDir
              ? { binDir: this.config.local.postgresBinDir }
              : {}),
          ...(rec.netns ? { netns: rec.netns } : {}),
          ...(spec.port !== undefined ? { port: spec.port } : {}),
        });
        local = stripHandle(h) as unknown as PostgresInstance;
        ({ url, redactedUrl, env } = h);
      } else if (spec.kind === "redis") {
        const h = await startRedis({
          detached: true,
          baseDir: persistent ? join(this.state.dir, "services") : baseDir,
          timeoutMs,
          ...(spec.password ? { password: spec.password } : {}),
          ...(spec.image
            ? { binary: spec.image }
            : this.config.local.redisBinary
              ? { binary: this.config.local.redisBinary }
              : {}),
          ...(rec.netns ? { netns: rec.netns } : {}),
          ...(spec.port !== undefined ? { port: spec.port } : {}),
        });
        local = stripHandle(h) as unknown as RedisInstance;
        ({ url, redactedUrl, env } = h);
      } else {
        throw new GgenError(
          "CLEANROOM_SERVICE_KIND",
          `the local backend cannot run service ${JSON.stringify(spec.kind)}`,
          {
            kind: "usage",
            hint: "local services: postgres, redis (others need the testcontainers backend)",
          },
        );
      }
      const svc: ServiceRecord = {
        environment: envName,
        name,
        kind: spec.kind,
        backend: "local",
        spec,
        configHash: hash,
        persistent,
        startedAt: new Date().toISOString(),
        local,
        url,
        redactedUrl,
        env,
        readyMs: local.readyMs,
      };
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

  private service(envName: string, name: string): ServiceRecord {
    const svc = this.state.read().services[serviceKey(envName, name)];
    if (!svc?.local) {
      throw new GgenError("CLEANROOM_NO_SERVICE", `no service ${name} in environment ${envName}`, {
        kind: "usage",
      });
    }
    return svc;
  }

  async stopService(envName: string, name: string): Promise<void> {
    const svc = this.service(envName, name);
    const state = this.state.read();
    const others = Object.entries(state.services).filter(
      ([key, s]) =>
        key !== serviceKey(envName, name) && s.local && svc.local && s.local.pid === svc.local.pid,
    );
    if (others.length === 0) await stopLocal(svc);
    await this.state.update((s) => {
      delete s.services[serviceKey(envName, name)];
    });
  }

  async serviceLogs(envName: string, name: string): Promise<string> {
    const svc = this.service(envName, name);
    const local = svc.local!;
    return local.kind === "postgres" ? postgresHandle(local).logs() : redisHandle(local).logs();
  }

  async serviceHealth(envName: string, name: string) {
    const local = this.service(envName, name).local!;
    return local.kind === "postgres" ? await postgresHealth(local) : await redisHealth(local);
  }

  async resetService(envName: string, name: string): Promise<void> {
    const local = this.service(envName, name).local!;
    if (local.kind === "postgres") await postgresHandle(local).reset();
    else await redisHandle(local).reset();
  }

  /** Save the current content as what `resetService` returns to (PostgreSQL; Redis resets to empty). */
  async snapshotService(envName: string, name: string): Promise<void> {
    const local = this.service(envName, name).local!;
    if (local.kind === "postgres") await postgresHandle(local).snapshot();
  }

  /** The environment variables a command gets: an allow-list, never the host's whole environment. */
  commandEnv(rec: EnvironmentRecord, options: ExecOptions): Record<string, string> {
    const tmp = join(rec.dir, "tmp");
    const env: Record<string, string> = {};
    for (const key of ALLOWED_HOST_ENV) {
      const v = process.env[key];
      if (v !== undefined) env[key] = v;
    }
    env.PATH ??= "/usr/local/bin:/usr/bin:/bin";
    // HOME is private, so rustup would find no toolchain: point it at the host's (it only reads there).
    const rustup = process.env.RUSTUP_HOME ?? join(homedir(), ".rustup");
    if (existsSync(rustup)) env.RUSTUP_HOME = rustup;
    Object.assign(env, {
      HOME: tmp,
      TMPDIR: tmp,
      TEST_TMPDIR: tmp,
      TEST_UNDECLARED_OUTPUTS_DIR: join(rec.dir, "outputs"),
      TZ: "UTC",
      LANG: "C.UTF-8",
      LC_ALL: "C.UTF-8",
      CI: "true",
      CLEANROOM_ENVIRONMENT: rec.name,
    });
    for (const cache of rec.spec.caches ?? []) {
      const target = join(rec.dir, "caches", cache);
      // npm: offline when isolated (there is no network); otherwise the cache first, the registry for
      // what it lacks.
      if (cache === "npm")
        Object.assign(env, {
          npm_config_cache: target,
          npm_config_prefer_offline: "true",
          ...(rec.spec.isolated ? { npm_config_offline: "true" } : {}),
        });
      if (cache === "cargo") Object.assign(env, { CARGO_HOME: target, CARGO_NET_OFFLINE: "true" });
    }
    for (const svc of Object.values(this.state.read().services)) {
      if (svc.environment === rec.name) Object.assign(env, svc.env);
    }
    if (options.shard) {
      env.TEST_SHARD_INDEX = String(options.shard.index);
      env.TEST_TOTAL_SHARDS = String(options.shard.total);
      env.TEST_SHARD_STATUS_FILE = join(tmp, ".shard-status");
    }
    Object.assign(env, rec.spec.env ?? {}, options.env ?? {});
    return env;
  }

  async exec(envName: string, argv: string[], options: ExecOptions = {}): Promise<ExecResult> {
    if (argv.length === 0) throw new GgenError("CLEANROOM_EXEC", "nothing to run", { kind: "usage" });
    const rec = this.record(envName);
    const isolated = rec.spec.isolated ?? false;
    const bwrap = capabilities().bwrap;
    const layout = detectCgroups();
    const cwd = options.cwd ? inside(rec.workdir, options.cwd, rec.spec.mounts) : rec.workdir;
    const mounts = [
      ...(isolated && bwrap
        ? (rec.spec.mounts ?? []).map((m) => ({ ...m, target: inside(rec.workdir, m.target) }))
        : []),
    ];
    // A command running beside another takes private cache layers, here (removed after it).
    const privateLayers = join(rec.dir, "caches", ".private", randomUUID().slice(0, 8));
    const overlays = await this.cacheViews(rec, privateLayers);
    let cgroup: Cgroup | undefined;
    if (layout && rec.cgroup)
      cgroup = Cgroup.open(layout, rec.cgroup).child(`exec-${randomUUID().slice(0, 8)}`);
    // The command's process group goes into the state entry while it runs: if this process is killed
    // (SIGKILL, no cleanup), `prune` still finds what it left.
    const by = processRef();
    let recorded: Promise<void> | undefined;
    let pgid: number | undefined;
    const plan: SandboxPlan = {
      isolated,
      writable: [join(rec.dir, "work"), join(rec.dir, "tmp"), join(rec.dir, "outputs")],
      mounts,
      overlays,
      overlayLock: join(rec.dir, "caches", ".lock"),
      netns: rec.netns,
      cwd,
      env: this.commandEnv(rec, options),
      cgroup,
      cpuSeconds: rec.spec.cpuSeconds,
      memoryMb: rec.spec.memoryMb,
      pids: rec.spec.pids,
      onStart: (pid) => {
        pgid = pid;
        recorded = this.state.update((s) => {
          const e = s.environments[envName];
          if (e) e.commands = [...(e.commands ?? []), { pgid: pid, by }];
        });
      },
    };
    try {
      return await runSandboxed(plan, argv, {
        ...options,
        timeoutMs: options.timeoutMs ?? this.config.environment.defaultTimeoutSeconds * 1000,
      });
    } finally {
      if (cgroup) await cgroup.remove();
      if (overlays.length > 0) await rm(privateLayers, { recursive: true, force: true }).catch(() => {});
      if (recorded) {
        await recorded;
        await this.state.update((s) => {
          const e = s.environments[envName];
          if (!e?.commands) return;
          e.commands = e.commands.filter((c) => c.pgid !== pgid);
          if (e.commands.length === 0) delete e.commands;
        });
      }
    }
  }

  /**
   * The package caches as commands see them, so that nothing run here writes into the shared cache —
   * while npm can still write its own (it rewrites index buckets even to read metadata, so a read-only
   * cache fails `npm install` without a lockfile with ENOTCACHED). Where an overlay can be mounted
   * (root): copy-on-write over the shared cache, writes landing in the environment's upper layer (the
   * overlays returned). Elsewhere: a private copy, made once per environment at its first command.
   */
  private async cacheViews(
    rec: EnvironmentRecord,
    privateLayers: string,
  ): Promise<NonNullable<SandboxPlan["overlays"]>> {
    const hosts = cacheDirs();
    const out: NonNullable<SandboxPlan["overlays"]> = [];
    for (const name of rec.spec.caches ?? []) {
      const host = hosts[name];
      if (!existsSync(host)) continue;
      const target = join(rec.dir, "caches", name);
      // Overlay options separate paths with ',' and ':'; such paths take the copy instead.
      if (capabilities().overlay && ![host, rec.dir].some((p) => /[,:\\]/.test(p))) {
        const upper = join(rec.dir, "caches", `.${name}-upper`);
        const work = join(rec.dir, "caches", `.${name}-work`);
        for (const d of [target, upper, work]) mkdirSync(d, { recursive: true });
        out.push({
          lower: realpathSync(host),
          upper,
          work,
          privateUpper: join(privateLayers, `${name}-upper`),
          privateWork: join(privateLayers, `${name}-work`),
          target,
        });
        continue;
      }
      if (existsSync(target)) continue;
      await this.state.lock(`cache-${rec.name}-${name}`, async () => {
        if (existsSync(target)) return; // a concurrent exec made it
        const tmp = `${target}.${process.pid}.tmp`;
        removeTree(tmp);
        mkdirSync(dirname(target), { recursive: true });
        try {
          // Copy-on-write where the filesystem can (reflink), a plain copy elsewhere.
          await run("cp", ["-a", "--reflink=auto", host, tmp]);
        } catch (error) {
          removeTree(tmp);
          throw new GgenError(
            "CLEANROOM_CACHE",
            `cannot copy the ${name} cache ${host}: ${(error as Error).message}`,
            {
              hint: "make the cache readable, or create the environment without --cache",
              cause: error,
            },
          );
        }
        renameSync(tmp, target);
      });
    }
    return out;
  }

  async copyIn(envName: string, hostPath: string, target: string): Promise<void> {
    const rec = this.record(envName);
    const dest = inside(rec.workdir, target, rec.spec.mounts);
    mkdirSync(dirname(dest), { recursive: true });
    cpSync(hostPath, dest, { recursive: true, force: true });
  }

  async copyOut(envName: string, source: string, hostPath: string): Promise<void> {
    const rec = this.record(envName);
    const roots = [rec.workdir, join(rec.dir, "outputs")];
    const src = source.startsWith("@outputs/")
      ? inside(roots[1]!, source.slice(9))
      : inside(rec.workdir, source, rec.spec.mounts);
    if (!existsSync(src)) {
      throw new GgenError("CLEANROOM_COPY", `${source} does not exist in environment ${envName}`, {
        kind: "usage",
      });
    }
    mkdirSync(dirname(resolve(hostPath)), { recursive: true });
    cpSync(src, hostPath, { recursive: true, force: true });
  }

  /** The per-run undeclared-outputs folder (TEST_UNDECLARED_OUTPUTS_DIR) and the files in it. */
  async outputs(envName: string): Promise<{ dir: string; files: string[] }> {
    const rec = this.record(envName);
    const dir = join(rec.dir, "outputs");
    const files: string[] = [];
    const walk = (d: string) => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        const p = join(d, e.name);
        if (e.isDirectory()) walk(p);
        else files.push(relative(dir, p));
      }
    };
    if (existsSync(dir)) walk(dir);
    return { dir, files: files.sort() };
  }

  async metrics(envName: string): Promise<BackendMetrics> {
    const rec = this.record(envName);
    const layout = detectCgroups();
    if (!layout || !rec.cgroup) return { peakMemoryMb: 0, cpuPercent: 0 };
    return lifetimeMetrics(Cgroup.open(layout, rec.cgroup).usage(), rec.createdAt);
  }

  /** Stale entries: environments whose owner, directory or namespace is gone, services whose process died. */
  async stale(): Promise<{ environments: string[]; services: string[] }> {
    const state = this.state.read();
    const environments = Object.values(state.environments)
      .filter((e) => e.backend === "local" && staleReason(e) !== undefined)
      .map((e) => e.name);
    const services = Object.entries(state.services)
      .filter(([, s]) => s.backend === "local" && s.local && !isAlive(s.local.pid))
      .map(([k]) => k);
    return { environments, services };
  }

  async prune(options: { all?: boolean } = {}): Promise<{ removed: string[] }> {
    const removed: string[] = [];
    const stale = await this.stale();
    const state = this.state.read();
    for (const key of stale.services) {
      const svc = state.services[key]!;
      if (svc.local) removeInstanceDir(svc.local.dir);
      removed.push(`service ${key} (process ${svc.local?.pid} gone)`);
    }
    for (const name of stale.environments) {
      const rec = state.environments[name]!;
      const why = staleReason(rec);
      // Its own services (started for it, still running) go with it, as on delete.
      for (const [key, svc] of Object.entries(state.services)) {
        if (svc.environment === name && !svc.persistent && !stale.services.includes(key)) {
          await this.stopService(name, svc.name).catch(() => undefined);
          removed.push(`service ${key}`);
        }
      }
      for (const c of rec.commands ?? []) if (killGroup(c.pgid, rec)) removed.push(`process group ${c.pgid}`);
      for (const pid of killMarked(rec)) removed.push(`process ${pid} (left by environment ${name})`);
      await this.teardown(rec);
      removed.push(`environment ${name} (${why})`);
    }
    // Commands whose caller died while the environment lives on (`cleanroom exec` killed): their groups.
    const orphaned: { env: string; pgid: number }[] = [];
    for (const rec of Object.values(state.environments)) {
      if (rec.backend !== "local" || stale.environments.includes(rec.name)) continue;
      for (const c of rec.commands ?? []) {
        if (refAlive(c.by)) continue;
        if (killGroup(c.pgid, rec)) removed.push(`process group ${c.pgid} (its caller ${c.by.pid} is gone)`);
        orphaned.push({ env: rec.name, pgid: c.pgid });
      }
    }
    if (options.all) {
      for (const [key, svc] of Object.entries(this.state.read().services)) {
        if (svc.backend === "local" && !stale.services.includes(key)) {
          await stopLocal(svc);
          removed.push(`service ${key}`);
        }
      }
      for (const rec of Object.values(state.environments)) {
        if (rec.backend === "local" && !stale.environments.includes(rec.name)) {
          await this.teardown(rec);
          removed.push(`environment ${rec.name}`);
        }
      }
    }
    await this.state.update((s) => {
      for (const key of stale.services) delete s.services[key];
      for (const name of stale.environments) delete s.environments[name];
      for (const o of orphaned) {
        const e = s.environments[o.env];
        if (e?.commands) e.commands = e.commands.filter((c) => c.pgid !== o.pgid);
      }
      if (options.all) {
        for (const [key, svc] of Object.entries(s.services))
          if (svc.backend === "local") delete s.services[key];
        for (const [name, rec] of Object.entries(s.environments))
          if (rec.backend === "local") delete s.environments[name];
      }
    });
    // Orphans no state entry owns: service dirs of dead processes, cgroups, namespaces.
    const layout = detectCgroups();
    if (layout) {
      const owned = new Set(Object.values(this.state.read().environments).map((e) => e.cgroup));
      const parent = layout.parents.pids ?? layout.parents.memory;
      const base = parent ? join(parent, "ggen-cleanroom") : undefined;
      if (base && existsSync(base)) {
        for (const entry of readdirSync(base)) {
          const rel = `ggen-cleanroom/${entry}`;
          if (!owned.has(rel) && entry.startsWith(this.cgroupPrefix())) {
            await Cgroup.open(layout, rel).remove();
            removed.push(`cgroup ${rel}`);
          }
        }
      }
    }
    // Network namespaces named for this state dir that no environment owns.
    const ownedNs = new Set(Object.values(this.state.read().environments).map((e) => e.netns));
    if (existsSync("/run/netns")) {
      for (const ns of readdirSync("/run/netns")) {
        if (ns.startsWith(`ggen-${this.cgroupPrefix()}`) && !ownedNs.has(`/run/netns/${ns}`)) {
          await run("ip", ["netns", "del", ns]).catch(() => undefined);
          removed.push(`network namespace ${ns}`);
        }
      }
    }
    // Processes running inside this state dir or its environments' root (services or commands whose
    // entry was lost) that no entry owns.
    const ownedPids = new Set(
      Object.values(this.state.read().services)
        .map((s) => s.local?.pid)
        .filter((p): p is number => p !== undefined),
    );
    const roots = [this.state.dir, this.envRoot]
      .filter((d) => existsSync(d))
      .map((d) => `${realpathSync(d)}/`);
    // Commands running in a live environment are its own business, not orphans.
    const live = Object.values(this.state.read().environments)
      .filter((e) => e.backend === "local")
      .map((e) => `${existsSync(e.dir) ? realpathSync(e.dir) : e.dir}/`);
    for (const root of roots) {
      for (const pid of orphanPids(root, ownedPids, live)) {
        killTree(pid, "SIGKILL");
        removed.push(`process ${pid} (running in ${root})`);
      }
    }
    // Environment directories no entry owns (an entry lost with its state file), under the lock so
    // that an environment being created right now is not taken for one.
    await this.state.update((s) => {
      if (!existsSync(this.envRoot)) return;
      const owned = new Set(Object.values(s.environments).map((e) => e.dir));
      for (const entry of readdirSync(this.envRoot)) {
        const dir = join(this.envRoot, entry);
        if (owned.has(dir)) continue;
        removeEnvironmentDir(dir);
        removed.push(`directory ${dir}`);
      }
      for (const dir of [this.envRoot, dirname(this.envRoot)]) {
        try {
          rmdirSync(dir);
        } catch {
          break;
        }
      }
    });
    return { removed };
  }

  /** cgroups of this state directory are named ggen-cleanroom/<hash of stateDir>-<environment>. */
  private cgroupPrefix(): string {
    return `${configHash(resolve(this.state.dir)).slice(0, 8)}-`;
  }
}

/** Processes whose working directory is under `root`, except `owned`, their children and our ancestors. */
function orphanPids(root: string, owned: Set<number>, live: string[]): number[] {
  const ancestors = new Set<number>();
  for (let pid = process.pid; pid > 1; ) {
    ancestors.add(pid);
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      pid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    } catch {
      break;
    }
  }
  const out: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (owned.has(pid) || ancestors.has(pid)) continue;
    try {
      const cwd = readlinkSync(`/proc/${pid}/cwd`);
      if (!`${cwd}/`.startsWith(root) || live.some((dir) => `${cwd}/`.startsWith(dir))) continue;
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (owned.has(ppid)) continue; // a service's own worker processes
      out.push(pid);
    } catch {
      // gone, or not ours to read
    }
  }
  return out;
}

/** Why an environment is stale (its owner, directory or namespace is gone), or undefined while it lives. */
function staleReason(rec: EnvironmentRecord): string | undefined {
  if (rec.owner && !refAlive(rec.owner)) return `its owner process ${rec.owner.pid} is gone`;
  if (!existsSync(rec.dir)) return `its directory ${rec.dir} is gone`;
  if (rec.netns !== undefined && !existsSync(rec.netns)) return `its network namespace ${rec.netns} is gone`;
  return undefined;
}

const attempt = (f: () => boolean): boolean => {
  try {
    return f();
  } catch {
    return false;
  }
};

/**
 * Kill every process still carrying the environment's own TEST_TMPDIR (what its commands left, also
 * one started just before its caller died and so never recorded), and every process working in its
 * services dir (a service whose caller died before recording it: PostgreSQL and Redis overwrite their
 * environment with their process titles, but run in their data dirs). Returns their pids.
 */
function killMarked(rec: EnvironmentRecord): number[] {
  const mark = `TEST_TMPDIR=${join(rec.dir, "tmp")}`;
  const services = `${join(rec.dir, "services")}${sep}`;
  const killed: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    // Each unreadable (gone, or not ours) counts as no.
    const marked = attempt(() => readFileSync(`/proc/${entry}/environ`, "utf8").split("\0").includes(mark));
    const serving = attempt(() => `${readlinkSync(`/proc/${entry}/cwd`)}${sep}`.startsWith(services));
    if (!marked && !serving) continue;
    try {
      process.kill(Number(entry), "SIGKILL");
      killed.push(Number(entry));
    } catch {
      // gone already
    }
  }
  return killed;
}

/**
 * Kill process group `pgid` if it still belongs to `rec`: some member runs with the environment's own
 * TEST_TMPDIR, so a group number reused by an unrelated program is left alone. True when killed.
 */
function killGroup(pgid: number, rec: EnvironmentRecord): boolean {
  const mark = `TEST_TMPDIR=${join(rec.dir, "tmp")}`;
  const members = groupMembers(pgid);
  const ours = members.some((pid) => {
    try {
      return readFileSync(`/proc/${pid}/environ`, "utf8").split("\0").includes(mark);
    } catch {
      return false;
    }
  });
  if (!ours) return false;
  try {
    process.kill(-pgid, "SIGKILL");
  } catch {
    // gone meanwhile
  }
  return true;
}

function stripHandle<T extends object>(h: T): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(h)) {
    if (typeof v !== "function" && k !== "url" && k !== "redactedUrl" && k !== "env") out[k] = v;
  }
  return out;
}

async function stopLocal(svc: ServiceRecord): Promise<void> {
  const local = svc.local;
  if (!local) return;
  if (local.kind === "postgres") await postgresHandle(local).stop();
  else await redisHandle(local).stop();
}

export function publicEnv(rec: EnvironmentRecord): Environment {
  return {
    name: rec.name,
    backend: rec.backend,
    workdir: rec.workdir,
    createdAt: rec.createdAt,
    isolation: rec.isolation,
    spec: rec.spec,
  };
}

export function toService(svc: ServiceRecord): Service {
  const local = svc.local;
  return {
    name: svc.name,
    kind: svc.kind,
    environment: svc.environment,
    host: local?.host ?? svc.container?.host ?? "127.0.0.1",
    port: local?.port ?? svc.container?.port ?? 0,
    url: svc.url,
    redactedUrl: svc.redactedUrl,
    ...(svc.container ? { image: svc.container.image } : {}),
    ...(local ? { binary: local.binary } : {}),
    readyMs: svc.readyMs,
    env: svc.env,
  };
}

/** An environment's directory, with the short socket dirs its services' links point to (outside it). */
function removeEnvironmentDir(dir: string): void {
  const services = join(dir, "services");
  if (existsSync(services))
    for (const entry of readdirSync(services)) {
      try {
        removeInstanceDir(join(services, entry));
      } catch {
        // removeTree below takes what this could not
      }
    }
  removeTree(dir);
}
