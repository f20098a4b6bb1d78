import { describe, expect, it } from "vitest";
import { loadGraph, syntheticGraph } from "./index.js";

describe("syntheticGraph", () => {
  it("has exactly the requested number of triples, is deterministic and loads", async () => {
    const text = syntheticGraph(5000);
    expect(text).toBe(syntheticGraph(5000));
    const g = await loadGraph([{ text, format: "ntriples" }], { cache: false });
    expect(g.size).toBe(5000);
    const classes = g.select("SELECT (COUNT(?c) AS ?n) WHERE { ?c a <http://www.w3.org/2002/07/owl#Class> }");
    expect(classes[0]?.n?.value).toBe("8");
    g.free();
  });
});
