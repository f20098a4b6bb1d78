export type { ErrorKind, GgenErrorOptions, SourceLocation } from "./errors.js";
export { formatLocation, GgenError, isGgenError } from "./errors.js";
export { jsonErrorOffset, lineColumn, parseJson } from "./json.js";
export type {
  BackendName,
  CleanroomRun,
  ContractKind,
  ContractTypes,
  DeploymentMetrics,
  DeploymentStatus,
  FileAction,
  Finding,
  GenerationManifest,
  IsoDateTime,
  Isolation,
  PipelineReport,
  Reference,
  Sha256,
  StageStatus,
  TestResult,
  TestStatus,
  TestSummary,
} from "./types.js";
export type { ContractIssue, ValidationResult } from "./validate.js";
export {
  assertValid,
  contractKinds,
  isContractKind,
  schemas,
  validate,
  validateDocument,
} from "./validate.js";
