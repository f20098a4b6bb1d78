import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  cargoConfigToml,
  debianPackageOf,
  ensureFileRegistry,
  missingCrates,
  prepareCargoHome,
  vendoredCrates,
} from "./cargo-home.js";
import { parseCargoManifest, parseToml } from "./manifest.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "ggen-cargo-home-"));
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

describe("ggen's cargo home", () => {
  it("replaces crates.io with the directory source and sends publish to the local registry", () => {
    const text = cargoConfigToml({ crateDir: "/usr/share/cargo/registry", localIndexUrl: "file:///h/index" });
    expect(parseToml(text, "config.toml", "T")).toEqual({
      source: {
        "crates-io": { "replace-with": "debian" },
        debian: { directory: "/usr/share/cargo/registry" },
      },
      registry: { default: "ggen-local" },
      registries: { "ggen-local": { index: "file:///h/index" } },
    });
  });

  it("is written under $GGEN_HOME/cargo, once, with a git index holding config.json", async () => {
    const home = await prepareCargoHome({ ggenHome: join(dir, "g"), crateDir: join(dir, "crates") });
    expect(home.dir).toBe(join(dir, "g", "cargo", "home"));
    expect(home.env).toEqual({ CARGO_HOME: home.dir });
    expect(await readFile(home.configFile, "utf8")).toContain(`directory = "${join(dir, "crates")}"`);
    const config = JSON.parse(await readFile(join(home.registry.indexDir, "config.json"), "utf8"));
    expect(config.dl).toBe(
      `file://${join(dir, "g", "cargo", "registry", "crates")}/{crate}/{crate}-{version}.crate`,
    );
    const log = execFileSync("git", ["-C", home.registry.indexDir, "log", "--format=%s"], {
      encoding: "utf8",
    });
    expect(log.trim()).toBe("registry index");
    const before = (await stat(home.configFile)).mtimeMs;
    const again = await prepareCargoHome({ ggenHome: join(dir, "g"), crateDir: join(dir, "crates") });
    expect(again.registry).toEqual(home.registry);
    expect((await stat(home.configFile)).mtimeMs).toBe(before);
  });

  it("file registries are safe to create concurrently", async () => {
    const regs = await Promise.all([1, 2, 3].map(() => ensureFileRegistry(join(dir, "reg"))));
    expect(new Set(regs.map((r) => r.indexUrl)).size).toBe(1);
    expect(existsSync(join(dir, "reg", "index", ".git"))).toBe(true);
    expect((await readdir(join(dir, "reg"))).sort()).toEqual(["crates", "index"]);
  });
});

describe("vendored crates", () => {
  it("reads <name>-<version> directories, hyphens and pre-releases included", async () => {
    const reg = join(dir, "registry");
    for (const d of ["proc-macro-error-attr-1.0.3", "serde-1.0.152", "sval-1.0.0-alpha.5", "not-a-crate"])
      await mkdir(join(reg, d), { recursive: true });
    expect((await vendoredCrates(reg)).map((c) => [c.name, c.version])).toEqual([
      ["proc-macro-error-attr", "1.0.3"],
      ["serde", "1.0.152"],
      ["sval", "1.0.0-alpha.5"],
    ]);
    expect(await vendoredCrates(join(dir, "none"))).toEqual([]);
  });

  it("names the Debian package of each direct dependency nothing satisfies", () => {
    const m = parseCargoManifest(`[package]
name = "x"
version = "0.1.0"

[dependencies]
serde = { version = "1", features = ["derive"] }
json = { package = "serde_json", version = "1" }
clap = "4"
local = { path = "../local" }
extra = { version = "1", optional = true }

[dev-dependencies]
proc_macro2 = { version = "2" }
`);
    const available = [
      { name: "serde", version: "1.0.152", dir: "" },
      { name: "serde_json", version: "1.0.87", dir: "" },
      { name: "proc_macro2", version: "1.0.47", dir: "" },
    ];
    expect(missingCrates(m.dependencies, available)).toEqual([
      { name: "clap", req: "4", available: [], debianPackage: "librust-clap-dev" },
      { name: "proc_macro2", req: "2", available: ["1.0.47"], debianPackage: "librust-proc-macro2-dev" },
    ]);
    expect(debianPackageOf("serde_json")).toBe("librust-serde-json-dev");
  });
});
