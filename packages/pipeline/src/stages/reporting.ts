// Reporting, the stage that runs whatever happened: SLSA provenance of the generated files, then the
// in-toto test-result statement over the test run (naming the provenance and the manifest among its
// configuration, so one digest covers both), then the pipeline-report/v1 (built by report.ts).

import { readFile } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { assertValid, type BackendName, type PipelineReport, type Reference } from "@ggen/contract";
import { provenanceStatement, testResultStatement } from "@ggen/reporter";
import { sha256, writeFileAtomic } from "@ggen/support";
import type { PipelineContext } from "../context.js";
import { buildReport, type Outcome } from "../report.js";
import type { Deployed } from "./deployment.js";
import type { Generated } from "./generation.js";
import type { Tested } from "./testing.js";
import { NOT_VALIDATED, type Validated } from "./validation.js";

export interface ReportingInput {
  readonly outcome: Outcome;
  readonly backend?: BackendName;
  readonly generated?: Generated;
  readonly tested?: Tested;
  readonly validated?: Validated;
  readonly deployed?: Deployed;
}

/** Writes `text` at `file` and returns its reference (relative to cwd). */
async function write(ctx: PipelineContext, file: string, text: string): Promise<Reference> {
  await writeFileAtomic(file, text);
  return { path: relative(ctx.paths.cwd, file), sha256: sha256(text) };
}

export async function reporting(ctx: PipelineContext, input: ReportingInput): Promise<PipelineReport> {
  const view = ctx.options.view;
  const { generated, tested } = input;
  view.begin("reporting");
  const metricsText = input.deployed
    ? await readFile(input.deployed.metricsFile).catch(() => undefined)
    : undefined;
  const metrics =
    input.deployed && metricsText
      ? { path: relative(ctx.paths.cwd, input.deployed.metricsFile), sha256: sha256(metricsText) }
      : undefined;
  const reportDir = dirname(ctx.paths.report);
  const configuration: Reference[] = [];
  if (generated) {
    const provenance = provenanceStatement(generated.manifest, {
      ...(generated.manifestRef ? { manifestRef: generated.manifestRef } : {}),
      ...(input.backend ? { backend: input.backend } : {}),
      startedOn: ctx.startedAt.toISOString(),
      invocationId: ctx.sessionId,
    });
    const text = `${JSON.stringify(provenance, null, 2)}\n`;
    configuration.push(await write(ctx, join(reportDir, "provenance.intoto.json"), text));
  }
  const statement = tested
    ? testResultStatement(tested.run, { runRef: tested.runRef, configuration })
    : { _type: "https://in-toto.io/Statement/v1", subject: [], predicateType: "none", predicate: {} };
  const statementText = `${JSON.stringify(statement, null, 2)}\n`;
  const statementPath = join(reportDir, "attestation.intoto.json");
  await write(ctx, statementPath, statementText);
  const reportingStart = view.elapsedMs();
  view.end("reporting", "success");
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
    validation: input.validated?.validation ?? NOT_VALIDATED,
    statement: { digest: sha256(statementText), path: relative(reportDir, statementPath) },
    references: {
      ...(generated?.manifestRef ? { manifest: generated.manifestRef } : {}),
      ...(tested ? { run: tested.runRef } : {}),
      ...(metrics ? { metrics } : {}),
    },
    reporting: { startedAtMs: reportingStart, durationMs: view.elapsedMs() - reportingStart },
    totalDurationMs: view.elapsedMs(),
  });
  assertValid("pipeline-report/v1", report);
  await writeFileAtomic(ctx.paths.report, `${JSON.stringify(report, null, 2)}\n`);
  return report;
}
