// The build both programs share: the program (src/main.ts) and the library entry (src/index.ts) as ES
// modules (`.mjs`, each command's lazily imported packages as separate chunks), the bin as one small
// CommonJS file, then the --help/--version table the bin answers from (see @ggen/help-table).
// Why a CommonJS bin: Node starts a CommonJS entry without its ES module loader, ≈ 10 ms less on every
// run — most of what `--help` or a short `ggen gen` costs beyond Node itself. dist/package.json makes
// dist's `.js` CommonJS (bin.js keeps its name: the package's `bin` and every script point at it); the
// bin imports the program (`main.mjs`) only when the table or a one-command bundle does not answer.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { build } from "esbuild";
import { defineConfig } from "tsup";

/** src/bin.ts → dist/bin.js: CommonJS, with the two small packages it needs before anything else inlined. */
export async function buildBin(dist: string): Promise<void> {
  await build({
    entryPoints: ["src/bin.ts"],
    outfile: join(dist, "bin.js"),
    bundle: true,
    format: "cjs",
    platform: "node",
    target: "node20",
    sourcemap: true,
    logLevel: "error",
    // Everything but these two stays a runtime import (the program's modules are ES modules).
    plugins: [
      {
        name: "bin-externals",
        setup(b) {
          b.onResolve({ filter: /^[^./]/ }, (args) =>
            /^@ggen\/(help-table|code-cache)$/.test(args.path)
              ? undefined
              : { path: args.path, external: true },
          );
        },
      },
    ],
    // The bin's own location, as import.meta would give it (the bin refers to its siblings by it). The
    // URL is made when first read: a short `ggen gen` uses only the directory, and Node's URL code,
    // compiled on first use, is a measurable part of such a run.
    define: { "import.meta.url": "__bin.url", "import.meta.dirname": "__bin.dirname" },
    banner: {
      js: 'var __bin = { dirname: __dirname, get url() { return (this.u ??= require("node:url").pathToFileURL(__filename).href); } };',
    },
  });
}

export default defineConfig({
  entry: { main: "src/main.ts", index: "src/index.ts" },
  format: ["esm"],
  outExtension: () => ({ js: ".mjs" }),
  dts: { entry: { index: "src/index.ts" } },
  clean: true,
  target: "node20",
  sourcemap: true,
  splitting: true,
  async onSuccess() {
    const dist = join(process.cwd(), "dist");
    writeFileSync(join(dist, "package.json"), '{ "type": "commonjs" }\n');
    await buildBin(dist);
    const app = await import(pathToFileURL(join(dist, "index.mjs")).href);
    await app.writeHelpTable(app.program, join(dist, "help-table.json"));
  },
});
