// The decision table of the local backend (pure): for each kind of machine, what an environment gets, or
// the one line that refuses it. The same machines are exercised for real in local.test.ts,
// unprivileged.test.ts and the README's guarantee table (test/hostile/cleanroom-backends.test.ts).
import { describe, expect, it } from "vitest";
import { type Capabilities, type IsolationRequest, planIsolation } from "./isolation.js";

const none: Capabilities = {
  root: false,
  bwrap: false,
  unshare: false,
  userns: false,
  netns: false,
  cgroups: false,
  prlimit: true,
  setpriv: true,
  overlay: false,
};
const machines: Record<string, Capabilities> = {
  "root, bubblewrap": {
    ...none,
    root: true,
    bwrap: true,
    unshare: true,
    netns: true,
    cgroups: true,
    overlay: true,
  },
  "root, no bubblewrap": { ...none, root: true, unshare: true, netns: true, cgroups: true, overlay: true },
  "non-root, bubblewrap": { ...none, bwrap: true, userns: true },
  "non-root, user namespaces, no bubblewrap": { ...none, userns: true },
  "non-root, no user namespaces": none,
};

const isolated: IsolationRequest = {
  isolated: true,
  mounts: [{ writable: false, absolute: true }],
  limits: {},
  defaults: { pids: 1024 },
};

describe("planIsolation", () => {
  it("gives an isolated environment every guarantee wherever a mount namespace can be made", () => {
    for (const [machine, caps] of Object.entries(machines)) {
      const plan = planIsolation(caps, isolated);
      if (machine === "non-root, no user namespaces") {
        expect(plan.ok, machine).toBe(false);
        continue;
      }
      expect(plan.ok, machine).toBe(true);
      if (!plan.ok) continue;
      expect(plan.guarantees, machine).toMatchObject({
        network: true,
        pid: true,
        filesystem: true,
        readOnlyRoot: true,
        privateTmp: true,
        readOnlyMounts: true,
        mountTargets: true,
      });
    }
  });

  it("names the mechanism: bubblewrap first, a mount namespace without it", () => {
    const mechanism = (m: string) => {
      const p = planIsolation(machines[m]!, isolated);
      return p.ok ? `${p.sandbox} ${p.guarantees.mechanism}` : p.missing;
    };
    expect(mechanism("root, bubblewrap")).toBe("bwrap bubblewrap+netns+cgroups");
    expect(mechanism("root, no bubblewrap")).toBe("unshare mount-namespace+netns+cgroups");
    expect(mechanism("non-root, bubblewrap")).toBe("bwrap bubblewrap+prlimit");
    expect(mechanism("non-root, user namespaces, no bubblewrap")).toBe("userns user-namespace+prlimit");
  });

  it("refuses what cannot be enforced, in one line naming what is missing", () => {
    const refused = planIsolation(none, isolated);
    expect(refused).toEqual({
      ok: false,
      missing: expect.stringMatching(
        /^an isolated environment .* needs a mount namespace: bubblewrap does not work here, and user namespaces are not allowed \(install bubblewrap/,
      ),
    });
    const ro = planIsolation(none, {
      ...isolated,
      isolated: false,
      mounts: [{ writable: false, absolute: false }],
    });
    expect(ro.ok ? "" : ro.missing).toMatch(/^a read-only mount needs a mount namespace/);
    // Root is not told to run as root.
    const rootNone = planIsolation({ ...none, root: true }, isolated);
    expect(rootNone.ok ? "" : rootNone.missing).toMatch(
      /and unshare --mount --pid is missing or failed \(install bubblewrap \(apt-get install bubblewrap\), or util-linux's unshare\)$/,
    );
    expect(refused.ok ? "" : refused.missing).toMatch(/, or run as root\)$/);
    const abs = planIsolation(none, {
      ...isolated,
      isolated: false,
      mounts: [{ writable: true, absolute: true }],
    });
    expect(abs.ok ? "" : abs.missing).toMatch(
      /^a mount target outside the workdir .* needs a mount namespace/,
    );
    // A limit asked for that nothing enforces: refused, never reported as set.
    const cpus = planIsolation(none, { ...isolated, isolated: false, mounts: [], limits: { cpus: 1 } });
    expect(cpus.ok ? "" : cpus.missing).toMatch(/CPU limit needs a writable cgroup/);
    // Root ignores RLIMIT_NPROC: a process limit without cgroups is refused for root.
    const rootNoCgroups = { ...machines["root, no bubblewrap"]!, cgroups: false };
    const pids = planIsolation(rootNoCgroups, { ...isolated, limits: { pids: 64 } });
    expect(pids.ok ? "" : pids.missing).toMatch(/process limit needs/);
  });

  it("applies a built-in default only where it can, and then does not claim it", () => {
    const rootNoCgroups = { ...machines["root, no bubblewrap"]!, cgroups: false };
    const plan = planIsolation(rootNoCgroups, isolated);
    expect(plan.ok && plan.limits).toEqual({});
    expect(plan.ok && plan.guarantees.limits).toEqual({});
    expect(plan.ok && plan.guarantees.kill).toBe("pid-namespace");
  });

  it("a plain environment needs no namespace, and claims none", () => {
    const plan = planIsolation(none, {
      isolated: false,
      mounts: [{ writable: true, absolute: false }],
      limits: {},
      defaults: {},
    });
    expect(plan).toMatchObject({
      ok: true,
      sandbox: "none",
      guarantees: {
        network: false,
        pid: false,
        filesystem: false,
        readOnlyRoot: false,
        kill: "process-group+marker",
      },
    });
    expect(plan.ok && plan.guarantees.mechanism).toBe("env-scrub+process-group");
  });
});
