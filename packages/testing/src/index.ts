// The test engine: test runs, runners, scenarios (a DAG of steps), sessions and the result store, over
// any cleanroom Backend (or straight on the host).

export type { EnvironmentChoice } from "./choice.js";
export { chooseEnvironment } from "./choice.js";
export type { ScenarioResult, ScenarioRunOptions, StepEvent, StepResult, StepStatus } from "./dag.js";
export { checkExpect, runScenario } from "./dag.js";
export type { ExecFn } from "./exec.js";
export { limitMessage, spawnExec, tail } from "./exec.js";
export { installCommand, installDependencies } from "./install.js";
export type { ShardInput } from "./merge.js";
export { checkShards, mergeRuns } from "./merge.js";
export type { Need, NeededService } from "./needs.js";
export { detectNeeds, serviceKinds } from "./needs.js";
export type { ProjectTestOptions } from "./project.js";
export { testProject } from "./project.js";
export type { RunParts, TimelineEntry } from "./result.js";
export {
  buildRun,
  hashFiles,
  hostIsolation,
  newRunId,
  runPassed,
  scenarioTests,
  scenarioTimeline,
  summarize,
} from "./result.js";
export type { CommandContext, ParsedTest, PlanOptions, RunnerName, TestUnit } from "./runners/index.js";
export {
  detectRunner,
  parseLibtest,
  parseTap,
  parseUnit,
  parseVitestJson,
  planUnits,
  runnerNames,
  uniqueIds,
  unitCommand,
} from "./runners/index.js";
export type { Scenario, ScenarioStep, StepExpect } from "./scenario.js";
export { findCycle, parseScenario } from "./scenario.js";
export type { SessionOptions, SessionResult, WorkContext, WorkOutcome } from "./session.js";
export { backendExec, projectMount, runSession, WORKSPACE } from "./session.js";
export type { ShardPlan, ShardSpec } from "./shard.js";
export { fileDurations, parseShard, planShards } from "./shard.js";
export type { MetricsEntry, StoredRun, StoreLocation, StoreRef } from "./store.js";
export {
  appendMetrics,
  lastRun,
  listRuns,
  loadRun,
  MAX_INPUT_BYTES,
  readInputFile,
  readMetrics,
  saveRun,
  storeAt,
} from "./store.js";
export type { SelectOptions, TestRunOptions, TestRunOutcome, UnitEvent } from "./testrun.js";
export { DEFAULT_GLOBS, runTests, selectFiles, shardFiles, unitLabel } from "./testrun.js";
