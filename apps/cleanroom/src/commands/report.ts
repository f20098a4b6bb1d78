import type { CommandModule } from "yargs";
import { notImplemented } from "../context.js";

// Placeholder until its issue lands; see the issue tracker.
export const reportCommand: CommandModule = {
  command: "report",
  describe: "Write or verify a report (json, junit, html) with an attestation",
  builder: (y) => y,
  handler: () => notImplemented("report"),
};
