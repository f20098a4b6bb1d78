// What a generation takes and returns (the public API), and what its steps hand each other.
import type { FileAction, GenerationManifest } from "@ggen/contract";
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
  /** Overwrite existing files that differ. */
  force?: boolean;
  /** "write" (default), "dry-run" (plan only) or "check" (plan and compare with disk). */
  mode?: "write" | "dry-run" | "check";
  /** Compute unified diffs of changed files. */
  diff?: boolean;
  /** Manifest path (relative to cwd), or false for none; default `<outputDir>/.ggen/manifest.json`. */
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
   * Handlebars parser and compiler, and the digests of pack contract checks that passed (`contracts/`);
   * `ggen` uses $GGEN_HOME/cache/templates. None by default. */
  cacheDir?: string;
  /**
   * Files this caller wrote before (absolute path → sha256 of what it wrote): one still holding exactly
   * that is overwritten without --force (`--watch` passes what its earlier runs wrote).
   */
  owned?: ReadonlyMap<string, string>;
  /** Non-fatal notes (skipped files, hooks not run). */
  onWarn?: (message: string) => void;
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
  hooks: HookResult[];
  warnings: string[];
}

/** One output a template renders, before anything is checked against the output dir or the disk. */
export interface Planned {
  unit: TemplateUnit;
  to: string;
  line: number | undefined;
  content: string;
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
