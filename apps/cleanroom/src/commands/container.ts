import type { CommandModule } from "yargs";
import { notImplemented } from "../context.js";

// Placeholder until its issue lands; see the issue tracker.
export const containerCommand: CommandModule = {
  command: "container <command>",
  describe: "Start, stop, list and inspect service containers",
  builder: (y) => y,
  handler: () => notImplemented("container <command>"),
};
