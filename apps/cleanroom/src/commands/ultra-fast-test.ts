import type { CommandModule } from "yargs";
import { notImplemented } from "../context.js";

// Placeholder until its issue lands; see the issue tracker.
export const ultraFastTestCommand: CommandModule = {
  command: "ultra-fast-test",
  describe: "Test the output a generation manifest describes, in a fresh environment",
  builder: (y) => y,
  handler: () => notImplemented("ultra-fast-test"),
};
