import type { ProgramSpec } from "@ggen/reporter";
import pkg from "../package.json" with { type: "json" };
import { applyCommand } from "./commands/apply.js";
import { graphCommand } from "./commands/graph.js";
import { lifecycleCommand } from "./commands/lifecycle.js";
import { marketCommand } from "./commands/market.js";
import { packCommand } from "./commands/pack.js";
import { genCommand, templateCommand } from "./commands/template.js";
import { ultraFastDeployCommand } from "./commands/ultra-fast-deploy.js";

export const program: ProgramSpec = {
  name: "ggen",
  version: pkg.version,
  description:
    "generate code from templates and RDF graphs, install template packs, run the project lifecycle",
  commands: [
    templateCommand,
    genCommand,
    applyCommand,
    graphCommand,
    marketCommand,
    packCommand,
    lifecycleCommand,
    ultraFastDeployCommand,
  ],
  examples: [
    [
      "ggen ultra-fast-deploy --template io.ggen.domain-service --name shop",
      "Generate, test, validate and deploy a service",
    ],
    ["ggen gen fixtures/templates:sql-schema --output-dir out", "Render one template of a pack directory"],
    ["ggen market search rust --limit 5", "Find template packs"],
    [
      "ggen graph query fixtures/domain/shop.ttl --query 'SELECT * WHERE { ?s a ?c } LIMIT 5'",
      "Query a graph",
    ],
    ["ggen lifecycle run build test", "Run lifecycle phases"],
  ],
};
