import type { CommandModule } from "yargs";
import { notImplemented } from "../context.js";

// Placeholder until its issue lands; see the issue tracker.
export const execCommand: CommandModule = {
  command: "exec",
  describe: "Run a command or scenario in an environment",
  builder: (y) => y,
  handler: () => notImplemented("exec"),
};
