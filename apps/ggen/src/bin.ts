#!/usr/bin/env node
import { runProgram } from "@ggen/reporter";
import { program } from "./program.js";

// Ctrl-C: let commands' own cleanup (finally blocks, signal handlers) run, then exit 130.
process.once("SIGINT", () => {
  process.exitCode = 130;
  setTimeout(() => process.exit(130), 5000).unref();
});

process.exitCode = await runProgram(program, process.argv.slice(2));
