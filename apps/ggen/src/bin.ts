#!/usr/bin/env node
import { answerFromTable } from "@ggen/help-table";

// `--help` and `--version` come from the table the build rendered; a plain `market search` line runs
// from the search-only bundle (market-search.js, see tsup.config.ts); anything else loads the program.
const argv = process.argv.slice(2);
if (!answerFromTable(new URL("./help-table.json", import.meta.url), argv)) {
  const search =
    argv[0] === "market" && argv[1] === "search"
      ? ((await import(new URL("./market-search.js", import.meta.url).href)) as {
          runMarketSearch: (argv: readonly string[]) => Promise<boolean>;
        })
      : undefined;
  if (!(await search?.runMarketSearch(argv))) await import("./main.js");
}
