// Hostile input to the ultra-fast path and its attestations: a --name that is a path, outputs outside
// the project, a signing key that is no key, a tampered attestation. Each is refused in one line before
// anything is written (or, for a verification, fails in one line), and nothing appears outside.
import { mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { expectRefused, run, Sandbox } from "./harness.js";

let box: Sandbox | undefined;
afterEach(() => {
  box?.dispose();
  box = undefined;
});

const deploy = (b: Sandbox, ...args: string[]) =>
  run("ggen", ["ultra-fast-deploy", "--template", "io.ggen.rust-cli", ...args], {
    cwd: b.root,
    env: { GGEN_HOME: join(b.root, ".ggen-home") },
  });

describe("ggen ultra-fast-deploy: a name is a name, every output stays in the project", () => {
  it.each([["../../../x"], ["a/b/x"], ["/tmp/x"], [".."], ["x\u001b[31m"]])(
    "--name %j is refused before anything is created",
    async (name) => {
      box = new Sandbox("ufd-name");
      const r = await deploy(box, "--name", name);
      expectRefused(r, 2);
      expect(r.stderr).toMatch(/--name .*: a name, not a path/);
      box.check();
      // Not even the project's own state: nothing was written anywhere.
      expect(readdir(box.root)).toEqual([]);
    },
  );

  it.each([
    ["--output", "../outside/gen"],
    ["--output", "/tmp"],
    ["--report", "../outside/report.json"],
    ["--report", "/tmp/report.json"],
  ])("%s %s outside the project is refused before anything is created", async (flag, value) => {
    box = new Sandbox("ufd-out");
    const r = await deploy(box, "--name", "my_service", flag, value);
    expectRefused(r, 2);
    expect(r.stderr).toMatch(new RegExp(`${flag} .* is not inside the project`));
    box.check();
    expect(readdir(box.root)).toEqual([]);
  });

  it("an output dir reached through a symlink out of the project is refused", async () => {
    box = new Sandbox("ufd-link");
    symlinkSync(box.outside, join(box.root, "target"));
    const r = await deploy(box, "--name", "my_service");
    expectRefused(r, 2);
    expect(r.stderr).toMatch(/--output .* is not inside the project/);
    box.check();
  });

  it("a signing key that is no ed25519 key is refused by name, never as an OpenSSL error", async () => {
    box = new Sandbox("ufd-key");
    mkdirSync(join(box.root, ".cleanroom", "keys"), { recursive: true });
    writeFileSync(
      join(box.root, ".cleanroom", "keys", "attestation.key"),
      "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n",
    );
    const r = await deploy(box, "--name", "my_service");
    expectRefused(r, 2);
    expect(r.stderr).toMatch(/attestation\.key: not an ed25519 private key/);
    expect(r.stderr).not.toMatch(/ERR_OSSL|DECODER/);
    box.check();
    expect(readdir(box.root)).toEqual([".cleanroom"]);
  });
});

describe("cleanroom report: keys and tampered attestations", () => {
  const statement = (root: string) => ({
    _type: "https://in-toto.io/Statement/v1",
    subject: [{ name: "a.txt", digest: { sha256: "0".repeat(64) } }],
    predicateType: "https://in-toto.io/attestation/test-result/v0.1",
    predicate: {
      result: "PASSED",
      configuration: [{ name: "ggen:root", uri: `file://${root}` }],
      passedTests: [],
      warnedTests: [],
      failedTests: [],
    },
  });

  it("--sign with a garbage key: 'not an ed25519 private key', exit 2", async () => {
    box = new Sandbox("report-key");
    writeFileSync(join(box.root, "garbage.pem"), "garbage");
    writeFileSync(
      join(box.root, "m.json"),
      readFileSync(
        join(
          import.meta.dirname,
          "..",
          "..",
          "packages",
          "contract",
          "examples",
          "generation-manifest.v1.json",
        ),
      ),
    );
    const k = await run("cleanroom", ["report", "--sign", "--key", "garbage.pem", "--provenance", "m.json"], {
      cwd: box.root,
    });
    expectRefused(k, 2);
    expect(k.stderr).toMatch(/not an ed25519 private key/);
    expect(k.stderr).not.toMatch(/ERR_OSSL/);
    box.check();
  });

  it("--verify of a tampered attestation fails in one line on stderr, exit 1", async () => {
    box = new Sandbox("report-verify");
    writeFileSync(join(box.root, "a.txt"), "what the subject really is\n");
    writeFileSync(join(box.root, "st.json"), JSON.stringify(statement(box.root)));
    const r = await run("cleanroom", ["report", "--verify", join(box.root, "st.json")], { cwd: box.outside });
    expectRefused(r, 1);
    expect(r.stderr).toMatch(/^cleanroom: error: attestation does not verify: a\.txt changed\n$/);
    expect(r.stdout).toMatch(/NOT VERIFIED/);
    // Garbled: not JSON, or a DSSE payload that is not a statement: one line, usage.
    writeFileSync(join(box.root, "garbled.json"), '{"payloadType":"x","payload":"bm9wZQ==","signatures":[]}');
    const g = await run("cleanroom", ["report", "--verify", "garbled.json"], { cwd: box.root });
    expectRefused(g, 2);
    expect(g.stderr).toMatch(/the DSSE payload is not JSON/);
    box.check();
  });
});

const readdir = (dir: string) => readdirSync(dir).sort();
