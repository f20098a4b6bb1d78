import { exitOnInterrupt, runProgram } from "@ggen/reporter";
import { program } from "./program.js";

exitOnInterrupt();
process.exitCode = await runProgram(program, process.argv.slice(2));
