// Marketplace: the pack asked for (or, with --first, the best match for a query) resolved in the
// registries and installed into the project, pinned in ggen.lock.

import type { PackRef, TemplateRef } from "@ggen/contract";
import { GgenError } from "@ggen/support";
import type { Stage } from "../stage.js";

export interface ResolvedPack {
  /** The pack as resolved: `pack` is an installed pack's id, `template` as asked. */
  readonly ref: TemplateRef;
  /** The installed pack, read once (the generator takes it as it is). */
  readonly installed: PackRef;
  readonly version: string;
  readonly sha256: string;
  /** Where it is installed. */
  readonly dir: string;
}

export const marketplace: Stage<TemplateRef, ResolvedPack, "marketplace"> = {
  name: "marketplace",
  onAbort: "stop-waiting",
  async run(ctx, asked) {
    const market = await import("@ggen/marketplace");
    const o = ctx.options;
    const marketOpts = {
      projectDir: o.cwd,
      ggenVersion: o.ggenVersion,
      onWarning: o.onNote,
      ...(o.registries?.length ? { registries: o.registries } : {}),
      ...(o.offline ? { offline: true } : {}),
    };
    const catalog = await market.loadCatalog(marketOpts);
    let id = asked.pack;
    if (!catalog.packs.has(id)) {
      const hits = market.search(catalog.list, asked.pack, { limit: 5 });
      if (o.first && hits[0]) id = hits[0].pack.id;
      else {
        const hint = hits[0]
          ? `did you mean '${hits[0].pack.id}'? (or pass --first)`
          : "try 'ggen market search'";
        throw new GgenError("UNKNOWN_PACK", `no pack '${asked.pack}' in the registry`, {
          kind: "usage",
          hint,
        });
      }
    }
    await market.addPacks([id], { ...marketOpts, catalog });
    const installed = await market.installedPack(o.cwd, id);
    return {
      ref: { ...asked, pack: id },
      installed,
      version: installed.version,
      sha256: installed.sha256,
      dir: installed.dir,
    };
  },
  describe: (pack) => `${pack.ref.pack}@${pack.version}`,
};
