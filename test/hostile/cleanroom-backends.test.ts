// The environment backends' own surfaces on hostile input (issue 20), through the built cleanroom program
// on the local backend: the state file (wrong shape, paths that leave the environments root), mount specs
// (`..`, absolute and symlink escapes, control bytes), resource limits out of range, names with control
// bytes, environment variables too large for the kernel, a scenario pattern built to backtrack and timers
// past Node's 24.8-day limit, inside an environment. Each refusal is one clean line; nothing outside the
// project (or the environments root) is touched; nothing is left running, mounted, locked or half-made.
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { environmentsRoot } from "@ggen/cleanroom-backends";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectRefused, run, Sandbox } from "./harness.js";

const box = new Sandbox("cleanroom-backends");
const stateFile = join(box.root, ".cleanroom", "state.json");
const envRoot = environmentsRoot(join(box.root, ".cleanroom"));
// What a path in a hostile state or a symlink points at: outside the sandbox's base, so check() sees it untouched.
const victimRoot = mkdtempSync(join(tmpdir(), "ggen-hostile-victim-"));
const victim = join(victimRoot, "victim");

const cr = (args: string[], limitMs = 60_000) =>
  run("cleanroom", args, { cwd: box.root, limitMs, env: { CLEANROOM_ENV: "", GITHUB_ACTIONS: "" } });
const write = (rel: string, text: string) => {
  const p = join(box.root, rel);
  mkdirSync(join(p, ".."), { recursive: true });
  writeFileSync(p, text);
  return p;
};
const envNames = (): string[] =>
  Object.keys((JSON.parse(readFileSync(stateFile, "utf8")) as { environments: object }).environments).sort();

/** Nothing outside was touched, and no environment directory exists that the state does not name. */
function clean(): void {
  box.check();
  expect(readdirSync(victim)).toEqual(["keep"]);
  const dirs = existsSync(envRoot) ? readdirSync(envRoot).filter((d) => !d.startsWith(".")) : [];
  expect(dirs.sort(), "environment directories the state does not name").toEqual(envNames());
}

/** The ordinary command after a refusal works: a command runs in the environment. */
async function stillWorks(): Promise<void> {
  const r = await cr(["exec", "--env", "base", "--", "sh", "-c", "echo works"]);
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout).toContain("works");
}

beforeAll(async () => {
  mkdirSync(victim);
  writeFileSync(join(victim, "keep"), "not yours\n");
  const r = await cr(["environment", "create", "--backend", "local", "--name", "base"]);
  expect(r.code, r.stderr).toBe(0);
}, 120_000);
afterAll(async () => {
  await cr(["container", "stop", "--all", "--env", "base"]);
  // Also what a failed case may have left (each refused create leaves nothing to delete).
  for (const name of ["base", "linked"]) await cr(["environment", "delete", "--name", name, "--force"]);
  box.dispose();
  rmSync(victimRoot, { recursive: true, force: true });
}, 120_000);

describe("the state file is input", () => {
  it("a state of the wrong shape is refused in one line by every command that reads it; prune removes nothing", async () => {
    const good = readFileSync(stateFile, "utf8");
    const base = JSON.parse(good).environments.base;
    const shapes: [string, RegExp][] = [
      ["[1,2]", /not a cleanroom state: expected an object, got an array/],
      ["\u001b[31m{", /state\.json:1:1: not valid JSON/],
      [
        JSON.stringify({ version: 1, environments: { base, e2: 5 }, services: {} }),
        /environments\.e2: expected an object, got 5/,
      ],
      [
        JSON.stringify({ version: 1, environments: { base: { name: "base" } }, services: {} }),
        /environments\.base\.backend: missing/,
      ],
      [
        JSON.stringify({
          version: 1,
          environments: { base: { ...base, spec: { ...base.spec, env: { A: 5 } } } },
          services: {},
        }),
        /environments\.base\.spec\.env\.A: expected a string, got 5/,
      ],
    ];
    for (const [text, line] of shapes) {
      writeFileSync(stateFile, text);
      for (const args of [
        ["environment", "list"],
        ["container", "prune", "--all"],
        ["environment", "delete", "--name", "base", "--force"],
      ]) {
        const r = await cr(args);
        expectRefused(r, 1);
        expect(r.stderr, `${args.join(" ")} on ${text.slice(0, 40)}`).toMatch(line);
      }
    }
    writeFileSync(stateFile, good);
    clean();
    await stillWorks();
  });

  it("an entry whose directory lies outside the environments root (absolute, or through ..) is never removed", async () => {
    const good = readFileSync(stateFile, "utf8");
    const state = JSON.parse(good);
    const base = state.environments.base;
    for (const dir of [victim, join(envRoot, "x", "..", "..", "..", "..", "..", "..", victim)]) {
      state.environments.evil = {
        ...base,
        name: "evil",
        dir,
        workdir: join(dir, "work"),
        spec: { ...base.spec, name: "evil" },
      };
      writeFileSync(stateFile, JSON.stringify(state));
      for (const args of [
        ["environment", "delete", "--name", "evil", "--force"],
        ["container", "prune", "--all"],
      ]) {
        const r = await cr(args);
        expectRefused(r, 1);
        expect(r.stderr).toMatch(/environments\.evil\.dir .* is outside the environments root/);
      }
    }
    writeFileSync(stateFile, good);
    clean();
    await stillWorks();
  });

  it("a state file that is a directory is named as such", async () => {
    const good = readFileSync(stateFile, "utf8");
    rmSync(stateFile);
    mkdirSync(stateFile);
    const r = await cr(["environment", "list"]);
    expectRefused(r, 1);
    expect(r.stderr).toMatch(/state\.json: is a directory, not the state file/);
    rmSync(stateFile, { recursive: true });
    writeFileSync(stateFile, good);
    clean();
  });
});

describe("mount specs", () => {
  it("targets that leave the environment, empty or with control bytes, and missing sources are refused before anything is made", async () => {
    mkdirSync(join(box.root, "src"), { recursive: true });
    const cases: [string, RegExp][] = [
      ["src:/../../etc", /mount target "\/\.\.\/\.\.\/etc" is not a path inside the environment/],
      ["src:../../outside", /mount target "\.\.\/\.\.\/outside" is not a path inside the environment/],
      ["src:/w\u001b[2J", /mount target "\/w\\u001b\[2J" is empty or holds a control character/],
      ["missing:/w", /mount source .*missing does not exist/],
      ["src:/w:xx", /--mount src:\/w:xx: expected host:\/target\[:ro\|rw\]/],
    ];
    for (const [spec, line] of cases) {
      const r = await cr(["environment", "create", "--backend", "local", "--name", "m", "--mount", spec]);
      expectRefused(r, 2);
      expect(r.stderr, spec).toMatch(line);
    }
    expect(envNames()).toEqual(["base"]);
    clean();
    await stillWorks();
  });

  it("in an isolated environment, a symlink in the mounted project that points outside reaches nothing", async () => {
    const made = await cr([
      "environment",
      "create",
      "--backend",
      "local",
      "--name",
      "linked",
      "--isolated",
      "--mount",
      ".:/workspace",
    ]);
    expect(made.code, made.stderr).toBe(0);
    symlinkSync(victim, join(box.root, "escape"));
    try {
      const r = await cr(["exec", "--env", "linked", "--", "sh", "-c", "rm -f escape/keep; ls escape/"]);
      expect(r.code).not.toBe(0);
      expect(readdirSync(victim)).toEqual(["keep"]);
    } finally {
      unlinkSync(join(box.root, "escape"));
    }
    const gone = await cr(["environment", "delete", "--name", "linked", "--force"]);
    expect(gone.code, gone.stderr).toBe(0);
    clean();
  });
});

describe("limits and names", () => {
  it("memory and CPU limits out of range are refused, whatever unit they were typed in", async () => {
    for (const [flags, line] of [
      [["--memory", "1K"], /memory 1 MiB is out of range \(6 MiB to 8192 TiB\)/],
      [["--memory", "9999999999999999999"], /memory .* is out of range/],
      [["--cpus", "100000"], /CPUs 100000 is out of range \(0\.01 to 4096\)/],
      [["--cpus", "0"], /--cpus "0": expected a positive number/],
      [["--memory", "0"], /--memory "0"/],
    ] as const) {
      const r = await cr(["environment", "create", "--backend", "local", "--name", "lim", ...flags]);
      expectRefused(r, 2);
      expect(r.stderr, flags.join(" ")).toMatch(line);
    }
    expect(envNames()).toEqual(["base"]);
    clean();
  });

  it("names with control bytes, slashes or 5,000 characters are refused, escaped and cut in the line", async () => {
    const cases: [string[], RegExp][] = [
      [
        ["environment", "create", "--backend", "local", "--name", "a\u001b]0;x\u0007"],
        /invalid environment name "a\\u001b\]0;x\\u0007"/,
      ],
      [
        ["environment", "create", "--backend", "local", "--name", "../../x"],
        /invalid environment name "\.\.\/\.\.\/x"/,
      ],
      [
        ["environment", "create", "--backend", "local", "--name", "a".repeat(5000)],
        /invalid environment name "a{60}… \(5000 characters\)"/,
      ],
      [
        ["container", "start", "redis", "--env", "base", "--name", "r\u001b[1m"],
        /invalid service name "r\\u001b\[1m"/,
      ],
      [
        ["container", "start", "redis", "--env", "base", "--set-env", "A\u001b=1"],
        /service redis: "A\\u001b" is not a variable name/,
      ],
    ];
    for (const [args, line] of cases) {
      const r = await cr(args);
      expectRefused(r, 2);
      expect(r.stderr, args.join(" ").slice(0, 80)).toMatch(line);
      expect(r.stderr.length).toBeLessThan(400);
    }
    expect(envNames()).toEqual(["base"]);
    clean();
  });
});

describe("environment variables the kernel would refuse", () => {
  it("a scenario variable past 128 KiB is refused at its line, on the host and in an environment", async () => {
    write(
      "big-env.yaml",
      `steps:\n  - name: big\n    run: echo \${#BIG}\n    env:\n      BIG: "${"a".repeat(200_000)}"\n`,
    );
    for (const where of [["--host"], ["--env", "base"]]) {
      const r = await cr(["exec", ...where, "--scenario", "big-env.yaml"]);
      expectRefused(r, 2);
      expect(r.stderr).toMatch(
        /big-env\.yaml:5:\d+: env of step 'big': BIG is .*; one variable can hold at most 128 KiB/,
      );
    }
    clean();
    await stillWorks();
  });

  it("service variables that together pass 1 MiB are refused before anything starts", async () => {
    const vars = Array.from({ length: 10 }, (_, i) => ["--set-env", `V${i}=${"x".repeat(120_000)}`]).flat();
    const r = await cr(["container", "start", "redis", "--env", "base", ...vars]);
    expectRefused(r, 2);
    expect(r.stderr).toMatch(/service redis: the variables take .*; together they can take at most 1 MiB/);
    const list = await cr(["container", "list", "--json"]);
    expect(JSON.parse(list.stdout)).toEqual([]);
    clean();
  });
});

describe("patterns and timers inside an environment", () => {
  it("an expected-output pattern built to backtrack fails its step in bounded time", async () => {
    write(
      "evil.yaml",
      `steps:\n  - name: flood\n    run: node -e "process.stdout.write('a'.repeat(100000) + '!')"\n    expect: { stdout_matches: '^(a+)+$' }\n`,
    );
    const r = await cr(["exec", "--env", "base", "--scenario", "evil.yaml"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/stdout does not match \/\^\(a\+\)\+\$\//);
    clean();
  });

  it("timeouts of 31 days do not fire at once: a command, a scenario and a service's readiness", async () => {
    const c = await cr([
      "exec",
      "--env",
      "base",
      "--timeout",
      "2678400",
      "--",
      "sh",
      "-c",
      "sleep 0.3; echo slept",
    ]);
    expect(c.code, c.stderr).toBe(0);
    expect(c.stdout).toContain("slept");
    write(
      "long.yaml",
      "timeout_ms: 2678400000\nsteps:\n  - name: wait\n    run: sleep 0.3 && echo done\n    timeout_ms: 2678400000\n",
    );
    const s = await cr(["exec", "--env", "base", "--scenario", "long.yaml"]);
    expect(s.code, s.stdout + s.stderr).toBe(0);
    const v = await cr(["container", "start", "redis", "--env", "base", "--timeout", "2678400"]);
    expect(v.code, v.stderr).toBe(0);
    const stop = await cr(["container", "stop", "--all", "--env", "base"]);
    expect(stop.code, stop.stderr).toBe(0);
    clean();
  });
});
