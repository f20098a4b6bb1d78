#!/usr/bin/env node
// Runs the pnpm version pinned in package.json's packageManager, on a machine that has only Node:
// a matching pnpm on PATH is used as is, otherwise npx fetches the pinned one from the npm registry.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
/** What README's commands set for their children: no turbo telemetry banner, no npm update notice. */
export const quietEnv = { TURBO_TELEMETRY_DISABLED: "1", npm_config_update_notifier: "false" };
const pinned = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).packageManager.split("@")[1];

function onPath() {
  const r = spawnSync("pnpm", ["--version"], {
    encoding: "utf8",
    env: { ...process.env, COREPACK_ENABLE_STRICT: "0" },
  });
  return r.status === 0 && r.stdout.trim() === pinned;
}

export function pnpm(args, opts = {}) {
  const env = { ...process.env, ...quietEnv, COREPACK_INTEGRITY_KEYS: "0" };
  const [cmd, argv] = onPath() ? ["pnpm", args] : ["npx", ["-y", `pnpm@${pinned}`, ...args]];
  const r = spawnSync(cmd, argv, { stdio: "inherit", cwd: root, env, ...opts });
  return r.status ?? 1;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.exit(pnpm(process.argv.slice(2)));
}
