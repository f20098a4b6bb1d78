// The shared app build, plus the search-only bundle a plain `ggen market search` line runs from (bin.ts):
// src/market-search-main.ts with its @ggen packages inlined and cut down to what it reaches, so a search
// loads one small file instead of the program's chunks and five packages. Third-party packages stay
// external (none is on that path).
import { build, type Options } from "tsup";
import app from "../../tsup.app";
import { buildGenBundle } from "./scripts/gen-bundle";

const shared = app as Options;

const config: Options = {
  ...shared,
  async onSuccess() {
    await (shared.onSuccess as () => Promise<void>)();
    await build({
      entry: { "market-search": "src/market-search-main.ts" },
      // CommonJS, required by the (CommonJS) bin: an ES module here would start Node's ES module loader,
      // which --help and gen no longer pay for. `shims` gives its inlined packages their import.meta.url.
      format: ["cjs"],
      outExtension: () => ({ js: ".cjs" }),
      shims: true,
      target: "node20",
      sourcemap: true,
      splitting: false,
      clean: false,
      dts: false,
      silent: true,
      config: false,
      noExternal: [/^@ggen\//],
      treeshake: true,
      // Less to parse at start; names are kept, so a --debug stack still reads.
      esbuildOptions(options) {
        options.minifyWhitespace = true;
        options.minifySyntax = true;
      },
    });
    await buildGenBundle();
  },
};

export default config;
