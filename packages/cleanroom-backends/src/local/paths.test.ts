// Where local environments live (outside the project) and which paths inside them are allowed.
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defaultConfig } from "../config.js";
import { LocalBackend } from "./backend.js";
import { environmentsRoot, inside } from "./paths.js";

const isUnder = (root: string, path: string) => {
  const rel = relative(root, path);
  return rel === "" || (!rel.startsWith("..") && !rel.startsWith("/"));
};

/** Symlinks under `dir` (not followed) whose real target lies inside `root`. */
function linksInto(dir: string, root: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isSymbolicLink()) {
      const real = existsSync(p) ? realpathSync(p) : undefined;
      if (real && isUnder(root, real)) out.push(p);
    } else if (e.isDirectory()) out.push(...linksInto(p, root));
  }
  return out;
}

/** A naive tool's walk, following symlinks; "loop" when it goes deeper than any real tree here. */
function walkFollowing(dir: string, depth = 0): string[] | "loop" {
  if (depth > 24) return "loop";
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    out.push(p);
    if (statSync(p, { throwIfNoEntry: false })?.isDirectory()) {
      const sub = walkFollowing(p, depth + 1);
      if (sub === "loop") return "loop";
      out.push(...sub);
    }
  }
  return out;
}

describe("local environments live outside the project", () => {
  let project: string;
  let backend: LocalBackend;

  beforeAll(() => {
    project = realpathSync(mkdtempSync(join(tmpdir(), "ggen-project-")));
    mkdirSync(join(project, "src"));
    writeFileSync(join(project, "src", "a.txt"), "a");
    backend = new LocalBackend({ stateDir: join(project, ".cleanroom"), config: defaultConfig() });
  });

  afterAll(async () => {
    await backend.prune({ all: true });
    rmSync(project, { recursive: true, force: true });
  });

  it("after create, no link in the project leads back into it and a walk of it ends without env dirs", async () => {
    const mount = { host: project, target: "workspace", writable: true };
    const plain = await backend.createEnvironment({ name: "walk", mounts: [mount] });
    const iso = await backend.createEnvironment({ name: "walk-iso", isolated: true, mounts: [mount] });
    // The project is still reachable from inside: the mount works.
    expect((await backend.exec("walk", ["ls", "workspace/src"])).stdout).toBe("a.txt\n");
    for (const env of [plain, iso]) {
      expect(isUnder(project, realpathSync(env.workdir))).toBe(false);
      expect(isUnder(environmentsRoot(join(project, ".cleanroom")), env.workdir)).toBe(true);
    }
    expect(linksInto(project, project)).toEqual([]);
    const walked = walkFollowing(project);
    expect(walked).not.toBe("loop");
    const names = (walked as string[]).map((p) => relative(project, p));
    expect(names.filter((n) => /(^|\/)(envs|work|workspace)(\/|$)/.test(n))).toEqual([]);
    // The record of environments stays in the project's state dir, written atomically.
    const state = JSON.parse(readFileSync(join(project, ".cleanroom", "state.json"), "utf8"));
    expect(Object.keys(state.environments).sort()).toEqual(["walk", "walk-iso"]);
    expect(readdirSync(join(project, ".cleanroom")).filter((f) => f.endsWith(".tmp"))).toEqual([]);
    // Delete removes the directory (and the root once it is empty).
    const dir = join(backend.envRoot, "walk");
    expect(existsSync(dir)).toBe(true);
    await backend.deleteEnvironment("walk");
    expect(existsSync(dir)).toBe(false);
    await backend.deleteEnvironment("walk-iso");
    expect(existsSync(backend.envRoot)).toBe(false);
  });

  it("prune removes an environment directory whose state entry was lost", async () => {
    await backend.createEnvironment({ name: "lost" });
    const dir = join(backend.envRoot, "lost");
    expect(existsSync(dir)).toBe(true);
    rmSync(join(project, ".cleanroom", "state.json"));
    const pruned = await backend.prune();
    expect(pruned.removed).toContain(`directory ${dir}`);
    expect(existsSync(dir)).toBe(false);
  });
});

describe("paths inside an environment", () => {
  let project: string;
  let outside: string;
  let stateDir: string;
  let backend: LocalBackend;
  let link: string;

  beforeAll(async () => {
    const base = realpathSync(mkdtempSync(join(tmpdir(), "ggen-paths-")));
    project = join(base, "project");
    outside = join(base, "outside");
    mkdirSync(join(project, "sub"), { recursive: true });
    mkdirSync(outside);
    writeFileSync(join(project, "sub", "f.txt"), "inside");
    writeFileSync(join(outside, "secret.txt"), "outside");
    // A link inside the project leading out of it: a real escape.
    symlinkSync(outside, join(project, "out"));
    // The project reached through a symlink, as a mount host.
    link = join(base, "project-link");
    symlinkSync(project, link);
    stateDir = join(base, "state");
    backend = new LocalBackend({ stateDir, config: defaultConfig() });
    // Writable and not isolated: no mount namespace is needed, so the mount is a symlink.
    await backend.createEnvironment({
      name: "m",
      mounts: [{ host: link, target: "workspace", writable: true }],
    });
  });

  afterAll(async () => {
    await backend.prune({ all: true });
    rmSync(join(project, ".."), { recursive: true, force: true });
  });

  it("a cwd inside a symlinked, non-isolated mount is allowed and is where the command runs", async () => {
    expect(lstatSync(join(backend.envRoot, "m", "work", "workspace")).isSymbolicLink()).toBe(true);
    const r = await backend.exec("m", ["sh", "-c", "pwd -P; cat f.txt"], { cwd: "workspace/sub" });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe(`${join(project, "sub")}\ninside`);
    const copied = join(outside, "..", "copied.txt");
    await backend.copyOut("m", "workspace/sub/f.txt", copied);
    expect(readFileSync(copied, "utf8")).toBe("inside");
  });

  it("still refuses real escapes: a link out of the mount, out of the workdir, and ..", async () => {
    await expect(backend.exec("m", ["true"], { cwd: "workspace/out" })).rejects.toMatchObject({
      code: "CLEANROOM_PATH",
      message: expect.stringContaining("through a symlink"),
    });
    await expect(backend.copyOut("m", "workspace/out/secret.txt", join(outside, "x"))).rejects.toMatchObject({
      code: "CLEANROOM_PATH",
    });
    await backend.exec("m", ["ln", "-s", outside, "esc"]);
    await expect(backend.exec("m", ["true"], { cwd: "esc" })).rejects.toMatchObject({
      code: "CLEANROOM_PATH",
    });
    await expect(backend.exec("m", ["true"], { cwd: "../.." })).rejects.toMatchObject({
      code: "CLEANROOM_PATH",
      message: "../.. escapes the environment",
    });
  });

  it("inside() compares real paths on both sides", () => {
    const root = join(backend.envRoot, "m", "work");
    const mounts = [{ host: link, target: "workspace" }];
    expect(inside(root, "workspace/sub/new-file", mounts)).toBe(join(root, "workspace", "sub", "new-file"));
    // Without the mount declared, the same path leaves the workdir through the link.
    expect(() => inside(root, "workspace/sub")).toThrow(/through a symlink/);
    // A dangling link may lead anywhere once its target appears: refused.
    symlinkSync(join(outside, "not-yet"), join(project, "dangling"));
    expect(() => inside(root, "workspace/dangling/x", mounts)).toThrow(/through a symlink/);
  });
});
