// Reporting, the stage that runs whatever happened: SLSA provenance of the generated files, then the
// in-toto test-result statement over the test run (naming the provenance and the manifest among its
// configuration, so one digest covers both), then the pipeline-report/v1 (built by report.ts). Every
// statement names files relative to the project and records that root, so `cleanroom report --verify`
// finds them from any directory; with the project's signing key (or --sign) they are DSSE-signed.

import { dirname, join, relative } from "node:path";
import {
  assertValid,
  type BackendName,
  type CleanroomRun,
  type GateResult,
  type PipelineCoverage,
  type PipelineReport,
  type Reference,
} from "@ggen/contract";
import type { Statement } from "@ggen/reporter";
import { sha256, writeFileAtomic } from "@ggen/support";
import type { PipelineContext } from "../context.js";
import { buildReport, type Outcome } from "../report.js";
import type { Generated } from "./generation.js";
import { NOT_VALIDATED } from "./validation.js";

export interface ReportingInput {
  readonly outcome: Outcome;
  readonly backend?: BackendName;
  readonly generated?: Generated;
  /** The recorded test run, and where it was written. */
  readonly tested?: { readonly run: CleanroomRun; readonly runRef: Reference };
  readonly validation?: PipelineReport["validation"];
  readonly gates?: readonly GateResult[];
  readonly coverage?: PipelineCoverage;
  readonly lintWarnings?: number;
  readonly package?: PipelineReport["package"];
  /** The deployment-metrics/v1 history the run appended to, and the text it has now. */
  readonly metrics?: { readonly file: string; readonly text: string };
  /** How much of the run the container engine took (report.ts: engineShare), when there was one. */
  readonly engine?: string;
}

/** A run that tested nothing (and generated nothing) still gets a statement of its own: what happened. */
export const OUTCOME_PREDICATE = "https://ggen.dev/attestation/pipeline-outcome/v1";

export async function reporting(ctx: PipelineContext, input: ReportingInput): Promise<PipelineReport> {
  const view = ctx.options.view;
  const { generated, tested } = input;
  view.begin("reporting");
  const { projectSigningKey, provenanceStatement, signStatement, testResultStatement, keyIdOf } =
    await import("@ggen/reporter");
  const cwd = ctx.paths.cwd;
  // The project's key (checked, or made with --sign, before the run started).
  const key = await projectSigningKey(ctx.paths.state, { create: ctx.options.sign === true });
  /** Writes a statement (signed when there is a key): its reference, and the digest of the statement itself. */
  const write = async (file: string, statement: Statement<unknown>) => {
    const doc = key ? signStatement(statement, key.privateKeyPem, key.privateKeyFile) : statement;
    const text = `${JSON.stringify(doc, null, 2)}\n`;
    await writeFileAtomic(file, text);
    return {
      ref: { path: relative(cwd, file), sha256: sha256(text) },
      digest: sha256(key ? JSON.stringify(statement) : text),
    };
  };
  const reportDir = dirname(ctx.paths.report);
  const configuration: Reference[] = [];
  let provenance: Statement<unknown> | undefined;
  if (generated) {
    provenance = provenanceStatement(generated.manifest, {
      root: cwd,
      ...(generated.manifestRef ? { manifestRef: generated.manifestRef } : {}),
      ...(input.backend ? { backend: input.backend } : {}),
      startedOn: ctx.startedAt.toISOString(),
      invocationId: ctx.sessionId,
    });
    configuration.push((await write(join(reportDir, "provenance.intoto.json"), provenance)).ref);
  }
  // The test run with its real counts and failures when there is one; else what was generated; else
  // the outcome itself (never an empty statement: two different failures never share a digest).
  const statement: Statement<unknown> = tested
    ? testResultStatement(tested.run, {
        root: cwd,
        // The run names its sources relative to the output; the statement, relative to the project.
        ...(generated ? { sourcePrefix: relative(cwd, generated.root) } : {}),
        runRef: tested.runRef,
        configuration,
      })
    : (provenance ?? {
        _type: "https://in-toto.io/Statement/v1",
        subject: [],
        predicateType: OUTCOME_PREDICATE,
        predicate: {
          sessionId: ctx.sessionId,
          name: ctx.options.name,
          startedAt: ctx.startedAt.toISOString(),
          ok: input.outcome.ok,
          ...(input.outcome.failure
            ? {
                failure: String(
                  input.outcome.failure instanceof Error
                    ? input.outcome.failure.message
                    : input.outcome.failure,
                ),
              }
            : {}),
          stages: input.outcome.stages.map((s) => ({ name: s.name, status: s.status })),
        },
      });
  const statementPath = join(reportDir, "attestation.intoto.json");
  const written = await write(statementPath, statement);
  const reportingStart = view.elapsedMs();
  view.end("reporting", "success", input.engine);
  const o = ctx.options;
  const report = buildReport({
    sessionId: ctx.sessionId,
    name: o.name,
    ...(o.version ? { version: o.version } : {}),
    environment: o.env,
    ...(input.backend ? { backend: input.backend } : {}),
    startedAt: ctx.startedAt,
    outcome: input.outcome,
    filesGenerated: generated?.files ?? 0,
    ...(tested ? { run: tested.run } : {}),
    validation: input.validation ?? NOT_VALIDATED,
    ...(input.gates ? { gates: input.gates } : {}),
    ...(input.coverage ? { coverage: input.coverage } : {}),
    ...(input.lintWarnings !== undefined ? { lintWarnings: input.lintWarnings } : {}),
    ...(input.package ? { package: input.package } : {}),
    statement: {
      digest: written.digest,
      path: relative(reportDir, statementPath),
      ...(key ? { keyId: keyIdOf(key.privateKeyPem) } : {}),
    },
    references: {
      ...(generated?.manifestRef ? { manifest: generated.manifestRef } : {}),
      ...(tested ? { run: tested.runRef } : {}),
      ...(input.metrics
        ? { metrics: { path: relative(cwd, input.metrics.file), sha256: sha256(input.metrics.text) } }
        : {}),
    },
    reporting: {
      startedAtMs: reportingStart,
      durationMs: view.elapsedMs() - reportingStart,
      ...(input.engine ? { message: input.engine } : {}),
    },
    totalDurationMs: view.elapsedMs(),
  });
  assertValid("pipeline-report/v1", report);
  await writeFileAtomic(ctx.paths.report, `${JSON.stringify(report, null, 2)}\n`);
  return report;
}
