import type { CommandModule } from "yargs";
import { notImplemented } from "../context.js";

// Placeholder until its issue lands; see the issue tracker.
export const templateCommand: CommandModule = {
  command: "template <command>",
  describe: "Render templates: generate, batch-generate, list, inspect, validate-vars",
  builder: (y) => y,
  handler: () => notImplemented("template <command>"),
};

export const genCommand: CommandModule = {
  command: "gen",
  describe: "Alias of 'template generate'",
  builder: (y) => y,
  handler: () => notImplemented("gen"),
};
