// @ggen/pipeline: the ultra-fast path as stages over one PipelineContext, and each stage for reuse.
export type { PipelineContext, PipelinePaths, UltraFastOptions } from "./context.js";
export { createContext, pipelinePaths } from "./context.js";
export type { CoverageSetup, CoverageTarget } from "./declared/coverage.js";
export { llvmCoverage, readV8Coverage, v8Coverage, v8LineCoverage } from "./declared/coverage.js";
export type { CommandOutput, ParseInput, StageFacts } from "./declared/parsers.js";
export { BUILTINS, PARSERS } from "./declared/parsers.js";
export type { DeclaredStatus, PipelinePlan, PlannedStage } from "./declared/plan.js";
export { GATES, gatesOf, planPipeline, RESERVED_STAGES } from "./declared/plan.js";
export type { DeclaredRun, DeclaredRunInput, DeclaredStageResult } from "./declared/run.js";
export { runDeclared } from "./declared/run.js";
export type { LaneDirs, PreparedToolchain, ToolchainInput } from "./declared/toolchains.js";
export { projectToolchain, TOOLCHAINS } from "./declared/toolchains.js";
export type { PreparedDependencies } from "./dependencies.js";
export { dependencyKey, MAX_AGE_MS, prepareDependencies } from "./dependencies.js";
export type { Project } from "./project.js";
export { loadProject } from "./project.js";
export type { DeploymentRecordInput, Outcome, ReportInput } from "./report.js";
export {
  buildReport,
  deploymentOf,
  deploymentRecord,
  deploymentStatusOf,
  failureLine,
  recommendationOf,
  rolledBack,
  stageTimes,
} from "./report.js";
export type { Stage, StageFailure } from "./stage.js";
export { RunSignal, StageRunner, settle } from "./stage.js";
export type { CrateDeployed, CrateDeploymentInput } from "./stages/crate-deployment.js";
export { crateDeployment, registryDir } from "./stages/crate-deployment.js";
export type { Checked, ChecksHooks, ChecksInput } from "./stages/declared-checks.js";
export { runChecks, sourceRefsOf } from "./stages/declared-checks.js";
export type { Deployed, DeploymentInput, DeploymentPlan } from "./stages/deployment.js";
export { deployment, planDeployment, stopDeployment } from "./stages/deployment.js";
export type { Generated } from "./stages/generation.js";
export { generation } from "./stages/generation.js";
export type { ResolvedPack } from "./stages/marketplace.js";
export { marketplace } from "./stages/marketplace.js";
export type { NodeDependencies } from "./stages/node-dependencies.js";
export { nodeDependencies } from "./stages/node-dependencies.js";
export type { ReportingInput } from "./stages/reporting.js";
export { OUTCOME_PREDICATE, reporting } from "./stages/reporting.js";
export type { DependencySummary, Environment, Prepared, SetupInput } from "./stages/setup.js";
export { closeEnvironment, neededServices, openBackend, openEnvironment, setup } from "./stages/setup.js";
export type { ManifestInput, Tested, TestingInput, TestOptions, TestTarget } from "./stages/testing.js";
export { crateTarget, generatedTarget, manifestTarget, testGenerated, testing } from "./stages/testing.js";
export type { ToolchainReady, ToolchainSetupInput } from "./stages/toolchain-setup.js";
export { toolchainSetup } from "./stages/toolchain-setup.js";
export type { Validated, ValidationInput } from "./stages/validation.js";
export { NOT_VALIDATED, nodeGates, validation, validationSection } from "./stages/validation.js";
export type { NodeServiceOutputs, PipelineOutputs, UltraFastResult } from "./ultra-fast.js";
export { NODE_STAGES, STAGES, ultraFastDeploy } from "./ultra-fast.js";
