import { existsSync } from "node:fs";
import { mkdir, readFile } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { type GenerationManifest, GgenError, parseJson, validate } from "@ggen/contract";
import { type CommandArgs, defineCommand } from "@ggen/reporter";
import { writeFileAtomic } from "@ggen/support";
import { output, projectRoot, stateDir } from "../context.js";
import { writeOutput } from "./shared.js";

interface ReportFlags {
  format: "text" | "json" | "junit" | "html";
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
  if (keyFile) {
    try {
      return await readFile(keyFile, "utf8");
    } catch {
      throw new GgenError("FILE_NOT_FOUND", `signing key not found: ${keyFile}`, {
        kind: "usage",
        location: { file: keyFile },
      });
    }
  }
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

export async function readManifest(file: string): Promise<{ manifest: GenerationManifest; text: string }> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch {
    throw new GgenError("FILE_NOT_FOUND", `manifest not found: ${file}`, {
      kind: "usage",
      location: { file },
    });
  }
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
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch {
    throw new GgenError("FILE_NOT_FOUND", `attestation not found: ${file}`, {
      kind: "usage",
      location: { file },
    });
  }
  const { verifyAttestation, verifyProblem } = await import("@ggen/reporter");
  const pubFile = argv.key ?? (existsSync(keyPaths().pub) ? keyPaths().pub : undefined);
  let result: Awaited<ReturnType<typeof verifyAttestation>>;
  try {
    result = await verifyAttestation(text, {
      root: projectRoot(),
      ...(pubFile ? { publicKeyPem: await readFile(pubFile, "utf8") } : {}),
    });
  } catch (e) {
    throw new GgenError("ATTESTATION_INVALID", (e as Error).message, { kind: "usage", location: { file } });
  }
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
    // The outcome is a failure: one line on stderr too (with --json as well), the detail above.
    process.stderr.write(`cleanroom: error: ${verifyProblem(result)}\n`);
    process.exitCode = 1;
  }
}

export const reportCommand = defineCommand<ReportFlags>()({
  command: "report",
  describe: "Write or verify a report (json, junit, html) with an attestation",
  options: {
    format: { choices: ["text", "json", "junit", "html"], default: "json", describe: null },
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
      describe: "Re-hash what an attestation names and say what changed (exit 1 when it does not verify)",
    },
  },
  examples: [
    ["cleanroom report --format html --output report.html", "An HTML report of the last run"],
    ["cleanroom report --format junit --output junit.xml", "JUnit XML for CI"],
    ["cleanroom report --attestation --sign --output run.intoto.json", "A signed test-result attestation"],
    ["cleanroom report --verify run.intoto.json", "Check it against the files now"],
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
      const stored = argv.run ? await loadRun(argv.run) : await lastRun(stateDir());
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
    const doc = argv.sign ? reporter.signStatement(statement, await signingKey(argv.key, out)) : statement;
    await writeOutput(out, `${JSON.stringify(doc, null, 2)}\n`, argv.output);
  },
});
