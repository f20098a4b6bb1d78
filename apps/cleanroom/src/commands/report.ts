import { existsSync } from "node:fs";
import { mkdir, readFile } from "node:fs/promises";
import { dirname, join, relative, resolve } from "node:path";
import { type GenerationManifest, GgenError, parseJson, validate } from "@ggen/contract";
import { type CommandArgs, defineCommand } from "@ggen/reporter";
import { writeFileAtomic } from "@ggen/support";
import { engineSettings, output, projectRoot, stateDir } from "../context.js";
import { annotate, writeOutput } from "./shared.js";

/** An attestation file verified against the project (and the public key, when there is one). */
async function checkAttestation(file: string, keyFile: string | undefined) {
  const { readInputFile } = await import("@ggen/testing");
  const text = await readInputFile(file, "attestation");
  const { verifyAttestation } = await import("@ggen/reporter");
  const pubFile = keyFile ?? (existsSync(keyPaths().pub) ? keyPaths().pub : undefined);
  const publicKeyPem = pubFile
    ? await readInputFile(pubFile, "public key", { maxBytes: 64 * 1024 })
    : undefined;
  try {
    return await verifyAttestation(text, { root: projectRoot(), ...(publicKeyPem ? { publicKeyPem } : {}) });
  } catch (e) {
    throw new GgenError("ATTESTATION_INVALID", `not an attestation: ${(e as Error).message}`, {
      kind: "usage",
      location: { file },
    });
  }
}

interface ReportFlags {
  format: "text" | "json" | "junit" | "html" | "tap";
  attestation: boolean;
  provenance?: string;
  sign: boolean;
  key?: string;
  output?: string;
  run?: string;
  verify?: string;
}

type ReportArgs = CommandArgs<ReportFlags>;

const keyPaths = () => ({
  priv: join(stateDir(), "keys", "attestation.key"),
  pub: join(stateDir(), "keys", "attestation.pub"),
});

async function signingKey(keyFile: string | undefined, out: ReturnType<typeof output>): Promise<string> {
  const { readInputFile } = await import("@ggen/testing");
  if (keyFile) return readInputFile(keyFile, "signing key", { maxBytes: 64 * 1024 });
  const { priv, pub } = keyPaths();
  if (existsSync(priv)) return readFile(priv, "utf8");
  const { generateSigningKey } = await import("@ggen/reporter");
  const k = generateSigningKey();
  await mkdir(dirname(priv), { recursive: true, mode: 0o700 });
  // The private key is never readable by others, not even before the rename.
  await writeFileAtomic(priv, k.privateKey, { mode: 0o600 });
  await writeFileAtomic(pub, k.publicKey);
  out.info(`made a signing key: ${relative(projectRoot(), priv)} (public: ${relative(projectRoot(), pub)})`);
  return k.privateKey;
}

/** A DSSE envelope of the statement, signed with the key (a file that is no ed25519 key says so). */
async function signed(
  statement: import("@ggen/reporter").Statement<unknown>,
  keyFile: string | undefined,
  out: ReturnType<typeof output>,
) {
  const { signStatement } = await import("@ggen/reporter");
  const key = await signingKey(keyFile, out);
  try {
    return signStatement(statement, key);
  } catch {
    throw new GgenError("KEY_INVALID", "not an ed25519 private key (PEM)", {
      kind: "usage",
      location: { file: keyFile ?? keyPaths().priv },
    });
  }
}

export async function readManifest(file: string): Promise<{ manifest: GenerationManifest; text: string }> {
  const { readInputFile } = await import("@ggen/testing");
  const text = await readInputFile(file, "manifest");
  const data = parseJson(text, file, "MANIFEST_INVALID", "usage");
  const r = validate("generation-manifest/v1", data);
  if (!r.ok) {
    const first = r.errors[0]!;
    throw new GgenError("MANIFEST_INVALID", `not a generation-manifest/v1: ${first.path} ${first.message}`, {
      kind: "usage",
      location: { file },
    });
  }
  return { manifest: r.value, text };
}

async function verify(argv: ReportArgs, out: ReturnType<typeof output>): Promise<void> {
  const file = argv.verify!;
  const result = await checkAttestation(file, argv.key);
  const bad = result.checks.filter((c) => c.status !== "ok");
  out.data(
    {
      ok: result.ok,
      signed: result.signed,
      signatureValid: result.signatureValid,
      predicateType: result.statement.predicateType,
      checks: result.checks,
    },
    () =>
      [
        `${result.ok ? "VERIFIED" : "NOT VERIFIED"}  ${result.checks.length - bad.length}/${result.checks.length} files match (${result.statement.predicateType})`,
        result.signed
          ? result.signatureValid === undefined
            ? "  signed, but no public key to check it (give --key)"
            : `  signature ${result.signatureValid ? "valid" : "INVALID"}`
          : "  not signed",
        ...bad.map((c) =>
          c.status === "missing"
            ? `  missing: ${c.name} (${c.role})`
            : `  changed: ${c.name} (${c.role}) sha256 ${c.expected.slice(0, 12)}… → ${c.actual?.slice(0, 12)}…`,
        ),
      ].join("\n"),
  );
  if (!result.ok) {
    // The report above says what changed; the error line names it, through the one renderer.
    const { verifyProblem } = await import("@ggen/reporter");
    throw new GgenError("ATTESTATION_MISMATCH", verifyProblem(result) ?? `${file} does not verify`);
  }
}

interface MergeFlags {
  runs: string[];
  output: string;
  junit?: string;
  html?: string;
  tap?: string;
  attest?: string;
  sign: boolean;
  key?: string;
}

/** `<run>.intoto.json` beside `<run>.json`: where a shard's attestation is looked for. */
const attestationBeside = (run: string) => run.replace(/(\.json)?$/, ".intoto.json");

const mergeCommand = defineCommand<MergeFlags>()({
  command: "merge <runs..>",
  describe: "Merge the runs of every shard of a suite into one (exit 1 when a test failed)",
  positionals: { runs: { type: "string", array: true, describe: "The shards' cleanroom-run/v1 files" } },
  options: {
    output: {
      type: "string",
      alias: "o",
      required: true,
      describe: "Write the merged cleanroom-run/v1 here",
    },
    junit: { type: "string", describe: "Also write JUnit XML here" },
    html: { type: "string", describe: "Also write the HTML report here" },
    tap: { type: "string", describe: "Also write TAP here" },
    // Not --attestation: report's own --attestation (a switch) reaches its subcommands.
    attest: {
      type: "string",
      describe: "Also write one test-result attestation for the merged run here, referencing the shards'",
    },
    sign: { type: "boolean", default: false, describe: "Sign that attestation (DSSE, ed25519)" },
    key: { type: "string", describe: "Private key to sign with; public key to check the shards' with (PEM)" },
  },
  examples: [
    ["cleanroom report merge shard-*.json -o run.json", "One run from every shard"],
    [
      "cleanroom report merge shard-1.json shard-2.json -o run.json --junit junit.xml --attest run.intoto.json",
      "…with JUnit and an attestation (each shard's <run>.intoto.json is verified and referenced)",
    ],
  ],
  handler: async (argv) => {
    const out = output(argv);
    const t = await import("@ggen/testing");
    const reporter = await import("@ggen/reporter");
    const { sha256File } = await import("@ggen/support");
    const root = projectRoot();
    // `shard-*.json` also matches the shards' attestations (`shard-1.intoto.json`): those are taken as
    // the attestations of the runs given beside them, never as runs.
    const given = argv.runs.map(String);
    const runs = given.filter((f) => !f.endsWith(".intoto.json"));
    for (const a of given.filter((f) => f.endsWith(".intoto.json")))
      if (!runs.some((r) => resolve(attestationBeside(r)) === resolve(a)))
        throw new GgenError(
          "MERGE_INVALID",
          `${a} is an attestation, but its run ${a.replace(/\.intoto\.json$/, ".json")} is not given`,
          {
            kind: "usage",
          },
        );
    const inputs: import("@ggen/testing").ShardInput[] = [];
    for (const file of runs) {
      const stored = await t.loadRun(file);
      inputs.push({ path: relative(root, resolve(file)), sha256: await sha256File(file), run: stored.run });
    }
    // Every shard of one split, once each — checked before anything about their attestations.
    t.checkShards(inputs);
    // Each shard's attestation (when any shard has one, every shard must): verified, and of that run.
    const attested = runs.map((f) => existsSync(attestationBeside(f)));
    if (attested.some(Boolean)) {
      const lacking = runs.filter((_, i) => !attested[i]);
      if (lacking.length > 0)
        throw new GgenError(
          "MERGE_INVALID",
          `no attestation for ${lacking.join(", ")} (expected ${lacking.map(attestationBeside).join(", ")}), though other shards have one`,
          { kind: "usage" },
        );
      for (const [i, input] of inputs.entries()) {
        const file = attestationBeside(runs[i]!);
        // --key is the private key when signing the merged statement: shards are checked with the project's.
        const r = await checkAttestation(file, argv.sign ? undefined : argv.key);
        const bad = r.checks.find((c) => c.status !== "ok");
        if (!r.ok)
          throw new GgenError(
            "ATTESTATION_INVALID",
            bad
              ? `${file} does not verify: ${bad.name} ${bad.status === "missing" ? "is missing" : "changed"}`
              : `${file} does not verify: its signature is invalid`,
          );
        const config =
          ((r.statement.predicate ?? {}) as { configuration?: import("@ggen/reporter").ResourceDescriptor[] })
            .configuration ?? [];
        const ofThisRun = config.some(
          (d) => d.digest?.sha256 === input.sha256 || d.annotations?.runId === input.run.runId,
        );
        if (!ofThisRun)
          throw new GgenError("ATTESTATION_INVALID", `${file} attests another run than ${input.path}`);
        if (r.signed && r.signatureValid === undefined)
          out.warn(`${file} is signed, but there is no public key to check it (give --key)`);
        input.attestation = { path: relative(root, resolve(file)), sha256: await sha256File(file) };
      }
    }
    const merged = t.mergeRuns(inputs);
    const text = `${JSON.stringify(merged, null, 2)}\n`;
    await writeFileAtomic(argv.output, text);
    const wrote = [argv.output];
    for (const [file, format] of [
      [argv.junit, "junit"],
      [argv.html, "html"],
      [argv.tap, "tap"],
    ] as const) {
      if (!file) continue;
      await writeFileAtomic(file, reporter.renderRun(merged, format));
      wrote.push(file);
    }
    if (argv.attest) {
      const { sha256 } = await import("@ggen/support");
      const statement = reporter.testResultStatement(merged, {
        runRef: { path: relative(root, resolve(argv.output)), sha256: sha256(text) },
        configuration: inputs.flatMap((i) => (i.attestation ? [i.attestation] : [])),
      });
      const doc = argv.sign ? await signed(statement, argv.key, out) : statement;
      await writeFileAtomic(argv.attest, `${JSON.stringify(doc, null, 2)}\n`);
      wrote.push(argv.attest);
    }
    out.info(`wrote ${wrote.join(", ")}`);
    out.data(merged, () =>
      [
        reporter.renderRunText(merged),
        `Merged ${inputs.length} shards${inputs.some((i) => i.attestation) ? " (attestations verified)" : ""}`,
      ].join("\n"),
    );
    await annotate(out, merged);
    if (!t.runPassed(merged)) process.exitCode = 1;
  },
});

export const reportCommand = defineCommand<ReportFlags>()({
  command: "report",
  describe:
    "Write or verify a report (json, junit, html, tap) with an attestation; --verify exits 1 on a mismatch",
  options: {
    format: {
      choices: ["text", "json", "junit", "html", "tap"],
      default: "json",
      describe: "json (cleanroom-run/v1), text, junit (JUnit XML), html, or tap (TAP 14)",
    },
    attestation: {
      type: "boolean",
      default: false,
      describe: "Write the in-toto test-result statement instead",
    },
    provenance: {
      type: "string",
      describe: "Write SLSA provenance for this generation manifest instead",
    },
    sign: {
      type: "boolean",
      default: false,
      describe: "Sign the statement (DSSE, ed25519; key in .cleanroom/keys)",
    },
    key: {
      type: "string",
      describe: "Private key to sign with, or public key to verify with (PEM)",
    },
    output: { type: "string", describe: "Write to this file" },
    run: { type: "string", describe: "A stored run file (default: the last run)" },
    verify: {
      type: "string",
      describe: "Re-hash what an attestation names and say what changed; exit 1 when anything did",
    },
  },
  subcommands: [mergeCommand],
  examples: [
    ["cleanroom report --format html --output report.html", "An HTML report of the last run"],
    ["cleanroom report --format junit --output junit.xml", "JUnit XML for CI"],
    ["cleanroom report --attestation --sign --output run.intoto.json", "A signed test-result attestation"],
    ["cleanroom report --verify run.intoto.json", "Check it against the files now"],
    ["cleanroom report merge shard-*.json -o run.json --junit junit.xml", "Combine shard runs into one"],
  ],
  handler: async (argv) => {
    const out = output(argv);
    if (argv.verify) return verify(argv, out);
    const reporter = await import("@ggen/reporter");
    const root = projectRoot();
    let statement: import("@ggen/reporter").Statement<unknown> | undefined;
    if (argv.provenance) {
      const { manifest, text } = await readManifest(argv.provenance);
      const { sha256 } = await import("@ggen/support");
      statement = reporter.provenanceStatement(manifest, {
        root,
        manifestRef: { path: relative(root, argv.provenance), sha256: sha256(text) },
      });
    } else {
      const { lastRun, loadRun } = await import("@ggen/testing");
      const { sha256 } = await import("@ggen/support");
      const stored = argv.run ? await loadRun(argv.run) : await lastRun((await engineSettings()).store);
      if (!argv.attestation && !argv.sign) {
        const format = out.json ? "json" : argv.format;
        await writeOutput(
          out,
          reporter.renderRun(stored.run, format, { timeline: stored.timeline }),
          argv.output,
        );
        return;
      }
      statement = reporter.testResultStatement(stored.run, {
        root,
        runRef: { path: relative(root, stored.path), sha256: sha256(await readFile(stored.path)) },
      });
    }
    const doc = argv.sign ? await signed(statement, argv.key, out) : statement;
    await writeOutput(out, `${JSON.stringify(doc, null, 2)}\n`, argv.output);
  },
});
