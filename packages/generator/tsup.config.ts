// The shared package build, then the CommonJS libraries a run loads lazily, each bundled into one file
// in dist/vendor. Loaded from node_modules, Handlebars' runtime is 14 modules and `yaml` dozens: resolving
// and compiling them one by one costs ~30–60 ms of CPU each, one bundled file ~4–13 ms (a whole
// `ggen gen` of five templates is ~300 ms). lazy.ts loads the bundles, or the packages when run from src.
import { createRequire } from "node:module";
import { defineConfig } from "tsup";
import base from "../../tsup.package";

const require = createRequire(import.meta.url);

export default defineConfig({
  ...base,
  // The compiled-template cache's key names the Handlebars version: known here, a short run need not
  // load the runtime to ask it (hbs.ts; from src, as under vitest, it does).
  define: { __GGEN_HANDLEBARS_VERSION__: JSON.stringify(require("handlebars/package.json").version) },
  async onSuccess() {
    const { build } = await import("tsup");
    await build({
      entry: {
        "handlebars-runtime": require.resolve("handlebars/runtime"),
        handlebars: require.resolve("handlebars"),
        yaml: require.resolve("yaml"),
      },
      outDir: "dist/vendor",
      outExtension: () => ({ js: ".cjs" }),
      format: ["cjs"],
      platform: "node",
      target: "node20",
      noExternal: [/^(?!source-map$)/],
      // Handlebars requires it only without an AMD `define` around, which lazy.ts always provides.
      external: ["source-map"],
      clean: false,
      dts: false,
      sourcemap: false,
      splitting: false,
      config: false,
      silent: true,
    });
  },
});
