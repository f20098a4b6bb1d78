import type { ProgramSpec } from "@ggen/reporter";
import pkg from "../package.json" with { type: "json" };
import { containerCommand } from "./commands/container.js";
import { environmentCommand } from "./commands/environment.js";
import { execCommand } from "./commands/exec.js";
import { metricsCommand } from "./commands/metrics.js";
import { reportCommand } from "./commands/report.js";
import { testCommand } from "./commands/test.js";
import { ultraFastTestCommand } from "./commands/ultra-fast-test.js";

export const program: ProgramSpec = {
  name: "cleanroom",
  version: pkg.version,
  description: "hermetic test environments, service containers, test runs, scenarios and signed reports",
  commands: [
    environmentCommand,
    containerCommand,
    testCommand,
    execCommand,
    metricsCommand,
    reportCommand,
    ultraFastTestCommand,
  ],
  examples: [
    ["cleanroom test run --file test/api.test.mjs", "Run tests in a throwaway environment"],
    ["cleanroom environment create --name ci --isolated", "Create an isolated environment"],
    ["cleanroom container start postgres --env-name ci --wait-ready", "Start PostgreSQL in it"],
    ["cleanroom exec --scenario scenario.yaml", "Run a scenario"],
    ["cleanroom report --format html --output report.html", "Write an HTML report of the last run"],
  ],
};
