// Beyond one machine (issue 19), through the built program: a suite split into shards that run as
// separate processes at once and merge into the same tests and counts as the unsharded run; shard
// attestations verified and referenced; missing, duplicated and foreign shards named; TAP and GitHub
// Actions annotations; and one Docker engine per shard (a second private dockerd, started and stopped here).
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type CleanroomRun, validate } from "@ggen/contract";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { bin, oneLine, type Project, project } from "./helpers.js";

vi.setConfig({ testTimeout: 240_000, hookTimeout: 120_000 });

interface Ran {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** The program as its own process, not waited for: shards run side by side. */
function start(p: Project, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(process.execPath, [bin, ...args], {
      cwd: p.dir,
      env: { ...process.env, NO_COLOR: "1", CLEANROOM_ENV: "", GITHUB_ACTIONS: "", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (d) => {
      stdout += d;
    });
    child.stderr?.on("data", (d) => {
      stderr += d;
    });
    child.on("error", reject);
    child.on("close", (status) => resolve({ status, stdout, stderr }));
  });
}

const testFile = (i: number) =>
  `import { test } from "node:test";
test("f${i} passes", async () => { await new Promise((r) => setTimeout(r, ${20 * i})); });
test("f${i} ${i === 3 ? "fails" : "also passes"}", () => { if (${i === 3}) throw new Error("f${i} is broken"); });
test.skip("f${i} skipped", () => {});
`;

const ids = (run: CleanroomRun) => run.tests.map((t) => t.id).sort();

let p: Project;
beforeAll(() => {
  p = project("cleanroom-shards-");
  for (let i = 1; i <= 7; i++) p.write(`suite/f${i}.test.mjs`, testFile(i));
});
afterAll(() => p.cleanup());

describe("shards that add up", () => {
  it("a suite split 3 ways, run as 3 processes at once, merged: the same tests and counts as the unsharded run", async () => {
    const full = p.run(
      "test",
      "run",
      "--backend",
      "local",
      "--files",
      "suite/*.test.mjs",
      "--report",
      "full.json",
    );
    expect(full.status, full.stderr).toBe(1);
    const whole = JSON.parse(readFileSync(join(p.dir, "full.json"), "utf8")) as CleanroomRun;
    expect(whole.summary).toMatchObject({ total: 21, passed: 13, failed: 1, skipped: 7 });
    const shards = await Promise.all(
      [1, 2, 3].map((k) =>
        start(p, [
          "test",
          "run",
          "--backend",
          "local",
          "--files",
          "suite/*.test.mjs",
          "--shard",
          `${k}/3`,
          "--report",
          `shard-${k}.json`,
        ]),
      ),
    );
    for (const s of shards)
      expect(s.stderr).toMatch(/shard \d\/3: \d of 7 files \(balanced by recorded durations\)/);
    const runs = [1, 2, 3].map(
      (k) => JSON.parse(readFileSync(join(p.dir, `shard-${k}.json`), "utf8")) as CleanroomRun,
    );
    // Every shard planned the same split, and no file ran twice.
    expect(new Set(runs.map((r) => r.shard?.plan)).size).toBe(1);
    expect(runs.map((r) => r.shard?.index)).toEqual([1, 2, 3]);
    const files = runs.flatMap((r) => [...new Set(r.tests.map((t) => t.file))]);
    expect(files.sort()).toEqual([...new Set(whole.tests.map((t) => t.file))].sort());
    for (const k of [1, 2, 3])
      expect(
        p.run("report", "--attestation", "--run", `shard-${k}.json`, "--output", `shard-${k}.intoto.json`)
          .status,
      ).toBe(0);
    // `shard-*.json` as a shell expands it: the attestations come along and are taken as such.
    const glob = readdirSync(p.dir)
      .filter((f) => /^shard-.*\.json$/.test(f))
      .sort();
    expect(glob).toHaveLength(6);
    const merge = p.run(
      "report",
      "merge",
      ...glob,
      "-o",
      "run.json",
      "--junit",
      "junit.xml",
      "--html",
      "report.html",
      "--tap",
      "run.tap",
      "--attest",
      "run.intoto.json",
    );
    expect(merge.status, merge.stderr).toBe(1); // f3 fails: the merged run failed
    expect(merge.stdout).toContain("Merged 3 shards (attestations verified)");
    const merged = JSON.parse(readFileSync(join(p.dir, "run.json"), "utf8")) as CleanroomRun;
    expect(validate("cleanroom-run/v1", merged).ok).toBe(true);
    expect(ids(merged)).toEqual(ids(whole));
    expect(merged.summary).toEqual(whole.summary);
    expect(merged.shards?.map((s) => [s.index, s.path, s.attestation?.path])).toEqual([
      [1, "shard-1.json", "shard-1.intoto.json"],
      [2, "shard-2.json", "shard-2.intoto.json"],
      [3, "shard-3.json", "shard-3.intoto.json"],
    ]);
    expect(readFileSync(join(p.dir, "junit.xml"), "utf8")).toMatch(
      /<testsuites name="run-[^"]+" tests="21" failures="1"/,
    );
    expect(readFileSync(join(p.dir, "run.tap"), "utf8")).toMatch(/^TAP version 14\n1\.\.21\n/);
    expect(readFileSync(join(p.dir, "report.html"), "utf8")).toContain("<html");
    // One attestation: the subjects are the union of the shards', the shards' attestations referenced.
    const statement = JSON.parse(readFileSync(join(p.dir, "run.intoto.json"), "utf8")) as {
      subject: { name: string }[];
      predicate: { configuration: { name?: string }[]; failedTests: string[] };
    };
    expect(statement.subject.map((s) => s.name).sort()).toEqual(
      Array.from({ length: 7 }, (_, i) => `suite/f${i + 1}.test.mjs`),
    );
    expect(statement.predicate.configuration.map((c) => c.name)).toEqual(
      expect.arrayContaining([
        "run.json",
        "shard-1.intoto.json",
        "shard-2.intoto.json",
        "shard-3.intoto.json",
      ]),
    );
    expect(statement.predicate.failedTests).toEqual(["suite/f3.test.mjs#f3 fails"]);
    const verify = p.run("report", "--verify", "run.intoto.json");
    expect(verify.status, verify.stdout).toBe(0);
    expect(verify.stdout).toMatch(/^VERIFIED {2}11\/11 files match/);
  });

  it("a missing, duplicated or foreign shard is an error naming it", () => {
    const missing = p.run("report", "merge", "shard-1.json", "shard-3.json", "-o", "x.json");
    expect(missing.status).toBe(2);
    expect(oneLine(missing)).toBe(
      "cleanroom: error: shard 2/3 is missing (given: shard 1/3 shard-1.json, shard 3/3 shard-3.json)",
    );
    writeFileSync(join(p.dir, "copy.json"), readFileSync(join(p.dir, "shard-2.json")));
    const twice = p.run(
      "report",
      "merge",
      "shard-1.json",
      "shard-2.json",
      "copy.json",
      "shard-3.json",
      "-o",
      "x.json",
    );
    expect(twice.status).toBe(2);
    expect(oneLine(twice)).toBe("cleanroom: error: shard 2/3 is given twice: shard-2.json and copy.json");
    const notShard = p.run("report", "merge", "full.json", "shard-1.json", "-o", "x.json");
    expect(oneLine(notShard)).toBe(
      "cleanroom: error: full.json is not a shard run (it was not run with --shard k/n)",
    );
    const lone = p.run("report", "merge", "shard-1.json", "shard-2.intoto.json", "-o", "x.json");
    expect(oneLine(lone)).toMatch(
      /shard-2\.intoto\.json is an attestation, but its run shard-2\.json is not given/,
    );
    expect(existsSync(join(p.dir, "x.json"))).toBe(false);
  });

  it("a shard whose attestation no longer verifies stops the merge, naming it and the file", () => {
    const shard2 = JSON.parse(readFileSync(join(p.dir, "shard-2.json"), "utf8")) as CleanroomRun;
    const victim = shard2.sources![0]!.path;
    const before = readFileSync(join(p.dir, victim), "utf8");
    writeFileSync(join(p.dir, victim), `${before}// tampered\n`);
    try {
      const r = p.run("report", "merge", "shard-1.json", "shard-2.json", "shard-3.json", "-o", "y.json");
      expect(r.status).toBe(1);
      expect(oneLine(r)).toBe(`cleanroom: error: shard-2.intoto.json does not verify: ${victim} changed`);
      expect(existsSync(join(p.dir, "y.json"))).toBe(false);
    } finally {
      writeFileSync(join(p.dir, victim), before);
    }
  });
});

describe("output formats CI tools read", () => {
  it("TAP from test results; GitHub Actions annotations with file and line when GITHUB_ACTIONS=true", () => {
    const r = p.runWith({ GITHUB_ACTIONS: "true" }, "test", "run", "--host", "--file", "suite/f3.test.mjs");
    expect(r.status).toBe(1);
    // node's runner declares the failing test on line 3 of the file.
    expect(r.stdout).toContain(
      "::error file=suite/f3.test.mjs,line=3,title=f3 fails [failed]::f3 is broken\n",
    );
    expect(r.stdout).toMatch(
      /^::notice title=cleanroom::FAILED 3 tests: 1 passed, 1 failed, 1 skipped \(run-/m,
    );
    expect(p.run("test", "run", "--host", "--file", "suite/f1.test.mjs").stdout).not.toContain("::");
    const json = p.runWith({ GITHUB_ACTIONS: "true" }, "--json", "test", "results");
    expect(JSON.parse(json.stdout).kind).toBe("cleanroom-run/v1");
    expect(json.stderr).toContain("::notice title=cleanroom::");
    const tap = p.run("test", "results", "--format", "tap");
    expect(tap.stdout).toMatch(/^TAP version 14\n1\.\.3\n/);
    expect(tap.stdout).toContain("ok 3 - suite/f1.test.mjs > f1 skipped # SKIP");
  });
});

// A second Docker engine on this machine (own socket, own data root) standing in for a second host.
const ENGINE_ROOT = "/tmp/ggen-docker-3";
const engineB = `unix://${ENGINE_ROOT}/docker.sock`;
const engineA = process.env.DOCKER_HOST ?? "unix:///tmp/ggen-docker/docker.sock";
let dockerdPid: number | undefined;

const docker = (host: string, ...args: string[]) =>
  execFileSync("docker", args, {
    env: { ...process.env, DOCKER_HOST: host },
    encoding: "utf8",
    stdio: ["ignore", "pipe", "ignore"],
  });

describe("one Docker engine per shard", () => {
  beforeAll(async () => {
    mkdirSync(ENGINE_ROOT, { recursive: true });
    const d = spawn(
      "dockerd",
      [
        "--bridge=none",
        "--iptables=false",
        "--ip6tables=false",
        `--data-root=${ENGINE_ROOT}/data`,
        `--exec-root=${ENGINE_ROOT}/exec`,
        `--pidfile=${ENGINE_ROOT}/dockerd.pid`,
        `-H=${engineB}`,
      ],
      { stdio: "ignore", detached: true },
    );
    dockerdPid = d.pid;
    d.unref();
    for (let i = 0; i < 120; i++) {
      try {
        docker(engineB, "info", "--format", "{{.ServerVersion}}");
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 250));
      }
    }
    // The environment image, from engine A (nothing is pulled here).
    if (!docker(engineB, "images", "-q", "ggen/node:20-bookworm").trim())
      execFileSync("sh", ["-c", "docker save ggen/node:20-bookworm | DOCKER_HOST=$B docker load"], {
        env: { ...process.env, DOCKER_HOST: engineA, B: engineB },
        stdio: "ignore",
      });
  });
  afterAll(async () => {
    if (!dockerdPid) return;
    // Only the dockerd started above, by its pid; the shared engine is never touched.
    process.kill(dockerdPid, "SIGTERM");
    for (let i = 0; i < 80 && existsSync(`/proc/${dockerdPid}`); i++)
      await new Promise((r) => setTimeout(r, 250));
  });

  it("shards land on both engines, merge, and leave both clean", async () => {
    const since = Math.floor(Date.now() / 1000) - 1;
    const q = project("cleanroom-engines-");
    try {
      for (let i = 1; i <= 4; i++) q.write(`suite/f${i}.test.mjs`, testFile(i === 3 ? 1 : i));
      const env = {
        GGEN_CLEANROOM_NO_PULL: "1",
        TESTCONTAINERS_RYUK_DISABLED: "true",
        TESTCONTAINERS_HOST_OVERRIDE: "127.0.0.1",
      };
      const shards = await Promise.all(
        [engineA, engineB].map((host, i) =>
          start(
            q,
            [
              "test",
              "run",
              "--files",
              "suite/*.test.mjs",
              "--shard",
              `${i + 1}/2`,
              "--report",
              `shard-${i + 1}.json`,
              "--docker-host",
              host,
            ],
            env,
          ),
        ),
      );
      for (const s of shards) expect(s.status, s.stderr).toBe(0);
      const merged = q.json<CleanroomRun>(
        "report",
        "merge",
        "shard-1.json",
        "shard-2.json",
        "-o",
        "run.json",
      );
      expect(merged.environment.backend).toBe("testcontainers");
      expect(merged.summary).toMatchObject({ total: 12, passed: 8, skipped: 4, failed: 0 });
      const until = Math.ceil(Date.now() / 1000) + 1;
      // What this project's state dir started carries its scope (other projects share engine A).
      const scope = `io.ggen.cleanroom=${createHash("sha256").update(join(q.dir, ".cleanroom")).digest("hex").slice(0, 12)}`;
      for (const host of [engineA, engineB]) {
        // Each engine ran an environment of this project…
        const created = docker(
          host,
          "events",
          "--since",
          String(since),
          "--until",
          String(until),
          "--filter",
          "type=container",
          "--filter",
          "event=create",
          "--filter",
          `label=${scope}`,
          "--format",
          "{{.ID}}",
        );
        expect(created.trim().split("\n").filter(Boolean).length, host).toBeGreaterThan(0);
        // …and nothing of it is left.
        expect(docker(host, "ps", "-aq", "--filter", `label=${scope}`).trim(), host).toBe("");
      }
    } finally {
      q.cleanup();
    }
  });
});
