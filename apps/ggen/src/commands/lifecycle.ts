import type { CommandModule } from "yargs";
import { notImplemented } from "../context.js";

// Placeholder until its issue lands; see the issue tracker.
export const lifecycleCommand: CommandModule = {
  command: "lifecycle <command>",
  describe: "Run project phases, readiness, validation, deploy and rollback",
  builder: (y) => y,
  handler: () => notImplemented("lifecycle <command>"),
};
