// The shared app build, plus the search-only bundle a plain `ggen market search` line runs from (bin.ts):
// src/market-search-main.ts with its @ggen packages inlined and cut down to what it reaches, so a search
// loads one small file instead of the program's chunks and five packages. Third-party packages stay
// external (none is on that path).
import { readFileSync, writeFileSync } from "node:fs";
import type { Plugin } from "esbuild";
import { build, type Options } from "tsup";
import app from "../../tsup.app";
import { buildGenBundle, LAZY_BUILTIN_FN, lazyBuiltins } from "./scripts/gen-bundle";

const shared = app as Options;

/**
 * An inlined package's module-level `const require = createRequire(import.meta.url)` becomes a require
 * that makes itself on its first call (none of them is asked for more than a call): a search that never
 * calls it no longer loads node:module (≈ 5 M instructions) nor makes the file URL. As a bare call, left
 * where the search uses no require of a module, esbuild would keep it even marked pure; and node:module
 * is required where a require is made, not as an import at the bundle's top.
 */
const lazyCreateRequire: Plugin = {
  name: "lazy-create-require",
  setup(b) {
    b.onLoad({ filter: /[\\/]packages[\\/][^\\/]+[\\/]dist[\\/].*\.js$/ }, (args) => ({
      contents: readFileSync(args.path, "utf8")
        .replace(/^import \{ createRequire(?: as createRequire\d*)? \} from "(?:node:)?module";$/gm, "")
        .replace(
          /\bcreateRequire\d*\(import\.meta\.url\)/g,
          '((id) => require("node:module").createRequire(import.meta.url)(id))',
        ),
      loader: "js",
    }));
  },
};

/**
 * The search bundle's built-in imports that a search does not need — node:tty (which loads Node's net and
 * stream modules: ≈ 4 ms), node:os — become stand-ins loaded on first use, as in gen.cjs. The stand-in's
 * code joins the bundle's first line, so the source map's lines still hold.
 */
function lazySearchBuiltins(file: string): void {
  const code = lazyBuiltins(readFileSync(file, "utf8"));
  const strict = "'use strict';\n";
  if (!code.startsWith(strict)) throw new Error(`${file}: expected 'use strict' on its first line`);
  writeFileSync(file, `'use strict';${LAZY_BUILTIN_FN.replace(/\n\s*/g, " ")}\n${code.slice(strict.length)}`);
}

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
      esbuildPlugins: [lazyCreateRequire],
      // Less to parse at start; names are kept, so a --debug stack still reads.
      esbuildOptions(options) {
        options.minifyWhitespace = true;
        options.minifySyntax = true;
      },
    });
    lazySearchBuiltins("dist/market-search.cjs");
    await buildGenBundle();
  },
};

export default config;
