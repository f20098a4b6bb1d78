// Testing: the generated project's tests in a cleanroom environment, against its real services, as one
// recorded cleanroom-run/v1. The same composition serves `cleanroom ultra-fast-test`, which starts from
// a generation manifest on disk instead of a generation that just ran.

import { existsSync, readFileSync } from "node:fs";
import { basename, dirname, isAbsolute, join, relative, resolve } from "node:path";
import type { Backend, ServiceSpec } from "@ggen/cleanroom-backends";
import type { CleanroomRun, GenerationManifest, PipelineCoverage, Reference } from "@ggen/contract";
import { GgenError, sha256, writeFileAtomic } from "@ggen/support";
import { v8Coverage } from "../declared/coverage.js";
import { loadEngine, type Need, type SessionResult, type UnitEvent } from "../engine.js";
import type { Stage } from "../stage.js";
import type { Generated } from "./generation.js";
import type { Environment, Prepared } from "./setup.js";

/** What the tests run on: the generated output, its test files, and its sources as hashed. */
export interface TestTarget {
  readonly root: string;
  /** Absolute paths of the test files. */
  readonly files: readonly string[];
  readonly sourceRefs: readonly Reference[];
  readonly manifest?: Reference;
}

/** A generation that just ran: its files as the manifest recorded them (relative to the output, as the
 * generated project's own `lifecycle validate` reads the run). */
export async function generatedTarget(generated: Generated): Promise<TestTarget> {
  const { selectFiles } = await loadEngine();
  return {
    root: generated.root,
    files: await selectFiles(generated.root, {}),
    sourceRefs: generated.manifest.files
      .filter((f) => f.action !== "skipped")
      .map((f) => ({ path: f.path, sha256: f.sha256 })),
    ...(generated.manifestRef ? { manifest: generated.manifestRef } : {}),
  };
}

export interface ManifestInput {
  /** The manifest file as given (relative to cwd, or absolute). */
  manifestPath: string;
  manifest: GenerationManifest;
  /** Its text, for its digest. */
  manifestText: string;
  cwd: string;
  /** A listed file that differs from what was generated (it is tested as it is now). */
  onChanged?: (path: string) => void;
}

/** Where the generated files are: outputRoot from cwd, or next to the manifest. */
function outputRootOf(input: ManifestInput): string {
  const { manifestPath, cwd } = input;
  const { outputRoot } = input.manifest;
  const firstFile = input.manifest.files[0]?.path;
  const candidates = [
    isAbsolute(outputRoot) ? outputRoot : resolve(cwd, outputRoot),
    basename(dirname(manifestPath)) === ".ggen" ? dirname(dirname(resolve(cwd, manifestPath))) : undefined,
    dirname(resolve(cwd, manifestPath)),
  ].filter((c): c is string => c !== undefined);
  for (const c of candidates) if (existsSync(c) && (!firstFile || existsSync(join(c, firstFile)))) return c;
  throw new GgenError("OUTPUT_NOT_FOUND", `the generated output (${outputRoot}) is not there`, {
    kind: "usage",
    location: { file: manifestPath },
    hint: "run ggen again, or run from the directory the manifest's outputRoot is relative to",
  });
}

/**
 * The output a generation manifest describes, checked against the disk: every listed file must be
 * there (a changed one is tested as it is now); also the services its files need.
 */
export async function manifestTarget(input: ManifestInput): Promise<TestTarget & { needs: Need[] }> {
  const { detectNeeds, selectFiles } = await loadEngine();
  const { manifest, cwd } = input;
  const root = outputRootOf(input);
  const sourceRefs: Reference[] = [];
  for (const f of manifest.files) {
    if (f.action === "skipped") continue;
    const abs = join(root, f.path);
    if (!existsSync(abs))
      throw new GgenError(
        "FILE_NOT_FOUND",
        `the manifest lists ${f.path} but it is not in ${relative(cwd, root) || "."}`,
        { kind: "usage", location: { file: input.manifestPath } },
      );
    const sha = sha256(readFileSync(abs));
    if (sha !== f.sha256) input.onChanged?.(f.path);
    sourceRefs.push({ path: relative(cwd, abs), sha256: sha });
  }
  const needs = detectNeeds(
    root,
    manifest.files.map((f) => f.path),
  );
  return {
    root,
    files: await selectFiles(root, {}),
    sourceRefs,
    manifest: { path: relative(cwd, resolve(cwd, input.manifestPath)), sha256: sha256(input.manifestText) },
    needs,
  };
}

/**
 * A crate as the seed names it (`--manifest target/generated/Cargo.toml`): its tests (cargo test,
 * libtest results), its sources as they are now, the Cargo.toml as the run's manifest reference.
 */
export async function crateTarget(input: {
  manifestPath: string;
  cwd: string;
}): Promise<TestTarget & { needs: Need[] }> {
  const { detectNeeds } = await loadEngine();
  const { rustSources } = await import("@ggen/cargo");
  const file = resolve(input.cwd, input.manifestPath);
  if (!existsSync(file))
    throw new GgenError("FILE_NOT_FOUND", `manifest not found: ${input.manifestPath}`, {
      kind: "usage",
      location: { file: input.manifestPath },
    });
  const root = dirname(file);
  const files = [
    "Cargo.toml",
    ...(existsSync(join(root, "Cargo.lock")) ? ["Cargo.lock"] : []),
    ...(await rustSources(root)),
  ];
  return {
    root,
    files: [file],
    sourceRefs: files.map((f) => ({
      path: relative(input.cwd, join(root, f)),
      sha256: sha256(readFileSync(join(root, f))),
    })),
    manifest: { path: relative(input.cwd, file), sha256: sha256(readFileSync(file)) },
    needs: detectNeeds(root, files),
  };
}

export interface TestOptions {
  /** cleanroom's state dir: the run is recorded there. */
  stateDir: string;
  tool: { name: string; version: string };
  /** An environment that is there already (its services running); it stays. */
  environment?: Environment;
  /** Otherwise a throwaway environment on this backend, with these services; neither: on the host. */
  backend?: Backend;
  services?: ServiceSpec[];
  isolated?: boolean;
  caches?: ("npm" | "cargo")[];
  parallel: boolean;
  /** node's ES module test files in one runner process, each under its own describe. */
  batch?: boolean;
  /** Per runner invocation. */
  timeoutMs?: number;
  /** The node binary for host runs. */
  node?: string;
  onEvent?: (e: UnitEvent) => void;
  onNote?: (text: string) => void;
  signal?: AbortSignal;
  /** Measure line coverage of the target's own sources while its tests run (V8, for Node tests). */
  coverage?: "v8";
  /** More variables for the tests (a crate's cargo home and target dir). */
  env?: Record<string, string>;
}

/** The target's tests, as one recorded run (dependencies installed offline first). */
export async function testGenerated(
  target: TestTarget,
  o: TestOptions,
): Promise<SessionResult & { passed: boolean; coverage?: PipelineCoverage }> {
  const { runPassed, runSession, testProject } = await loadEngine();
  let coverage: PipelineCoverage | undefined;
  const session = await runSession({
    root: target.root,
    stateDir: o.stateDir,
    kind: "ultra-fast-test",
    ...(o.environment
      ? { backend: o.environment.backend, envName: o.environment.name }
      : o.backend
        ? { backend: o.backend }
        : {}),
    ...(o.services ? { services: o.services } : {}),
    ...(o.isolated !== undefined ? { isolated: o.isolated } : {}),
    ...(o.caches ? { caches: o.caches } : {}),
    sourceRefs: [...target.sourceRefs],
    ...(target.manifest ? { manifest: target.manifest } : {}),
    tool: o.tool,
    ...(o.signal ? { signal: o.signal } : {}),
    ...(o.onNote ? { onNote: o.onNote } : {}),
    work: async (ctx) => {
      // V8 names scripts by their path as the tests see it: that path first, from the environment.
      let setup: Awaited<ReturnType<typeof v8Coverage>> | undefined;
      if (o.coverage === "v8") {
        const pwd = await ctx.exec(["pwd"], {
          cwd: ctx.workdir,
          ...(ctx.signal ? { signal: ctx.signal } : {}),
        });
        const visibleRoot = pwd.exitCode === 0 ? pwd.stdout.trim() : target.root;
        setup = await v8Coverage({ root: target.root, visibleRoot });
      }
      const r = await testProject(
        target.root,
        { ...ctx, env: { ...ctx.env, ...o.env, ...setup?.env } },
        {
          files: target.files,
          parallel: o.parallel,
          ...(o.batch ? { batch: true } : {}),
          ...(o.timeoutMs ? { timeoutMs: o.timeoutMs } : {}),
          ...(o.node ? { node: o.node } : {}),
          ...(o.onEvent ? { onEvent: o.onEvent } : {}),
        },
      );
      if (setup) coverage = await setup.read();
      return { ...r, ...(coverage?.status === "measured" ? { coveragePercent: coverage.percent } : {}) };
    },
  });
  return { ...session, passed: runPassed(session.run), ...(coverage ? { coverage } : {}) };
}

export interface TestingInput {
  readonly target: TestTarget;
  readonly environment: Environment;
  /** The services answer: the tests may start. */
  readonly prepared: Prepared;
}

export interface Tested {
  readonly run: CleanroomRun;
  /** Line coverage of the generated sources by their tests, or why there is none. */
  readonly coverage?: PipelineCoverage;
  /** The run as written into the output (.ggen/cleanroom-run.json), relative to cwd. */
  readonly runRef: Reference;
  readonly passed: boolean;
}

export const testing: Stage<TestingInput, Tested, "testing"> = {
  name: "testing",
  // The session kills what runs on abort and still records the run.
  onAbort: "finish",
  async run(ctx, input) {
    const session = await testGenerated(input.target, {
      stateDir: ctx.paths.state,
      tool: { name: "ggen", version: ctx.options.ggenVersion },
      environment: input.environment,
      parallel: true,
      // One process for the generated files: a node start-up and the project's modules once, not per file.
      batch: true,
      signal: ctx.signal,
      onNote: ctx.options.onNote,
      coverage: "v8",
    });
    const text = `${JSON.stringify(session.run, null, 2)}\n`;
    const file = join(input.target.root, ".ggen", "cleanroom-run.json");
    await writeFileAtomic(file, text);
    return {
      run: session.run,
      runRef: { path: relative(ctx.paths.cwd, file), sha256: sha256(text) },
      passed: session.passed,
      ...(session.coverage ? { coverage: session.coverage } : {}),
    };
  },
  verdict: ({ run, passed }) => {
    if (passed) return undefined;
    const s = run.summary;
    return {
      error: new GgenError(
        "TESTS_FAILED",
        `${s.failed + s.errored + s.timedOut} of ${s.total} generated tests failed`,
      ),
    };
  },
  describe: ({ run, coverage }, { prepared }) =>
    `${run.summary.passed}/${run.summary.total} passed${prepared.services.length ? ` against ${prepared.services.map((s) => s.kind).join(", ")}` : ""}${coverage ? `; coverage ${coverage.status === "measured" ? `${coverage.percent} %` : `unavailable (${coverage.reason})`}` : ""}`,
};
