// Issue 14, walked through the built programs: each "Seen" the other suites do not already drive through
// apps/*/dist/bin.js is one case here, named after it (the rest are listed in the issue's report). Each
// case runs in its own scratch project and asserts the exit code, the one line, and the effect.
import { type SpawnSyncReturns, spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { domainServiceVariant, FAILING_TEST } from "../support/domain-service-variant.js";
import { pathWithout, repo } from "./repo.js";

const scratch = realpathSync(mkdtempSync(join(tmpdir(), "ggen-issue14-")));
const cleanups: (() => void)[] = [];
afterAll(() => {
  for (const c of cleanups.reverse()) c();
  rmSync(scratch, { recursive: true, force: true });
});

/** A fresh project directory with these files. */
function project(name: string, files: Record<string, string> = {}): string {
  const dir = join(scratch, name);
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), text);
  }
  mkdirSync(dir, { recursive: true });
  return dir;
}

function program(
  name: "ggen" | "cleanroom",
  cwd: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [join(repo, "apps", name, "dist", "bin.js"), ...args], {
    cwd,
    encoding: "utf8",
    env: {
      ...process.env,
      NO_COLOR: "1",
      CLEANROOM_ENV: "",
      GGEN_METRICS_FILE: "",
      GGEN_HOME: join(scratch, ".ggen-home"),
      GGEN_CLEANROOM_NO_PULL: "1",
      ...env,
    },
    timeout: 600_000,
  });
}
const ggen = (cwd: string, args: string[], env?: NodeJS.ProcessEnv) => program("ggen", cwd, args, env);
const cleanroom = (cwd: string, args: string[], env?: NodeJS.ProcessEnv) =>
  program("cleanroom", cwd, args, env);

/** The one line on stderr of a refusal. */
function oneLine(r: SpawnSyncReturns<string>): string {
  const lines = r.stderr.trim().split("\n");
  expect(lines, r.stderr).toHaveLength(1);
  return lines[0]!;
}

describe("issue 14: filesystem isolation and read-only mounts (local backend)", () => {
  it("Seen: without bubblewrap, `environment create --isolated --mount .:/workspace:ro` succeeds and writes to /workspace, the host directory and /etc succeed", () => {
    // The sandbox has its own /tmp, so the PATH without bwrap lives where the sandbox still sees it.
    const hidden = pathWithout(["bwrap"], "/var/tmp");
    cleanups.push(() => rmSync(hidden.dir, { recursive: true, force: true }));
    for (const [label, env] of [
      ["without bubblewrap", { PATH: hidden.path }],
      ["with bubblewrap", {}],
    ] as const) {
      const dir = project(`ro-${label.replace(/ /g, "-")}`, { "data.txt": "host\n" });
      const name = "ro";
      cleanups.push(() => void cleanroom(dir, ["environment", "delete", "--name", name, "--force"]));
      const made = cleanroom(
        dir,
        [
          "environment",
          "create",
          "--isolated",
          "--mount",
          ".:/workspace:ro",
          "--name",
          name,
          "--backend",
          "local",
        ],
        env,
      );
      expect(made.status, `${label}: ${made.stderr}`).toBe(0);
      const status = cleanroom(dir, ["environment", "status", "--name", name, "--json"], env);
      expect(status.status, status.stderr).toBe(0);
      const s = JSON.parse(status.stdout);
      expect(s.guarantees, label).toMatchObject({
        readOnlyRoot: true,
        readOnlyMounts: true,
        mountTargets: true,
      });
      expect(s.spec.mounts, label).toEqual([{ host: dir, target: "/workspace", writable: false }]);
      if (label === "without bubblewrap") expect(s.guarantees.mechanism).not.toMatch(/bubblewrap/);
      // Each write reports its own outcome; the exec itself succeeds.
      const probe =
        'for f in /workspace/written /etc/cleanroom-issue14 ./written; do if touch "$f" 2>/dev/null; then echo "wrote $f"; else echo "refused $f"; fi; done; cat /workspace/data.txt';
      const r = cleanroom(dir, ["exec", "--env", name, "--", "sh", "-c", probe], env);
      expect(r.status, `${label}: ${r.stderr}`).toBe(0);
      expect(r.stdout, label).toBe(
        "refused /workspace/written\nrefused /etc/cleanroom-issue14\nrefused ./written\nhost\n",
      );
      expect(existsSync(join(dir, "written")), label).toBe(false);
      expect(existsSync("/etc/cleanroom-issue14"), label).toBe(false);
      expect(cleanroom(dir, ["environment", "delete", "--name", name, "--force"]).status).toBe(0);
    }
  });

  it("Wanted: where neither bubblewrap nor a mount namespace works, create refuses in one line (exit 1) naming what to install", () => {
    const hidden = pathWithout(["bwrap", "unshare"], "/var/tmp");
    cleanups.push(() => rmSync(hidden.dir, { recursive: true, force: true }));
    const dir = project("no-mechanism");
    for (const [args, what] of [
      [["--isolated"], "an isolated environment \\(own network, PIDs and a read-only host\\) needs"],
      [["--mount", ".:/workspace:ro"], "a read-only mount needs"],
      [
        ["--mount", ".:/workspace"],
        "a mount target outside the workdir \\(an absolute one, like /workspace\\) needs",
      ],
    ] as const) {
      const r = cleanroom(dir, ["environment", "create", "--name", "none", ...args, "--backend", "local"], {
        PATH: hidden.path,
      });
      expect(r.status, args.join(" ")).toBe(1);
      expect(oneLine(r)).toMatch(
        new RegExp(
          `^cleanroom: error: cannot create environment none here: ${what} a mount namespace: bubblewrap does not work here, and ${
            process.getuid?.() === 0
              ? "unshare --mount --pid is missing or failed"
              : "user namespaces are not allowed"
          } \\(install bubblewrap \\(apt-get install bubblewrap\\)`,
        ),
      );
    }
    expect(cleanroom(dir, ["environment", "list", "--json"]).stdout.trim()).toBe("[]");
  });

  it("Wanted: seed 001's `environment create --mount target/generated:/workspace`, then `exec --env NAME -- cargo build --manifest-path /workspace/Cargo.toml` builds on the local backend", () => {
    const dir = project("seed001-workspace", {
      "target/generated/Cargo.toml": '[package]\nname = "seed_demo"\nversion = "0.1.0"\nedition = "2021"\n',
      "target/generated/src/main.rs": 'fn main() { println!("seed demo"); }\n',
    });
    cleanups.push(() => void cleanroom(dir, ["environment", "delete", "--name", "rust", "--force"]));
    const made = cleanroom(dir, [
      "environment",
      "create",
      "--name",
      "rust",
      "--mount",
      "target/generated:/workspace",
      "--backend",
      "local",
    ]);
    expect(made.status, made.stderr).toBe(0);
    const build = cleanroom(dir, [
      "exec",
      "--env",
      "rust",
      "--",
      "cargo",
      "build",
      "--offline",
      "--manifest-path",
      "/workspace/Cargo.toml",
    ]);
    expect(build.status, build.stderr).toBe(0);
    expect(build.stderr).toMatch(/Compiling seed_demo v0\.1\.0 \(\/workspace\)/);
    // The build wrote where the mount points: the host's target/generated.
    expect(existsSync(join(dir, "target/generated/target/debug/seed_demo"))).toBe(true);
  });

  it("Wanted: .cleanroom/config.toml's default_isolated and [policy] are honoured, an unknown key refused at file:line:col", () => {
    const dir = project("config-honoured", {
      ".cleanroom/config.toml":
        "[environment]\ndefault_isolated = true\n[policy]\nmax_memory_mb = 1024\nallow_host_network = false\n",
    });
    cleanups.push(() => void cleanroom(dir, ["environment", "delete", "--name", "plain", "--force"]));
    const made = cleanroom(dir, ["environment", "create", "--name", "plain", "--backend", "local"]);
    expect(made.status, made.stderr).toBe(0);
    const s = JSON.parse(cleanroom(dir, ["environment", "status", "--name", "plain", "--json"]).stdout);
    expect(s.spec.isolated).toBe(true);
    expect(s.guarantees.network).toBe(true);
    const big = cleanroom(dir, [
      "environment",
      "create",
      "--name",
      "big",
      "--memory",
      "2G",
      "--backend",
      "local",
    ]);
    expect(big.status).toBe(2);
    expect(oneLine(big)).toMatch(
      /memory \(MiB\) 2048 is over the policy's maximum 1024 \(policy\.max_memory_mb \(.*\.cleanroom\/config\.toml:4:1\)\)/,
    );
    const open = cleanroom(dir, [
      "environment",
      "create",
      "--name",
      "open",
      "--no-isolated",
      "--backend",
      "local",
    ]);
    expect(open.status).toBe(2);
    expect(oneLine(open)).toMatch(/host's network, which the policy forbids \(policy\.allow_host_network/);
    writeFileSync(join(dir, ".cleanroom/config.toml"), "[policy]\nmax_memroy_mb = 1024\n");
    const typo = cleanroom(dir, ["environment", "list"]);
    expect(typo.status).toBe(2);
    expect(oneLine(typo)).toMatch(
      /config\.toml:2:1: \[policy\] max_memroy_mb is not a key of \[policy\] \(did you mean 'max_memory_mb'\?\)/,
    );
    expect(cleanroom(dir, ["environment", "list"]).stdout).not.toMatch(/big|open/);
  });
});

describe("issue 14: attestations verify, and a failure is attested truthfully", () => {
  it("Seen: after a failed run the report prints `Tests: 0/0 passed`, the attestation is empty, securityPassed shows ✗ though validation was skipped; subjects do not verify from another directory", {
    timeout: 900_000,
  }, async () => {
    // The bundled domain-service pack with one generated test broken: a run that fails in its tests.
    const { registry } = await domainServiceVariant(scratch, {
      id: "io.example.issue14-failing",
      edits: [FAILING_TEST],
    });

    const dir = project("failed-run");
    const r = ggen(dir, [
      "ultra-fast-deploy",
      "--registry",
      registry,
      "--template",
      "io.example.issue14-failing",
      "--name",
      "shop",
      "--sign",
      "--timeout",
      "10m",
    ]);
    expect(r.status, r.stderr.slice(-2000)).toBe(1);
    // Piped, the stage view goes to stderr as it happens; the error is its last line.
    expect(r.stderr.trim().split("\n").at(-1)).toMatch(
      /^ggen: error: 1 of \d+ generated tests failed \(details: /,
    );
    const report = JSON.parse(readFileSync(join(dir, "target/ultra-fast/shop/report.json"), "utf8"));
    const { testsExecuted, testsPassed, testsFailed } = report.metrics;
    expect(testsFailed).toBe(1);
    expect(testsExecuted).toBeGreaterThan(10);
    // The text report: the real counts, and what never ran is not a failure.
    expect(r.stdout).toContain(`Tests: ${testsPassed}/${testsExecuted} passed`);
    expect(report.validation.skipped).toContain("securityPassed");
    expect(r.stdout).toMatch(/^Validation: .*- securityPassed/m);
    expect(r.stdout).not.toMatch(/✗ securityPassed/);
    // The attestation: the generated files as subjects, the failure in the predicate.
    const statement = join(dir, "target/ultra-fast/shop/attestation.intoto.json");
    // Signed (--sign): a DSSE envelope around the in-toto statement.
    const envelope = JSON.parse(readFileSync(statement, "utf8"));
    expect(envelope.signatures?.length).toBeGreaterThan(0);
    const att = JSON.parse(Buffer.from(envelope.payload, "base64").toString("utf8"));
    expect(att.predicateType).toBe("https://in-toto.io/attestation/test-result/v0.1");
    expect(att.subject.length).toBeGreaterThan(5);
    expect(att.predicate.result).toBe("FAILED");
    expect(att.predicate.failedTests).toHaveLength(1);
    expect(att.predicate.passedTests).toHaveLength(testsPassed);
    // Verified from a directory that is neither the project nor its output, signed with the project key.
    const elsewhere = project("elsewhere");
    const ok = cleanroom(elsewhere, ["report", "--verify", statement]);
    expect(ok.status, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^VERIFIED {2}(\d+)\/\1 files match/);
    expect(ok.stdout).toMatch(/signature valid/);
    // One generated file and one test result changed: --verify fails, naming both.
    const generated = join(dir, "target/generated/shop/src/model.mjs");
    writeFileSync(generated, `${readFileSync(generated, "utf8")}// changed after the run\n`);
    const runFile = join(dir, "target/generated/shop/.ggen/cleanroom-run.json");
    const run = readFileSync(runFile, "utf8");
    expect(run).toMatch(/"failed": 1/);
    writeFileSync(runFile, run.replace(/"failed": 1/, '"failed": 0'));
    const bad = cleanroom(elsewhere, ["report", "--verify", statement]);
    expect(bad.status).toBe(1);
    expect(bad.stdout).toMatch(/changed: target\/generated\/shop\/src\/model\.mjs \(subject\)/);
    expect(bad.stdout).toMatch(
      /changed: target\/generated\/shop\/\.ggen\/cleanroom-run\.json \(configuration\)/,
    );
    expect(oneLine(bad)).toBe(
      "cleanroom: error: attestation does not verify: target/generated/shop/src/model.mjs changed; target/generated/shop/.ggen/cleanroom-run.json changed",
    );
  });
});

describe("issue 14: metrics tell the truth", () => {
  it("Seen: .ggen/deployments.jsonl records the sum of stages that ran in parallel, and `lifecycle metrics` averages that; GGEN_METRICS_FILE (seed 000) is ignored", () => {
    const dir = project("metrics-wall", {
      "make.toml": [
        "[phases.a]",
        'command = "sleep 1"',
        "[phases.b]",
        'command = "sleep 1"',
        "[phases.deploy]",
        'depends_on = ["a", "b"]',
        "[environments.production.deploy]",
        'provider = "command"',
        'command = "true"',
        "",
      ].join("\n"),
    });
    const env = { GGEN_METRICS_FILE: "metrics.json" };
    const r = ggen(dir, ["lifecycle", "run", "deploy", "--env", "production"], env);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^deployment \S+ to production: success$/m);
    // Seed 000's variable names the history; the default file is not written.
    expect(existsSync(join(dir, ".ggen/deployments.jsonl"))).toBe(false);
    const records = readFileSync(join(dir, "metrics.json"), "utf8").trim().split("\n");
    expect(records).toHaveLength(1);
    const record = JSON.parse(records[0]!);
    const { a, b } = record.phases as Record<string, number>;
    // a and b ran side by side: the total is the wall time, not their sum.
    expect(record.totalTimeSeconds).toBeGreaterThanOrEqual(Math.max(a!, b!));
    expect(record.totalTimeSeconds).toBeLessThan(a! + b!);
    expect(record.stages.a.startSeconds).toBeLessThan(record.stages.b.startSeconds + b!);
    expect(record.stages.deployment.startSeconds).toBeGreaterThanOrEqual(
      Math.max(record.stages.a.startSeconds + a!, record.stages.b.startSeconds + b!) - 0.01,
    );
    const summary = ggen(dir, ["lifecycle", "metrics", "--json"], env);
    expect(summary.status, summary.stderr).toBe(0);
    expect(summary.stdout).toContain(String(record.totalTimeSeconds));
    expect(ggen(dir, ["lifecycle", "metrics"], env).stdout).toMatch(
      new RegExp(`^wall time: mean ${record.totalTimeSeconds}s`, "m"),
    );
  });
});

describe("issue 14: your own ontology works with the packs", () => {
  it("Seen: `ggen gen io.ggen.domain-service --graph library.ttl` fails unless the user's file declares @prefix rdf:, and the error points into the installed pack's queries/fields.rq", () => {
    const dir = project("own-ontology", {
      // No rdf: prefix: `a` is all the file needs.
      "library.ttl": [
        "@prefix owl: <http://www.w3.org/2002/07/owl#> .",
        "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .",
        "@prefix lib: <https://library.example/> .",
        'lib:Book a owl:Class ; rdfs:label "Book" .',
        "lib:title a owl:DatatypeProperty ; rdfs:domain lib:Book ; rdfs:range <http://www.w3.org/2001/XMLSchema#string> .",
        "",
      ].join("\n"),
      "no-classes.ttl": '<https://library.example/x> <https://library.example/p> "no classes" .\n',
      "undeclared.ttl":
        "@prefix owl: <http://www.w3.org/2002/07/owl#> .\n<https://library.example/B> a owl:Class ; <https://library.example/p> rdf:type .\n",
    });
    const add = ggen(dir, ["market", "add", "io.ggen.domain-service"]);
    expect(add.status, add.stderr).toBe(0);
    const gen = ggen(dir, [
      "gen",
      "io.ggen.domain-service",
      "--graph",
      "library.ttl",
      "-o",
      "out",
      "--vars",
      "name=library",
    ]);
    expect(gen.status, gen.stderr).toBe(0);
    expect(existsSync(join(dir, "out/test/entities/book.test.mjs"))).toBe(true);
    // What the pack needs and the user's file lacks is said about the user's file, never the pack's query.
    const none = ggen(dir, [
      "gen",
      "io.ggen.domain-service",
      "--graph",
      "no-classes.ttl",
      "-o",
      "o2",
      "--vars",
      "name=x",
    ]);
    expect(none.status).not.toBe(0);
    // The pack's shape speaks in the user's terms (its own sh:message), naming the user's file.
    expect(oneLine(none)).toMatch(/^ggen: error: no-classes\.ttl: this ontology declares no class/);
    const syntax = ggen(dir, [
      "gen",
      "io.ggen.domain-service",
      "--graph",
      "undeclared.ttl",
      "-o",
      "o3",
      "--vars",
      "name=x",
    ]);
    expect(syntax.status).not.toBe(0);
    expect(oneLine(syntax)).toMatch(
      /undeclared\.ttl:2:\d+: RDF syntax error: The prefix rdf: has not been declared/,
    );
    for (const r of [none, syntax]) expect(r.stderr).not.toMatch(/\.rq/);
    expect(existsSync(join(dir, "o2"))).toBe(false);
    expect(existsSync(join(dir, "o3"))).toBe(false);
  });
});
