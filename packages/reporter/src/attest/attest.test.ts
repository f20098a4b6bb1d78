import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { GenerationManifest } from "@ggen/contract";
import { afterAll, describe, expect, it } from "vitest";
import { sampleRun } from "../render/fixtures.test-helpers.js";
import {
  generateSigningKey,
  keyIdOf,
  pae,
  projectSigningKey,
  provenanceStatement,
  recordedRoot,
  SLSA_PROVENANCE_PREDICATE,
  signStatement,
  TEST_RESULT_PREDICATE,
  testResultStatement,
  verifyAttestation,
  verifyEnvelope,
  verifyProblem,
} from "./index.js";

const root = mkdtempSync(join(tmpdir(), "attest-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const sha = (s: string) => createHash("sha256").update(s).digest("hex");

function put(rel: string, text: string) {
  mkdirSync(join(root, rel, ".."), { recursive: true });
  writeFileSync(join(root, rel), text);
  return { path: rel, sha256: sha(text) };
}

describe("attestations", () => {
  it("test-result statement: subject = sources, result, configuration, passed and failed tests", () => {
    const run = { ...sampleRun(6), sources: [{ path: "src/a.ts", sha256: sha("a") }] };
    const st = testResultStatement(run, { runRef: { path: ".cleanroom/runs/r.json", sha256: sha("run") } });
    expect(st._type).toBe("https://in-toto.io/Statement/v1");
    expect(st.predicateType).toBe(TEST_RESULT_PREDICATE);
    expect(st.subject).toEqual([{ name: "src/a.ts", digest: { sha256: sha("a") } }]);
    expect(st.predicate.result).toBe("FAILED");
    expect(st.predicate.failedTests).toEqual(["test/file2.test.mjs#case 2", "test/file1.test.mjs#case 5"]);
    expect(st.predicate.passedTests).toHaveLength(3);
    expect(st.predicate.configuration[0]).toMatchObject({ name: ".cleanroom/runs/r.json" });
    const green = sampleRun(3, 0);
    expect(testResultStatement(green).predicate.result).toBe("PASSED");
    expect(testResultStatement(sampleRun(5, 0)).predicate.result).toBe("WARNED");
  });

  it("SLSA provenance from a generation manifest: subjects under outputRoot, packs, redacted vars", () => {
    const manifest = JSON.parse(
      readFileSync(
        join(import.meta.dirname, "../../../contract/examples/generation-manifest.v1.json"),
        "utf8",
      ),
    ) as GenerationManifest;
    manifest.vars = { name: "x", db_password: "hunter2", nested: { apiToken: "t" } };
    const st = provenanceStatement(manifest, { backend: "local" });
    expect(st.predicateType).toBe(SLSA_PROVENANCE_PREDICATE);
    expect(st.subject[0]!.name).toBe("target/generated/my-service/db/schema.sql");
    const p = st.predicate as {
      buildDefinition: { externalParameters: { vars: unknown }; resolvedDependencies: unknown[] };
      runDetails: { metadata: { startedOn: string }; builder: { id: string } };
    };
    expect(p.buildDefinition.externalParameters.vars).toEqual({
      name: "x",
      db_password: "***",
      nested: { apiToken: "***" },
    });
    expect(p.buildDefinition.resolvedDependencies[0]).toEqual({
      name: "io.ggen.domain-service",
      uri: "pkg:ggen/io.ggen.domain-service@1.2.0",
      digest: { sha256: "a".repeat(64) },
    });
    expect(p.runDetails.metadata.startedOn).toBe(manifest.startedAt);
    expect(p.runDetails.builder.id).toBe("https://ggen.dev/builders/local");
    expect(JSON.stringify(st)).not.toContain("hunter2");
  });

  it("DSSE: signs with ed25519 and verifies; a changed payload or another key fails", () => {
    const key = generateSigningKey();
    const st = testResultStatement(sampleRun(3, 0));
    const env = signStatement(st, key.privateKey);
    expect(env.payloadType).toBe("application/vnd.in-toto+json");
    expect(verifyEnvelope(env, key.publicKey)).toBe(true);
    expect(verifyEnvelope(env, generateSigningKey().publicKey)).toBe(false);
    const forged = { ...st, predicate: { ...st.predicate, result: "FAILED" } };
    const tampered = { ...env, payload: Buffer.from(JSON.stringify(forged)).toString("base64") };
    expect(verifyEnvelope(tampered, key.publicKey)).toBe(false);
    expect(pae("t", Buffer.from("ab")).toString()).toBe("DSSEv1 1 t 2 ab");
  });

  it("verify re-hashes subjects and configuration, and names what changed or went missing", async () => {
    const a = put("src/a.ts", "export const a = 1;\n");
    const b = put("src/b.ts", "export const b = 2;\n");
    const runRef = put(".cleanroom/runs/r.json", "{}");
    const run = { ...sampleRun(3, 0), sources: [a, b] };
    const key = generateSigningKey();
    const text = JSON.stringify(signStatement(testResultStatement(run, { runRef }), key.privateKey));
    const ok = await verifyAttestation(text, { root, publicKeyPem: key.publicKey });
    expect(ok.ok).toBe(true);
    expect(ok.signatureValid).toBe(true);
    expect(ok.checks.map((c) => `${c.role}:${c.name}:${c.status}`)).toEqual([
      "subject:src/a.ts:ok",
      "subject:src/b.ts:ok",
      "configuration:.cleanroom/runs/r.json:ok",
    ]);
    writeFileSync(join(root, "src/a.ts"), "export const a = 2;\n");
    rmSync(join(root, "src/b.ts"));
    const bad = await verifyAttestation(text, { root });
    expect(bad.ok).toBe(false);
    expect(bad.checks.filter((c) => c.status !== "ok").map((c) => `${c.name}:${c.status}`)).toEqual([
      "src/a.ts:changed",
      "src/b.ts:missing",
    ]);
    expect(bad.checks[0]!.actual).toBe(sha("export const a = 2;\n"));
  });

  it("records its root, so it verifies from anywhere; a root that is gone falls back to the one given", async () => {
    const a = put("proj/src/a.ts", "a\n");
    const run = { ...sampleRun(2, 0), sources: [{ path: "src/a.ts", sha256: a.sha256 }] };
    const st = testResultStatement(run, { root: join(root, "proj") });
    expect(recordedRoot(st)).toBe(join(root, "proj"));
    const elsewhere = await verifyAttestation(JSON.stringify(st), { root: "/" });
    expect(elsewhere.root).toBe(join(root, "proj"));
    expect(elsewhere.ok).toBe(true);
    const prov = provenanceStatement(
      {
        ...JSON.parse(
          readFileSync(
            join(import.meta.dirname, "../../../contract/examples/generation-manifest.v1.json"),
            "utf8",
          ),
        ),
        files: [],
      },
      { root: join(root, "proj"), backend: "local" },
    );
    expect(recordedRoot(prov)).toBe(join(root, "proj"));
    const gone = testResultStatement(run, { root: join(root, "moved-away") });
    const fallback = await verifyAttestation(JSON.stringify(gone), { root: join(root, "proj") });
    expect(fallback.root).toBe(join(root, "proj"));
    expect(fallback.ok).toBe(true);
  });

  it("names what does not verify in one line", async () => {
    const a = put("p2/src/a.ts", "a\n");
    const runRef = put("p2/.ggen/run.json", "{}");
    const st = testResultStatement(
      { ...sampleRun(1, 0), sources: [{ path: "src/a.ts", sha256: a.sha256 }] },
      {
        root: join(root, "p2"),
        runRef: { path: ".ggen/run.json", sha256: runRef.sha256 },
      },
    );
    writeFileSync(join(root, "p2/src/a.ts"), "tampered\n");
    writeFileSync(join(root, "p2/.ggen/run.json"), '{"summary":"all passed"}');
    const r = await verifyAttestation(JSON.stringify(st), { root: "/" });
    expect(verifyProblem(r)).toBe("attestation does not verify: src/a.ts changed; .ggen/run.json changed");
    expect(verifyProblem({ ...r, ok: true })).toBeUndefined();
  });

  it("a key that is not ed25519 is one clear error, never OpenSSL's", () => {
    const st = testResultStatement(sampleRun(1, 0));
    for (const garbage of ["garbage", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"])
      expect(() => signStatement(st, garbage, "k.pem")).toThrow(/^k\.pem: not an ed25519 private key$/);
    const env = signStatement(st, generateSigningKey().privateKey);
    expect(() => verifyEnvelope(env, "nope")).toThrow(/not an ed25519 public key/);
    expect(
      verifyEnvelope({ ...env, signatures: [{ keyid: "", sig: "!!" }] }, generateSigningKey().publicKey),
    ).toBe(false);
  });

  it("the project's key: made once with create, found afterwards, a signed statement checked with it from its root", async () => {
    const state = join(root, "p3", ".cleanroom");
    expect(await projectSigningKey(state, { create: false })).toBeUndefined();
    const made = await projectSigningKey(state, { create: true });
    expect(made?.created).toBe(true);
    const again = await projectSigningKey(state, { create: false });
    expect(again?.privateKeyPem).toBe(made?.privateKeyPem);
    expect(keyIdOf(again!.privateKeyPem)).toMatch(/^ed25519:[0-9a-f]{32}$/);
    const src = put("p3/x.txt", "x");
    const st = testResultStatement(
      { ...sampleRun(1, 0), sources: [{ path: "x.txt", sha256: src.sha256 }] },
      { root: join(root, "p3") },
    );
    const env = signStatement(st, made!.privateKeyPem);
    const r = await verifyAttestation(JSON.stringify(env), { root: "/" });
    expect(r).toMatchObject({ ok: true, signed: true, signatureValid: true, publicKey: made!.publicKeyFile });
  });

  it("a tampered or garbled attestation says what it is not", async () => {
    await expect(verifyAttestation("{", { root })).rejects.toThrow(/^the attestation is not JSON/);
    await expect(verifyAttestation("[]", { root })).rejects.toThrow(/not an in-toto Statement v1/);
    await expect(
      verifyAttestation(JSON.stringify({ payloadType: "x", payload: "bm9wZQ==", signatures: [] }), { root }),
    ).rejects.toThrow(/^the DSSE payload is not JSON/);
  });
});
