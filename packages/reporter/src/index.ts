// Attestations (in-toto, SLSA, DSSE) and metrics across runs.

export { closest, didYouMean, editDistance } from "@ggen/support";
export type {
  DsseEnvelope,
  KeyPairPem,
  ProjectKey,
  ProvenanceOptions,
  ResourceDescriptor,
  Statement,
  SubjectCheck,
  TestResultPredicate,
  TestStatementOptions,
  VerifyResult,
} from "./attest/index.js";
export {
  DSSE_PAYLOAD_TYPE,
  ed25519PrivateKey,
  ed25519PublicKey,
  generateSigningKey,
  keyId,
  keyIdOf,
  pae,
  projectKeyPaths,
  projectSigningKey,
  provenanceStatement,
  ROOT_DESCRIPTOR,
  readAttestation,
  recordedRoot,
  redact,
  SLSA_PROVENANCE_PREDICATE,
  STATEMENT_TYPE,
  signStatement,
  TEST_RESULT_PREDICATE,
  testResultOf,
  testResultStatement,
  verifyAttestation,
  verifyEnvelope,
  verifyProblem,
} from "./attest/index.js";
export type { LiveStepsOptions } from "./live.js";
export { LiveSteps } from "./live.js";
export type { MetricsLine, MetricsSummary, StepStats } from "./metrics.js";
export { percentile, stats, summarizeMetrics } from "./metrics.js";
export type { PipelineFormat, RunFormat } from "./render/formats.js";
export { renderPipeline, renderRun, runFormats } from "./render/formats.js";
export { renderGithubAnnotations } from "./render/github.js";
// Renderers for cleanroom-run/v1 and pipeline-report/v1.
export type { RunHtmlOptions } from "./render/html.js";
export { pipelineTimeline, renderPipelineHtml, renderRunHtml, timelineSvg } from "./render/html.js";
export { renderJunit } from "./render/junit.js";
export type { TimelineBar } from "./render/shared.js";
export { escapeXml, failuresFirst, formatMs, impliedTimeline, runTimeline } from "./render/shared.js";
export { renderTap } from "./render/tap.js";
export type { RunTextOptions } from "./render/text.js";
export { renderPipelineText, renderRunText, runSummaryLine } from "./render/text.js";
export type { Command, CommandArgs, OptionTable } from "./terminal/command.js";
export { defineCommand } from "./terminal/command.js";
export type { CompletionShell } from "./terminal/completion.js";
export { COMPLETION_SHELLS, completionScript } from "./terminal/completion.js";
export type { ErrorLine } from "./terminal/error-line.js";
export { errorLine, escapeControl, MAX_ERROR_LINE } from "./terminal/error-line.js";
export type { GlobalOptions, Writer } from "./terminal/output.js";
export { Output, StdioWriter, stdio } from "./terminal/output.js";
export type { GlobalArgs, ProgramSpec, RunOptions } from "./terminal/program.js";
export {
  exitOnInterrupt,
  outputFor,
  renderHelpTable,
  runPlainLine,
  runProgram,
  UsageError,
  writeHelpTable,
} from "./terminal/program.js";
export type { ProgressOptions } from "./terminal/progress.js";
export { Progress } from "./terminal/progress.js";
export type { QuickParse } from "./terminal/quick-parse.js";
export { quickParse } from "./terminal/quick-parse.js";
export type { StageRecord, StageViewOptions } from "./terminal/stages.js";
export { StageView } from "./terminal/stages.js";
export type { Column } from "./terminal/table.js";
export { table } from "./terminal/table.js";
