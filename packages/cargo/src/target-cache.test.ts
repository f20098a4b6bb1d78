import { mkdir, mkdtemp, rm, stat, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { copyTarget, lockfileKey, targetCacheKey } from "./target-cache.js";

const CRATES_IO = "registry+https://github.com/rust-lang/crates.io-index";
const lock = (root: string, serde = "1.0.152") => `version = 4

[[package]]
name = "${root}"
version = "0.1.0"
dependencies = ["serde"]

[[package]]
name = "serde"
version = "${serde}"
source = "${CRATES_IO}"
`;
const manifest = (name: string, deps = 'serde = { version = "1", features = ["derive"] }') =>
  `[package]\nname = "${name}"\nversion = "0.1.0"\nedition = "2021"\ndescription = "${name}"\n\n[dependencies]\n${deps}\n`;
const RUSTC =
  "rustc 1.95.0 (59807616e 2026-04-14)\nhost: x86_64-unknown-linux-gnu\nrelease: 1.95.0\nLLVM version: 22.1.2\n";
const key = (
  o: Partial<{ lockText: string; manifestText: string; rustcVersion: string; env: NodeJS.ProcessEnv }>,
) => targetCacheKey({ lockText: lock("a"), manifestText: manifest("a"), rustcVersion: RUSTC, ...o });

describe("lockfileKey", () => {
  const base = {
    manifestText: manifest("a"),
    rustcVersion: RUSTC,
    cargoConfig: "[source]",
    crates: ["serde-1.0.152"],
  };
  it("changes with Cargo.toml, the toolchain, cargo's configuration and the crates offered", () => {
    const k = lockfileKey(base);
    expect(lockfileKey({ ...base, crates: ["serde-1.0.152"] })).toBe(k);
    expect(lockfileKey({ ...base, manifestText: manifest("b") })).not.toBe(k);
    expect(lockfileKey({ ...base, rustcVersion: RUSTC.replace("1.95.0", "1.96.0") })).not.toBe(k);
    expect(lockfileKey({ ...base, cargoConfig: "" })).not.toBe(k);
    expect(lockfileKey({ ...base, crates: ["serde-1.0.152", "serde-1.0.153"] })).not.toBe(k);
  });
});

describe("targetCacheKey", () => {
  it("is the same for two crates of the same dependency set, whatever their names and metadata", () => {
    expect(key({})).toMatch(/^[0-9a-f]{24}$/);
    expect(key({ lockText: lock("other_service"), manifestText: manifest("other_service") })).toBe(key({}));
  });

  it("changes with a locked version, the declared features, rustc and codegen flags", () => {
    const base = key({});
    expect(key({ lockText: lock("a", "1.0.153") })).not.toBe(base);
    expect(key({ manifestText: manifest("a", 'serde = "1"') })).not.toBe(base);
    expect(key({ rustcVersion: RUSTC.replace("1.95.0", "1.96.0") })).not.toBe(base);
    expect(key({ env: { RUSTFLAGS: "-C target-cpu=native" } })).not.toBe(base);
    expect(key({ env: { HOME: "/elsewhere" } })).toBe(base);
  });
});

describe("copyTarget", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "ggen-target-copy-"));
    const files = {
      "debug/deps/libserde-0123456789abcdef.rlib": "rlib",
      "debug/deps/libserde-0123456789abcdef.rmeta": "rmeta",
      "debug/deps/serde-0123456789abcdef.d": "dep-info",
      "debug/.fingerprint/serde-0123456789abcdef/lib-serde": "fingerprint",
      "debug/build/serde-0123456789abcdef/build-script-build": "exe",
      "debug/build/serde-fedcba9876543210/output": "cargo:rustc-cfg=x",
      ".rustc_info.json": "{}",
    };
    for (const [rel, text] of Object.entries(files)) {
      await mkdir(join(dir, "from", rel, ".."), { recursive: true });
      await writeFile(join(dir, "from", rel), text);
      await utimes(join(dir, "from", rel), 1_600_000_000, 1_600_000_000);
    }
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it("links compiled artifacts and copies what cargo rewrites in place, keeping modification times", async () => {
    await copyTarget(join(dir, "from"), join(dir, "to"), "link");
    const same = async (rel: string) =>
      (await stat(join(dir, "from", rel))).ino === (await stat(join(dir, "to", rel))).ino;
    expect(await same("debug/deps/libserde-0123456789abcdef.rlib")).toBe(true);
    expect(await same("debug/deps/libserde-0123456789abcdef.rmeta")).toBe(true);
    expect(await same("debug/build/serde-0123456789abcdef/build-script-build")).toBe(true);
    expect(await same("debug/deps/serde-0123456789abcdef.d")).toBe(false);
    expect(await same("debug/.fingerprint/serde-0123456789abcdef/lib-serde")).toBe(false);
    expect(await same("debug/build/serde-fedcba9876543210/output")).toBe(false);
    expect(await same(".rustc_info.json")).toBe(false);
    expect((await stat(join(dir, "to", "debug/deps/serde-0123456789abcdef.d"))).mtimeMs).toBe(
      1_600_000_000_000,
    );
  });

  it("copies everything in copy mode", async () => {
    await copyTarget(join(dir, "from"), join(dir, "copied"), "copy");
    const rel = "debug/deps/libserde-0123456789abcdef.rlib";
    expect((await stat(join(dir, "copied", rel))).ino).not.toBe((await stat(join(dir, "from", rel))).ino);
    expect((await stat(join(dir, "copied", rel))).mtimeMs).toBe(1_600_000_000_000);
  });
});
