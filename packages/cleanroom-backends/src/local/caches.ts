// The package caches as a local environment's commands see them.
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, realpathSync, renameSync } from "node:fs";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { GgenError } from "@ggen/support";
import { hostCacheDirs } from "../host-caches.js";
import type { EnvironmentRecord } from "../state/store.js";
import { removeTree } from "../util/fs.js";
import { capabilities, type SandboxPlan } from "./sandbox.js";

const run = promisify(execFile);

/**
 * The package caches as commands see them, so that nothing run here writes into the shared cache —
 * while npm can still write its own (it rewrites index buckets even to read metadata, so a read-only
 * cache fails `npm install` without a lockfile with ENOTCACHED). Where an overlay can be mounted
 * (root): copy-on-write over the shared cache, writes landing in the environment's upper layer (the
 * overlays returned). Elsewhere: a private copy, made once per environment at its first command, under
 * `lock` so that concurrent commands make it once.
 */
export async function cacheViews(
  rec: EnvironmentRecord,
  privateLayers: string,
  lock: <T>(name: string, fn: () => Promise<T>) => Promise<T>,
): Promise<NonNullable<SandboxPlan["overlays"]>> {
  const hosts = hostCacheDirs();
  const out: NonNullable<SandboxPlan["overlays"]> = [];
  for (const name of rec.spec.caches ?? []) {
    const host = hosts[name];
    if (!existsSync(host)) continue;
    const target = join(rec.dir, "caches", name);
    // Overlay options separate paths with ',' and ':'; such paths take the copy instead.
    if (capabilities().overlay && ![host, rec.dir].some((p) => /[,:\\]/.test(p))) {
      const upper = join(rec.dir, "caches", `.${name}-upper`);
      const work = join(rec.dir, "caches", `.${name}-work`);
      for (const d of [target, upper, work]) mkdirSync(d, { recursive: true });
      out.push({
        lower: realpathSync(host),
        upper,
        work,
        privateUpper: join(privateLayers, `${name}-upper`),
        privateWork: join(privateLayers, `${name}-work`),
        target,
      });
      continue;
    }
    if (existsSync(target)) continue;
    await lock(`cache-${rec.name}-${name}`, async () => {
      if (existsSync(target)) return; // a concurrent exec made it
      const tmp = `${target}.${process.pid}.tmp`;
      removeTree(tmp);
      mkdirSync(dirname(target), { recursive: true });
      try {
        // Copy-on-write where the filesystem can (reflink), a plain copy elsewhere.
        await run("cp", ["-a", "--reflink=auto", host, tmp]);
      } catch (error) {
        removeTree(tmp);
        throw new GgenError(
          "CLEANROOM_CACHE",
          `cannot copy the ${name} cache ${host}: ${(error as Error).message}`,
          {
            hint: "make the cache readable, or create the environment without --cache",
            cause: error,
          },
        );
      }
      renameSync(tmp, target);
    });
  }
  return out;
}
