export type * from "./backend.js";
export * from "./engine.js";
export * from "./run/index.js";
