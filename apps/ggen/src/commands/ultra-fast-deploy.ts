import type { CommandModule } from "yargs";
import { notImplemented } from "../context.js";

// Placeholder until its issue lands; see the issue tracker.
export const ultraFastDeployCommand: CommandModule = {
  command: "ultra-fast-deploy",
  describe: "From a template pack to a deployed, verified service, with a report",
  builder: (y) => y,
  handler: () => notImplemented("ultra-fast-deploy"),
};
