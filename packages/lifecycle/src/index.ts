// @ggen/lifecycle: phases, hooks, environments and profiles from make.toml; readiness and validation;
// deploy (command, release-dir, process) with verify and automatic rollback; deployment metrics.
export type { Advisory } from "./advisories.js";
export { ADVISORIES, inRange } from "./advisories.js";
export type {
  ConfigSource,
  DeployConfig,
  DeployPolicy,
  DeployProviderName,
  EnvironmentConfig,
  LifecycleConfig,
  OutputLimitsConfig,
  PhaseConfig,
  ProfileConfig,
  ValidationConfig,
  VerifyConfig,
} from "./config.js";
export { asConfig, findCycle, loadConfig, parseConfig, phaseLocation } from "./config.js";
export type { ContainmentMode } from "./containment.js";
export { containmentMode, PHASE_MARKER } from "./containment.js";
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
  environmentOf,
  listReleases,
  rollback,
  stopService,
  switchCurrent,
  verify,
  verifyEnvironment,
} from "./deploy.js";
export type { ExecOptions, ExecResult } from "./exec.js";
export { DEFAULT_LINE_CHARS, execCommand } from "./exec.js";
export type { MetricDelta, MetricsSummary, RunTimeline, StageTiming, Trend } from "./metrics.js";
export {
  appendDeploymentMetrics,
  compareMetrics,
  METRICS_FILE,
  metricsFileOf,
  metricsTrends,
  parseMetrics,
  readMetricsFile,
  readMetricsRecords,
  summarizeMetrics,
  timelineMetrics,
} from "./metrics.js";
export { DEFAULT_LOG_CHARS, KeptOutput } from "./output.js";
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
export { describePhase, effectiveRules, formatMs, parseJobs, runPhases } from "./runner.js";
export type { ProfileSource, ProjectSettings, TemplateSettings } from "./settings.js";
export {
  loadSettings,
  PROFILES_FILE,
  parseDeploymentProfiles,
  parseSettings,
  SETTINGS_FILE,
} from "./settings.js";
export type { LifecycleState, PhaseRecord, ReleaseRecord, RequirementStatus } from "./state.js";
export { emptyState, loadState, newestValidBackup, restoreBackup, STATE_FILE, updateState } from "./state.js";
export type { CheckName, Diagnostic, ValidateOptions, ValidationReport } from "./validate.js";
export { CHECKS, entropy, lockedPackages, parseDiagnostics, readTestsReport, validate } from "./validate.js";
export type { RunPrinter } from "./views.js";
export {
  analyzeText,
  compareText,
  findingsText,
  listData,
  listText,
  metricsText,
  phaseText,
  printRunEvents,
  readinessFails,
  readinessText,
  runText,
  secs,
  statusText,
} from "./views.js";
