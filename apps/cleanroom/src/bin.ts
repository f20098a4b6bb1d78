#!/usr/bin/env node
import { answerFromTable } from "@ggen/help-table";

// `--help` and `--version` come from the table the build rendered; anything else loads the program.
if (!answerFromTable(new URL("./help-table.json", import.meta.url), process.argv.slice(2))) {
  await import("./main.js");
}
