#!/usr/bin/env node
// README's first command: the Debian packages the project uses (scripts/system-packages.txt: installed when
// root with apt, otherwise named with the command that installs them), the workspace with the pinned pnpm,
// the build, then the main job — which runs whenever its own needs (Node, PostgreSQL) are met.
// GGEN_NO_APT=1 leaves the system alone even as root.
import { spawnSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { pnpm, quietEnv } from "./pnpm.mjs";
import { installPackages, missingLines, missingPackages } from "./system-packages.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
Object.assign(process.env, quietEnv);
const say = (line) => console.log(`quickstart: ${line}`);
const fail = (line, code = 1) => {
  console.error(`quickstart: ${line}`);
  process.exit(code);
};
const step = (label, code) => {
  if (code !== 0) fail(`${label} failed (exit ${code})`, code);
};

const major = Number(process.versions.node.split(".")[0]);
if (major < 20) fail(`Node ${process.versions.node} is too old: Node 20 or later is needed`);

let missing = missingPackages();
if (missing.length > 0 && process.getuid?.() === 0 && process.env.GGEN_NO_APT !== "1") {
  const t0 = Date.now();
  say(`installing from Debian: ${missing.map((p) => p.name).join(" ")}`);
  const why = installPackages(missing, join(root, "target", "quickstart", "apt.log"));
  if (why) console.error(`quickstart: ${why}`);
  else say(`installed in ${Math.round((Date.now() - t0) / 1000)} s`);
  missing = missingPackages();
}
for (const line of missingLines("quickstart", missing)) console.error(line);

step("install", pnpm(["install", "--frozen-lockfile", "--reporter=silent"]));
step("build", pnpm(["exec", "turbo", "run", "build", "--output-logs=errors-only"]));

const blocking = missing.filter((p) => p.neededBy === "main");
if (blocking.length > 0) {
  const names = blocking.map((p) => p.name).join(", ");
  fail(`the main job needs ${names}: install it (the command above), then run npm run quickstart again`);
}
// The main job: a service generated from the domain ontology in the bundled registry, tested against a
// real PostgreSQL, deployed to a local release directory, health-checked and reported. It works in
// target/quickstart/ (gitignored) so the checkout stays clean.
mkdirSync(join(root, "target", "quickstart"), { recursive: true });
const job = spawnSync(
  process.execPath,
  [
    "apps/ggen/dist/bin.js",
    "--cwd",
    "target/quickstart",
    "ultra-fast-deploy",
    "--template",
    "io.ggen.domain-service",
    "--name",
    "shop",
  ],
  { stdio: "inherit", cwd: root },
);
step("ggen ultra-fast-deploy", job.status ?? 1);
if (missing.length > 0)
  console.error("quickstart: npm test needs the missing packages above; it refuses to start without them");
console.log("\nNext: node apps/ggen/dist/bin.js --help, node apps/cleanroom/dist/bin.js --help, npm test");
