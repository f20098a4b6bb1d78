// cargo's stderr as cargo 1.95 prints it, from real runs against a local file registry.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parsePackagingOutput, publishProblems } from "./publish.js";

const dryRunOk = `    Updating \`ggen-local\` index
   Packaging my_service v0.1.0 (/tmp/gg/p1)
    Packaged 7 files, 8.6KiB (3.3KiB compressed)
   Verifying my_service v0.1.0 (/tmp/gg/p1)
   Compiling my_service v0.1.0 (/tmp/gg/target/package/my_service-0.1.0)
    Finished \`dev\` profile [unoptimized + debuginfo] target(s) in 2.15s
   Uploading my_service v0.1.0 (/tmp/gg/p1)
warning: aborting upload due to dry run
`;

const verifyFails = `    Updating \`ggen-local\` index
   Packaging my_service v0.1.0 (/tmp/gg/p1)
    Packaged 7 files, 8.8KiB (3.3KiB compressed)
   Verifying my_service v0.1.0 (/tmp/gg/p1)
   Compiling my_service v0.1.0 (/tmp/gg/target/package/my_service-0.1.0)
error[E0308]: mismatched types
   --> src/lib.rs:185:26
    |
185 | pub fn broken() -> u32 { "x" }
    |                    ---   ^^^ expected \`u32\`, found \`&str\`

For more information about this error, try \`rustc --explain E0308\`.
error: could not compile \`my_service\` (lib) due to 1 previous error
error: failed to verify package tarball
`;

const notPublishable = `error: \`my_service\` cannot be published.
\`package.publish\` must be set to \`true\` or a non-empty list in Cargo.toml to publish.
`;

const packageOk = `   Packaging wc-lite v0.1.0 (/tmp/gg/cli)
    Packaged 7 files, 8.8KiB (3.3KiB compressed)
   Verifying wc-lite v0.1.0 (/tmp/gg/cli)
   Compiling wc-lite v0.1.0 (/tmp/gg/target/package/wc-lite-0.1.0)
    Finished \`dev\` profile [unoptimized + debuginfo] target(s) in 1.14s
warning: manifest has no documentation, homepage or repository
`;

describe("parsePackagingOutput", () => {
  it("a dry run that packaged, verified and stopped before the upload is ok", () => {
    expect(parsePackagingOutput(dryRunOk, 0)).toEqual({
      ok: true,
      command: "publish-dry-run",
      crate: { name: "my_service", version: "0.1.0" },
      files: 7,
      size: "8.6KiB",
      compressedSize: "3.3KiB",
      verified: true,
      uploadSkipped: true,
      warnings: [],
      errors: [],
    });
  });

  it("a package that does not build from its own files fails verification", () => {
    const r = parsePackagingOutput(verifyFails, 101);
    expect(r).toMatchObject({ ok: false, command: "publish-dry-run", verified: false, uploadSkipped: false });
    expect(r.errors).toEqual([
      "E0308: mismatched types",
      "could not compile `my_service` (lib) due to 1 previous error",
      "failed to verify package tarball",
    ]);
  });

  it("keeps cargo's explanation with its error", () => {
    const r = parsePackagingOutput(notPublishable, 101);
    expect(r.ok).toBe(false);
    expect(r.errors).toEqual([
      "`my_service` cannot be published. `package.publish` must be set to `true` or a non-empty list in Cargo.toml to publish.",
    ]);
  });

  it("reads `cargo package` too, with its warnings; a failure without words still fails", () => {
    const r = parsePackagingOutput(packageOk, 0);
    expect(r).toMatchObject({ ok: true, command: "package", verified: true, files: 7 });
    expect(r.warnings).toEqual(["manifest has no documentation, homepage or repository"]);
    expect(parsePackagingOutput("", 1)).toMatchObject({ ok: false, errors: ["cargo exited 1"] });
  });
});

const manifest = (pkg: string, deps = "") => `[package]\n${pkg}\n\n[dependencies]\n${deps}\n`;
const good = `name = "my_service"
version = "0.1.0"
edition = "2021"
description = "A service"
license = "MIT OR Apache-2.0"
documentation = "https://docs.rs/my_service"
keywords = ["service", "json"]`;

describe("publishProblems", () => {
  it("passes a complete manifest", () => {
    expect(publishProblems(manifest(good, 'serde = { version = "1", features = ["derive"] }'))).toEqual({
      errors: [],
      warnings: [],
    });
  });

  it("names what crates.io would refuse", () => {
    const r = publishProblems(
      manifest(
        'name = "9lives"\nversion = "1.0"\npublish = false\nkeywords = ["a", "b", "c", "d", "e", "f", "no spaces"]',
        'serde = "*"\nlocal = { path = "../local" }\nfmt = { git = "https://example.com/fmt", version = "1" }',
      ),
    );
    expect(r.errors).toEqual([
      "package.name '9lives' is not a crates.io name (a letter, then letters, digits, - or _; 64 at most)",
      "package.version '1.0' is not a semver version",
      "package.description is missing",
      "package.license (or license-file) is missing",
      "package.publish is false: the crate cannot be published",
      "package.keywords has 7 entries; crates.io takes 5",
      "keyword 'no spaces' is not valid (a letter, then letters, digits, _, - or +; 20 at most)",
      "dependency 'serde' has a wildcard version, which crates.io refuses",
      "dependency 'local' has no version (path and git dependencies need one)",
    ]);
    expect(r.warnings).toEqual(["none of package.documentation, homepage or repository is set"]);
  });

  it("checks that the readme exists when it knows the crate's directory", async () => {
    const dir = await mkdtemp(join(tmpdir(), "ggen-publish-"));
    try {
      const text = manifest(`${good}\nreadme = "README.md"`);
      expect(publishProblems(text, { crateDir: dir }).errors).toEqual([
        "package.readme 'README.md' does not exist",
      ]);
      await writeFile(join(dir, "README.md"), "# my_service\n");
      expect(publishProblems(text, { crateDir: dir }).errors).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
