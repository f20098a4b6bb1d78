// Shared by the package's tests (not exported from index.ts): a render state with a fixed seed.
import { type RenderState, seededNow } from "./helpers.js";

export function renderState(over: Partial<RenderState> = {}): RenderState {
  return {
    file: "t.tmpl",
    lineOffset: 0,
    seed: "s",
    now: seededNow("s"),
    graph: undefined,
    rdf: undefined,
    queryCache: new Map(),
    uuidCounter: 0,
    ...over,
  };
}
