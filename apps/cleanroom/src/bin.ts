#!/usr/bin/env node
import { answerFromTable } from "@ggen/help-table";

// `--help` and `--version` come from the table the build rendered; anything else loads the program
// (imported by URL: the bin is built as CommonJS, see tsup.app.ts).
if (!answerFromTable(new URL("./help-table.json", import.meta.url), process.argv.slice(2))) {
  // No top-level await in CommonJS; a failure here is a bug, and ends the process as an unhandled one.
  void import(new URL("./main.mjs", import.meta.url).href);
}
