// Vitest global setup: the graph host runs in a worker thread, which cannot run TypeScript; build it from
// this source (into this package's node_modules, where its imports resolve) so tests of src/ use the
// host of src/, not a stale dist/. client.ts takes it from GGEN_RDF_HOST only when running from source.
import { rmSync } from "node:fs";
import { join } from "node:path";
import { build } from "tsup";

export default async function setup(): Promise<() => void> {
  const root = join(import.meta.dirname, "..");
  const outDir = join(root, "node_modules", ".ggen-rdf-host", String(process.pid));
  await build({
    entry: { host: join(root, "src", "host.ts") },
    outDir,
    format: ["esm"],
    target: "node20",
    dts: false,
    sourcemap: true,
    splitting: false,
    silent: true,
    config: false,
  });
  process.env.GGEN_RDF_HOST = join(outDir, "host.js");
  return () => rmSync(outDir, { recursive: true, force: true });
}
