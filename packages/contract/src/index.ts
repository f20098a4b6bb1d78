export type { ErrorKind, GgenErrorOptions, SourceLocation } from "./errors.js";
export { formatLocation, GgenError, isGgenError } from "./errors.js";
export { jsonErrorOffset, lineColumn, parseJson } from "./json.js";
export type { PackRef, TemplateRef } from "./pack.js";
export { PACK_MANIFEST_FILE, packIdProblem, parsePackManifest, parseTemplateRef } from "./pack.js";
export type { PatternMatch, PatternOptions, SafePattern } from "./pattern.js";
export { compilePattern } from "./pattern.js";
export { schemaKeys, schemaUrl } from "./schema-keys.js";
export { parseToml, tomlKeyLocation } from "./toml.js";
export type {
  BackendName,
  CleanroomConfigDocument,
  CleanroomRun,
  ContractKind,
  ContractTypes,
  DeploymentMetrics,
  DeploymentStatus,
  FileAction,
  Finding,
  GateResult,
  GenerationManifest,
  GenerationPlan,
  GgenConfigDocument,
  IndexPack,
  IndexVersion,
  IsoDateTime,
  Isolation,
  LifecycleEnvironmentState,
  LifecyclePhaseRecord,
  LifecycleReleaseRecord,
  LifecycleRunRecord,
  LifecycleStateDocument,
  LockEntry,
  Lockfile,
  MakeTomlDocument,
  ManifestFile,
  ManifestOrphan,
  MergeStrategy,
  PackContract,
  PackManifest,
  PackManifestDocument,
  PackPipeline,
  PackTemplate,
  PipelineCoverage,
  PipelineGate,
  PipelineParser,
  PipelineReport,
  PipelineStageDecl,
  PlanAction,
  PlanFile,
  Provenance,
  QualityScore,
  Reference,
  RegistryIndex,
  ScenarioDocument,
  Sha256,
  StageStatus,
  TemplateFrontmatterDocument,
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
export type { VarsSchemaCheck } from "./vars-schema.js";
export { compileVarsSchema } from "./vars-schema.js";
