// `ggen market search`, and what every market command shares (the `market` flags). Kept apart from the
// other market commands: the search-only entry (src/market-search-main.ts) is built from this file with its
// packages bundled in, so a search loads only the search code; the full program uses it too — one handler,
// the same output.
import { GgenError } from "@ggen/contract";
import type { searchCatalog } from "@ggen/marketplace";
import { type CommandArgs, defineCommand, type table } from "@ggen/reporter";
import pkg from "../../package.json" with { type: "json" };
import { type Output, output } from "../context.js";

/** The flags `market` declares for every market command. */
export interface MarketFlags {
  registry?: string[];
  offline: boolean;
}

/** `market` itself: its words and the flags its commands share (marketCommand adds the commands). */
export const marketTable = {
  command: "market <command>",
  describe: "Find, install and manage template packs",
  options: {
    registry: {
      type: "string",
      array: true,
      describe:
        "Registry dir, index file, file:// or http(s):// URL (repeatable; first wins). Default: $GGEN_REGISTRY, .ggen/config.toml, the bundled registry",
    },
    offline: {
      type: "boolean",
      default: false,
      describe: "Use only cached indexes and archives",
    },
  },
} as const;

export function marketOptions(argv: CommandArgs<MarketFlags>, out: Output) {
  const registries = ([] as unknown[])
    .concat(argv.registry ?? [])
    .filter((r): r is string => typeof r === "string" && r.length > 0);
  return {
    projectDir: process.cwd(),
    ...(registries.length > 0 ? { registries } : {}),
    offline: argv.offline === true,
    ggenVersion: pkg.version,
    onWarning: (m: string) => out.warn(m),
  };
}

export const list = (v: unknown): string[] =>
  ([] as unknown[])
    .concat(v ?? [])
    .flatMap((x) => String(x).split(","))
    .map((s) => s.trim())
    .filter(Boolean);

export function usage(msg: string): Error {
  return new GgenError("USAGE", msg, { kind: "usage" });
}

interface SearchFlags {
  query?: string[];
  tags?: string;
  category?: string;
  "min-quality"?: number;
  limit: number;
}

/** What the search needs of @ggen/marketplace and @ggen/reporter: loaded on first use by the full program,
 * bundled in by the search-only entry. */
export interface SearchTools {
  searchCatalog: typeof searchCatalog;
  table: typeof table;
}

export function searchCommand(tools: () => Promise<SearchTools>) {
  return defineCommand<SearchFlags, MarketFlags>()({
    command: "search [query..]",
    describe: "Search packs by id, name, keyword, tag and description (typo-tolerant)",
    positionals: { query: { type: "string", array: true, describe: "Words to look for" } },
    options: {
      tags: { type: "string", describe: "Only packs with all these tags (comma-separated)" },
      category: { type: "string", describe: "Only packs in this category" },
      "min-quality": {
        type: "number",
        describe: "Only packs with at least this quality score (0-100)",
      },
      limit: { type: "number", default: 20, describe: "At most this many results" },
    },
    examples: [
      ["ggen market search rust cli", "Packs about Rust CLIs"],
      ["ggen market search --tags production --min-quality 80", "Well-rated production packs"],
    ],
    handler: async (argv) => {
      const out = output(argv);
      const { searchCatalog, table } = await tools();
      const limit = Number(argv.limit);
      if (!Number.isInteger(limit) || limit < 1) throw usage("--limit must be a positive integer");
      const minQ = argv["min-quality"] as number | undefined;
      if (minQ !== undefined && (Number.isNaN(minQ) || minQ < 0 || minQ > 100))
        throw usage("--min-quality must be between 0 and 100");
      const query = list(argv.query).join(" ");
      const tags = list(argv.tags);
      const hits = await searchCatalog(
        query,
        {
          limit,
          ...(tags.length ? { tags } : {}),
          ...(typeof argv.category === "string" ? { category: argv.category } : {}),
          ...(minQ !== undefined ? { minQuality: minQ } : {}),
        },
        marketOptions(argv, out),
      );
      const rows = hits.map((h) => ({
        id: h.pack.id,
        version: h.pack.version,
        quality: h.pack.quality.score,
        downloads: h.pack.downloads,
        category: h.pack.category,
        description: h.pack.description,
        score: Math.round(h.score * 100) / 100,
        matched: h.matched,
      }));
      out.data(rows, () =>
        rows.length === 0
          ? `no packs match '${query}'`
          : table(rows, [
              { header: "ID", value: (r) => r.id },
              { header: "VERSION", value: (r) => r.version },
              { header: "QUALITY", value: (r) => r.quality, align: "right" },
              { header: "DESCRIPTION", value: (r) => r.description, max: 60 },
            ]),
      );
    },
  });
}
