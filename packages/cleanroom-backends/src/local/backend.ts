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
  lstatSync,
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
import { dirname, join, posix, relative, resolve } from "node:path";
import { promisify } from "node:util";
import {
  GgenError,
  isInside,
  type ProcessRef,
  processRef,
  refAlive,
  writeFileAtomicSync,
} from "@ggen/support";
import { AbstractBackend, type BackendOptions } from "../abstract-backend.js";
import type { BackendMetrics, Environment, EnvironmentSpec, ExecOptions, ExecResult } from "../backend.js";
import {
  checkName,
  checkVariables,
  commandEnvironment,
  configHash,
  environmentRecord,
  isolationOf,
  lifetimeMetrics,
  publicEnv,
  type ServiceInstance,
  type ServiceLaunch,
} from "../state/records.js";
import type { EnvironmentRecord, ServiceRecord } from "../state/store.js";
import { removeInstanceDir } from "../util/fs.js";
import { killTree } from "../util/proc.js";
import { cacheViews } from "./caches.js";
import { Cgroup, detectCgroups } from "./cgroup.js";
import { planIsolation, type SandboxKind } from "./isolation.js";
import { bwrapArgs, fsOps, fstab, skeleton } from "./mount-plan.js";
import {
  ensureUserRoot,
  environmentsRoot,
  hostTopLevel,
  inside,
  mountTable,
  placeMount,
  removeEnvironmentDir,
} from "./paths.js";
import { killGroup, killMarked, orphanPids } from "./processes.js";
import {
  capabilities,
  probeCapabilities,
  runSandboxed,
  type SandboxPlan,
  spawnsIntoCgroup,
} from "./sandbox.js";
import {
  nativeHealth,
  nativeLogs,
  nativeRunning,
  resetNative,
  snapshotNative,
  startNative,
  stopNative,
} from "./services.js";

const run = promisify(execFile);

/** This process, as commands' callers are recorded (its start time is read once). */
let ownRef: ProcessRef | undefined;

/** A command's cgroup name says who started it: `exec-<pid>-<start ticks>-<random>`. */
function commandGroupName(by: ProcessRef, random: string): string {
  return `exec-${by.pid}-${by.start || "x"}-${random}`;
}

/** The caller a command's cgroup is named for, or undefined for another name. */
function commandGroupCaller(name: string): ProcessRef | undefined {
  const m = /^exec-(\d+)-(\d+|x)-[0-9a-f]{8}$/.exec(name);
  return m ? { pid: Number(m[1]), start: m[2] === "x" ? "" : m[2]! } : undefined;
}

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

  async createEnvironment(asked: EnvironmentSpec): Promise<Environment> {
    checkName("environment", asked.name);
    // The machine's probes, side by side (capabilities() below then answers from what they found).
    await probeCapabilities();
    const { spec, defaults } = this.resolveSpec(asked);
    const isolated = spec.isolated === true;
    const dir = this.envDir(spec.name);
    // Everything that can be refused is refused before anything is made.
    const mounts = (spec.mounts ?? []).map((m) => {
      const st = statSync(m.host, { throwIfNoEntry: false });
      if (!st) {
        throw new GgenError("CLEANROOM_MOUNT", `mount source ${m.host} does not exist`, {
          kind: "usage",
          hint: "create it first, or give a path that exists",
        });
      }
      const file = !st.isDirectory();
      return { ...m, file, at: placeMount(m.target, { envDir: dir, isolated, file }) };
    });
    const plan = planIsolation(capabilities(), {
      isolated,
      mounts: mounts.map((m) => ({ writable: m.writable === true, absolute: m.at.absolute !== undefined })),
      limits: { memoryMb: spec.memoryMb, cpus: spec.cpus, pids: spec.pids, cpuSeconds: spec.cpuSeconds },
      defaults,
    });
    if (!plan.ok)
      throw new GgenError(
        "CLEANROOM_UNSUPPORTED",
        `cannot create environment ${spec.name} here: ${plan.missing}`,
      );
    this.checkCapacity(`environment ${spec.name}`);
    // What is recorded is what is applied: a built-in default that cannot be enforced here is not.
    const applied: EnvironmentSpec = { ...spec };
    for (const [k, v] of Object.entries(plan.limits)) if (v !== undefined) Object.assign(applied, { [k]: v });
    if (plan.limits.pids === undefined) delete applied.pids;
    return await this.state.update(async (state) => {
      const existing = state.environments[spec.name];
      if (existing) {
        throw new GgenError("CLEANROOM_ENV_EXISTS", `environment ${spec.name} already exists`, {
          kind: "usage",
          hint: `delete it first, or use another name (backend ${existing.backend})`,
        });
      }
      ensureUserRoot(dirname(this.envRoot));
      // Whatever a create killed midway left under this name (no entry owns it) goes first.
      removeEnvironmentDir(dir);
      const made: { netns?: string; cgroup?: Cgroup } = {};
      try {
        for (const sub of ["work", "tmp", "outputs", "logs", "services"])
          mkdirSync(join(dir, sub), { recursive: true });
        const workdir = join(dir, "work");
        for (const m of mounts) {
          const target = join(workdir, m.at.relative);
          mkdirSync(dirname(target), { recursive: true });
          if (plan.sandbox === "none") {
            // No mount namespace (only writable mounts under the workdir): a symlink.
            symlinkSync(resolve(m.host), target);
          } else if (m.file)
            writeFileSync(target, ""); // a mount point the sandbox mounts over
          else mkdirSync(target, { recursive: true });
        }
        let netns: string | undefined;
        if (plan.netns) {
          const nsName = `ggen-${this.cgroupPrefix()}${configHash([spec.name, randomUUID()]).slice(0, 6)}`;
          await run("ip", ["netns", "add", nsName], { timeout: 60_000 });
          netns = `/run/netns/${nsName}`;
          made.netns = nsName;
          await run("ip", ["netns", "exec", nsName, "ip", "link", "set", "lo", "up"], { timeout: 60_000 });
        }
        let cgroup: string | undefined;
        const layout = detectCgroups();
        if (layout) {
          cgroup = `ggen-cleanroom/${this.cgroupPrefix()}${spec.name}`;
          made.cgroup = Cgroup.open(layout, cgroup);
          made.cgroup.create(plan.limits);
        }
        const rec = environmentRecord("local", applied, {
          workdir,
          dir,
          isolation: isolationOf(plan.guarantees),
          guarantees: plan.guarantees,
          sandbox: plan.sandbox,
          netns,
          cgroup,
        });
        state.environments[spec.name] = rec;
        return publicEnv(rec);
      } catch (error) {
        // A failed create leaves nothing: its cgroup, namespace and directory go.
        if (made.cgroup) await made.cgroup.remove().catch(() => undefined);
        if (made.netns) await run("ip", ["netns", "del", made.netns]).catch(() => undefined);
        removeEnvironmentDir(dir);
        this.removeEmptyRoots();
        throw error;
      }
    });
  }

  /** The environments root, and the per-user dir above it, once they are empty (a racing create remakes them). */
  private removeEmptyRoots(): void {
    for (const dir of [this.envRoot, dirname(this.envRoot)]) {
      try {
        rmdirSync(dir);
      } catch {
        break; // not empty, or gone
      }
    }
  }

  /** Kills what the environment runs, removes its cgroup, namespace, mounts and directory. */
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
    // The last environment of this state dir takes the (then empty) root with it.
    this.removeEmptyRoots();
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
    return services.find((s) => s.persistent && s.configHash === hash && s.local && nativeRunning(s.local));
  }

  protected instanceId(svc: ServiceRecord): string | undefined {
    return svc.local ? `pid ${svc.local.pid}` : undefined;
  }

  protected async instanceAlive(svc: ServiceRecord): Promise<boolean> {
    return svc.local !== undefined && nativeRunning(svc.local);
  }

  protected async stopInstance(svc: ServiceRecord): Promise<void> {
    // stop_timeout_seconds when config.toml sets it; else each service's own grace.
    const set = this.config.locations["containers.stop_timeout_seconds"];
    await stopNative(svc.local, set ? this.config.containers.stopTimeoutSeconds * 1000 : undefined);
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

  /**
   * How this environment's commands are wrapped now: as recorded at create, or an equivalent one when
   * that tool went away (bubblewrap and a mount namespace give the same guarantees) — never less.
   */
  private sandboxFor(rec: EnvironmentRecord): SandboxKind {
    const c = capabilities();
    const recorded = rec.sandbox ?? (rec.spec.isolated ? "bwrap" : "none");
    if (recorded === "none") return "none";
    if (c.bwrap) return "bwrap";
    if (c.root && c.unshare) return "unshare";
    if (!c.root && c.userns) return "userns";
    throw new GgenError(
      "CLEANROOM_UNSUPPORTED",
      `environment ${rec.name} needs a mount namespace for its guarantees, and none can be made here now (bubblewrap, unshare and user namespaces do not work)`,
      { hint: "install bubblewrap, or run as the user (root) that created it" },
    );
  }

  /** The filesystem a command of `rec` sees (see mount-plan.ts), rendered for `sandbox`. */
  private filesystem(rec: EnvironmentRecord, sandbox: SandboxKind): Pick<SandboxPlan, "bwrap" | "fstab"> {
    if (sandbox === "none") return {};
    const isolated = rec.spec.isolated === true;
    const mounts = (rec.spec.mounts ?? []).flatMap((m) => {
      const st = statSync(m.host, { throwIfNoEntry: false });
      if (!st) {
        throw new GgenError("CLEANROOM_MOUNT", `mount source ${m.host} of environment ${rec.name} is gone`, {
          hint: "create it again, or delete the environment",
        });
      }
      const file = !st.isDirectory();
      const rel = posix.normalize(m.target.replace(/^\/+/, ""));
      const writable = m.writable === true;
      const under = { host: m.host, target: join(rec.workdir, rel), writable, file };
      return posix.isAbsolute(m.target) ? [under, { ...under, target: posix.normalize(m.target) }] : [under];
    });
    const newRoot = isolated || mounts.some((m) => !isInside(rec.workdir, m.target));
    const writable = [join(rec.dir, "work"), join(rec.dir, "tmp"), join(rec.dir, "outputs")];
    if ((rec.spec.caches ?? []).length > 0) writable.push(join(rec.dir, "caches"));
    const ops = fsOps({
      isolated,
      topLevel: newRoot ? hostTopLevel() : [],
      writable,
      mounts,
      newRoot,
      procKnobs: ["sys", "sysrq-trigger", "irq", "bus"].filter((k) => existsSync(`/proc/${k}`)),
      submounts: sandbox === "bwrap" ? [] : mountTable().filter((m) => m.path !== "/"),
    });
    if (sandbox === "bwrap") return { bwrap: bwrapArgs(ops, newRoot, isolated) };
    const root = newRoot ? join(rec.dir, "sandbox", "root") : "";
    if (root) {
      const skel = skeleton(ops);
      for (const d of skel.dirs) mkdirSync(join(root, d), { recursive: true });
      for (const f of skel.files) if (!existsSync(join(root, f))) writeFileSync(join(root, f), "");
      for (const l of skel.links)
        if (!lstatSync(join(root, l.link), { throwIfNoEntry: false }))
          symlinkSync(l.target, join(root, l.link));
    }
    const table = fstab(ops, root);
    const file = join(rec.dir, "sandbox", `fstab-${configHash(table)}`);
    if (!existsSync(file)) writeFileAtomicSync(file, table, { fsync: false });
    return { fstab: { root, file } };
  }

  async exec(envName: string, argv: string[], options: ExecOptions = {}): Promise<ExecResult> {
    if (argv.length === 0) throw new GgenError("CLEANROOM_EXEC", "nothing to run", { kind: "usage" });
    const rec = this.record(envName);
    checkVariables(`a command in ${envName}`, options.env, { portable: false });
    const isolated = rec.spec.isolated ?? false;
    const sandbox = this.sandboxFor(rec);
    const layout = detectCgroups();
    const cwd = options.cwd ? inside(rec.workdir, options.cwd, rec.spec.mounts) : rec.workdir;
    const filesystem = this.filesystem(rec, sandbox);
    // A command running beside another takes private cache layers, here (removed after it).
    const privateLayers = join(rec.dir, "caches", ".private", randomUUID().slice(0, 8));
    const overlays = await cacheViews(rec, privateLayers, (name, fn) => this.state.lock(name, fn));
    ownRef ??= processRef();
    const by = ownRef;
    let cgroup: Cgroup | undefined;
    // Not in the cpu controller without a CPU limit: moving a task there is the slowest of the moves.
    if (layout && rec.cgroup)
      cgroup = Cgroup.open(layout, rec.cgroup).child(
        commandGroupName(by, randomUUID().slice(0, 8)),
        rec.spec.cpus === undefined ? ["cpu"] : [],
      );
    // If this process is killed (SIGKILL, no cleanup), `prune` still finds what the command left: by its
    // cgroup, named for this process, when it is spawned straight into it — nothing to write then —
    // otherwise by its process group, in the state entry while it runs.
    const recordGroup = !(cgroup && spawnsIntoCgroup({ cgroup }));
    let recorded: Promise<void> | undefined;
    let pgid: number | undefined;
    const plan: SandboxPlan = {
      sandbox,
      isolated,
      ...filesystem,
      overlays,
      overlayLock: join(rec.dir, "caches", ".lock"),
      netns: rec.netns,
      cwd,
      env: this.commandEnv(rec, options),
      cgroup,
      cpuSeconds: rec.spec.cpuSeconds,
      memoryMb: rec.spec.memoryMb,
      pids: rec.spec.pids,
      limits: { memoryMb: rec.spec.memoryMb, pids: rec.spec.pids },
      marker: `CLEANROOM_EXEC=${randomUUID()}`,
      onStart: (pid) => {
        pgid = pid;
        if (recordGroup)
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
    const failed: string[] = [];
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
      await this.removeEnvironment(rec).then(
        () => removed.push(`environment ${name} (${why})`),
        (error: Error) => failed.push(error.message),
      );
    }
    // Commands whose caller died while the environment lives on (`cleanroom exec` killed): their cgroups
    // (named for the caller) and recorded process groups.
    const orphaned: { env: string; pgid: number }[] = [];
    const layout = detectCgroups();
    for (const rec of Object.values(state.environments)) {
      if (rec.backend !== "local" || stale.environments.includes(rec.name)) continue;
      if (layout && rec.cgroup) {
        const group = Cgroup.open(layout, rec.cgroup);
        for (const name of group.children()) {
          const caller = commandGroupCaller(name);
          if (!caller || refAlive(caller)) continue;
          await group.child(name).remove();
          removed.push(`command cgroup ${name} (its caller ${caller.pid} is gone)`);
        }
      }
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
          await this.removeEnvironment(rec).then(
            () => removed.push(`environment ${rec.name}`),
            (error: Error) => failed.push(error.message),
          );
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
    // cgroups and network namespaces named for this state dir that no entry owns (a create killed midway,
    // a failed one), under the lock so that one being created right now is not taken for one.
    await this.state.update(async (s) => {
      const layout = detectCgroups();
      if (layout) {
        const owned = new Set(Object.values(s.environments).map((e) => e.cgroup));
        const names = new Set<string>();
        for (const parent of Object.values(layout.parents)) {
          const base = parent ? join(parent, "ggen-cleanroom") : undefined;
          if (base && existsSync(base))
            for (const entry of readdirSync(base))
              if (entry.startsWith(this.cgroupPrefix())) names.add(entry);
        }
        for (const entry of names) {
          const rel = `ggen-cleanroom/${entry}`;
          if (owned.has(rel)) continue;
          await Cgroup.open(layout, rel).remove();
          removed.push(`cgroup ${rel}`);
        }
        Cgroup.open(layout, "ggen-cleanroom").removeIfEmpty();
      }
      const ownedNs = new Set(Object.values(s.environments).map((e) => e.netns));
      if (existsSync("/run/netns")) {
        for (const ns of readdirSync("/run/netns")) {
          if (ns.startsWith(`ggen-${this.cgroupPrefix()}`) && !ownedNs.has(`/run/netns/${ns}`)) {
            await run("ip", ["netns", "del", ns]).catch(() => undefined);
            removed.push(`network namespace ${ns}`);
          }
        }
      }
    });
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
        try {
          removeEnvironmentDir(dir);
          removed.push(`directory ${dir}`);
        } catch (error) {
          failed.push((error as Error).message);
        }
      }
      this.removeEmptyRoots();
    });
    if (failed.length > 0)
      throw new GgenError("CLEANROOM_PRUNE", `prune could not remove everything: ${failed.join("; ")}`, {
        hint: "unmount or stop what holds it, then run `cleanroom container prune` again",
      });
    return { removed };
  }

  /** cgroups of this state directory are named ggen-cleanroom/<hash of stateDir>-<environment>. */
  private cgroupPrefix(): string {
    return `${configHash(resolve(this.state.dir)).slice(0, 8)}-`;
  }
}
