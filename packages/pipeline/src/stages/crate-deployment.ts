// Deployment of a crate (a pack's `[pipeline.deploy] uses = "cargo-registry"`): the packaged .crate
// published to a local file registry (the project's .ggen/deploy/registry, or the one given), then
// verified the way a user would find it — a fresh crate that depends on exactly this version compiles
// through the registry (`cargo check` when the publish dry run built the packaged crate already, else
// `cargo build`) — and the registry's index restored when it does not.

import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join, relative, resolve } from "node:path";
import type { Reference } from "@ggen/contract";
import { GgenError, isInside, sha256File } from "@ggen/support";
import type { PipelineContext } from "../context.js";
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
    const packaging = checked.plan.stages.find(
      (s) => s.parse === "cargo-package" && s.run?.includes("package"),
    );
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
    const verified = checked.plan.stages.some(
      (s) => s.parse === "cargo-package" && s.run?.includes("publish") && !s.run.includes("--no-verify"),
    );
    const checkLane = checked.plan.stages.find((s) => s.gate === "lint" || s.gate === "docs")?.lane;
    const consumerTarget = verified
      ? (ready.toolchain.lane(checkLane).targetDir ?? buildTarget)
      : buildTarget;
    const dir = registryDir(ctx);
    const registry = await cargo.ensureFileRegistry(dir);
    const published = await cargo.publishCrate(registry, crateFile, manifestText);
    const artifact = {
      path: shownPath(ctx, published.crateFile),
      sha256: await sha256File(published.crateFile),
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
    `${d.releaseId} published to ${shownPath(ctx, d.registry)}${d.replaced ? " (the same version replaced)" : ""}; a crate depending on it compiles`,
};
