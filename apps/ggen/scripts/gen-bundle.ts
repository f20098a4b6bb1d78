// dist/gen.cjs: src/gen-main.ts and everything it imports in one CommonJS file, which bin.ts runs through
// @ggen/code-cache (V8's code cache needs a classic script). Two kinds of reference cannot be inlined and
// are handed to the bundle by bin.ts instead:
// - `import("@ggen/rdf")` / `import("@ggen/marketplace")`: loaded only when a template reads a graph or a
//   pack, with native and ES-only dependencies of their own — `__import(name)` imports them from bin.js;
// - `import.meta.url` in an inlined @ggen package (its `createRequire` of a lazily loaded library, its
//   dist/vendor files): `__packageUrl(name)` is that package's entry where it is installed.
// The build fails if anything else of the kind is left in the output.
// Three things keep a short run from loading what it does not use:
// - the libraries @ggen/generator imports only for rarer work (a unified diff, a TOML edit, --watch) are
//   each a CommonJS file of their own beside gen.cjs (`gen-<name>.cjs`), required on that first use: a
//   plain run neither reads nor caches them (they were 250 of gen.cjs's 600 KB);
// - the Handlebars runtime, which @ggen/generator loads on first use from its dist/vendor, is a side
//   file too (`gen-handlebars-runtime.cjs`, a copy of that vendor bundle): plain texts run without it
//   (the generator's direct.ts), and every KB of gen.cjs costs a run ≈ 10 µs to read, used or not;
// - the heavier built-in modules (node:crypto alone costs more than a whole 5-file generation; node:tty
//   brings Node's net and stream modules, and StdioWriter asks it only about a possible terminal) are
//   required on first use: `x = require("node:crypto")` becomes a stand-in that loads the module when a
//   property is first read. Only modules whose export is a plain object (never a function or class).
import { copyFileSync, readFileSync, realpathSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { wrapBundle } from "@ggen/code-cache";
import { build, type Plugin } from "esbuild";

const OUTSIDE = ["@ggen/rdf", "@ggen/marketplace"];
/** Imported by @ggen/generator (its dist/) on rare paths: package → the file it is bundled into. */
const SIDE_CHUNKS: Record<string, string> = {
  diff: "gen-diff.cjs",
  chokidar: "gen-chokidar.cjs",
  "@decimalturn/toml-patch": "gen-toml-patch.cjs",
};
/** @ggen/generator's dist/vendor bundles a gen run requires on first use: vendor name → file beside gen.cjs. */
const SIDE_VENDOR: Record<string, string> = { "handlebars-runtime": "gen-handlebars-runtime.cjs" };
const LAZY_BUILTINS = [
  "child_process",
  "crypto",
  "dns",
  "fs/promises",
  "http",
  "https",
  "inspector",
  "net",
  "os",
  "perf_hooks",
  "tty",
  "readline",
  "tls",
  "v8",
  "worker_threads",
  "zlib",
];
/** `__lazyBuiltin(id)`: a stand-in for a built-in module's exports that requires it when first read. */
export const LAZY_BUILTIN_FN = `var __lazyBuiltin = (id) => {
  let m;
  const load = () => (m ??= require(id));
  return new Proxy({}, {
    get: (_, k) => load()[k],
    has: (_, k) => k in load(),
    ownKeys: () => Reflect.ownKeys(load()),
    getOwnPropertyDescriptor: (_, k) => {
      const d = Reflect.getOwnPropertyDescriptor(load(), k);
      return d && { ...d, configurable: true };
    },
  });
};`;
// Inside the bundle, `require` is the one node:module made for it (see @ggen/code-cache).
const LAZY_BUILTIN = `var __lazyRequire = (pkg) => {
  let r;
  return (id) => (r ??= require("node:module").createRequire(__packageUrl(pkg)))(id);
};
${LAZY_BUILTIN_FN}`;

/** `name = require("zlib")` (esbuild's form for a built-in imported by name; Rollup's, as tsup's
 * tree-shaken output has it, quotes it singly) → a lazy stand-in. */
export function lazyBuiltins(code: string): string {
  const ids = LAZY_BUILTINS.map((m) => m.replace("/", "\\/")).join("|");
  return code.replace(
    new RegExp(`\\b([\\w$]+) ?= ?require\\((["'])((?:node:)?(?:${ids}))\\2\\)`, "g"),
    (_, name: string, _quote: string, id: string) => `${name}=__lazyBuiltin(${JSON.stringify(id)})`,
  );
}

/** The name of the package a file belongs to (its nearest package.json). */
function packageOf(file: string, names: Map<string, string>): string {
  for (let dir = dirname(file); dir !== dirname(dir); dir = dirname(dir)) {
    const known = names.get(dir);
    if (known) return known;
    try {
      const name = (JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { name: string }).name;
      names.set(dir, name);
      return name;
    } catch {
      // no package.json here: look further up
    }
  }
  throw new Error(`no package.json above ${file}`);
}

const references: Plugin = {
  name: "gen-bundle-references",
  setup(b) {
    const names = new Map<string, string>();
    b.onResolve({ filter: /^@ggen\/(rdf|marketplace)$/ }, (args) => ({ path: args.path, external: true }));
    b.onResolve({ filter: /^\.\/gen-[\w-]+\.cjs$/ }, (args) => ({ path: args.path, external: true }));
    b.onLoad({ filter: /[\\/]packages[\\/][^\\/]+[\\/]dist[\\/].*\.js$/ }, (args) => {
      const pkg = JSON.stringify(packageOf(args.path, names));
      // A module-level `createRequire(import.meta.url)` is made on its first call: finding the package
      // (realpath, package.json) costs a short run ≈ 1 ms a package, for requires most runs never make.
      let text = readFileSync(args.path, "utf8")
        .replace(/\bcreateRequire\d*\(import\.meta\.url\)/g, `__lazyRequire(${pkg})`)
        .replaceAll("import.meta.url", `__packageUrl(${pkg})`);
      for (const name of OUTSIDE) text = text.replaceAll(`import("${name}")`, `__import("${name}")`);
      // Resolved by the bundle's own require, from dist/: the side chunk built below.
      for (const [name, chunk] of Object.entries(SIDE_CHUNKS))
        text = text.replaceAll(`import("${name}")`, `Promise.resolve().then(() => require("./${chunk}"))`);
      text = text.replace(/\bvendored\(\s*"([\w-]+)",\s*"[^"]+"\s*\)/g, (call, bundle: string) =>
        SIDE_VENDOR[bundle] ? `require("./${SIDE_VENDOR[bundle]}")` : call,
      );
      return { contents: text, loader: "js" };
    });
    b.onLoad({ filter: /[\\/]apps[\\/]ggen[\\/]src[\\/].*\.ts$/ }, (args) => ({
      contents: staticImports(readFileSync(args.path, "utf8")),
      loader: "ts",
    }));
  },
};

/**
 * The program imports @ggen packages when a command first needs them (`const { a, b } = await
 * import("@ggen/x")`); in gen.cjs they are inlined anyway, and such an import makes esbuild build the
 * package's namespace object — a getter for each of its exports (≈ 170 in all), at every run. Here each
 * becomes a read of a static import's bindings, which esbuild compiles to the bindings themselves.
 */
export function staticImports(source: string): string {
  const used = new Map<string, string>();
  const body = source.replace(
    /const \{ ([\w$]+(?:, [\w$]+)*) \} = await import\("(@ggen\/[\w-]+)"\);/g,
    (_, names: string, pkg: string) => {
      const ns = used.get(pkg) ?? `__static_${pkg.slice("@ggen/".length).replace(/-/g, "_")}`;
      used.set(pkg, ns);
      return `const ${names
        .split(", ")
        .map((n) => `${n} = ${ns}.${n}`)
        .join(", ")};`;
    },
  );
  const head = [...used].map(([pkg, ns]) => `import * as ${ns} from "${pkg}";\n`).join("");
  return head + body;
}

/** What gen.cjs and its side chunks are built as. Less to read at start; names are kept, so a --debug
 * stack still reads. */
const COMMONJS_BUNDLE = {
  bundle: true,
  format: "cjs",
  platform: "node",
  target: "node20",
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: "none",
  logLevel: "error",
} as const;

/** Each side chunk: the package as @ggen/generator resolves it, all of it in one CommonJS file. */
async function buildSideChunks(): Promise<void> {
  // Not require.resolve: @ggen/generator exports only an ES module entry.
  const generatorDist = realpathSync(join("node_modules", "@ggen", "generator", "dist"));
  await Promise.all(
    Object.entries(SIDE_CHUNKS).map(([name, chunk]) =>
      build({
        stdin: {
          contents: `export * from ${JSON.stringify(name)};`,
          resolveDir: generatorDist,
          loader: "js",
        },
        outfile: join("dist", chunk),
        ...COMMONJS_BUNDLE,
      }),
    ),
  );
}

export async function buildGenBundle(): Promise<void> {
  await buildSideChunks();
  const vendor = join(realpathSync(join("node_modules", "@ggen", "generator", "dist")), "vendor");
  for (const [bundle, file] of Object.entries(SIDE_VENDOR))
    copyFileSync(join(vendor, `${bundle}.cjs`), join("dist", file));
  const outfile = "dist/gen.cjs";
  await build({
    entryPoints: ["src/gen-main.ts"],
    outfile,
    ...COMMONJS_BUNDLE,
    plugins: [references],
    banner: { js: LAZY_BUILTIN },
  });
  const out = lazyBuiltins(readFileSync(outfile, "utf8"));
  // Wrapped as bin.ts runs it (its params), read by @ggen/code-cache without a copy to decode or wrap.
  writeFileSync(outfile, wrapBundle(out, ["__import", "__packageUrl"]));
  // A namespace object of an @ggen package (its dist/index.js): an import staticImports did not read.
  const left = [/import\.meta/, /\bimport\(/, /__export\(dist_exports/].filter((re) => re.test(out));
  if (left.length > 0)
    throw new Error(
      `${outfile}: ${left.map(String).join(", ")} left in the bundle (see scripts/gen-bundle.ts)`,
    );
}
