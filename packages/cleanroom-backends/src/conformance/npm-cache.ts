// Test support shared by the backends' tests (not exported from the package): a prepared npm cache and
// a command that installs from it and writes into it, to check that an environment's cache is
// copy-on-write — installs work offline, the shared cache never changes.
import { execFile, execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * A prepared npm cache holding one tiny package — its tarball and its registry metadata (fetched once
 * from a throwaway local registry, closed again, so installs must be offline) — and an app whose
 * lockfile needs it.
 */
export async function prepareNpmCache(
  work: string,
): Promise<{ cache: string; app: string; registry: string }> {
  const cache = join(work, "cache");
  const pkg = join(work, "pkg");
  mkdirSync(pkg);
  writeFileSync(join(pkg, "package.json"), JSON.stringify({ name: "ggen-tiny", version: "1.0.0" }));
  writeFileSync(join(pkg, "index.js"), "module.exports = 42;\n");
  const npmEnv = { ...process.env, npm_config_cache: cache, npm_config_loglevel: "silent" };
  execFileSync("npm", ["pack", "--silent"], { cwd: pkg, env: npmEnv, stdio: "ignore" });
  const tgzFile = join(pkg, "ggen-tiny-1.0.0.tgz");
  const tgz = readFileSync(tgzFile);
  const integrity = `sha512-${createHash("sha512").update(tgz).digest("base64")}`;
  const { createServer: createHttpServer } = await import("node:http");
  const server = createHttpServer((req, res) => {
    const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    if (req.url === "/ggen-tiny") {
      res.setHeader("content-type", "application/json");
      const dist = { tarball: `${base}/ggen-tiny/-/ggen-tiny-1.0.0.tgz`, integrity };
      res.end(
        JSON.stringify({
          name: "ggen-tiny",
          "dist-tags": { latest: "1.0.0" },
          versions: { "1.0.0": { name: "ggen-tiny", version: "1.0.0", dist } },
        }),
      );
    } else if (req.url?.endsWith(".tgz")) res.end(tgz);
    else res.writeHead(404).end();
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  const registry = `http://127.0.0.1:${(server.address() as { port: number }).port}/`;
  const warm = join(work, "warm");
  mkdirSync(warm);
  writeFileSync(
    join(warm, "package.json"),
    JSON.stringify({ name: "warm", dependencies: { "ggen-tiny": "^1.0.0" } }),
  );
  try {
    // An install through the registry leaves both its metadata and its tarball in the cache.
    await new Promise<void>((ok, fail) =>
      execFile(
        "npm",
        ["install", "--no-package-lock", "--no-audit", "--no-fund", "--registry", registry],
        { cwd: warm, env: npmEnv },
        (error) => (error ? fail(error) : ok()),
      ),
    );
  } finally {
    await new Promise((ok) => server.close(ok));
  }
  const app = join(work, "app");
  mkdirSync(app);
  const manifest = { name: "app", version: "1.0.0", dependencies: { "ggen-tiny": "1.0.0" } };
  writeFileSync(join(app, "package.json"), JSON.stringify(manifest));
  writeFileSync(
    join(app, "package-lock.json"),
    JSON.stringify({
      name: "app",
      version: "1.0.0",
      lockfileVersion: 3,
      requires: true,
      packages: {
        "": manifest,
        "node_modules/ggen-tiny": {
          version: "1.0.0",
          // Never fetched (offline): npm takes the tarball from its cache by integrity.
          resolved: "http://registry.invalid/ggen-tiny/-/ggen-tiny-1.0.0.tgz",
          integrity,
        },
      },
    }),
  );
  return { cache, app, registry };
}

/** Every path under `dir` with its type, mode and content hash: equal before and after means untouched. */
export function treeDigest(dir: string): string {
  const h = createHash("sha256");
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const st = statSync(p);
      h.update(`${p}\0${st.mode}\0`);
      if (st.isDirectory()) walk(p);
      else h.update(readFileSync(p));
    }
  };
  walk(dir);
  return h.digest("hex");
}

// Installs with the lockfile (tarball by integrity), then without one (npm reads the package's
// metadata from the cache: it rewrites index buckets to do so, so the cache must take writes), then
// writes into the cache itself: a new file, and junk appended to an index entry. The command may
// write; the shared cache must not change.
export const installAndWrite = [
  "sh",
  "-c",
  "q='--offline --no-audit --no-fund'; req=\"console.log(require('ggen-tiny'))\"; " +
    'npm ci $q >/dev/null 2>&1; node -e "$req"; rm -rf node_modules package-lock.json; ' +
    'npm install $q --no-package-lock >/dev/null 2>&1; node -e "$req"; ' +
    'touch "$npm_config_cache/x" && echo wrote-new; ' +
    'f=$(find "$npm_config_cache/_cacache/index-v5" -type f | head -n 1); ' +
    'echo junk >> "$f" && grep -c junk "$f"',
];

/**
 * Runs `fn` with a prepared npm cache as the host's (npm_config_cache, which the backends mount), then
 * puts the variable back and removes the cache. `before` is the cache's digest before `fn`.
 */
export async function withPreparedNpmCache<T>(
  fn: (c: { cache: string; app: string; registry: string; before: string }) => Promise<T>,
): Promise<T> {
  const work = mkdtempSync(join(tmpdir(), "ggen-npmcache-"));
  const saved = process.env.npm_config_cache;
  try {
    const prepared = await prepareNpmCache(work);
    const before = treeDigest(prepared.cache);
    process.env.npm_config_cache = prepared.cache;
    return await fn({ ...prepared, before });
  } finally {
    if (saved === undefined) delete process.env.npm_config_cache;
    else process.env.npm_config_cache = saved;
    rmSync(work, { recursive: true, force: true });
  }
}
