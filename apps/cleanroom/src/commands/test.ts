import type { CommandModule } from "yargs";
import { notImplemented } from "../context.js";

// Placeholder until its issue lands; see the issue tracker.
export const testCommand: CommandModule = {
  command: "test <command>",
  describe: "Run tests and show results",
  builder: (y) => y,
  handler: () => notImplemented("test <command>"),
};
