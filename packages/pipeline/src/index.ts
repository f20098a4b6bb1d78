// @ggen/pipeline: the ultra-fast path as stages over one PipelineContext, and each stage for reuse.
export type { PipelineContext, PipelinePaths, UltraFastOptions } from "./context.js";
export { createContext } from "./context.js";
export type { PreparedDependencies } from "./dependencies.js";
export { dependencyKey, MAX_AGE_MS, prepareDependencies } from "./dependencies.js";
export type { Project } from "./project.js";
export { loadProject } from "./project.js";
export type { Outcome, ReportInput } from "./report.js";
export {
  buildReport,
  deploymentOf,
  deploymentStatusOf,
  failureLine,
  recommendationOf,
  rolledBack,
} from "./report.js";
export type { Stage, StageFailure } from "./stage.js";
export { RunSignal, StageRunner, settle } from "./stage.js";
export type { Deployed, DeploymentInput, DeploymentPlan } from "./stages/deployment.js";
export { deployment, planDeployment, stopDeployment } from "./stages/deployment.js";
export type { Generated } from "./stages/generation.js";
export { generation } from "./stages/generation.js";
export type { ResolvedPack } from "./stages/marketplace.js";
export { marketplace } from "./stages/marketplace.js";
export type { NodeDependencies } from "./stages/node-dependencies.js";
export { nodeDependencies } from "./stages/node-dependencies.js";
export type { ReportingInput } from "./stages/reporting.js";
export { reporting } from "./stages/reporting.js";
export type { DependencySummary, Environment, Prepared, SetupInput } from "./stages/setup.js";
export { closeEnvironment, neededServices, openBackend, openEnvironment, setup } from "./stages/setup.js";
export type { ManifestInput, Tested, TestingInput, TestOptions, TestTarget } from "./stages/testing.js";
export { generatedTarget, manifestTarget, testGenerated, testing } from "./stages/testing.js";
export type { Validated, ValidationInput } from "./stages/validation.js";
export { NOT_VALIDATED, validation, validationSection } from "./stages/validation.js";
export type { NodeServiceOutputs, UltraFastResult } from "./ultra-fast.js";
export { STAGES, ultraFastDeploy } from "./ultra-fast.js";
