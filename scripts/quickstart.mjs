#!/usr/bin/env node
// README's first command: install everything, build, and run the main job.
import { spawnSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { pnpm } from "./pnpm.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const step = (label, code) => {
  if (code !== 0) {
    console.error(`quickstart: ${label} failed (exit ${code})`);
    process.exit(code);
  }
};
step("install", pnpm(["install", "--frozen-lockfile", "--reporter=silent"]));
step("build", pnpm(["exec", "turbo", "run", "build", "--output-logs=errors-only"]));
const node = (args) => spawnSync(process.execPath, args, { stdio: "inherit", cwd: root }).status ?? 1;
// The main job: a service generated from the domain ontology in the bundled registry, tested against a
// real PostgreSQL, deployed to a local release directory, health-checked and reported. It works in
// target/quickstart/ (gitignored) so the checkout stays clean.
mkdirSync(join(root, "target", "quickstart"), { recursive: true });
step(
  "ggen ultra-fast-deploy",
  node([
    "apps/ggen/dist/bin.js",
    "--cwd",
    "target/quickstart",
    "ultra-fast-deploy",
    "--template",
    "io.ggen.domain-service",
    "--name",
    "shop",
  ]),
);
console.log("\nNext: node apps/ggen/dist/bin.js --help, node apps/cleanroom/dist/bin.js --help, npm test");
