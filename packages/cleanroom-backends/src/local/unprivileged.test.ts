// The non-root fallback for real: the local backend runs as an unprivileged user (uid 65534) inside a
// user namespace whose limit on further user namespaces is 0 — so neither root nor user namespaces are
// available, bubblewrap and unshare fail, cgroups are not writable — exactly a locked-down machine.
// The host's own limit (/proc/sys/user/max_user_namespaces) is untouched: the limit is per namespace.
import { spawn } from "node:child_process";
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, it } from "vitest";
import { hostHas, pathWithout } from "../conformance/suite.js";
import { commandExists } from "../util/proc.js";

const NOBODY = 65534;
const reason =
  process.getuid?.() !== 0
    ? "needs root to map an unprivileged user into a user namespace"
    : !commandExists("unshare") || !commandExists("setpriv")
      ? "needs unshare and setpriv (util-linux)"
      : undefined;

/** Kill what a failed run may have left (these command lines are this file's own). */
function killLeftovers(cmdline: string): void {
  for (const pid of readdirSync("/proc")) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ").trim() === cmdline)
        process.kill(Number(pid), "SIGKILL");
    } catch {
      // gone, or not a process
    }
  }
}

/**
 * Run `script` (an ES module) with node as uid 65534 — where no further user namespace can be made, or
 * (`userns`) where one can, as on a desktop machine.
 */
async function runLockedDown(script: string, env: Record<string, string>, userns = false): Promise<string> {
  const child = spawn(
    "unshare",
    [
      "--user",
      "sh",
      "-c",
      // Wait for the id maps; a fresh exec then has uid 0 (mapped) and the capabilities of this
      // namespace, forbids further user namespaces (its limit) and drops to nobody.
      `read go && exec sh -c '${userns ? "" : "echo 0 > /proc/sys/user/max_user_namespaces && "}exec setpriv --reuid=65534 --regid=65534 --clear-groups "$@"' "$@"`,
      "sh",
      "sh",
      process.execPath,
      "--input-type=module",
      "-e",
      script,
    ],
    { stdio: ["pipe", "pipe", "pipe"], env },
  );
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => {
    stdout += d;
  });
  child.stderr.on("data", (d: Buffer) => {
    stderr += d;
  });
  const closed = new Promise<number | null>((ok) => child.on("close", ok));
  const pid = child.pid!;
  const own = readlinkSync("/proc/self/ns/user");
  for (let i = 0; i < 500; i++) {
    try {
      if (readlinkSync(`/proc/${pid}/ns/user`) !== own) break;
    } catch {
      break; // exited early: the close code below says why
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  // Root (inside) is needed to lower the limit; 65534 is who the backend runs as.
  const map = `0 0 1\n${NOBODY} ${NOBODY} 1\n`;
  writeFileSync(`/proc/${pid}/uid_map`, map);
  writeFileSync(`/proc/${pid}/gid_map`, map);
  child.stdin.end("go\n");
  const code = await closed;
  if (code !== 0) throw new Error(`locked-down run exited ${code}:\n${stderr}`);
  return stdout;
}

it("this machine can run the non-root tests (root, unshare, setpriv)", () => {
  expect(reason).toBeUndefined();
});

it("without root or user namespaces: an isolated or read-only environment is refused in one line, a plain one runs, is killed on timeout with what escaped by setsid, and keeps the shared cache unchanged", async () => {
  const base = mkdtempSync(join(tmpdir(), "ggen-unpriv-"));
  const cache = join(base, "npm-cache");
  mkdirSync(join(cache, "_cacache"), { recursive: true });
  writeFileSync(join(cache, "_cacache", "entry"), "shared");
  const stateDir = join(base, "state");
  mkdirSync(stateDir);
  const tmp = join(base, "tmp");
  mkdirSync(tmp);
  for (const d of [base, stateDir, tmp]) chownSync(d, NOBODY, NOBODY);
  const dist = join(import.meta.dirname, "../../dist/index.js");
  const script = `
      const { LocalBackend, defaultConfig, capabilities } = await import(${JSON.stringify(dist)});
      const b = new LocalBackend({ stateDir: ${JSON.stringify(stateDir)}, config: defaultConfig() });
      const refusal = async (spec) => b.createEnvironment(spec).then(() => "created", (e) => e.code + ": " + e.message);
      const isolated = await refusal({ name: "iso", isolated: true });
      const readOnly = await refusal({ name: "ro", mounts: [{ host: ${JSON.stringify(tmp)}, target: "ro" }] });
      const absolute = await refusal({ name: "abs", mounts: [{ host: ${JSON.stringify(tmp)}, target: "/workspace", writable: true }] });
      const cpus = await refusal({ name: "cpus", cpus: 1 });
      const leftAfterRefusals = b.state.read().environments;
      const env = await b.createEnvironment({ name: "fb", pids: 128, caches: ["npm"] });
      const ran = await b.exec("fb", ["sh", "-c", "id -u; echo ran; touch \\"$npm_config_cache/new\\" && echo wrote-new; echo x >> \\"$npm_config_cache/_cacache/entry\\" && cat \\"$npm_config_cache/_cacache/entry\\""]);
      const slow = await b.exec("fb", ["sh", "-c", "setsid sleep 3131 & sleep 3131"], { timeoutMs: 300 });
      const status = await b.environmentStatus("fb");
      const dir = b.envRoot;
      await b.deleteEnvironment("fb");
      console.log(JSON.stringify({ caps: capabilities(), isolated, readOnly, absolute, cpus, leftAfterRefusals, env, ran, slow, alive: status.alive, dir }));
    `;
  try {
    const out = await runLockedDown(script, {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      TMPDIR: tmp,
      HOME: tmp,
      npm_config_cache: cache,
    });
    const r = JSON.parse(out.trim().split("\n").pop()!);
    // Nothing that needs root or a user namespace was available…
    expect(r.caps).toMatchObject({
      root: false,
      bwrap: false,
      unshare: false,
      userns: false,
      netns: false,
      cgroups: false,
    });
    // …so what needs a mount namespace is refused, in one line naming what is missing, and nothing is made.
    expect(r.isolated).toMatch(
      /^CLEANROOM_UNSUPPORTED: cannot create environment iso here: an isolated environment .* needs a mount namespace: bubblewrap does not work here, and user namespaces are not allowed \(install bubblewrap/,
    );
    expect(r.readOnly).toMatch(/^CLEANROOM_UNSUPPORTED: .*a read-only mount needs a mount namespace/);
    expect(r.absolute).toMatch(/^CLEANROOM_UNSUPPORTED: .*a mount target outside the workdir/);
    expect(r.cpus).toMatch(/^CLEANROOM_UNSUPPORTED: .*a CPU limit needs a writable cgroup hierarchy/);
    expect(r.leftAfterRefusals).toEqual({});
    // A plain environment claims what it has: no namespace, a process limit by rlimit.
    expect(r.env.isolation).toEqual({
      network: false,
      pid: false,
      filesystem: false,
      limits: true,
      mechanism: "env-scrub+process-group+prlimit",
    });
    expect(r.env.guarantees).toMatchObject({
      kill: "process-group+marker",
      limits: { pids: { value: 128, by: "rlimit" } },
    });
    expect(r.alive).toBe(true);
    // Commands still run, as the unprivileged user; their writes to the cache land in the
    // environment's private copy of it.
    expect(r.ran.exitCode).toBe(0);
    expect(r.ran.stdout).toBe(`${NOBODY}\nran\nwrote-new\nsharedx\n`);
    // A timeout kills the command, what it started, and what escaped its process group (by its marker).
    expect(r.slow.timedOut).toBe(true);
    expect(hostHas("sleep 3131")).toBe(false);
    // The shared cache is as it was; the environment's directory is gone.
    expect(readFileSync(join(cache, "_cacache", "entry"), "utf8")).toBe("shared");
    expect(existsSync(join(cache, "new"))).toBe(false);
    expect(r.dir.startsWith(tmp)).toBe(true);
    expect(existsSync(join(r.dir, "fb"))).toBe(false);
  } finally {
    killLeftovers("sleep 3131");
    rmSync(base, { recursive: true, force: true });
  }
}, 60_000);

it.each([
  ["bubblewrap", false, "bubblewrap+prlimit"],
  ["no bubblewrap (hidden from PATH)", true, "user-namespace+prlimit"],
] as const)(
  "as non-root with user namespaces, %s: isolated, read-only mounts and /workspace enforced",
  async (_label, hideBwrap, mechanism) => {
    const base = mkdtempSync(join(tmpdir(), "ggen-userns-"));
    const stateDir = join(base, "state");
    const tmp = join(base, "tmp");
    const src = join(base, "src");
    for (const d of [stateDir, tmp, src]) mkdirSync(d);
    writeFileSync(join(src, "Cargo.toml"), "[package]\n");
    for (const d of [base, stateDir, tmp, src]) chownSync(d, NOBODY, NOBODY);
    const hidden = hideBwrap ? pathWithout("bwrap") : undefined;
    if (hidden) chmodSync(hidden.path, 0o755);
    const dist = join(import.meta.dirname, "../../dist/index.js");
    const script = `
      const { LocalBackend, defaultConfig, capabilities } = await import(${JSON.stringify(dist)});
      const b = new LocalBackend({ stateDir: ${JSON.stringify(stateDir)}, config: defaultConfig() });
      const env = await b.createEnvironment({ name: "u", isolated: true, mounts: [{ host: ${JSON.stringify(src)}, target: "/workspace" }] });
      const r = await b.exec("u", ["sh", "-c", "id -u; cat /workspace/Cargo.toml; touch /workspace/x 2>/dev/null && echo wrote-ro; touch /etc/x 2>/dev/null && echo wrote-etc; echo w > mine && echo wrote-work; ls /proc | grep -c '^[0-9]'"]);
      await b.deleteEnvironment("u");
      console.log(JSON.stringify({ caps: capabilities(), env, r }));
    `;
    try {
      const out = await runLockedDown(
        script,
        { PATH: hidden?.path ?? process.env.PATH ?? "/usr/bin:/bin", TMPDIR: tmp, HOME: tmp },
        true,
      );
      const r = JSON.parse(out.trim().split("\n").pop()!);
      expect(r.caps).toMatchObject({ root: false, bwrap: !hideBwrap, userns: true, cgroups: false });
      expect(r.env.isolation).toEqual({
        network: true,
        pid: true,
        filesystem: true,
        limits: true,
        mechanism,
      });
      expect(r.env.guarantees).toMatchObject({ readOnlyRoot: true, privateTmp: true, readOnlyMounts: true });
      expect(r.r.exitCode, r.r.stderr).toBe(0);
      // The user namespace maps the user to root inside; the host sees 65534.
      expect(r.r.stdout).toMatch(/^(0|65534)\n\[package\]\nwrote-work\n[1-4]\n$/);
      expect(readdirSync(src)).toEqual(["Cargo.toml"]);
    } finally {
      hidden?.dispose();
      rmSync(base, { recursive: true, force: true });
    }
  },
  60_000,
);

it("without cgroups, a caller killed with SIGKILL mid-exec leaves a process group that status and prune find and kill", async () => {
  const base = mkdtempSync(join(tmpdir(), "ggen-unpriv-"));
  const stateDir = join(base, "state");
  const tmp = join(base, "tmp");
  mkdirSync(stateDir);
  mkdirSync(tmp);
  for (const d of [base, stateDir, tmp]) chownSync(d, NOBODY, NOBODY);
  const dist = join(import.meta.dirname, "../../dist/index.js");
  const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", TMPDIR: tmp, HOME: tmp };
  const open = `
      const { LocalBackend, defaultConfig } = await import(${JSON.stringify(dist)});
      const b = new LocalBackend({ stateDir: ${JSON.stringify(stateDir)}, config: defaultConfig() });`;
  try {
    // One locked-down process plays both CLI calls (one user namespace, as on a real machine): the
    // first, killed with SIGKILL mid-exec, leaves a background sleep that outlives its shell — only
    // the recorded process group leads to it; the second asks for status and prunes.
    const first = `${open}
        await b.createEnvironment({ name: "orphan", throwaway: true });
        // Killed once the command runs, its process group is on record and the background sleep has
        // exec'd ("started" can come before the forked child is sleep rather than a copy of sh).
        const recorded = () => b.state.read().environments.orphan?.commands?.length > 0;
        const fs = await import("node:fs");
        const sleeps = () => fs.readdirSync("/proc").some((p) => {
          try { return fs.readFileSync("/proc/" + p + "/cmdline", "utf8") === "sleep\\u00003232\\u0000"; } catch { return false; }
        });
        await b.exec("orphan", ["sh", "-c", "sleep 3232 & echo started; wait"], {
          onOutput: async (c) => {
            while (c.includes("started") && !(recorded() && sleeps())) await new Promise((ok) => setTimeout(ok, 5));
            console.log("killable");
          },
        });`;
    const out = await runLockedDown(
      `${open}
        const { spawn } = await import("node:child_process");
        const child = spawn(process.execPath, ["--input-type=module", "-e", ${JSON.stringify(first)}], { stdio: ["ignore", "pipe", "inherit"] });
        await new Promise((ok) => child.stdout.on("data", (d) => String(d).includes("killable") && ok()));
        child.kill("SIGKILL");
        await new Promise((ok) => child.on("close", ok));
        const fs = await import("node:fs");
        const sleeping = () => fs.readdirSync("/proc").filter((p) => {
          try { return fs.readFileSync("/proc/" + p + "/cmdline", "utf8") === "sleep\\u00003232\\u0000"; } catch { return false; }
        }).length;
        const survivors = sleeping();
        const status = await b.environmentStatus("orphan");
        const recorded = b.state.read().environments.orphan.commands.map((c) => c.pgid);
        const pruned = await b.prune();
        await new Promise((ok) => setTimeout(ok, 100));
        console.log(JSON.stringify({ owner: child.pid, survivors, status, recorded, pruned, after: b.state.read().environments, left: sleeping() }));`,
      env,
    );
    const r = JSON.parse(out.trim().split("\n").pop()!);
    expect(r.status.isolation.mechanism).toBe("env-scrub+process-group");
    expect(r.status.alive).toBe(false);
    expect(r.survivors).toBe(1);
    expect(r.status.stale).toBe(`its owner process ${r.owner} is gone`);
    expect(r.recorded).toHaveLength(1);
    expect(r.pruned.removed).toContain(`process group ${r.recorded[0]}`);
    expect(r.pruned.removed.some((l: string) => /^environment orphan \(its owner process/.test(l))).toBe(
      true,
    );
    expect(r.after).toEqual({});
    expect(r.left).toBe(0);
    for (let i = 0; i < 50 && hostHas("sleep 3232"); i++) await new Promise((r) => setTimeout(r, 20));
    expect(hostHas("sleep 3232")).toBe(false);
  } finally {
    killLeftovers("sleep 3232");
    rmSync(base, { recursive: true, force: true });
  }
}, 60_000);
