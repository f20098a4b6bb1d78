import type { CommandModule } from "yargs";
import { notImplemented } from "../context.js";

// Placeholder until its issue lands; see the issue tracker.
export const graphCommand: CommandModule = {
  command: "graph <command>",
  describe: "Query, export and validate RDF graphs",
  builder: (y) => y,
  handler: () => notImplemented("graph <command>"),
};
