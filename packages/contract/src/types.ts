// TypeScript shapes of the JSON Schemas in ../schemas. Kept by hand next to the schemas; a test
// validates every example against the schema and type-checks it against these types.

export type Sha256 = string;
export type IsoDateTime = string;

export interface Reference {
  path: string;
  sha256: Sha256;
}

export type FileAction =
  | "created"
  | "overwritten"
  | "merged"
  | "conflict"
  | "injected"
  | "unchanged"
  | "skipped";

/** The inputs one output was generated from, as digests (vars with secrets redacted). */
export interface Provenance {
  /** id@version of the template's pack. */
  pack?: string;
  template: Sha256;
  vars: Sha256;
  graph?: Sha256;
  query?: Sha256;
  /** Digest of every input together (secret vars included, only as part of the digest): unchanged inputs are not rendered again. */
  inputs: Sha256;
  /** The body ran SPARQL itself (the sparql helper): a changed graph renders it again. */
  inline?: boolean;
}

export interface ManifestFile {
  path: string;
  /** What is on disk after the run. */
  sha256: Sha256;
  bytes: number;
  action: FileAction;
  template?: string;
  /** What the templates generated: the base of the next three-way merge. */
  generated?: Sha256;
  conflicts?: number;
  provenance?: Provenance;
}

/** An output no run produces any more, still on disk (edited, or not pruned). */
export interface ManifestOrphan {
  path: string;
  generated: Sha256;
  template?: string;
  pack?: string;
}

export interface GenerationManifest {
  kind: "generation-manifest/v1";
  tool: { name: string; version: string };
  startedAt: IsoDateTime;
  finishedAt: IsoDateTime;
  outputRoot: string;
  seed?: string;
  inputs: {
    templates: Reference[];
    graphs: Reference[];
    varFiles: Reference[];
    packs?: { id: string; version: string; sha256: Sha256 }[];
    /** Digests of the query results kept for the next run's graph snapshot, by file key (revision 1.1). */
    results?: { key: Sha256; sha256: Sha256 }[];
  };
  vars: Record<string, unknown>;
  files: ManifestFile[];
  orphans?: ManifestOrphan[];
  timings: {
    parseMs: number;
    rdfLoadMs: number;
    sparqlMs: number;
    renderMs: number;
    writeMs: number;
    totalMs: number;
  };
  counts: { templates: number; files: number; triples: number; queries: number };
}

export type TestStatus = "passed" | "failed" | "skipped" | "timed-out" | "errored";
export type BackendName = "local" | "testcontainers";

export interface Isolation {
  network: boolean;
  pid: boolean;
  filesystem: boolean;
  limits: boolean;
  mechanism?: string;
}

export interface TestResult {
  id: string;
  file: string;
  name: string;
  suite?: string;
  status: TestStatus;
  durationMs: number;
  failureMessage?: string;
  outputTail?: string;
  /** Where the test is declared in its file (1-based), when the runner says. */
  line?: number;
}

export interface TestSummary {
  total: number;
  passed: number;
  failed: number;
  skipped: number;
  timedOut: number;
  errored: number;
  coveragePercent?: number;
}

export interface CleanroomRun {
  kind: "cleanroom-run/v1";
  runId: string;
  tool?: { name: string; version: string };
  startedAt: IsoDateTime;
  finishedAt: IsoDateTime;
  manifest?: Reference;
  /** One shard of a split suite; `plan` (sha256 of the whole split) is equal in every shard of one suite. */
  shard?: { index: number; total: number; plan: string };
  /** A merged run: the shard runs it combines (and their attestations), in shard order. */
  shards?: { path: string; sha256: string; index: number; total: number; attestation?: Reference }[];
  sources?: Reference[];
  environment: { name: string; backend: BackendName; isolation: Isolation };
  services: { name: string; image?: string; binary?: string; readyMs: number; endpoint?: string }[];
  tests: TestResult[];
  summary: TestSummary;
  timings: { setupMs: number; testMs: number; teardownMs: number; totalMs: number };
  resources: { peakMemoryMb: number; cpuPercent: number; cpuUserMs?: number; cpuSystemMs?: number };
}

export type StageStatus = "success" | "failed" | "skipped" | "timed-out" | "rolled-back";
export type DeploymentStatus = "READY" | "NOT_READY" | "ROLLED_BACK" | "FAILED";

export interface Finding {
  check: string;
  severity: "error" | "warning" | "info";
  message: string;
  file?: string;
  line?: number;
}

export type PipelineCoverage =
  | { status: "measured"; percent: number; lines?: number; covered?: number; tool?: string }
  | { status: "unavailable"; reason: string };

export interface GateResult {
  name: PipelineGate;
  status: "passed" | "failed" | "skipped";
  /** The declared stages that decide it. */
  stages: string[];
  message?: string;
}

export interface PipelineReport {
  kind: "pipeline-report/v1";
  sessionId: string;
  name: string;
  version?: string;
  environment?: string;
  backend?: BackendName;
  startedAt: IsoDateTime;
  totalDurationMs: number;
  stages: Record<string, { durationMs: number; status: StageStatus; startedAtMs?: number; message?: string }>;
  metrics: {
    testsExecuted: number;
    testsPassed: number;
    testsFailed: number;
    coveragePercentage?: number;
    /** Measured, or unavailable with the reason (revision 1.1). */
    coverage?: PipelineCoverage;
    lintWarnings?: number;
    buildArtifacts?: number;
    filesGenerated?: number;
  };
  validation: {
    packageValid: boolean;
    buildPassed?: boolean;
    lintPassed?: boolean;
    testsPassed: boolean;
    securityPassed: boolean;
    docsBuilt?: boolean;
    formatValid?: boolean;
    auditPassed?: boolean;
    publishReady: boolean;
    findings?: Finding[];
    /** The checks that did not run: their false means "not checked" (revision 1.1). */
    skipped?: string[];
  };
  attestation: {
    hermeticExecution: boolean;
    deterministic: boolean;
    reproducible: boolean;
    digest: string;
    statementPath?: string;
    signed?: boolean;
    keyId?: string;
  };
  deploymentStatus: DeploymentStatus;
  deployment?: {
    releaseId?: string;
    url?: string;
    provider?: string;
    rolledBackTo?: string;
    registry?: string;
    artifact?: Reference;
  };
  /** The crate or npm package built (revision 1.1). */
  package?: { name: string; version?: string; ecosystem: "cargo" | "npm" };
  /** Seed 001's quality gates the pack declares (revision 1.1). */
  gates?: GateResult[];
  recommendation: string;
  references: { manifest?: Reference; run?: Reference; metrics?: Reference };
}

export interface DeploymentMetrics {
  kind: "deployment-metrics/v1";
  deploymentId: string;
  timestamp: IsoDateTime;
  environment?: string;
  name?: string;
  version?: string;
  status: "success" | "failed" | "rolled-back";
  /** Wall time from the run's start to the end of the deployment (parallel stages count once). */
  totalTimeSeconds: number;
  /** Seconds per phase or stage (durations; overlapping ones ran in parallel). */
  phases: Record<string, number>;
  /** Start offset and duration per stage, in seconds (revision 1.1). */
  stages?: Record<string, { startSeconds: number; durationSeconds: number; status?: string }>;
  testMetrics: {
    totalTests: number;
    passed: number;
    failed: number;
    skipped?: number;
    durationSeconds: number;
  };
  resourceUsage: { peakMemoryMb: number; cpuPercent: number };
}

// ---- the pack format: a pack's ggen.toml, a registry's index.json, a project's ggen.lock ----------

export interface PackTemplate {
  /** `<pack id>:<name>` addresses it. */
  name: string;
  /** Relative to the pack directory. */
  path: string;
  description?: string;
}

/** A ggen.toml as written (what the schema checks): only [pack] id and version are required. */
export interface PackManifestDocument {
  pack: {
    id: string;
    version: string;
    name?: string;
    description?: string;
    license?: string;
    homepage?: string;
    author?: string;
    ggen?: string;
    tags?: string[];
    keywords?: string[];
    category?: string;
  };
  templates?: PackTemplate[];
  vars?: Record<string, unknown>;
  graphs?: { files?: string[] };
  contract?: { shapes?: string[]; vars_schema?: string };
  dependencies?: Record<string, string>;
  pipeline?: PackPipeline;
}

/** A quality gate of seed 001: every declared one must pass for READY. */
export type PipelineGate = "build" | "tests" | "lint" | "format" | "package" | "docs" | "audit" | "publish";

/** The result parsers a declared stage may name (the pipeline's registry). */
export type PipelineParser =
  | "exit-code"
  | "libtest"
  | "tap"
  | "vitest-json"
  | "clippy-json"
  | "fmt-check"
  | "cargo-package"
  | "rustsec-audit";

/** One stage a pack declares: a command (argv) or a built-in check, with the parser of its result. */
export interface PipelineStageDecl {
  name: string;
  description?: string;
  gate?: PipelineGate;
  run?: string[];
  uses?: "rustsec-audit";
  /** Default: the built-in's own parser for `uses`, exit-code for `run`. */
  parse?: PipelineParser;
  after?: string[];
  lane?: string;
  coverage?: "llvm-cov" | "v8";
  /** A duration (30s, 2m). */
  timeout?: string;
}

/** A pack's [pipeline]: what its output needs to be tested, validated and deployed (version 1). */
export interface PackPipeline {
  version: 1;
  toolchain?: "cargo" | "npm" | "none";
  stages: PipelineStageDecl[];
  deploy?: { uses: "cargo-registry"; description?: string };
}

/** `[contract]` of a ggen.toml: SHACL shapes the input graph must satisfy, a JSON Schema for the vars. */
export interface PackContract {
  /** Shapes files, or directories of them. */
  shapes: string[];
  varsSchema?: string;
}

/** A ggen.toml as `parsePackManifest` returns it: checked, with the defaults filled in. */
export interface PackManifest {
  pack: {
    id: string;
    /** Defaults to the id. */
    name: string;
    version: string;
    description: string;
    license?: string;
    homepage?: string;
    author?: string;
    /** The ggen version range the pack needs. */
    ggen?: string;
    tags: string[];
    keywords: string[];
    category?: string;
  };
  templates: PackTemplate[];
  /** Pack-level var defaults (a value, or a table with `default`, `type`, `description`…). */
  vars: Record<string, unknown>;
  /** Graph files, relative to the pack directory. */
  graphs: { files: string[] };
  /** What the pack's input must satisfy, checked before rendering (paths relative to the pack). */
  contract: PackContract;
  /** Pack id → semver range. */
  dependencies: Record<string, string>;
  /** What the output's pipeline is, when the pack declares it (stages checked: names, after, no cycle). */
  pipeline?: PackPipeline;
}

export const REGISTRY_INDEX_FORMAT = "ggen-registry-index/1";

export interface IndexVersion {
  version: string;
  /** Archive location: relative to the index, `file:` or `http(s):`. */
  url: string;
  sha256: Sha256;
  size: number;
  published: string;
  dependencies?: Record<string, string>;
  /** The ggen version range this version needs. */
  ggen?: string;
  yanked?: boolean;
}

export interface QualityScore {
  score: number;
  parts: Record<string, number>;
}

export interface IndexPack {
  id: string;
  name: string;
  description: string;
  tags: string[];
  keywords: string[];
  category: string;
  license: string;
  homepage?: string;
  author?: string;
  quality: QualityScore;
  downloads: number;
  templates?: { name: string; description?: string }[];
  versions: IndexVersion[];
}

export interface RegistryIndex {
  $schema?: string;
  format: typeof REGISTRY_INDEX_FORMAT;
  name?: string;
  generated?: string;
  packs: IndexPack[];
}

export interface LockEntry {
  version: string;
  /** sha256 of the archive, as the index listed it and as verified before extraction. */
  sha256: Sha256;
  /** sha256 over the installed tree; `ggen market verify` recomputes it. */
  integrity: Sha256;
  /** The registry it came from. */
  source: string;
  /** The archive's resolved location. */
  archive: string;
  /** The range asked for on the command line, or null when installed only as a dependency. */
  requested: string | null;
  /** Resolved dependencies: id → exact version. */
  dependencies: Record<string, string>;
}

export interface Lockfile {
  lockfileVersion: 1;
  packs: Record<string, LockEntry>;
}

/** A phase's last run in the lifecycle state. */
export interface LifecyclePhaseRecord {
  status: "success" | "failed" | "cached" | "timed-out";
  startedAt: string;
  durationMs: number;
  exitCode: number | null;
  environment?: string;
  /** Digest of the phase's inputs at its last success (the cache key). */
  inputsHash?: string;
  message?: string;
}

export interface LifecycleReleaseRecord {
  id: string;
  deployedAt: string;
  status: "active" | "previous" | "failed" | "rolled-back";
}

export interface LifecycleEnvironmentState {
  current?: string;
  releases: LifecycleReleaseRecord[];
  lastDeployAt?: string;
}

export interface LifecycleRunRecord {
  id: string;
  phases: string[];
  startedAt: string;
  finishedAt?: string;
  /** "interrupted": its process died mid-run (kill -9, power loss); noticed by the next run. */
  status: "running" | "success" | "failed" | "interrupted";
  pid: number;
  /** The process's start time (clock ticks since boot), so a reused pid is not taken for it. */
  start?: string;
  environment?: string;
  profile?: string;
}

/** A project's .ggen/lifecycle-state.json (written and read by @ggen/lifecycle). */
export interface LifecycleStateDocument {
  version: 1;
  updatedAt: string;
  currentPhase: string | null;
  environment: string | null;
  phases: Record<string, LifecyclePhaseRecord>;
  /** Completed phases in completion order (the last 200). */
  history: {
    phase: string;
    status: LifecyclePhaseRecord["status"];
    at: string;
    durationMs: number;
    exitCode: number | null;
  }[];
  runs: LifecycleRunRecord[];
  requirements: Record<string, "complete" | "incomplete" | "not-applicable">;
  environments: Record<string, LifecycleEnvironmentState>;
}

export type MergeStrategy = "three-way" | "generated-wins" | "manual-wins" | "fail-on-conflict";
export type PlanAction = "create" | "update" | "unchanged" | "skip" | "conflict" | "delete-orphan";

export interface PlanFile {
  /** Relative to the output root. */
  path: string;
  action: PlanAction;
  /** sha256 on disk when planned; null: not there. */
  current: Sha256 | null;
  /** sha256 after apply; null: not there. */
  next: Sha256 | null;
  /** sha256 of what the templates generate (differs from next when edits were merged in). */
  generated?: Sha256 | null;
  /** Unified diff from current to next. */
  diff?: string;
  mode?: number;
  template?: string;
  reason?: string;
  conflicts?: number;
  regions?: { name: string; status: "kept" | "dropped" }[];
  /** Keep the bytes on disk as `<path>.bak` before the file changes (revision 1.1). */
  backup?: true;
}

export interface GenerationPlan {
  kind: "generation-plan/v1";
  tool: { name: string; version: string };
  createdAt: IsoDateTime;
  /** Absolute. */
  outputRoot: string;
  merge: MergeStrategy;
  prune: boolean;
  files: PlanFile[];
  summary: Partial<Record<PlanAction, number>>;
  rendered?: number;
  reused?: number;
  hooks?: { template: string; when: "before" | "after"; command: string; env?: Record<string, string> }[];
  manifest?: { path: string; document: GenerationManifest };
  /** gzip + base64 contents by sha256: generated bases apply cannot rebuild from the diffs. */
  blobs?: Record<Sha256, string>;
  warnings?: string[];
}

// The files people write by hand (make.toml, .ggen/config.toml, .cleanroom/config.toml, scenarios, template
// frontmatter): their schemas are what editors check and where the parsers take their keys from; the parsers
// return their own typed results (LifecycleConfig, CleanroomConfig, Scenario, …), so the documents stay open.
/** make.toml (or ggen.toml's [lifecycle]) as data. */
export type MakeTomlDocument = Record<string, unknown>;
/** .ggen/config.toml as data. */
export type GgenConfigDocument = Record<string, unknown>;
/** .cleanroom/config.toml as data. */
export type CleanroomConfigDocument = Record<string, unknown>;
/** A scenario YAML file as data. */
export type ScenarioDocument = Record<string, unknown>;
/** A template's frontmatter as data. */
export type TemplateFrontmatterDocument = Record<string, unknown>;

export interface ContractTypes {
  "generation-manifest/v1": GenerationManifest;
  "generation-plan/v1": GenerationPlan;
  "cleanroom-run/v1": CleanroomRun;
  "pipeline-report/v1": PipelineReport;
  "deployment-metrics/v1": DeploymentMetrics;
  "pack-manifest/v1": PackManifestDocument;
  "registry-index/v1": RegistryIndex;
  "lockfile/v1": Lockfile;
  "lifecycle-state/v1": LifecycleStateDocument;
  "make-toml/v1": MakeTomlDocument;
  "ggen-config/v1": GgenConfigDocument;
  "cleanroom-config/v1": CleanroomConfigDocument;
  "scenario/v1": ScenarioDocument;
  "template-frontmatter/v1": TemplateFrontmatterDocument;
}

export type ContractKind = keyof ContractTypes;
