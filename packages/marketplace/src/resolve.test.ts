import type { IndexPack } from "@ggen/contract";
import { describe, expect, it } from "vitest";
import { resolveRequirements } from "./resolve.js";

function pack(id: string, versions: [string, Record<string, string>?][]): IndexPack {
  return {
    id,
    name: id,
    description: "",
    tags: [],
    keywords: [],
    category: "x",
    license: "MIT",
    quality: { score: 50, parts: {} },
    downloads: 0,
    versions: versions.map(([version, dependencies]) => ({
      version,
      url: `${id}-${version}.tar.gz`,
      sha256: "0".repeat(64),
      size: 1,
      published: "2026-01-01",
      ...(dependencies ? { dependencies } : {}),
    })),
  };
}

const all = new Map(
  [
    pack("db", [["1.0.0"], ["1.4.2"], ["2.0.0"]]),
    pack("api", [["1.0.0", { db: "^1.2" }]]),
    pack("legacy", [["1.0.0", { db: "~1.0.0" }]]),
    pack("next", [["1.0.0", { db: "^2.0" }]]),
    pack("web", [["1.0.0", { api: "^1.0" }]]),
    pack("broken", [["1.0.0", { ghost: "^1" }]]),
  ].map((p) => [p.id, p]),
);
const opts = { lookup: (id: string) => all.get(id), allIds: () => all.keys() };
const cli = (id: string, range = "*") => ({ id, range, by: "command line" });

describe("resolveRequirements", () => {
  it("picks the highest version in range", () => {
    expect(resolveRequirements([cli("db", "^1.0")], opts).get("db")?.version.version).toBe("1.4.2");
    expect(resolveRequirements([cli("db")], opts).get("db")?.version.version).toBe("2.0.0");
  });

  it("resolves dependencies transitively", () => {
    const r = resolveRequirements([cli("web")], opts);
    expect([...r.keys()].sort()).toEqual(["api", "db", "web"]);
    expect(r.get("db")?.version.version).toBe("1.4.2");
    expect(r.get("api")?.dependencies).toEqual({ db: "1.4.2" });
  });

  it("prefers a locked version that still satisfies", () => {
    const r = resolveRequirements([cli("db", "^1.0")], { ...opts, preferred: new Map([["db", "1.0.0"]]) });
    expect(r.get("db")?.version.version).toBe("1.0.0");
  });

  it("re-picks when a later requirement narrows the range", () => {
    const r = resolveRequirements([cli("db", "^1.0"), cli("legacy")], opts);
    expect(r.get("db")?.version.version).toBe("1.0.0");
  });

  it("names both requirers on a conflict", () => {
    expect(() => resolveRequirements([cli("api"), cli("next")], opts)).toThrow(
      /conflicting requirements for 'db': api@1.0.0 needs '\^1.2', next@1.0.0 needs '\^2.0'/,
    );
  });

  it("reports a range nothing matches, and unknown packs with a suggestion", () => {
    expect(() => resolveRequirements([cli("db", "^9")], opts)).toThrow(
      /no version of 'db' matches '\^9'.*1.0.0, 1.4.2, 2.0.0/,
    );
    expect(() => resolveRequirements([cli("apii")], opts)).toThrow(
      /unknown pack 'apii' \(did you mean 'api'\?\)/,
    );
    expect(() => resolveRequirements([cli("broken")], opts)).toThrow(
      /unknown pack 'ghost' \(required by broken@1.0.0\)/,
    );
  });

  it("skips dependencies with noDeps", () => {
    expect([...resolveRequirements([cli("web")], { ...opts, noDeps: true }).keys()]).toEqual(["web"]);
  });

  it("skips versions needing a newer ggen", () => {
    const p = pack("tool", [["1.0.0"], ["2.0.0"]]);
    p.versions[1]!.ggen = ">=5.0.0";
    const r = resolveRequirements([cli("tool")], {
      lookup: () => p,
      allIds: () => ["tool"],
      ggenVersion: "0.1.0",
    });
    expect(r.get("tool")?.version.version).toBe("1.0.0");
  });
});
