import type { IndexPack } from "@ggen/contract";
import { describe, expect, it } from "vitest";
import { boundedDistance, didYouMeanPack, search } from "./search.js";
import { syntheticIndex } from "./synthetic.js";

function pack(id: string, over: Partial<IndexPack> = {}): IndexPack {
  return {
    id,
    name: over.name ?? id,
    description: "",
    tags: [],
    keywords: [],
    category: "misc",
    license: "MIT",
    quality: { score: 50, parts: {} },
    downloads: 0,
    versions: [
      { version: "1.0.0", url: "x.tar.gz", sha256: "0".repeat(64), size: 1, published: "2026-01-01" },
    ],
    ...over,
  };
}

const packs: IndexPack[] = [
  pack("io.x.postgres-schema", { keywords: ["postgres", "sql"], category: "database", tags: ["production"] }),
  pack("io.x.redis-service", { description: "uses postgres for nothing", tags: ["cache"] }),
  pack("io.x.rust-cli", {
    keywords: ["rust", "cli"],
    tags: ["production", "tested"],
    quality: { score: 90, parts: {} },
  }),
  pack("io.x.node-cli", { keywords: ["node", "cli"], tags: ["tested"], quality: { score: 40, parts: {} } }),
  pack("rust", { description: "a pack whose id is exactly the query" }),
];

describe("search", () => {
  it("puts an exact id first, then name, keyword, tag and description matches", () => {
    const ids = search(packs, "rust").map((h) => h.pack.id);
    expect(ids[0]).toBe("rust");
    expect(ids).toContain("io.x.rust-cli");
    const pg = search(packs, "postgres").map((h) => h.pack.id);
    expect(pg).toEqual(["io.x.postgres-schema", "io.x.redis-service"]);
  });

  it("weights equal matches by quality", () => {
    expect(search(packs, "cli").map((h) => h.pack.id)).toEqual(["io.x.rust-cli", "io.x.node-cli"]);
  });

  it("tolerates typos and matches prefixes", () => {
    expect(search(packs, "postgress")[0]?.pack.id).toBe("io.x.postgres-schema");
    expect(search(packs, "redsi")[0]?.pack.id).toBe("io.x.redis-service");
    expect(search(packs, "postg")[0]?.pack.id).toBe("io.x.postgres-schema");
  });

  it("ranks packs matching every word above packs matching some", () => {
    expect(search(packs, "rust cli")[0]?.pack.id).toBe("io.x.rust-cli");
  });

  it("filters by tags, category and quality, and limits", () => {
    expect(search(packs, "cli", { tags: ["production"] }).map((h) => h.pack.id)).toEqual(["io.x.rust-cli"]);
    expect(search(packs, "", { category: "database" }).map((h) => h.pack.id)).toEqual([
      "io.x.postgres-schema",
    ]);
    expect(search(packs, "cli", { minQuality: 60 }).map((h) => h.pack.id)).toEqual(["io.x.rust-cli"]);
    expect(search(packs, "", { limit: 2 })).toHaveLength(2);
  });

  it("finds nothing for words nowhere in the index", () => {
    expect(search(packs, "zzzzqqq")).toEqual([]);
  });

  it("works on a 10,000-pack synthetic index", () => {
    const big = syntheticIndex(10_000).packs;
    const hits = search(big, "kubernetes helm", { limit: 5 });
    expect(hits).toHaveLength(5);
    for (const h of hits)
      expect(`${h.pack.id} ${h.pack.description} ${h.pack.keywords}`).toMatch(/kubernetes|helm/);
  });
});

describe("didYouMeanPack and boundedDistance", () => {
  it("suggests the closest id", () => {
    const ids = packs.map((p) => p.id);
    expect(didYouMeanPack("io.x.rust-clu", ids)).toBe(" (did you mean 'io.x.rust-cli'?)");
    expect(didYouMeanPack("postgres", ids)).toBe(" (did you mean 'io.x.postgres-schema'?)");
    expect(didYouMeanPack("completely-different-thing", ids)).toBe("");
  });

  it("computes bounded edit distance", () => {
    expect(boundedDistance("kitten", "sitting", 5)).toBe(3);
    expect(boundedDistance("kitten", "sitting", 1)).toBe(2);
  });
});
