import type { CommandModule } from "yargs";
import { notImplemented } from "../context.js";

// Placeholder until its issue lands; see the issue tracker.
export const marketCommand: CommandModule = {
  command: "market <command>",
  describe: "Find, install and manage template packs",
  builder: (y) => y,
  handler: () => notImplemented("market <command>"),
};
