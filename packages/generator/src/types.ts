// What a generation takes and returns (the public API), and what its steps hand each other.
import type {
  FileAction,
  GenerationManifest,
  GenerationPlan,
  MergeStrategy,
  Provenance,
} from "@ggen/contract";
import type { InjectOptions } from "./inject.js";
import type { PackTemplates } from "./packs.js";
import type { TemplateUnit } from "./resolve.js";

export interface GenerateOptions {
  /**
   * Template paths, `pack:template` refs, pack ids (every template of the pack), pack/template
   * directories — or packs already read ({ pack, template? }, e.g. from the marketplace).
   */
  templates: (string | PackTemplates)[];
  /** Project directory; relative paths resolve against it (default: process.cwd()). */
  cwd?: string;
  /** Output directory (default: cwd). */
  outputDir?: string;
  /** Vars given on the command line (strings are coerced to the declared types). */
  vars?: Record<string, unknown>;
  /** Vars files (.yaml/.yml/.json/.toml), merged in order; `vars` win over them. */
  varsFiles?: string[];
  /** Graph files used instead of the packs' default graphs. */
  graphs?: string[];
  /** A folder of packs to find pack ids in, instead of the project's installed packs. */
  packsDir?: string;
  /**
   * Overwrite existing files ggen did not generate here (no base in the lock); without `merge`, also
   * resolves conflicts in favour of the new render (generated-wins). Protected regions are kept even then.
   */
  force?: boolean;
  /**
   * How overlapping changes (your edits vs the new render) end up: "three-way" (default: conflict
   * markers in the file, reported), "generated-wins", "manual-wins", or "fail-on-conflict" (nothing is
   * written when any file conflicts).
   */
  merge?: MergeStrategy;
  /** Delete orphans (outputs no run produces any more) that were not edited; edited ones are kept. */
  prune?: boolean;
  /** Write a generation-plan/v1 here (relative to cwd) instead of writing files. */
  plan?: string;
  /** Render every output, even those whose inputs are unchanged since the last generation. */
  full?: boolean;
  /** "write" (default), "dry-run" (plan only) or "check" (plan and compare with disk). */
  mode?: "write" | "dry-run" | "check";
  /** Compute unified diffs of changed files. */
  diff?: boolean;
  /**
   * Manifest path (relative to cwd), or false for none (then no lock: no three-way merge, no orphans);
   * default `<outputDir>/.ggen/manifest.json`. Outside the output dir its directory must exist.
   */
  manifest?: string | false;
  /** Run sh_before/sh_after hooks (pack templates also need the pack trusted by the project). */
  allowHooks?: boolean;
  /** Determinism seed for every template (overrides `determinism:`). */
  seed?: string;
  /** The instant `now` returns (ISO string); default SOURCE_DATE_EPOCH, then the seed, then the clock. */
  now?: string;
  maxParallel?: number;
  /** Stop any one SPARQL query after this long (ms; SPARQL_TIMEOUT, exit 1); default @ggen/rdf's (30 s). */
  queryTimeoutMs?: number;
  /** Keep compiled templates here (precompiled Handlebars, by content hash), so later runs skip the
   * Handlebars parser and compiler, the digests of pack contract checks that passed (`contracts/`), and
   * query results by the digests of the graph texts they answer (`results/`: a project generated from a
   * graph and queries another one was loads no graph); `ggen` uses $GGEN_HOME/cache/templates. None by
   * default. */
  cacheDir?: string;
  /**
   * Files this caller wrote before (absolute path → sha256 of what it wrote): one still holding exactly
   * that is overwritten without --force (`--watch` passes what its earlier runs wrote).
   */
  owned?: ReadonlyMap<string, string>;
  /** Non-fatal notes (skipped files, hooks not run). */
  onWarn?: (message: string) => void;
  /**
   * Each output's path (absolute) and content as soon as it is rendered, before the run decides what to
   * write: a caller may start on one early (the ultra-fast path installs a package.json's dependencies).
   * A template that reads no graph is rendered as soon as it is loaded, in the declared order (before the
   * later templates compile). A run that then fails writes none of them.
   */
  onRendered?: (output: { path: string; content: string }) => void;
  /** Output of hooks. */
  onInfo?: (message: string) => void;
}

export interface FileResult {
  /** Path relative to the output directory, with forward slashes. */
  path: string;
  absPath: string;
  action: FileAction;
  bytes: number;
  sha256: string;
  template: string;
  /** The generated content differs from what is on disk (drift). */
  differs: boolean;
  reason?: string;
  diff?: string;
}

export interface OrphanResult {
  path: string;
  template?: string;
  /** Differs from what was generated (so never pruned). */
  edited: boolean;
  /** "deleted" by --prune (by the real run, in a dry run or plan), "kept", or "gone" (deleted already). */
  status: "deleted" | "kept" | "gone";
}

export interface HookResult {
  template: string;
  when: "before" | "after";
  command: string;
  ran: boolean;
  reason?: string;
}

export interface GenerateResult {
  files: FileResult[];
  manifest: GenerationManifest;
  manifestPath: string | undefined;
  /** Some output differs from disk (what --check reports). */
  drift: boolean;
  /** Files left with conflict markers (or, with fail-on-conflict, that stopped the run). */
  conflicts: string[];
  /** Outputs earlier runs generated that no template produces any more. */
  orphans: OrphanResult[];
  /** Outputs rendered, and those not rendered because their inputs had not changed. */
  rendered: number;
  reused: number;
  /** How graphs were answered: queries with the last run's rows, on subgraphs, and whole graphs loaded. */
  snapshot: { reusedQueries: number; subgraphQueries: number; fullLoads: number } | undefined;
  /** The generation-plan/v1 (with `plan`: also written there). */
  plan: GenerationPlan | undefined;
  planPath: string | undefined;
  hooks: HookResult[];
  warnings: string[];
}

/** One output a template renders, before anything is checked against the output dir or the disk. */
export interface Planned {
  unit: TemplateUnit;
  to: string;
  line: number | undefined;
  /** The rendered content; undefined when not rendered (inputs unchanged: see `reused`). */
  content: string | undefined;
  /** Not rendered: the digest of what the lock says this output generated last time. */
  reused?: string;
  provenance?: Provenance;
  inject: InjectOptions | undefined;
  force: boolean;
  unlessExists: boolean;
  mode: number | undefined;
  /** `backup: true`: keep `<file>.bak` (the old bytes) before the file is changed. */
  backup: boolean;
}

export interface Hook {
  unit: TemplateUnit;
  when: "before" | "after";
  commands: string[];
  /** The values the commands refer to (GGEN_HOOK_VALUE_<n>): never spliced into the commands. */
  env?: Record<string, string>;
}
