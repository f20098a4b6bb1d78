import { describe, expect, it } from "vitest";
import { bwrapArgs, type FsPlanInput, fsOps, fstab, skeleton } from "./mount-plan.js";

const host: FsPlanInput["topLevel"] = [
  { name: "usr", type: "dir" },
  { name: "bin", type: "link", link: "usr/bin" },
  { name: "etc", type: "dir" },
  { name: "proc", type: "dir" },
  { name: "dev", type: "dir" },
  { name: "sys", type: "dir" },
  { name: "tmp", type: "dir" },
  { name: "run", type: "dir" },
  { name: ".dockerenv", type: "file" },
];
const env = "/tmp/ggen-cleanroom-0/envs-x/e";
const input = (over: Partial<FsPlanInput>): FsPlanInput => ({
  isolated: true,
  topLevel: host,
  writable: [`${env}/work`],
  mounts: [{ host: "/src/my project", target: "/workspace", writable: false, file: false }],
  newRoot: true,
  procKnobs: ["sys", "bus"],
  submounts: [
    { path: "/sys/fs/cgroup", options: ["rw", "nosuid", "relatime"] },
    { path: "/usr/share/ro", options: ["ro", "nodev"] },
    { path: "/tmp/docker", options: ["rw"] },
    { path: "/dev/shm", options: ["rw"] },
  ],
  ...over,
});

describe("the filesystem of an isolated command", () => {
  const ops = fsOps(input({}));

  it("is built from the host's top level, read-only, with its own /proc, /dev, /tmp and /run", () => {
    expect(ops).toEqual([
      { kind: "bind", source: "/usr", target: "/usr", readOnly: true },
      { kind: "symlink", target: "usr/bin", link: "/bin" },
      { kind: "bind", source: "/etc", target: "/etc", readOnly: true },
      { kind: "bind", source: "/.dockerenv", target: "/.dockerenv", readOnly: true, file: true },
      { kind: "proc", target: "/proc", knobs: ["sys", "bus"] },
      { kind: "dev", target: "/dev" },
      { kind: "bind", source: "/sys", target: "/sys", readOnly: true },
      { kind: "tmpfs", target: "/tmp", mode: "1777" },
      { kind: "tmpfs", target: "/run", mode: "755" },
      { kind: "bind", source: `${env}/work`, target: `${env}/work`, readOnly: false },
      { kind: "bind", source: "/src/my project", target: "/workspace", readOnly: true },
      // What came along with a read-only bind is made read-only (not /dev's, not what a tmpfs hides).
      { kind: "remount-ro", target: "/sys/fs/cgroup", flags: ["nosuid", "relatime"] },
    ]);
  });

  it("as bubblewrap arguments, ending with a read-only root", () => {
    const args = bwrapArgs(ops, true, true);
    expect(args.slice(0, 6)).toEqual(["--ro-bind", "/usr", "/usr", "--symlink", "usr/bin", "/bin"]);
    expect(args).toContain("--proc");
    expect(args.join(" ")).toContain("--perms 1777 --tmpfs /tmp");
    expect(args.slice(-5)).toEqual(["--ro-bind", "/src/my project", "/workspace", "--remount-ro", "/"]);
  });

  it("as an fstab under the new root's directory: escapes, read-only binds, mount points made where they can be", () => {
    const table = fstab(ops, "/r").split("\n");
    expect(table).toContain("/usr /r/usr none rbind,ro,X-mount.mkdir 0 0");
    expect(table).toContain("none /r/sys/fs/cgroup none remount,bind,ro,nosuid,relatime 0 0");
    expect(table).toContain("/.dockerenv /r/.dockerenv none rbind,ro 0 0");
    expect(table).toContain("proc /r/proc proc nosuid,nodev,noexec 0 0");
    expect(table).toContain("/r/proc/sys /r/proc/sys none bind,ro 0 0");
    expect(table).toContain("/dev /r/dev none rbind 0 0");
    expect(table).toContain("tmpfs /r/dev/shm tmpfs mode=1777,nosuid,nodev 0 0");
    expect(table).toContain(`${env}/work /r${env}/work none rbind,X-mount.mkdir 0 0`);
    expect(table).toContain("/src/my\\040project /r/workspace none rbind,ro,X-mount.mkdir 0 0");
    // Symlinks are not mounts: they are in the skeleton.
    expect(table.join("\n")).not.toContain("usr/bin");
  });

  it("a skeleton holding every mount point on the root, the links, and new paths no mount holds", () => {
    const withNested = fsOps(
      input({
        mounts: [
          { host: "/a", target: "/workspace", writable: false, file: false },
          { host: "/b", target: "/opt2/app", writable: true, file: false },
          { host: "/c", target: "/etc/x.conf", writable: false, file: true },
        ],
      }),
    );
    const skel = skeleton(withNested);
    expect(skel.links).toEqual([{ link: "bin", target: "usr/bin" }]);
    expect(skel.files).toEqual([".dockerenv"]);
    expect(skel.dirs).toEqual(
      expect.arrayContaining([
        "usr",
        "etc",
        "proc",
        "dev",
        "sys",
        "tmp",
        "run",
        "workspace",
        "opt2",
        "opt2/app",
      ]),
    );
    // /etc/x.conf is inside the /etc bind: its mount point must already exist on the host (placeMount checks).
    expect(skel.dirs).not.toContain("etc/x.conf");
  });
});

describe("the filesystem of a plain command with mounts", () => {
  it("keeps the host's root, writable, and adds only the mounts", () => {
    const ops = fsOps(
      input({
        isolated: false,
        newRoot: false,
        mounts: [{ host: "/src", target: `${env}/work/ro`, writable: false, file: false }],
      }),
    );
    expect(ops).toEqual([{ kind: "bind", source: "/src", target: `${env}/work/ro`, readOnly: true }]);
    expect(bwrapArgs(ops, false, false)).toEqual([
      "--dev-bind",
      "/",
      "/",
      "--ro-bind",
      "/src",
      `${env}/work/ro`,
    ]);
    expect(fstab(ops, "")).toBe(`/src ${env}/work/ro none rbind,ro,X-mount.mkdir 0 0\n`);
  });

  it("with a new root (an absolute target), binds the host's tree writable and recursive", () => {
    const ops = fsOps(input({ isolated: false }));
    expect(ops).toContainEqual({ kind: "bind", source: "/usr", target: "/usr", readOnly: false });
    expect(ops).toContainEqual({ kind: "bind", source: "/tmp", target: "/tmp", readOnly: false });
    expect(fstab(ops, "/r")).toContain("/usr /r/usr none rbind,X-mount.mkdir 0 0");
    expect(bwrapArgs(ops, true, false)).toEqual(expect.arrayContaining(["--dev-bind", "/tmp", "/tmp"]));
  });
});
