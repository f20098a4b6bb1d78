// The search-only entry: `ggen market search …` without the program's other commands. Built with its
// packages bundled in and cut down to what it reaches (tsup.config.ts): the search over a saved snapshot
// (`searchSaved`), the table and the one error renderer (runProgram's) — no index parsing or validation,
// no config reading, no network, no node:crypto. A search the snapshot cannot answer (the first one, an
// http registry, a .ggen/config.toml) runs `searchCatalog` of the installed @ggen/marketplace, loaded then;
// lines the table parse does not read exactly (help, a bad flag) are left to the full program.
import type * as Marketplace from "@ggen/marketplace";
import { searchSaved } from "@ggen/marketplace";
import { type ProgramSpec, runPlainLine, table } from "@ggen/reporter";
import pkg from "../package.json" with { type: "json" };
import { marketTable, searchCommand } from "./commands/market-search.js";

// A name the bundler leaves alone: the package itself, resolved when needed.
const marketplace = "@ggen/marketplace";

const searchCatalog: typeof Marketplace.searchCatalog = async (query, searchOpts, opts) =>
  searchSaved(query, searchOpts, opts) ??
  ((await import(marketplace)) as typeof Marketplace).searchCatalog(query, searchOpts, opts);

const spec: ProgramSpec = {
  name: "ggen",
  version: pkg.version,
  description: "",
  commands: [{ ...marketTable, subcommands: [searchCommand(async () => ({ searchCatalog, table }))] }],
  examples: [],
};

/** Runs `argv` when it is a plain `market search` line (true), else does nothing (false). */
export const runMarketSearch = (argv: readonly string[]): Promise<boolean> => runPlainLine(spec, argv);
