#!/usr/bin/env node
// README's first command: install everything, build, and run the main job.
import { spawnSync } from "node:child_process";
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
step("ggen --help", node(["apps/ggen/dist/bin.js", "--help"]));
step("cleanroom --help", node(["apps/cleanroom/dist/bin.js", "--help"]));
