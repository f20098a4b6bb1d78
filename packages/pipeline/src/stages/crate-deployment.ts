// Deployment of a crate (a pack's `[pipeline.deploy] uses = "cargo-registry"`): the packaged .crate
// published to a local file registry (the project's .ggen/deploy/registry, or the one given), then
// verified the way a user would find it — a fresh crate that depends on exactly this version compiles
// through the registry (`cargo check` when the publish dry run built the packaged crate already, else
// `cargo build`) — and the registry's index restored when it does not.

import { existsSync } from "node:fs";
import { cp, readFile, rm } from "node:fs/promises";
import { join, relative, resolve } from "node:path";
import type { Reference } from "@ggen/contract";
import { GgenError, isInside, sha256File } from "@ggen/support";
import type { PipelineContext } from "../context.js";
import type { DeclaredStatus, PipelinePlan } from "../declared/plan.js";
import { CARGO_CODEGEN_ENV } from "../declared/toolchains.js";
import type { Stage } from "../stage.js";
import type { Checked } from "./declared-checks.js";
import type { Generated } from "./generation.js";
import { releaseVerdict } from "./release-verdict.js";
import type { ToolchainReady } from "./toolchain-setup.js";

export interface CrateDeploymentInput {
  readonly generated: Generated;
  readonly ready: ToolchainReady;
  readonly checked: Checked;
}

export interface CrateDeployed {
  readonly provider: "cargo-registry";
  readonly status: "success" | "failed" | "rolled-back";
  /** name@version */
  readonly releaseId: string;
  /** The registry directory (absolute). */
  readonly registry: string;
  readonly artifact?: Reference;
  /** What the registry offers again after the rollback: the previous newest version, or "nothing". */
  readonly rolledBackTo?: string;
  /** The same version was in the registry and this build replaced it. */
  readonly replaced?: boolean;
  /** The consumer compiled against a staging copy of the registry while the checks ran. */
  readonly verifiedEarly?: boolean;
  readonly message?: string;
}

/** Where the crate goes: --deploy-registry, else the project's .ggen/deploy/registry. */
export function registryDir(ctx: PipelineContext): string {
  const given = ctx.options.deployRegistry;
  return given ? resolve(ctx.paths.cwd, given) : join(ctx.paths.cwd, ".ggen", "deploy", "registry");
}

/** The registry as the report names it: relative to the project when inside it. */
export const shownPath = (ctx: PipelineContext, dir: string) =>
  isInside(ctx.paths.cwd, dir) ? relative(ctx.paths.cwd, dir) || "." : dir;

/** The stage that packages the crate (`cargo package`), and the .crate it leaves in its lane's target dir. */
const packagingOf = (plan: PipelinePlan) =>
  plan.stages.find((s) => s.parse === "cargo-package" && s.run?.includes("package"));

/** The plan's publish dry runs that verify a build of the packaged crate. */
const verifyingPublishes = (plan: PipelinePlan) =>
  plan.stages.filter(
    (s) => s.parse === "cargo-package" && s.run?.includes("publish") && !s.run.includes("--no-verify"),
  );
const verifiedBuild = (plan: PipelinePlan) => verifyingPublishes(plan).length > 0;

const versionsIn = (indexText: string | undefined) =>
  (indexText ?? "")
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => (JSON.parse(l) as { vers: string }).vers);

/**
 * The deployment's consumer check, made while the tests still run: the packaged crate published to a
 * staging copy of the registry and a crate depending on it type-checked there. The deployment then
 * publishes the same .crate to the registry itself — a copy of what was verified — when the registry
 * is still as the copy was made; else (or when the check failed) it verifies as usual.
 */
export interface ConsumerTrial {
  readonly crateFile: string;
  /** The crate's index file in the registry when the staging copy was made (undefined: none). */
  readonly indexBefore: string | undefined;
  readonly code: number;
  readonly stderr: string;
}

export interface ConsumerTrialRun {
  /** Told of every declared stage's end: the trial starts once its lane is done and the crate packaged. */
  onEnd(stage: string, status: DeclaredStatus): void;
  /** The trial's outcome (undefined: not made, or not usable), once it has ended. */
  settled(): Promise<ConsumerTrial | undefined>;
}

/**
 * Plans the consumer trial of a run, when it can be made before the checks end: the plan deploys to a
 * cargo registry, packages the crate in a lane of its own and verifies the packaged build in a publish
 * dry run. With the lanes from the dependency set's cache, the consumer type-checks in the packaging
 * lane (every dependency is checked there already) once the dry run passed — the publish lane's slack,
 * leaving the tests the CPU while their build runs. Cold, it builds in the dry run's lane (whose
 * dependencies are built) once every other lane but one has ended: the last lane's tail leaves a core free.
 */
export function planConsumerTrial(
  ctx: PipelineContext,
  plan: PipelinePlan,
  generated: Generated,
  ready: ToolchainReady,
): ConsumerTrialRun | undefined {
  const packaging = packagingOf(plan);
  const publish = verifyingPublishes(plan)[0];
  if (plan.deploy?.uses !== "cargo-registry" || !packaging?.lane || !publish?.lane) return undefined;
  const warm = ready.toolchain.dependenciesBuilt === true;
  const lane = warm ? packaging.lane : publish.lane;
  const awaited = [packaging, publish, ...plan.stages.filter((s) => s.lane === lane)].map((s) => s.name);
  const ended = new Map<string, DeclaredStatus>();
  let trial: Promise<ConsumerTrial | undefined> | undefined;
  const laneTarget = (name: string) => ready.toolchain.lane(name).targetDir ?? join(generated.root, "target");
  const targetDir = laneTarget(lane);
  const make = async (): Promise<ConsumerTrial | undefined> => {
    const cargo = await import("@ggen/cargo");
    const toolchain = cargo.requireToolchain();
    const home = await cargo.prepareCargoHome();
    const manifestText = await readFile(join(generated.root, "Cargo.toml"), "utf8");
    const m = cargo.parseCargoManifest(manifestText);
    const crateFile = join(laneTarget(packaging.lane!), "package", `${m.name}-${m.version}.crate`);
    if (!existsSync(crateFile)) return undefined;
    const real = registryDir(ctx);
    const indexFile = join(real, "index", cargo.indexPath(m.name));
    const indexBefore = await readFile(indexFile, "utf8").catch(() => undefined);
    // A version the registry has already: its consumer needs a target dir of its own (see below).
    if (versionsIn(indexBefore).includes(m.version)) return undefined;
    // Scratch under the lane's target/tmp (which the target cache never keeps).
    const scratch = join(targetDir, "tmp", "ggen-deploy-trial");
    await rm(scratch, { recursive: true, force: true });
    try {
      const staging = await cargo.ensureFileRegistry(join(scratch, "registry"));
      if (existsSync(real)) {
        await cp(join(real, "index"), staging.indexDir, {
          recursive: true,
          filter: (src) => !/[\\/]\.git$|[\\/]config\.json$/.test(src),
        }).catch(() => undefined);
        await cp(join(real, "crates"), staging.cratesDir, { recursive: true }).catch(() => undefined);
      }
      await cargo.publishCrate(staging, crateFile, manifestText);
      const built = await cargo.buildConsumer({
        registry: staging,
        crate: { name: m.name, version: m.version, lib: m.lib },
        dir: join(scratch, "consumer"),
        toolchain,
        crateDir: home.crateDir,
        targetDir,
        env: { ...CARGO_CODEGEN_ENV },
        check: warm,
        signal: ctx.signal,
      });
      return { crateFile, indexBefore, code: built.code ?? -1, stderr: built.stderr };
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  };
  const lanesLeft = () =>
    plan.lanes.filter((l) => plan.stages.some((s) => s.lane === l && !ended.has(s.name))).length;
  return {
    onEnd(stage, status) {
      ended.set(stage, status);
      if (trial || ctx.signal.aborted) return;
      if (!awaited.every((s) => ended.get(s) === "passed")) return;
      if (!warm && lanesLeft() > 1) return;
      trial = make().catch(() => undefined);
    },
    settled: () => trial ?? Promise.resolve(undefined),
  };
}

export const crateDeployment: Stage<CrateDeploymentInput, CrateDeployed, "deployment"> = {
  name: "deployment",
  // A publish is never cut off half-way; over --timeout the run fails afterwards.
  onAbort: "finish",
  async run(ctx, { generated, ready, checked }) {
    const cargo = await import("@ggen/cargo");
    const toolchain = cargo.requireToolchain();
    const home = await cargo.prepareCargoHome();
    const manifestText = await readFile(join(generated.root, "Cargo.toml"), "utf8");
    const m = cargo.parseCargoManifest(manifestText);
    const releaseId = `${m.name}@${m.version}`;
    const crateName = `${m.name}-${m.version}.crate`;
    // The .crate a packaging stage of this run made (in its lane's target dir), else one made now.
    const packaging = packagingOf(checked.plan);
    let crateFile = packaging
      ? join(ready.toolchain.lane(packaging.lane).targetDir ?? "", "package", crateName)
      : "";
    // The build lane's target dir has the dependencies built (not only checked): the consumer builds there.
    const buildTarget =
      ready.toolchain.lane(checked.plan.stages.find((s) => s.gate === "build")?.lane).targetDir ??
      join(generated.root, "target");
    if (!packaging || !existsSync(crateFile)) {
      const target = buildTarget;
      const r = await cargo.runTool(toolchain.cargo, ["package", "--no-verify", "--allow-dirty", "--quiet"], {
        cwd: generated.root,
        env: {
          ...process.env,
          ...toolchain.env,
          ...home.env,
          ...CARGO_CODEGEN_ENV,
          CARGO_TARGET_DIR: target,
        },
        signal: ctx.signal,
      });
      crateFile = join(target, "package", crateName);
      if (r.code !== 0 || !existsSync(crateFile))
        throw new GgenError(
          "PACKAGE_FAILED",
          `cargo package failed: ${r.stderr.split("\n").find((l) => l.startsWith("error")) ?? r.stderr.trim()}`,
        );
    }
    // When the publish dry run verified a build of the packaged crate, the consumer only type-checks
    // (in the lane whose dependencies are checked: a lint or docs lane); otherwise it builds.
    const verified = verifiedBuild(checked.plan);
    const checkLane = checked.plan.stages.find((s) => s.gate === "lint" || s.gate === "docs")?.lane;
    const consumerTarget = verified
      ? (ready.toolchain.lane(checkLane).targetDir ?? buildTarget)
      : buildTarget;
    const dir = registryDir(ctx);
    const registry = await cargo.ensureFileRegistry(dir);
    // The consumer checked this .crate already, against a copy of the registry as it still is.
    const trial = checked.consumerTrial;
    const indexNow = () =>
      readFile(join(registry.indexDir, cargo.indexPath(m.name)), "utf8").catch(() => undefined);
    const tried =
      trial?.code === 0 && trial.crateFile === crateFile && (await indexNow()) === trial.indexBefore;
    const published = await cargo.publishCrate(registry, crateFile, manifestText);
    const artifact = {
      path: shownPath(ctx, published.crateFile),
      sha256: await sha256File(published.crateFile),
    };
    if (tried && !published.replaced)
      return {
        provider: "cargo-registry",
        releaseId,
        registry: dir,
        artifact,
        status: "success",
        verifiedEarly: true,
      };
    const built = await cargo.buildConsumer({
      registry,
      crate: { name: m.name, version: m.version, lib: m.lib },
      dir: join(ctx.paths.cwd, ".ggen", "deploy", "verify", m.name),
      toolchain,
      crateDir: home.crateDir,
      // The crate's target dir spares rebuilding its dependencies, but cargo never rebuilds a registry
      // crate it has built before under the same name and version: a replaced version gets a fresh one.
      ...(published.replaced ? {} : { targetDir: consumerTarget }),
      env: { ...CARGO_CODEGEN_ENV },
      check: verified,
    });
    const base = { provider: "cargo-registry" as const, releaseId, registry: dir, artifact };
    if (built.code === 0)
      return { ...base, status: "success", ...(published.replaced ? { replaced: true } : {}) };
    await cargo.restoreIndex(registry, published.snapshot);
    const why =
      built.stderr
        .split("\n")
        .map((l) => l.trim())
        .find((l) => l.startsWith("error")) ?? `cargo exited ${built.code}`;
    return {
      ...base,
      status: "rolled-back",
      rolledBackTo: published.previousVersion ? `${m.name}@${published.previousVersion}` : "nothing",
      message: `a crate depending on ${releaseId} does not ${verified ? "compile" : "build"} from the registry: ${why}`,
    };
  },
  verdict: releaseVerdict,
  describe: (d, _input, ctx) =>
    `${d.releaseId} published to ${shownPath(ctx, d.registry)}${d.replaced ? " (the same version replaced)" : ""}; a crate depending on it compiles${d.verifiedEarly ? " (verified against a staging copy while the checks ran)" : ""}`,
};
