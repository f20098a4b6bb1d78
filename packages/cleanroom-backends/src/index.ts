export type * from "./backend.js";
export * from "./engine.js";
