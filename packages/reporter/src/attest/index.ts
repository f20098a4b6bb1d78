// Attestations: in-toto Statement v1 with the Test Result predicate for a cleanroom run, SLSA
// Provenance v1 for generated output, optional DSSE signing with a local ed25519 key (node:crypto),
// and verification that re-hashes every named file and says what changed.

import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
  verify,
} from "node:crypto";
import { existsSync, statSync } from "node:fs";
import { mkdir, readFile } from "node:fs/promises";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { CleanroomRun, GenerationManifest, Reference } from "@ggen/contract";
import { GgenError, isSecretName, REDACTED, sha256, sha256File, writeFileAtomic } from "@ggen/support";

export const STATEMENT_TYPE = "https://in-toto.io/Statement/v1";
export const TEST_RESULT_PREDICATE = "https://in-toto.io/attestation/test-result/v0.1";
export const SLSA_PROVENANCE_PREDICATE = "https://slsa.dev/provenance/v1";
export const DSSE_PAYLOAD_TYPE = "application/vnd.in-toto+json";

export interface ResourceDescriptor {
  name?: string;
  uri?: string;
  digest?: Record<string, string>;
  annotations?: Record<string, unknown>;
}

export interface Statement<P = unknown> {
  _type: typeof STATEMENT_TYPE;
  subject: ResourceDescriptor[];
  predicateType: string;
  predicate: P;
}

export interface TestResultPredicate {
  result: "PASSED" | "WARNED" | "FAILED";
  configuration: ResourceDescriptor[];
  url?: string;
  passedTests: string[];
  warnedTests: string[];
  failedTests: string[];
}

export interface DsseEnvelope {
  payloadType: string;
  payload: string;
  signatures: { keyid: string; sig: string }[];
}

/** Values of secret-looking names replaced by `***`, recursively. */
export function redact(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redact);
  if (value && typeof value === "object")
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, isSecretName(k) ? REDACTED : redact(v)]),
    );
  return value;
}

const ref = (r: Reference): ResourceDescriptor => ({ name: r.path, digest: { sha256: r.sha256 } });

/**
 * The name of the descriptor that records the root every file name of a statement is relative to:
 * `{ name: "ggen:root", uri: "file:///…" }`, among the test-result predicate's configuration or the
 * provenance's byproducts (where descriptors belong), so `--verify` finds the files from anywhere.
 */
export const ROOT_DESCRIPTOR = "ggen:root";

const rootDescriptor = (root: string): ResourceDescriptor => ({
  name: ROOT_DESCRIPTOR,
  uri: pathToFileURL(resolve(root)).href,
});

/** The root a statement records (an absolute path), if it records one. */
export function recordedRoot(statement: Statement): string | undefined {
  const p = (statement.predicate ?? {}) as {
    configuration?: ResourceDescriptor[];
    runDetails?: { byproducts?: ResourceDescriptor[] };
  };
  const d = [...(p.configuration ?? []), ...(p.runDetails?.byproducts ?? [])].find(
    (x) => x?.name === ROOT_DESCRIPTOR && typeof x.uri === "string",
  );
  if (!d?.uri?.startsWith("file:")) return undefined;
  try {
    return fileURLToPath(d.uri);
  } catch {
    return undefined;
  }
}

/** PASSED when everything passed, WARNED when some were skipped, FAILED when any failed, errored or timed out. */
export function testResultOf(run: CleanroomRun): TestResultPredicate["result"] {
  const s = run.summary;
  if (s.failed + s.errored + s.timedOut > 0) return "FAILED";
  return s.skipped > 0 ? "WARNED" : "PASSED";
}

export interface TestStatementOptions {
  /** The directory every path in the statement is relative to (recorded in it). */
  root?: string;
  /** Put before the run's source names, when the run names them relative to a directory under root. */
  sourcePrefix?: string;
  /** Where the run is stored and its digest: part of the configuration. */
  runRef?: Reference;
  /** More configuration (a scenario file, a config file) with digests. */
  configuration?: Reference[];
  url?: string;
}

/** Subject = the tested sources (run.sources); predicate = the Test Result. */
export function testResultStatement(
  run: CleanroomRun,
  options: TestStatementOptions = {},
): Statement<TestResultPredicate> {
  const configuration: ResourceDescriptor[] = [
    ...(options.runRef
      ? [{ ...ref(options.runRef), annotations: { kind: run.kind, runId: run.runId } }]
      : []),
    ...(run.manifest ? [{ ...ref(run.manifest), annotations: { kind: "generation-manifest/v1" } }] : []),
    ...(options.configuration ?? []).map(ref),
    ...(options.root ? [rootDescriptor(options.root)] : []),
    {
      name: `environment:${run.environment.name}`,
      annotations: {
        backend: run.environment.backend,
        isolation: run.environment.isolation,
        services: run.services.map((s) => ({ name: s.name, from: s.image ?? s.binary })),
      },
    },
  ];
  const predicate: TestResultPredicate = {
    result: testResultOf(run),
    configuration,
    passedTests: run.tests.filter((t) => t.status === "passed").map((t) => t.id),
    warnedTests: run.tests.filter((t) => t.status === "skipped").map((t) => t.id),
    failedTests: run.tests
      .filter((t) => t.status === "failed" || t.status === "errored" || t.status === "timed-out")
      .map((t) => t.id),
  };
  if (options.url) predicate.url = options.url;
  return {
    _type: STATEMENT_TYPE,
    subject: (run.sources ?? []).map((r) =>
      ref(
        options.sourcePrefix && !isAbsolute(r.path) ? { ...r, path: join(options.sourcePrefix, r.path) } : r,
      ),
    ),
    predicateType: TEST_RESULT_PREDICATE,
    predicate,
  };
}

export interface ProvenanceOptions {
  /** The directory every path in the statement is relative to (recorded in it). */
  root?: string;
  /** Where the manifest is and its digest. */
  manifestRef?: Reference;
  backend?: string;
  startedOn?: string;
  finishedOn?: string;
  builderId?: string;
  invocationId?: string;
}

/**
 * SLSA Provenance v1 for generated output: subject = the generated files (paths under outputRoot),
 * build definition = templates, vars (secrets redacted) and graphs, resolved dependencies = packs
 * with digests, run details = backend, start and end.
 */
export function provenanceStatement(
  manifest: GenerationManifest,
  options: ProvenanceOptions = {},
): Statement {
  const under = (p: string) => (isAbsolute(p) || !manifest.outputRoot ? p : join(manifest.outputRoot, p));
  return {
    _type: STATEMENT_TYPE,
    subject: manifest.files
      .filter((f) => f.action !== "skipped")
      .map((f) => ({ name: under(f.path), digest: { sha256: f.sha256 } })),
    predicateType: SLSA_PROVENANCE_PREDICATE,
    predicate: {
      buildDefinition: {
        buildType: "https://ggen.dev/generation/v1",
        externalParameters: {
          templates: manifest.inputs.templates.map((t) => t.path),
          graphs: manifest.inputs.graphs.map((g) => g.path),
          varFiles: manifest.inputs.varFiles.map((v) => v.path),
          vars: redact(manifest.vars),
          outputRoot: manifest.outputRoot,
        },
        internalParameters: {
          ...(manifest.seed !== undefined ? { seed: manifest.seed } : {}),
          tool: manifest.tool,
        },
        resolvedDependencies: [
          ...(manifest.inputs.packs ?? []).map((p) => ({
            name: p.id,
            uri: `pkg:ggen/${p.id}@${p.version}`,
            digest: { sha256: p.sha256 },
          })),
          ...manifest.inputs.templates.map(ref),
          ...manifest.inputs.graphs.map(ref),
          ...manifest.inputs.varFiles.map(ref),
          ...(options.manifestRef
            ? [{ ...ref(options.manifestRef), annotations: { kind: manifest.kind } }]
            : []),
        ],
      },
      runDetails: {
        builder: {
          id: options.builderId ?? `https://ggen.dev/builders/${options.backend ?? "local"}`,
          version: { [manifest.tool.name]: manifest.tool.version },
        },
        metadata: {
          invocationId: options.invocationId ?? manifest.seed ?? manifest.startedAt,
          startedOn: options.startedOn ?? manifest.startedAt,
          finishedOn: options.finishedOn ?? manifest.finishedAt,
        },
        ...(options.backend || options.root
          ? {
              byproducts: [
                ...(options.backend ? [{ name: "backend", annotations: { backend: options.backend } }] : []),
                ...(options.root ? [rootDescriptor(options.root)] : []),
              ],
            }
          : {}),
      },
    },
  };
}

// ---- DSSE ----

/** DSSE pre-authentication encoding. */
export function pae(payloadType: string, payload: Buffer): Buffer {
  const t = Buffer.from(payloadType, "utf8");
  return Buffer.concat([
    Buffer.from(`DSSEv1 ${t.length} `, "utf8"),
    t,
    Buffer.from(` ${payload.length} `, "utf8"),
    payload,
  ]);
}

export function keyId(publicKey: KeyObject): string {
  const der = publicKey.export({ type: "spki", format: "der" });
  return `ed25519:${sha256(der).slice(0, 32)}`;
}

export interface KeyPairPem {
  privateKey: string;
  publicKey: string;
}

export function generateSigningKey(): KeyPairPem {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  return {
    privateKey: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    publicKey: publicKey.export({ type: "spki", format: "pem" }).toString(),
  };
}

/** The private key in `pem`, which must be an ed25519 key; anything else is one clear error. */
export function ed25519PrivateKey(pem: string, file?: string): KeyObject {
  let key: KeyObject | undefined;
  try {
    key = createPrivateKey(pem);
  } catch {
    key = undefined;
  }
  if (key?.asymmetricKeyType !== "ed25519")
    throw new GgenError("KEY_INVALID", `${file ? `${file}: ` : ""}not an ed25519 private key`, {
      kind: "usage",
      ...(file ? { location: { file } } : {}),
      hint: "a PEM (PKCS#8) ed25519 key, as `cleanroom report --sign` makes in .cleanroom/keys/attestation.key",
    });
  return key;
}

/** The public key in `pem` (an ed25519 public key, or a private key to take it from). */
export function ed25519PublicKey(pem: string, file?: string): KeyObject {
  let key: KeyObject | undefined;
  try {
    key = createPublicKey(pem);
  } catch {
    key = undefined;
  }
  if (key?.asymmetricKeyType !== "ed25519")
    throw new GgenError("KEY_INVALID", `${file ? `${file}: ` : ""}not an ed25519 public key`, {
      kind: "usage",
      ...(file ? { location: { file } } : {}),
    });
  return key;
}

export function signStatement(
  statement: Statement<unknown>,
  privateKeyPem: string,
  file?: string,
): DsseEnvelope {
  const key = ed25519PrivateKey(privateKeyPem, file);
  const payload = Buffer.from(JSON.stringify(statement), "utf8");
  const sig = sign(null, pae(DSSE_PAYLOAD_TYPE, payload), key);
  return {
    payloadType: DSSE_PAYLOAD_TYPE,
    payload: payload.toString("base64"),
    signatures: [{ keyid: keyId(createPublicKey(key)), sig: sig.toString("base64") }],
  };
}

export function verifyEnvelope(envelope: DsseEnvelope, publicKeyPem: string, file?: string): boolean {
  const key = ed25519PublicKey(publicKeyPem, file);
  const id = keyId(key);
  const payload = Buffer.from(envelope.payload, "base64");
  return envelope.signatures.some((s) => {
    if (s.keyid && s.keyid !== id) return false;
    try {
      return verify(null, pae(envelope.payloadType, payload), key, Buffer.from(String(s.sig), "base64"));
    } catch {
      return false;
    }
  });
}

/** Where a project keeps its signing key (`cleanroom report --sign` makes it), under its state dir. */
export function projectKeyPaths(stateDir: string): { privateKey: string; publicKey: string } {
  return {
    privateKey: join(stateDir, "keys", "attestation.key"),
    publicKey: join(stateDir, "keys", "attestation.pub"),
  };
}

export interface ProjectKey {
  privateKeyPem: string;
  privateKeyFile: string;
  publicKeyFile: string;
  /** Made now (it did not exist). */
  created: boolean;
}

/**
 * The project's ed25519 signing key: the one in `<stateDir>/keys/` when there is one, else (with
 * `create`) a new one written there (private key mode 600), else undefined.
 */
export async function projectSigningKey(
  stateDir: string,
  options: { create: boolean },
): Promise<ProjectKey | undefined> {
  const paths = projectKeyPaths(stateDir);
  if (existsSync(paths.privateKey)) {
    const pem = await readFile(paths.privateKey, "utf8");
    ed25519PrivateKey(pem, paths.privateKey);
    return {
      privateKeyPem: pem,
      privateKeyFile: paths.privateKey,
      publicKeyFile: paths.publicKey,
      created: false,
    };
  }
  if (!options.create) return undefined;
  const k = generateSigningKey();
  await mkdir(dirname(paths.privateKey), { recursive: true, mode: 0o700 });
  // Never readable by others, not even before the rename.
  await writeFileAtomic(paths.privateKey, k.privateKey, { mode: 0o600 });
  await writeFileAtomic(paths.publicKey, k.publicKey);
  return {
    privateKeyPem: k.privateKey,
    privateKeyFile: paths.privateKey,
    publicKeyFile: paths.publicKey,
    created: true,
  };
}

/** The key id of a PEM key (public, or private to take it from), as signatures name it. */
export function keyIdOf(pem: string): string {
  return keyId(ed25519PublicKey(pem));
}

// ---- verification ----

export interface SubjectCheck {
  name: string;
  /** subject, configuration or dependency. */
  role: "subject" | "configuration" | "dependency";
  expected: string;
  actual?: string;
  status: "ok" | "changed" | "missing";
}

export interface VerifyResult {
  ok: boolean;
  signed: boolean;
  /** The directory the names were resolved against: the one the statement records, when it is there. */
  root: string;
  /** Where the public key came from, when the signature was checked. */
  publicKey?: string;
  /** undefined when unsigned or no public key was given. */
  signatureValid?: boolean;
  statement: Statement;
  checks: SubjectCheck[];
}

/** A statement or a DSSE envelope, parsed; throws a plain Error saying what is wrong. */
export function readAttestation(text: string): { statement: Statement; envelope?: DsseEnvelope } {
  const json = (t: string, what: string): unknown => {
    try {
      return JSON.parse(t);
    } catch (e) {
      throw new Error(`${what} is not JSON (${(e as Error).message.split("\n")[0]})`);
    }
  };
  const data = json(text, "the attestation") as Record<string, unknown> | null;
  if (data === null || typeof data !== "object" || Array.isArray(data))
    throw new Error("not an in-toto Statement v1 or a DSSE envelope");
  let statement: Statement;
  let envelope: DsseEnvelope | undefined;
  if (typeof data.payload === "string" && Array.isArray(data.signatures)) {
    envelope = data as unknown as DsseEnvelope;
    statement = json(
      Buffer.from(envelope.payload, "base64").toString("utf8"),
      "the DSSE payload",
    ) as Statement;
    if (statement?._type !== STATEMENT_TYPE)
      throw new Error("the DSSE payload is not an in-toto Statement v1");
  } else {
    if (data._type !== STATEMENT_TYPE) throw new Error("not an in-toto Statement v1 or a DSSE envelope");
    statement = data as unknown as Statement;
  }
  if (!Array.isArray(statement.subject) || typeof statement.predicateType !== "string")
    throw new Error("the statement has no subject list or no predicateType");
  return { statement, ...(envelope ? { envelope } : {}) };
}

const fileLike = (name: string) => !/^[a-z][a-z0-9+.-]*:/i.test(name) && !name.startsWith("environment:");

/**
 * Re-hashes every subject, and every configuration entry / resolved dependency that names a file,
 * relative to the root the statement records (`options.root` when it records none, or when the
 * recorded one is gone); checks the signature with the given public key, else with the recorded
 * root's project key (.cleanroom/keys/attestation.pub).
 */
export async function verifyAttestation(
  text: string,
  options: { root: string; publicKeyPem?: string; publicKeyFile?: string },
): Promise<VerifyResult> {
  const { statement, envelope } = readAttestation(text);
  const recorded = recordedRoot(statement);
  const isDir = (d: string) => {
    try {
      return statSync(d).isDirectory();
    } catch {
      return false;
    }
  };
  const root = recorded && isDir(recorded) ? recorded : options.root;
  const entries: { d: ResourceDescriptor; role: SubjectCheck["role"] }[] = statement.subject.map((d) => ({
    d,
    role: "subject" as const,
  }));
  const p = (statement.predicate ?? {}) as {
    configuration?: ResourceDescriptor[];
    buildDefinition?: { resolvedDependencies?: ResourceDescriptor[] };
  };
  for (const d of p.configuration ?? []) entries.push({ d, role: "configuration" });
  for (const d of p.buildDefinition?.resolvedDependencies ?? []) entries.push({ d, role: "dependency" });
  const checks: SubjectCheck[] = [];
  for (const { d, role } of entries) {
    const expected = d.digest?.sha256;
    if (!d.name || !expected || !fileLike(d.name) || d.uri) continue;
    const path = isAbsolute(d.name) ? d.name : join(root, d.name);
    try {
      const actual = await sha256File(path);
      checks.push({ name: d.name, role, expected, actual, status: actual === expected ? "ok" : "changed" });
    } catch {
      checks.push({ name: d.name, role, expected, status: "missing" });
    }
  }
  const result: VerifyResult = {
    ok: checks.every((c) => c.status === "ok"),
    signed: envelope !== undefined,
    root,
    statement,
    checks,
  };
  if (envelope) {
    let pem = options.publicKeyPem;
    let from = options.publicKeyFile;
    if (pem === undefined) {
      const file = projectKeyPaths(join(root, ".cleanroom")).publicKey;
      if (existsSync(file)) {
        pem = await readFile(file, "utf8");
        from = file;
      }
    }
    if (pem !== undefined) {
      result.signatureValid = verifyEnvelope(envelope, pem, from);
      if (from) result.publicKey = from;
      if (!result.signatureValid) result.ok = false;
    }
  }
  return result;
}

/** What makes a verification fail, in one line ("src/a.ts changed; src/b.ts missing; signature invalid"). */
export function verifyProblem(result: VerifyResult): string | undefined {
  if (result.ok) return undefined;
  const parts = result.checks.filter((c) => c.status !== "ok").map((c) => `${c.name} ${c.status}`);
  if (result.signatureValid === false) parts.push("signature invalid");
  const shown = parts.slice(0, 4).join("; ");
  return `attestation does not verify: ${shown}${parts.length > 4 ? `; and ${parts.length - 4} more` : ""}`;
}
