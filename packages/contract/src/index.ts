export type { ErrorKind, GgenErrorOptions, SourceLocation } from "./errors.js";
export { formatLocation, GgenError, isGgenError } from "./errors.js";
export { jsonErrorOffset, lineColumn, parseJson } from "./json.js";
export type { PackRef, TemplateRef } from "./pack.js";
export { PACK_MANIFEST_FILE, packIdProblem, parsePackManifest, parseTemplateRef } from "./pack.js";
export type { PatternMatch, PatternOptions, SafePattern } from "./pattern.js";
export { compilePattern } from "./pattern.js";
export { parseToml, tomlKeyLocation } from "./toml.js";
export type {
  BackendName,
  CleanroomRun,
  ContractKind,
  ContractTypes,
  DeploymentMetrics,
  DeploymentStatus,
  FileAction,
  Finding,
  GateResult,
  GenerationManifest,
  IndexPack,
  IndexVersion,
  IsoDateTime,
  Isolation,
  LockEntry,
  Lockfile,
  PackManifest,
  PackManifestDocument,
  PackPipeline,
  PackTemplate,
  PipelineCoverage,
  PipelineGate,
  PipelineParser,
  PipelineReport,
  PipelineStageDecl,
  QualityScore,
  Reference,
  RegistryIndex,
  Sha256,
  StageStatus,
  TestResult,
  TestStatus,
  TestSummary,
} from "./types.js";
export { REGISTRY_INDEX_FORMAT } from "./types.js";
export type { ContractIssue, ValidationResult } from "./validate.js";
export {
  assertValid,
  contractKinds,
  isContractKind,
  schemas,
  validate,
  validateDocument,
} from "./validate.js";
