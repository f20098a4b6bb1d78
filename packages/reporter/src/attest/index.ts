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
import { isAbsolute, join } from "node:path";
import type { CleanroomRun, GenerationManifest, Reference } from "@ggen/contract";
import { isSecretName, REDACTED, sha256, sha256File } from "@ggen/support";

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

/** PASSED when everything passed, WARNED when some were skipped, FAILED when any failed, errored or timed out. */
export function testResultOf(run: CleanroomRun): TestResultPredicate["result"] {
  const s = run.summary;
  if (s.failed + s.errored + s.timedOut > 0) return "FAILED";
  return s.skipped > 0 ? "WARNED" : "PASSED";
}

export interface TestStatementOptions {
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
    subject: (run.sources ?? []).map(ref),
    predicateType: TEST_RESULT_PREDICATE,
    predicate,
  };
}

export interface ProvenanceOptions {
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
        ...(options.backend
          ? { byproducts: [{ name: "backend", annotations: { backend: options.backend } }] }
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

export function signStatement(statement: Statement<unknown>, privateKeyPem: string): DsseEnvelope {
  const key = createPrivateKey(privateKeyPem);
  const payload = Buffer.from(JSON.stringify(statement), "utf8");
  const sig = sign(null, pae(DSSE_PAYLOAD_TYPE, payload), key);
  return {
    payloadType: DSSE_PAYLOAD_TYPE,
    payload: payload.toString("base64"),
    signatures: [{ keyid: keyId(createPublicKey(key)), sig: sig.toString("base64") }],
  };
}

export function verifyEnvelope(envelope: DsseEnvelope, publicKeyPem: string): boolean {
  const key = createPublicKey(publicKeyPem);
  const id = keyId(key);
  const payload = Buffer.from(envelope.payload, "base64");
  return envelope.signatures.some(
    (s) =>
      (s.keyid === id || !s.keyid) &&
      verify(null, pae(envelope.payloadType, payload), key, Buffer.from(s.sig, "base64")),
  );
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
  /** undefined when unsigned or no public key was given. */
  signatureValid?: boolean;
  statement: Statement;
  checks: SubjectCheck[];
}

/** A statement or a DSSE envelope, parsed; throws a plain Error saying what is wrong. */
export function readAttestation(text: string): { statement: Statement; envelope?: DsseEnvelope } {
  const data = JSON.parse(text) as Record<string, unknown>;
  if (typeof data.payload === "string" && Array.isArray(data.signatures)) {
    const envelope = data as unknown as DsseEnvelope;
    const statement = JSON.parse(Buffer.from(envelope.payload, "base64").toString("utf8")) as Statement;
    if (statement._type !== STATEMENT_TYPE) throw new Error(`DSSE payload is not an in-toto Statement v1`);
    return { statement, envelope };
  }
  if (data._type !== STATEMENT_TYPE) throw new Error(`not an in-toto Statement v1 or a DSSE envelope`);
  return { statement: data as unknown as Statement };
}

const fileLike = (name: string) => !/^[a-z][a-z0-9+.-]*:/i.test(name) && !name.startsWith("environment:");

/**
 * Re-hashes every subject, and every configuration entry / resolved dependency that names a file,
 * relative to root; checks the signature when a public key is given.
 */
export async function verifyAttestation(
  text: string,
  options: { root: string; publicKeyPem?: string },
): Promise<VerifyResult> {
  const { statement, envelope } = readAttestation(text);
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
    const path = isAbsolute(d.name) ? d.name : join(options.root, d.name);
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
    statement,
    checks,
  };
  if (envelope && options.publicKeyPem) {
    result.signatureValid = verifyEnvelope(envelope, options.publicKeyPem);
    if (!result.signatureValid) result.ok = false;
  }
  return result;
}
