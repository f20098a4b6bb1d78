// The `ggen gen` entry: the one command without the program's others, built into dist/gen.cjs (a
// CommonJS bundle with its @ggen packages inlined, tsup.config.ts) that bin.ts runs with V8's code cache
// (@ggen/code-cache), so a short generation neither resolves nor compiles the program's modules.
// @ggen/rdf and @ggen/marketplace stay outside (imported when a template reads a graph or a pack); lines
// the table parse does not read exactly (help, a bad flag) are left to the full program.
import { type ProgramSpec, runPlainLine } from "@ggen/reporter";
import pkg from "../package.json" with { type: "json" };
import { genCommand } from "./commands/template.js";

const spec: ProgramSpec = {
  name: "ggen",
  version: pkg.version,
  description: "",
  commands: [genCommand],
  examples: [],
};

/** Runs `argv` when it is a plain `gen` line (true), else does nothing (false). */
export const runGen = (argv: readonly string[]): Promise<boolean> => runPlainLine(spec, argv);
