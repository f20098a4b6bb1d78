#!/usr/bin/env node
import { join, resolve } from "node:path";
import { answerFromTable } from "@ggen/help-table";

// `--help` and `--version` come from the table the build rendered; a plain `gen` line runs from its own
// bundle (gen.cjs) with V8's code cache, a plain `market search` line from the search-only bundle
// (market-search.cjs, see tsup.config.ts); anything else, or a line those decline, loads the program.
// Built as CommonJS (tsup.app.ts): the program's modules are imported by URL, never bundled in here.
const argv = process.argv.slice(2);

// $HOME first, as os.homedir() itself reads it: node:os (≈ 2 M instructions to load) only where it is unset.
const home = async (): Promise<string> => process.env.HOME || (await import("node:os")).homedir();

async function runGen(): Promise<boolean> {
  // Loaded here, not above: --help and a search need none of node:vm and node:module.
  const { packageEntryUrl, runCached } = await import("@ggen/code-cache");
  const dist = import.meta.dirname;
  const entries = new Map<string, string>();
  const { exports } = runCached<{ runGen: (argv: readonly string[]) => Promise<boolean> }>(
    join(dist, "gen.cjs"),
    {
      // bin.js's own: gen.cjs sits beside it, and createRequire would load node:module (≈ 5 M instructions).
      require,
      // context.ts's cacheDir("code"), not imported: bin.js shares no chunk with the program.
      cacheDir: join(resolve(process.env.GGEN_HOME ?? join(await home(), ".ggen")), "cache", "code"),
      params: {
        __import: (name: string) => import(name),
        __packageUrl: (name: string) => {
          const url = entries.get(name) ?? packageEntryUrl(name, dist);
          entries.set(name, url);
          return url;
        },
      },
    },
  );
  return exports.runGen(argv);
}

function runSearch(): Promise<boolean> {
  // By path, not by URL: Node's URL code is compiled on first use, a measurable part of a short run; and
  // with bin.js's own require (CommonJS, see above): createRequire would load node:module.
  const bundle = join(import.meta.dirname, "market-search.cjs");
  return (
    require(bundle) as { runMarketSearch: (argv: readonly string[]) => Promise<boolean> }
  ).runMarketSearch(argv);
}

async function run(): Promise<void> {
  // The table answers one argument only; other lines skip making its URL.
  if (argv.length === 1 && answerFromTable(new URL("./help-table.json", import.meta.url), argv)) return;
  const ran =
    argv[0] === "gen"
      ? await runGen()
      : argv[0] === "market" && argv[1] === "search"
        ? await runSearch()
        : false;
  if (!ran) {
    await import(new URL("./main.mjs", import.meta.url).href);
    return;
  }
  // A one-command bundle ran, and nothing is left that keeps Node running: end now. Left to itself
  // Node would spin its event loop once more, where V8 runs the young-generation GC it scheduled near
  // the end, then tear the heap down — ≈ 5–10 ms of a 140 ms `gen`. process.exit still runs the 'exit'
  // listeners (the code cache's save); output is written synchronously (StdioWriter) and every step of
  // the command is awaited.
  if (process.getActiveResourcesInfo().length === 0) process.exit();
}

// No top-level await in CommonJS; a failure here is a bug, and ends the process as an unhandled one.
void run();
