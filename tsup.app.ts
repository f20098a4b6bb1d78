// The build both programs share: bin and library entries, each command's lazily imported packages as
// separate chunks, then the --help/--version table the bin answers from (see @ggen/help-table).
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { defineConfig } from "tsup";

export default defineConfig({
  entry: ["src/bin.ts", "src/index.ts"],
  format: ["esm"],
  dts: { entry: "src/index.ts" },
  clean: true,
  target: "node20",
  sourcemap: true,
  splitting: true,
  // Inlined: the bin answers --help from it before anything else loads, and resolving a package costs
  // more than its few lines.
  noExternal: ["@ggen/help-table", "@ggen/code-cache"],
  async onSuccess() {
    const dist = join(process.cwd(), "dist");
    const app = await import(pathToFileURL(join(dist, "index.js")).href);
    await app.writeHelpTable(app.program, join(dist, "help-table.json"));
  },
});
