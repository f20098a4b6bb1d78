import type { CommandModule } from "yargs";
import { notImplemented } from "../context.js";

// Placeholder until its issue lands; see the issue tracker.
export const metricsCommand: CommandModule = {
  command: "metrics <command>",
  describe: "Show run metrics across runs",
  builder: (y) => y,
  handler: () => notImplemented("metrics <command>"),
};
