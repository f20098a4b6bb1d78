// Generation: the pack's templates (one, or all of them) rendered into the output dir with the run's
// vars, and the generation manifest that lists every file with its digest.

import { readFile } from "node:fs/promises";
import { relative } from "node:path";
import type { GenerationManifest, Reference } from "@ggen/contract";
import { sha256 } from "@ggen/support";
import type { Stage } from "../stage.js";
import type { ResolvedPack } from "./marketplace.js";

export interface Generated {
  /** The output dir. */
  readonly root: string;
  readonly manifest: GenerationManifest;
  /** The manifest file, relative to the project (cwd). */
  readonly manifestRef?: Reference;
  readonly files: number;
}

/** The pack, and who wants each output as soon as it is rendered (before anything is written). */
export interface GenerationInput extends ResolvedPack {
  readonly onRendered?: (output: { path: string; content: string }) => void;
}

export const generation: Stage<GenerationInput, Generated, "generation"> = {
  name: "generation",
  onAbort: "stop-waiting",
  async run(ctx, pack) {
    // The graph host (a thread that compiles oxigraph, ≈ 0.3–0.6 s) starts now, beside the pack's and its
    // templates' reading, not when the first template asks for the graph.
    if (pack.installed.manifest.graphs.files.length > 0) (await import("@ggen/rdf")).prepareGraphHost();
    const generator = await import("@ggen/generator");
    const o = ctx.options;
    const g = await generator.generate({
      templates: [{ pack: pack.installed, ...(pack.ref.template ? { template: pack.ref.template } : {}) }],
      cwd: o.cwd,
      outputDir: ctx.paths.output,
      vars: { name: o.name, ...(o.version ? { version: o.version } : {}), ...o.vars },
      force: true,
      // Compiled templates are kept between runs, as `ggen gen` keeps them.
      cacheDir: o.cache.templates,
      onWarn: o.onNote,
      ...(pack.onRendered ? { onRendered: pack.onRendered } : {}),
    });
    return {
      root: ctx.paths.output,
      manifest: g.manifest,
      ...(g.manifestPath
        ? {
            manifestRef: {
              path: relative(o.cwd, g.manifestPath),
              sha256: sha256(await readFile(g.manifestPath)),
            },
          }
        : {}),
      files: g.files.length,
    };
  },
  describe: (g) => `${g.files} files`,
};
