// @ggen/lifecycle: phases, hooks, environments and profiles from make.toml; readiness and validation;
// deploy (command, release-dir, process) with verify and automatic rollback; deployment metrics.
export type { Advisory } from "./advisories.js";
export { ADVISORIES, inRange } from "./advisories.js";
export type {
  ConfigSource,
  DeployConfig,
  DeployProviderName,
  EnvironmentConfig,
  LifecycleConfig,
  PhaseConfig,
  ProfileConfig,
  ValidationConfig,
  VerifyConfig,
} from "./config.js";
export { asConfig, findCycle, loadConfig, parseConfig } from "./config.js";
export type {
  DeployEvent,
  DeployOptions,
  DeployResult,
  RollbackOptions,
  RollbackResult,
  VerifyResult,
} from "./deploy.js";
export {
  currentRelease,
  deploy,
  listReleases,
  rollback,
  stopService,
  switchCurrent,
  verify,
  verifyEnvironment,
} from "./deploy.js";
export type { ExecOptions, ExecResult } from "./exec.js";
export { execCommand } from "./exec.js";
export type { MetricDelta, MetricsSummary, Trend } from "./metrics.js";
export {
  appendDeploymentMetrics,
  compareMetrics,
  METRICS_FILE,
  metricsTrends,
  parseMetrics,
  readMetricsFile,
  summarizeMetrics,
} from "./metrics.js";
export type { Plan } from "./plan.js";
export { planPhases, suggestPhase } from "./plan.js";
export type { InitResult, StatusReport } from "./project.js";
export { initProject, status } from "./project.js";
export type {
  Readiness,
  Requirement,
  RequirementCheck,
  RequirementResult,
  RequirementsFile,
} from "./requirements.js";
export {
  loadRequirements,
  parseRequirements,
  readiness,
  scoreReadiness,
  updateRequirement,
} from "./requirements.js";
export type { LifecycleEvent, PhaseOutcome, RunOptions, RunResult } from "./runner.js";
export { describePhase, effectiveRules, runPhases } from "./runner.js";
export type { LifecycleState, PhaseRecord, ReleaseRecord, RequirementStatus } from "./state.js";
export { emptyState, loadState, newestValidBackup, restoreBackup, STATE_FILE, updateState } from "./state.js";
export type { CheckName, Diagnostic, ValidateOptions, ValidationReport } from "./validate.js";
export { CHECKS, entropy, lockedPackages, parseDiagnostics, readTestsReport, validate } from "./validate.js";
