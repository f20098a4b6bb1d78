// The program as a library: run it in-process (tests, embedding) with your own argv and streams.

export { quickParse, runProgram, writeHelpTable } from "@ggen/reporter";
export { program } from "./program.js";
