import { describe, expect, it } from "vitest";
import { CRATES_IO_INDEX, indexEntry, indexPath } from "./registry.js";

describe("registry index", () => {
  it("puts a crate where cargo looks it up", () => {
    expect(["a", "ab", "abc", "my_service", "Serde"].map(indexPath)).toEqual([
      "1/a",
      "2/ab",
      "3/a/abc",
      "my/_s/my_service",
      "se/rd/serde",
    ]);
  });

  it("one line per version: dependencies with their kind, features, target and registry", () => {
    const line = indexEntry(
      `[package]
name = "my_service"
version = "0.2.0"

[features]
fast = ["serde/std"]

[dependencies]
serde = { version = "1", features = ["derive"] }
json = { package = "serde_json", version = "1", optional = true, default-features = false }

[dev-dependencies]
tempfile = "3"

[target.'cfg(unix)'.dependencies]
libc = "0.2"
`,
      "c".repeat(64),
    );
    const e = JSON.parse(line);
    expect(e).toMatchObject({
      name: "my_service",
      vers: "0.2.0",
      cksum: "c".repeat(64),
      yanked: false,
      links: null,
    });
    expect(e.features).toEqual({ fast: ["serde/std"] });
    expect(e.deps).toEqual([
      {
        name: "serde",
        req: "1",
        features: ["derive"],
        optional: false,
        default_features: true,
        target: null,
        kind: "normal",
        registry: CRATES_IO_INDEX,
      },
      {
        name: "json",
        package: "serde_json",
        req: "1",
        features: [],
        optional: true,
        default_features: false,
        target: null,
        kind: "normal",
        registry: CRATES_IO_INDEX,
      },
      {
        name: "tempfile",
        req: "3",
        features: [],
        optional: false,
        default_features: true,
        target: null,
        kind: "dev",
        registry: CRATES_IO_INDEX,
      },
      {
        name: "libc",
        req: "0.2",
        features: [],
        optional: false,
        default_features: true,
        target: "cfg(unix)",
        kind: "normal",
        registry: CRATES_IO_INDEX,
      },
    ]);
  });
});
