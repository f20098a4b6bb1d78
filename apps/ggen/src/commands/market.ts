// `ggen market …`: find, install and manage template packs (@ggen/marketplace).
import { defineCommand } from "@ggen/reporter";
import { output } from "../context.js";
import { list, type MarketFlags, marketOptions, marketTable, searchCommand, usage } from "./market-search.js";

const search = searchCommand(async () => ({
  searchCatalog: (await import("@ggen/marketplace")).searchCatalog,
  table: (await import("@ggen/reporter")).table,
}));

const short = (s: string) => s.slice(0, 12);

function describeChanges(changes: { id: string; from?: string; to: string; action: string }[]): string {
  const moved = changes.filter((c) => c.action !== "unchanged");
  if (moved.length === 0) return "nothing to do; everything is up to date";
  return moved
    .map((c) => {
      switch (c.action) {
        case "installed":
          return `installed ${c.id}@${c.to}`;
        case "updated":
          return `updated ${c.id} ${c.from} -> ${c.to}`;
        case "removed":
          return `removed ${c.id}@${c.from} (no longer needed)`;
        default:
          return `reinstalled ${c.id}@${c.to}`;
      }
    })
    .join("\n");
}

interface AddFlags {
  packs: string[];
  version?: string;
  force: boolean;
  deps: boolean;
}

/** Aborted on Ctrl-C while `run` lasts, so a download stops and nothing is installed. */
async function interruptible<T>(run: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const ac = new AbortController();
  const abort = () => ac.abort();
  process.on("SIGINT", abort);
  try {
    return await run(ac.signal);
  } finally {
    process.off("SIGINT", abort);
  }
}

const add = defineCommand<AddFlags, MarketFlags>()({
  command: "add <packs..>",
  describe: "Install packs (id or id@range) and their dependencies into .ggen/packages, pinned in ggen.lock",
  positionals: {
    packs: {
      type: "string",
      array: true,
      describe: "Pack ids, optionally with @<semver range>",
    },
  },
  options: {
    version: {
      type: "string",
      describe: "The version (or semver range) of the one pack named: the same as <pack>@<version>",
    },
    force: { type: "boolean", default: false, describe: "Reinstall even when already installed" },
    deps: {
      type: "boolean",
      default: true,
      describe: "Install dependencies (--no-deps to skip)",
    },
  },
  examples: [
    ["ggen market add io.ggen.rust-cli", "Install the newest version"],
    ["ggen market add io.ggen.docs --version 1.0.0", "Install one version"],
    ["ggen market add io.ggen.node-cli@^1.0 io.ggen.docs", "Install several, one with a range"],
  ],
  handler: async (argv) => {
    const out = output(argv);
    const m = await import("@ggen/marketplace");
    const { Progress } = await import("@ggen/reporter");
    let packs = list(argv.packs);
    if (argv.version !== undefined) {
      const version = String(argv.version).trim();
      if (packs.length !== 1 || packs[0]!.includes("@") || version === "")
        throw usage(
          version === ""
            ? "--version needs a version, such as --version 1.0.0"
            : "--version applies to one pack named without @<range>: 'ggen market add <pack> --version <version>'",
        );
      packs = [`${packs[0]}@${version}`];
    }
    const progress = new Progress({ enabled: !out.json && !out.options.quiet });
    const result = await interruptible((signal) =>
      progress.run(`installing ${packs.join(", ")}`, () =>
        m.addPacks(packs, {
          ...marketOptions(argv, out),
          force: argv.force === true,
          noDeps: argv.deps === false,
          signal,
        }),
      ),
    );
    out.data(result.changes, () => describeChanges(result.changes));
  },
});

const remove = defineCommand<{ packs: string[]; force: boolean }, MarketFlags>()({
  command: "remove <packs..>",
  aliases: ["rm"],
  describe: "Remove installed packs (and dependencies nothing else needs)",
  positionals: { packs: { type: "string", array: true, describe: null } },
  options: {
    force: {
      type: "boolean",
      default: false,
      describe: "Remove even when another pack depends on it",
    },
  },
  examples: [["ggen market remove io.ggen.docs", "Uninstall a pack"]],
  handler: async (argv) => {
    const out = output(argv);
    const m = await import("@ggen/marketplace");
    const r = await m.removePacks(list(argv.packs), {
      ...marketOptions(argv, out),
      force: argv.force === true,
    });
    out.data({ removed: r.removed }, () => r.removed.map((id) => `removed ${id}`).join("\n"));
  },
});

const listCmd = defineCommand<{ installed: boolean; updates: boolean }, MarketFlags>()({
  command: "list",
  aliases: ["ls"],
  describe:
    "List available packs, or installed ones (--installed), or installed ones with newer versions (--updates)",
  options: {
    installed: {
      type: "boolean",
      default: false,
      describe: "Only packs installed in this project",
    },
    updates: {
      type: "boolean",
      default: false,
      describe: "Installed packs with a newer version",
    },
  },
  examples: [
    ["ggen market list --installed", "What this project has"],
    ["ggen market list --updates", "What could be updated"],
  ],
  handler: async (argv) => {
    const out = output(argv);
    const m = await import("@ggen/marketplace");
    const { table } = await import("@ggen/reporter");
    if (argv.installed || argv.updates) {
      const installed = await m.installedPacks(process.cwd());
      let rows = installed.map((p) => ({
        id: p.id,
        version: p.version,
        latest: undefined as string | undefined,
        requested: p.requested,
        sha256: p.sha256,
        dependency: p.requested === null,
      }));
      if (argv.updates) {
        const catalog = await m.loadCatalog(marketOptions(argv, out));
        for (const r of rows) {
          const e = catalog.packs.get(r.id);
          if (e) r.latest = m.latestVersion(e.pack).version;
        }
        rows = rows.filter((r) => r.latest !== undefined && m.isNewer(r.latest, r.version));
      }
      out.data(rows, () =>
        rows.length === 0
          ? argv.updates
            ? "everything is up to date"
            : "no packs installed; see 'ggen market search'"
          : table(rows, [
              { header: "ID", value: (r) => r.id },
              { header: "VERSION", value: (r) => r.version },
              ...(argv.updates
                ? [{ header: "LATEST", value: (r: (typeof rows)[number]) => r.latest ?? "" }]
                : []),
              { header: "REQUESTED", value: (r) => r.requested ?? "(dependency)" },
              { header: "SHA256", value: (r) => short(r.sha256) },
            ]),
      );
      return;
    }
    const catalog = await m.loadCatalog(marketOptions(argv, out));
    const rows = catalog.list
      .map((p) => ({
        id: p.id,
        version: m.latestVersion(p).version,
        quality: p.quality.score,
        category: p.category,
        description: p.description,
      }))
      .sort((a, b) => a.id.localeCompare(b.id));
    out.data(rows, () =>
      table(rows, [
        { header: "ID", value: (r) => r.id },
        { header: "VERSION", value: (r) => r.version },
        { header: "QUALITY", value: (r) => r.quality, align: "right" },
        { header: "CATEGORY", value: (r) => r.category },
        { header: "DESCRIPTION", value: (r) => r.description, max: 50 },
      ]),
    );
  },
});

const info = defineCommand<{ id: string; "show-quality": boolean }, MarketFlags>()({
  command: "info <id>",
  describe: "Show a pack: versions, templates, dependencies, checksums (and --show-quality)",
  positionals: { id: { type: "string", describe: null } },
  options: {
    "show-quality": { type: "boolean", default: false, describe: "Show the quality score's parts" },
  },
  examples: [["ggen market info io.ggen.redis-service --show-quality", "Details and quality breakdown"]],
  handler: async (argv) => {
    const out = output(argv);
    const m = await import("@ggen/marketplace");
    const { GgenError } = await import("@ggen/contract");
    const id = String(argv.id);
    const catalog = await m.loadCatalog(marketOptions(argv, out));
    const entry = catalog.packs.get(id);
    if (!entry)
      throw new GgenError(
        "UNKNOWN_PACK",
        `unknown pack '${id}'${m.didYouMeanPack(id, catalog.packs.keys())}`,
        {
          kind: "usage",
        },
      );
    const p = entry.pack;
    const data = { ...p, registry: entry.registry.source.spec };
    out.data(data, () => {
      const lines = [
        `${p.id}  ${p.name}`,
        p.description,
        "",
        `category: ${p.category}   license: ${p.license}   downloads: ${p.downloads}   quality: ${p.quality.score}/100`,
        ...(p.homepage ? [`homepage: ${p.homepage}`] : []),
        `tags: ${p.tags.join(", ")}`,
        `keywords: ${p.keywords.join(", ")}`,
        `registry: ${entry.registry.source.spec}`,
      ];
      if (argv["show-quality"]) {
        lines.push("", "quality:");
        for (const [k, v] of Object.entries(p.quality.parts))
          lines.push(`  ${k.padEnd(16)} ${String(v).padStart(3)}`);
        lines.push(`  ${"score".padEnd(16)} ${String(p.quality.score).padStart(3)}`);
      }
      lines.push("", "templates:");
      for (const t of p.templates ?? [])
        lines.push(`  ${p.id}:${t.name}${t.description ? `  ${t.description}` : ""}`);
      lines.push("", "versions:");
      for (const v of [...p.versions].reverse()) {
        const deps = Object.entries(v.dependencies ?? {})
          .map(([d, r]) => `${d} ${r}`)
          .join(", ");
        lines.push(
          `  ${v.version.padEnd(10)} sha256 ${v.sha256}  ${v.size} B  ${v.published.slice(0, 10)}${v.ggen ? `  ggen ${v.ggen}` : ""}${v.yanked ? "  (yanked)" : ""}`,
        );
        if (deps) lines.push(`             depends on ${deps}`);
      }
      return lines.join("\n");
    });
  },
});

const categories = defineCommand<Record<never, never>, MarketFlags>()({
  command: "categories",
  describe: "List pack categories with counts",
  examples: [["ggen market categories", "What kinds of packs exist"]],
  handler: async (argv) => {
    const out = output(argv);
    const m = await import("@ggen/marketplace");
    const { table } = await import("@ggen/reporter");
    const catalog = await m.loadCatalog(marketOptions(argv, out));
    const counts = new Map<string, number>();
    for (const p of catalog.list) counts.set(p.category, (counts.get(p.category) ?? 0) + 1);
    const rows = [...counts]
      .map(([category, packs]) => ({ category, packs }))
      .sort((a, b) => b.packs - a.packs || a.category.localeCompare(b.category));
    out.data(rows, () =>
      table(rows, [
        { header: "CATEGORY", value: (r) => r.category },
        { header: "PACKS", value: (r) => r.packs, align: "right" },
      ]),
    );
  },
});

const update = defineCommand<{ ids?: string[]; latest: boolean }, MarketFlags>()({
  command: "update [ids..]",
  describe: "Update installed packs within their ranges (--latest: to the newest version)",
  positionals: { ids: { type: "string", array: true, describe: null } },
  options: {
    latest: {
      type: "boolean",
      default: false,
      describe: "Ignore the requested range; take the newest",
    },
  },
  examples: [
    ["ggen market update", "Update everything within its range"],
    ["ggen market update io.ggen.node-cli --latest", "Move one pack to its newest version"],
  ],
  handler: async (argv) => {
    const out = output(argv);
    const m = await import("@ggen/marketplace");
    const r = await interruptible((signal) =>
      m.updatePacks(list(argv.ids), {
        ...marketOptions(argv, out),
        latest: argv.latest === true,
        signal,
      }),
    );
    out.data(r.changes, () => describeChanges(r.changes));
  },
});

const verify = defineCommand<Record<never, never>, MarketFlags>()({
  command: "verify",
  describe:
    "Check every installed pack against ggen.lock, file for file, and that its SPARQL queries declare their prefixes (exit 1 when any does not)",
  examples: [["ggen market verify", "Check nothing was changed by hand"]],
  handler: async (argv) => {
    const out = output(argv);
    const m = await import("@ggen/marketplace");
    const { GgenError } = await import("@ggen/contract");
    const rows = await m.verifyPacks(marketOptions(argv, out));
    out.data(rows, () =>
      rows.length === 0
        ? "no packs installed"
        : rows
            .map(
              (r) =>
                `${r.status === "ok" ? "ok      " : r.status.padEnd(8)} ${r.version ? `${r.id}@${r.version}` : r.id}${r.problems.length > 0 ? `: ${r.problems.join("; ")}` : ""}`,
            )
            .join("\n"),
    );
    const bad = rows.filter((r) => r.status !== "ok");
    if (bad.length > 0)
      throw new GgenError(
        "VERIFY_FAILED",
        `${bad.length} pack(s) do not match ggen.lock: ${bad.map((b) => `${b.id} (${b.status})`).join(", ")}`,
        {
          hint: bad.every((b) => b.status === "undeclared-prefix")
            ? "the pack's queries need PREFIX declarations; tell its author"
            : "run 'ggen market add --force <id>' to reinstall",
        },
      );
  },
});

export const marketCommand = defineCommand<MarketFlags>()({
  ...marketTable,
  subcommands: [search, add, remove, listCmd, info, categories, update, verify],
  requireSubcommand: "name a market command; see 'ggen market --help'",
  examples: [
    ["ggen market search rust", "Find packs"],
    ["ggen market add io.ggen.rust-cli", "Install a pack"],
    ["ggen market list --installed", "Installed packs"],
  ],
});
