#!/usr/bin/env node
// README's second command. First the preflight: every Debian package of scripts/system-packages.txt, a
// Docker engine (a private dockerd from scripts/ci/docker.sh when dockerd is installed and none answers,
// with the local images), the build, then what the tests need of this machine (root, working bubblewrap,
// a writable cgroup, overlayfs, the W3C suites). Anything missing stops the run here, one line naming it;
// GGEN_ALLOW_MISSING=1 runs the rest anyway (those tests then skip, and say so). Then lint, typecheck and
// every test (turbo, cached), the repository-wide checks (root scripts' lint, declared and used
// dependencies (knip), README sync, fresh clone),
// and one closing summary line. Every step runs even after a failure so the summary tells the whole story.
// A dockerd started here is stopped by its pid at the end, on failure and on Ctrl-C.
//   node scripts/check.mjs [--preflight]   (--preflight: only the preflight, then stop what it started)
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { constants, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { quietEnv } from "./pnpm.mjs";
import { missingLines, missingPackages } from "./system-packages.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const bin = (name) => join(root, "node_modules", ".bin", name);
const label = "npm test";
const preflightOnly = process.argv.includes("--preflight");
const allowMissing = process.env.GGEN_ALLOW_MISSING === "1";
Object.assign(process.env, quietEnv);

let child;
let interrupted;
let cleaningUp = false;
const exitCode = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 };
for (const signal of Object.keys(exitCode)) {
  process.on(signal, () => {
    if (!interrupted) console.error(`\n${label}: interrupted; stopping what this run started`);
    interrupted ??= signal;
    // Each step runs in its own process group (below): the signal goes to all of it, grandchildren too;
    // never to the clean-up, which must finish.
    try {
      if (child?.pid && !cleaningUp) process.kill(-child.pid, signal);
    } catch {
      // already gone
    }
  });
}

/** Runs a command to its end; resolves to its exit code (128 + n when a signal ended it). */
function run(cmd, args, { capture = false, env = process.env } = {}) {
  return new Promise((resolve) => {
    let stdout = "";
    // No standard input (as in CI): a step in its own group must not wait on the terminal.
    const stdio = ["ignore", capture ? "pipe" : "inherit", "inherit"];
    child = spawn(cmd, args, { cwd: root, env, stdio, detached: true });
    child.stdout?.on("data", (d) => {
      stdout += d;
    });
    child.on("error", (error) => {
      console.error(`${label}: ${cmd}: ${error.message}`);
      resolve({ code: 127, stdout });
    });
    child.on("close", (code, signal) => {
      child = undefined;
      resolve({ code: code ?? 128 + (constants.signals[signal] ?? 0), stdout });
    });
  });
}

// The dockerd this run starts, if any, is recorded here and only here: an engine found running is never ours.
const scratch = mkdtempSync(join(tmpdir(), "ggen-check-"));
const dockerStarted = join(scratch, "dockerd.pid");
// Given to docker.sh only: a per-run path in the tests' environment would change turbo's cache key each run.
const dockerSh = (fn) =>
  run("bash", ["-c", `source scripts/ci/docker.sh && ${fn}`], {
    capture: true,
    env: { ...process.env, GGEN_DOCKER_STARTED: dockerStarted },
  });

/** Lines naming what is missing (empty when all is there). */
async function preflight() {
  if (!existsSync(bin("turbo")))
    return [`${label}: the workspace is not installed: run npm run quickstart first`];
  const missing = missingPackages();
  const absent = new Set(missing.map((p) => p.name));
  const problems = missingLines(label, missing);
  if (problems.length > 0 && !allowMissing) return problems;

  const docker = await dockerSh("docker_start && docker_env");
  if (interrupted) return problems;
  for (const line of docker.stdout.split("\n")) {
    const eq = line.indexOf("=");
    if (eq > 0) process.env[line.slice(0, eq)] = line.slice(eq + 1);
  }
  if (docker.code !== 0)
    problems.push(`${label}: no Docker engine with the local images (the line above says why)`);

  const build = await run(bin("turbo"), ["run", "build", "--output-logs=errors-only"]);
  if (build.code !== 0 || interrupted)
    return [...problems, `${label}: the build failed (exit ${build.code})`];

  // Asked of the same code the tests ask, so the preflight and the skips cannot disagree.
  const { capabilities, dockerUnavailable } = await import("@ggen/cleanroom-backends");
  const caps = capabilities();
  if (process.getuid?.() !== 0)
    problems.push(
      `${label}: not root: the namespace, cgroup and overlay tests of the local backend need root`,
    );
  if (!caps.bwrap && !absent.has("bubblewrap"))
    problems.push(`${label}: bubblewrap cannot make namespaces here (bwrap --unshare-pid fails)`);
  if (!caps.cgroups)
    problems.push(`${label}: no writable cgroup (the memory and process limit tests need one)`);
  if (!caps.overlay && !absent.has("util-linux"))
    problems.push(`${label}: overlayfs cannot be mounted here (the copy-on-write tests need it)`);
  if (docker.code === 0) {
    const why = await dockerUnavailable(5000);
    if (why) problems.push(`${label}: Docker: ${why}`);
  }
  const w3c = process.env.W3C_RDF_TESTS ?? join(root, "..", "shared", "w3c-rdf-tests");
  if (!existsSync(w3c))
    problems.push(`${label}: the W3C RDF and SPARQL test suites are missing: ${w3c} (or set W3C_RDF_TESTS)`);
  return problems;
}

const steps = [
  ["packages", bin("turbo"), ["run", "lint", "typecheck", "test", "--continue", "--output-logs=new-only"]],
  ["root lint", bin("biome"), ["check", "scripts", "bench", "test", ".ci"]],
  // Every package's dependencies are used and every import is declared (knip.json; offline, no network).
  ["dependencies", bin("knip"), ["--no-progress"]],
  [
    "repository tests",
    bin("vitest"),
    [
      "run",
      "--config",
      "test/e2e/vitest.config.ts",
      "--reporter=default",
      "--reporter=json",
      "--outputFile.json=.test-results/vitest.json",
    ],
  ],
  [
    "hostile input",
    bin("vitest"),
    [
      "run",
      "--config",
      "test/hostile/vitest.config.ts",
      "--reporter=default",
      "--reporter=json",
      "--outputFile.json=.test-results/vitest.json",
    ],
  ],
];

async function main() {
  const problems = await preflight();
  if (interrupted) return 1;
  for (const line of problems) console.error(line);
  if (problems.length > 0 && !allowMissing) {
    console.error(
      `${label}: refused before any test ran, for what is named above (GGEN_ALLOW_MISSING=1 runs the rest, and their tests skip)`,
    );
    return 1;
  }
  if (preflightOnly) {
    console.log(`${label}: preflight ${problems.length > 0 ? "done, with the gaps above" : "passed"}`);
    return 0;
  }
  for (const suite of ["e2e", "hostile"])
    rmSync(join(root, "test", suite, ".test-results"), { recursive: true, force: true });
  const failed = [];
  for (const [name, cmd, args] of steps) {
    const r = await run(cmd, args);
    if (interrupted) return 1;
    if (r.code !== 0) failed.push(name);
  }
  const summaryArgs = [join(root, "scripts", "test-summary.mjs"), ...(allowMissing ? [] : ["--no-skips"])];
  const summary = await run(process.execPath, summaryArgs);
  if (failed.length > 0) console.error(`check: failed: ${failed.join(", ")}`);
  return failed.length > 0 || summary.code !== 0 ? 1 : 0;
}

let code = 1;
try {
  code = await main();
} finally {
  cleaningUp = true;
  if (existsSync(dockerStarted)) await dockerSh("docker_stop");
  rmSync(scratch, { recursive: true, force: true });
}
process.exit(interrupted ? exitCode[interrupted] : code);
