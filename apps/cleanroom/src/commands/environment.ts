import type { CommandModule } from "yargs";
import { notImplemented } from "../context.js";

// Placeholder until its issue lands; see the issue tracker.
export const environmentCommand: CommandModule = {
  command: "environment <command>",
  describe: "Create, delete, list and inspect environments",
  builder: (y) => y,
  handler: () => notImplemented("environment <command>"),
};
