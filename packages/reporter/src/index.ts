export type { GlobalOptions, Writer } from "./terminal/output.js";
export { Output } from "./terminal/output.js";
export type { GlobalArgs, ProgramSpec, RunOptions } from "./terminal/program.js";
export { outputFor, runProgram, UsageError } from "./terminal/program.js";
export type { ProgressOptions } from "./terminal/progress.js";
export { Progress } from "./terminal/progress.js";
export { closest, didYouMean, editDistance } from "./terminal/suggest.js";
export type { Column } from "./terminal/table.js";
export { table } from "./terminal/table.js";
