// The local backend: environments are directories under environmentsRoot(<stateDir>)/<name> — outside
// the project, so nothing walking the project meets them or the links they hold back into it — commands
// run sandboxed (see sandbox.ts), services are native programs (PostgreSQL, Redis) recorded in state
// (<stateDir>/state.json) so they outlive one CLI call. Isolated environments (as root) get their own
// network namespace shared by their services and commands: nothing but its own loopback.
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  realpathSync,
  rmdirSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { rm } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { promisify } from "node:util";
import { GgenError, processRef, refAlive } from "@ggen/support";
import { AbstractBackend, type BackendOptions } from "../abstract-backend.js";
import type { BackendMetrics, Environment, EnvironmentSpec, ExecOptions, ExecResult } from "../backend.js";
import {
  checkName,
  commandEnvironment,
  configHash,
  environmentRecord,
  lifetimeMetrics,
  publicEnv,
  type ServiceInstance,
  type ServiceLaunch,
} from "../state/records.js";
import type { EnvironmentRecord, ServiceRecord } from "../state/store.js";
import { removeInstanceDir, removeTree } from "../util/fs.js";
import { isAlive, killTree } from "../util/proc.js";
import { cacheViews } from "./caches.js";
import { Cgroup, detectCgroups } from "./cgroup.js";
import { ensureUserRoot, environmentsRoot, inside, removeEnvironmentDir } from "./paths.js";
import { killGroup, killMarked, orphanPids } from "./processes.js";
import { capabilities, plannedIsolation, runSandboxed, type SandboxPlan } from "./sandbox.js";
import {
  nativeHealth,
  nativeLogs,
  resetNative,
  snapshotNative,
  startNative,
  stopNative,
} from "./services.js";

const run = promisify(execFile);

const ALLOWED_HOST_ENV = ["PATH", "TERM"];

export type LocalBackendOptions = BackendOptions;

export class LocalBackend extends AbstractBackend {
  readonly name = "local" as const;
  /** Where this state dir's environment directories live (see environmentsRoot). */
  readonly envRoot: string;

  constructor(options: LocalBackendOptions) {
    super(options);
    this.envRoot = environmentsRoot(options.stateDir);
  }

  private envDir(name: string): string {
    return join(this.envRoot, name);
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
      const rec = environmentRecord("local", spec, { workdir, dir, isolation, netns, cgroup });
      state.environments[spec.name] = rec;
      return publicEnv(rec);
    });
  }

  /** Kills what the environment runs, removes its cgroup, namespace and directory. */
  protected async removeEnvironment(rec: EnvironmentRecord): Promise<void> {
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

  protected async environmentGone(rec: EnvironmentRecord): Promise<string | undefined> {
    if (!existsSync(rec.dir)) return `its directory ${rec.dir} is gone`;
    if (rec.netns !== undefined && !existsSync(rec.netns))
      return `its network namespace ${rec.netns} is gone`;
    return undefined;
  }

  protected serviceLocation(rec: EnvironmentRecord): Record<string, string> {
    return { netns: rec.netns ?? "host" };
  }

  protected async startInstance(rec: EnvironmentRecord, want: ServiceLaunch): Promise<ServiceInstance> {
    return await startNative(rec, want.spec, {
      persistent: want.persistent,
      stateDir: this.state.dir,
      config: this.config,
    });
  }

  protected async sharedService(hash: string, services: ServiceRecord[]): Promise<ServiceRecord | undefined> {
    return services.find((s) => s.persistent && s.configHash === hash && s.local && isAlive(s.local.pid));
  }

  protected instanceId(svc: ServiceRecord): string | undefined {
    return svc.local ? `pid ${svc.local.pid}` : undefined;
  }

  protected async instanceAlive(svc: ServiceRecord): Promise<boolean> {
    return svc.local !== undefined && isAlive(svc.local.pid);
  }

  protected async stopInstance(svc: ServiceRecord): Promise<void> {
    await stopNative(svc.local);
  }

  /** A dead service's directory goes before a new service takes its name. */
  protected override async discardService(svc: ServiceRecord): Promise<void> {
    if (svc.local) removeInstanceDir(svc.local.dir);
  }

  async serviceLogs(envName: string, name: string): Promise<string> {
    return nativeLogs(this.service(envName, name).local!);
  }

  async serviceHealth(envName: string, name: string) {
    return await nativeHealth(this.service(envName, name).local!);
  }

  async resetService(envName: string, name: string): Promise<void> {
    await resetNative(this.service(envName, name).local!);
  }

  /** Save the current content as what `resetService` returns to (PostgreSQL; Redis resets to empty). */
  async snapshotService(envName: string, name: string): Promise<void> {
    await snapshotNative(this.service(envName, name).local!);
  }

  /** The environment variables a command gets: an allow-list, never the host's whole environment. */
  commandEnv(rec: EnvironmentRecord, options: ExecOptions): Record<string, string> {
    const host: Record<string, string> = {};
    for (const key of ALLOWED_HOST_ENV) {
      const v = process.env[key];
      if (v !== undefined) host[key] = v;
    }
    host.PATH ??= "/usr/local/bin:/usr/bin:/bin";
    // HOME is private, so rustup would find no toolchain: point it at the host's (it only reads there).
    const rustup = process.env.RUSTUP_HOME ?? join(homedir(), ".rustup");
    if (existsSync(rustup)) host.RUSTUP_HOME = rustup;
    const caches: Record<string, string> = {};
    for (const cache of rec.spec.caches ?? []) {
      const target = join(rec.dir, "caches", cache);
      // npm: offline when isolated (there is no network); otherwise the cache first, the registry for
      // what it lacks.
      if (cache === "npm")
        Object.assign(caches, {
          npm_config_cache: target,
          npm_config_prefer_offline: "true",
          ...(rec.spec.isolated ? { npm_config_offline: "true" } : {}),
        });
      if (cache === "cargo") Object.assign(caches, { CARGO_HOME: target, CARGO_NET_OFFLINE: "true" });
    }
    const tmp = join(rec.dir, "tmp");
    return commandEnvironment(rec, Object.values(this.state.read().services), options, {
      host,
      tmp,
      outputs: join(rec.dir, "outputs"),
      caches,
    });
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
    const overlays = await cacheViews(rec, privateLayers, (name, fn) => this.state.lock(name, fn));
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
      const why = await this.staleReason(rec);
      // Its own services (started for it, still running) go with it, as on delete.
      for (const [key, svc] of Object.entries(state.services)) {
        if (svc.environment === name && !svc.persistent && !stale.services.includes(key)) {
          await this.stopService(name, svc.name).catch(() => undefined);
          removed.push(`service ${key}`);
        }
      }
      for (const c of rec.commands ?? []) if (killGroup(c.pgid, rec)) removed.push(`process group ${c.pgid}`);
      for (const pid of killMarked(rec)) removed.push(`process ${pid} (left by environment ${name})`);
      await this.removeEnvironment(rec);
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
          await stopNative(svc.local);
          removed.push(`service ${key}`);
        }
      }
      for (const rec of Object.values(state.environments)) {
        if (rec.backend === "local" && !stale.environments.includes(rec.name)) {
          await this.removeEnvironment(rec);
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
