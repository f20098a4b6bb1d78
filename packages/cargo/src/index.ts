export type { Advisory, AdvisoryDb, AuditFinding, AuditResult } from "./audit.js";
export { auditCargoLock, defaultAdvisoryDbDir, isAffected, loadAdvisoryDb, parseAdvisory } from "./audit.js";
export type { CargoHome, CargoHomeOptions, FileRegistry, MissingCrate, VendoredCrate } from "./cargo-home.js";
export {
  cargoConfigToml,
  DEBIAN_CRATE_DIR,
  debianPackageOf,
  ensureFileRegistry,
  ggenHome,
  LOCAL_REGISTRY_NAME,
  missingCrates,
  prepareCargoHome,
  vendoredCrates,
} from "./cargo-home.js";
export type { ClippyDiagnostic, ClippyResult } from "./clippy.js";
export { parseClippyJson } from "./clippy.js";
export type {
  CollectOptions,
  CoverageOptions,
  CoverageResult,
  CoverageTools,
  FileCoverage,
  FindToolsOptions,
  Instrumentation,
  LineCoverage,
  LlvmTools,
  TestRun,
  ToolRunner,
} from "./coverage.js";
export {
  collectCoverage,
  describeCoverage,
  findCoverageTools,
  measureCoverage,
  parseLlvmCovExport,
  parseLlvmVersion,
  prepareInstrumentation,
  splitTestOutput,
  withJsonMessages,
} from "./coverage.js";
export { DEPENDENCY_BUILD_DIR, dependencyBuildArgs, writeDependencyStub } from "./dependency-build.js";
export type { RunResult } from "./exec.js";
export { run as runTool } from "./exec.js";
export type { FmtFile, FmtHunk, FmtResult } from "./fmt.js";
export { parseFmtCheck, rustSources } from "./fmt.js";
export type { CrateManifest, LockedPackage, ManifestDependency } from "./manifest.js";
export { parseCargoLock, parseCargoManifest } from "./manifest.js";
export type { PackagingResult, PublishProblems } from "./publish.js";
export { parsePackagingOutput, publishProblems } from "./publish.js";
export type { ConsumerOptions, IndexSnapshot, Published } from "./registry.js";
export {
  buildConsumer,
  CRATES_IO_INDEX,
  indexEntry,
  indexPath,
  publishCrate,
  restoreIndex,
} from "./registry.js";
export type {
  CopyMode,
  PreparedTarget,
  PrepareTargetOptions,
  StoredTarget,
  TargetKeyInput,
} from "./target-cache.js";
export {
  CODEGEN_ENV,
  copyTarget,
  ensureLockfile,
  LANES_DIR,
  lockedDependencies,
  lockfileKey,
  prepareTarget,
  pruneCrateUnits,
  storeTarget,
  targetCacheDir,
  targetCacheKey,
} from "./target-cache.js";
export type { RustcVersion, Toolchain } from "./toolchain.js";
export { findToolchain, parseRustcVersion, requireToolchain, rustcVersion } from "./toolchain.js";
export { cargoReqToRange, satisfiesCargoReq } from "./version-req.js";
