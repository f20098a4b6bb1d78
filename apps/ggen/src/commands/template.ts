// `ggen template …` and its alias `ggen gen`: render templates (@ggen/generator), list, inspect and
// check vars. The generator is imported lazily so `--help` stays fast.

import { type CommandArgs, defineCommand, type OptionTable } from "@ggen/reporter";
import { cacheDir, type Output, output } from "../context.js";

/** The flags of `template generate`, `template batch-generate` and `gen`. */
interface GenerateFlags {
  vars?: string[];
  "vars-file"?: string[];
  "output-dir": string;
  graph?: string[];
  "packs-dir"?: string;
  force: boolean;
  "dry-run": boolean;
  diff: boolean;
  check: boolean;
  /** `--no-manifest` (false) writes none, like `--manifest none`. */
  manifest?: string | false;
  "allow-hooks": boolean;
  seed?: string;
  now?: string;
  "max-parallel": number;
  "query-timeout"?: string;
  watch: boolean;
  plan?: string;
  merge?: "three-way" | "generated-wins" | "manual-wins" | "fail-on-conflict";
  prune: boolean;
  full: boolean;
}

const strings = (v: unknown): string[] =>
  ([] as unknown[])
    .concat(v ?? [])
    .map((x) => String(x))
    .filter((s) => s.length > 0);

const generateFlags: OptionTable<GenerateFlags> = {
  vars: {
    type: "string",
    array: true,
    describe: "A template var as name=value (repeatable)",
  },
  "vars-file": {
    type: "string",
    array: true,
    describe: "Vars from a .yaml/.yml/.json/.toml file (repeatable; --vars win)",
  },
  "output-dir": { alias: "o", type: "string", default: ".", describe: "Where files are written" },
  graph: {
    type: "string",
    array: true,
    describe:
      "RDF graph file to use instead of the pack's default graphs (repeatable); refused (exit 2) when no template of the run reads a graph",
  },
  "packs-dir": {
    type: "string",
    describe: "Installed packs (default .ggen/packages)",
  },
  force: {
    type: "boolean",
    default: false,
    describe:
      "Overwrite files ggen did not generate here; without --merge, conflicts go to the new render (generated-wins). Protected regions are kept",
  },
  merge: {
    choices: ["three-way", "generated-wins", "manual-wins", "fail-on-conflict"],
    describe:
      "Your edits vs the new render where both changed the same lines: three-way (default: conflict markers, exit 1), generated-wins, manual-wins, fail-on-conflict (write nothing)",
  },
  prune: {
    type: "boolean",
    default: false,
    describe:
      "Delete orphans (outputs no template produces any more) you did not edit; edited ones are kept and listed",
  },
  plan: {
    type: "string",
    describe:
      "Write nothing but this generation-plan/v1 (actions, digests, diffs); 'ggen apply FILE' carries it out",
  },
  full: {
    type: "boolean",
    default: false,
    describe: "Render every output, also those whose inputs did not change since the last generation",
  },
  "dry-run": {
    type: "boolean",
    default: false,
    describe: "Write nothing; list the planned actions",
  },
  diff: { type: "boolean", default: false, describe: "Print unified diffs of what would change" },
  check: {
    type: "boolean",
    default: false,
    describe: "Write nothing; exit 1 when any output differs from disk (drift)",
  },
  manifest: {
    type: "string",
    describe:
      "Manifest (the lock regeneration merges against), default <output-dir>/.ggen/manifest.json; 'none': no lock",
  },
  "allow-hooks": {
    type: "boolean",
    default: false,
    describe: "Run sh_before/sh_after hooks (pack hooks also need the pack trusted in ggen.toml)",
  },
  seed: { type: "string", describe: "Determinism seed for uuid/now (overrides the templates')" },
  now: { type: "string", describe: "The instant the now helper returns (ISO date)" },
  "max-parallel": { type: "number", default: 8, describe: "Templates rendered concurrently" },
  "query-timeout": {
    type: "string",
    describe:
      "Stop any one SPARQL query after this long (30s, 2m; default 30s or GGEN_QUERY_TIMEOUT): exit 1",
  },
  watch: {
    type: "boolean",
    default: false,
    describe:
      "Generate, then again on every change of the templates, graphs or vars files (debounced), printing what changed; Ctrl-C stops (writes are atomic)",
  },
};

const packsDirFlag = {
  "packs-dir": { type: "string", describe: "Installed packs (default .ggen/packages)" },
} as const satisfies OptionTable<{ "packs-dir"?: string }>;

async function runGenerate(argv: CommandArgs<GenerateFlags>, templates: string[]): Promise<void> {
  const out = output(argv);
  const { GgenError } = await import("@ggen/contract");
  const { generate } = await import("@ggen/generator");
  const { parseDuration, parseKeyValues } = await import("@ggen/support");
  const maxParallel = Number(argv["max-parallel"] ?? 8);
  if (!Number.isInteger(maxParallel) || maxParallel < 1) {
    throw new GgenError("USAGE", "--max-parallel must be a positive integer", { kind: "usage" });
  }
  if (argv.check === true && argv["dry-run"] === true) {
    throw new GgenError(
      "USAGE",
      "--check and --dry-run cannot be combined (--check already writes nothing)",
      {
        kind: "usage",
      },
    );
  }
  if (typeof argv.plan === "string" && (argv.check === true || argv["dry-run"] === true)) {
    throw new GgenError("USAGE", "--plan already writes nothing; drop --check / --dry-run", {
      kind: "usage",
    });
  }
  const manifest = argv.manifest;
  const mode = argv.check === true ? "check" : argv["dry-run"] === true ? "dry-run" : "write";
  const { Progress } = await import("@ggen/reporter");
  const progress = new Progress({ enabled: !out.json && !out.options.quiet });
  const label =
    templates.length === 1 ? `generating ${templates[0]}` : `generating ${templates.length} templates`;
  if (argv.watch === true && mode === "check") {
    throw new GgenError("USAGE", "--watch and --check cannot be combined", { kind: "usage" });
  }
  if (argv.watch === true && typeof argv.plan === "string") {
    throw new GgenError("USAGE", "--watch and --plan cannot be combined", { kind: "usage" });
  }
  const options: import("@ggen/generator").GenerateOptions = {
    templates,
    cwd: process.cwd(),
    outputDir: String(argv["output-dir"] ?? "."),
    vars: parseKeyValues(strings(argv.vars), {
      flag: "--vars",
      code: "VARS_SYNTAX",
      example: "name=shop",
    }),
    varsFiles: strings(argv["vars-file"]),
    ...(argv.graph !== undefined ? { graphs: strings(argv.graph) } : {}),
    ...(typeof argv["packs-dir"] === "string" ? { packsDir: argv["packs-dir"] } : {}),
    force: argv.force === true,
    mode,
    diff: argv.diff === true,
    ...(typeof manifest === "string" ? { manifest: manifest === "none" ? false : manifest } : {}),
    ...(manifest === false ? { manifest: false } : {}),
    allowHooks: argv["allow-hooks"] === true,
    ...(typeof argv.seed === "string" ? { seed: argv.seed } : {}),
    ...(typeof argv.now === "string" ? { now: argv.now } : {}),
    maxParallel,
    ...(argv.merge !== undefined ? { merge: argv.merge } : {}),
    prune: argv.prune === true,
    full: argv.full === true,
    ...(typeof argv.plan === "string" ? { plan: argv.plan } : {}),
    ...(argv["query-timeout"] !== undefined
      ? { queryTimeoutMs: parseDuration(argv["query-timeout"], { flag: "--query-timeout" }) }
      : {}),
    cacheDir: cacheDir("templates"),
    onWarn: (w) => out.warn(w),
    onInfo: (m) => out.info(m),
  };
  if (argv.watch === true) {
    await watch(out, options, mode);
    return;
  }
  const result = await progress.run(label, () => printViolations(generate(options)));
  report(out, result, typeof argv.plan === "string" ? "plan" : mode);
  if (mode === "check" && result.drift) {
    const n = new Set(result.files.filter((f) => f.differs).map((f) => f.path)).size;
    const orphans = result.orphans.filter((o) => o.status !== "gone").length;
    process.stderr.write(
      `ggen: drift: ${n} file(s) differ from what the templates generate${
        orphans ? `; ${orphans} orphan(s) no template produces` : ""
      }\n`,
    );
    process.exitCode = 1;
  }
  if (mode === "write" && argv.plan === undefined && result.conflicts.length) {
    process.stderr.write(
      `ggen: ${result.conflicts.length} file(s) with conflict markers: ${result.conflicts.join(", ")}\n`,
    );
    process.exitCode = 1;
  }
}

/** `--watch`: a run now and on every change, until Ctrl-C (SIGINT) or SIGTERM. */
async function watch(
  out: Output,
  options: import("@ggen/generator").GenerateOptions,
  mode: string,
): Promise<void> {
  const { watchGenerate } = await import("@ggen/generator");
  const stop = new AbortController();
  const abort = () => stop.abort();
  process.once("SIGINT", abort);
  process.once("SIGTERM", abort);
  try {
    await watchGenerate(options, {
      signal: stop.signal,
      onReady: (paths) => out.info(`watching ${paths.join(", ")} (Ctrl-C to stop)`),
      onRun: ({ changed, result, error }) => {
        if (changed.length) out.info(`changed: ${changed.join(", ")}`);
        if (result) report(out, result, mode);
        if (error) {
          const many = (error as { violations?: { toLine(): string }[] }).violations;
          const one = error as { toLine?: () => string; message?: string };
          const lines = many?.map((v) => v.toLine()) ?? [one.toLine?.() ?? String(one.message ?? error)];
          for (const l of lines) process.stderr.write(`ggen: error: ${l}\n`);
        }
      },
    });
  } finally {
    process.off("SIGINT", abort);
    process.off("SIGTERM", abort);
  }
  out.info("stopped watching");
}

/** A pack contract's violations, one line each: all but the last here, the last raised (its exit code). */
async function printViolations<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (e) {
    const many = (e as { violations?: { toLine(): string }[] }).violations;
    for (const v of many?.slice(0, -1) ?? []) process.stderr.write(`ggen: error: ${v.toLine()}\n`);
    throw e;
  }
}

type Result = Awaited<ReturnType<typeof import("@ggen/generator")["generate"]>>;

function report(out: Output, r: Result, mode: string): void {
  const counts: Record<string, number> = {};
  for (const f of r.files) counts[f.action] = (counts[f.action] ?? 0) + 1;
  // Only for --json: the files' digests are taken when read (@ggen/generator), and text needs none.
  const value = () => ({
    mode,
    drift: r.drift,
    files: r.files.map((f) => ({
      path: f.path,
      action: f.action,
      bytes: f.bytes,
      sha256: f.sha256,
      template: f.template,
      differs: f.differs,
      ...(f.reason ? { reason: f.reason } : {}),
      ...(f.diff !== undefined ? { diff: f.diff } : {}),
    })),
    counts,
    hooks: r.hooks,
    conflicts: r.conflicts,
    orphans: r.orphans,
    rendered: r.rendered,
    reused: r.reused,
    plan: r.planPath ?? null,
    manifest: r.manifestPath ?? null,
    timings: r.manifest.timings,
    warnings: r.warnings,
  });
  out.data(out.json ? value() : undefined, () => {
    const lines: string[] = [];
    const would = mode === "dry-run" || mode === "plan";
    const verb = would ? "would be " : "";
    for (const f of r.files) {
      lines.push(
        `${(verb + f.action).padEnd(would ? 21 : 12)} ${f.path}${f.reason ? `  (${f.reason})` : ""}`,
      );
      if (f.diff) lines.push(f.diff.trimEnd());
    }
    for (const o of r.orphans) {
      const what =
        o.status === "deleted"
          ? would
            ? "would be deleted"
            : "deleted"
          : o.status === "gone"
            ? "gone"
            : "kept";
      const why = o.edited
        ? "orphan, edited: kept"
        : o.status === "kept"
          ? "orphan: no template produces it; --prune deletes it"
          : "orphan";
      lines.push(`${what.padEnd(would ? 21 : 12)} ${o.path}  (${why})`);
    }
    const summary = Object.entries(counts)
      .map(([k, n]) => `${n} ${k}`)
      .join(", ");
    const files = new Set(r.files.map((f) => f.path)).size;
    let tail = `${files} file(s)${summary ? `: ${summary}` : ""} in ${Math.round(r.manifest.timings.totalMs)} ms`;
    if (r.reused) tail += `; ${r.reused} not rendered (inputs unchanged)`;
    if (r.orphans.length) tail += `; ${r.orphans.length} orphan(s)`;
    if (mode === "dry-run") tail += " (dry run: nothing written)";
    if (mode === "plan" && r.planPath) tail += ` (nothing written; plan: ${relativeToCwd(r.planPath)})`;
    if (mode === "check") tail += r.drift ? " (drift)" : " (no drift)";
    if (r.manifestPath) tail += `\nmanifest: ${relativeToCwd(r.manifestPath)}`;
    lines.push(tail);
    return lines.join("\n");
  });
}

function relativeToCwd(p: string): string {
  const cwd = `${process.cwd()}/`;
  return p.startsWith(cwd) ? p.slice(cwd.length) : p;
}

const templatePositional = {
  template: { type: "string", describe: "Template file, pack:template, pack id or directory" },
} as const;

const generateCmd = defineCommand<GenerateFlags & { template: string }>()({
  command: "generate <template>",
  describe: "Render a template (a path, pack:template, or a pack id for all its templates)",
  positionals: templatePositional,
  options: generateFlags,
  examples: [
    ["ggen template generate fixtures/templates/templates/schema.sql.tmpl -o out", "Render one template"],
    ["ggen template generate io.ggen.domain-service:sql-schema --vars name=shop", "From an installed pack"],
    ["ggen template generate io.ggen.domain-service -o svc --graph my.ttl", "A whole pack on your ontology"],
    ["ggen template generate t.tmpl --check", "Exit 1 when generated files drifted"],
    [
      "ggen template generate io.ggen.domain-service --graph shop.ttl --plan plan.json",
      "Plan a regeneration",
    ],
    [
      "ggen template generate io.ggen.domain-service --graph shop.ttl --prune",
      "Regenerate, keep edits, prune",
    ],
    ["ggen template generate t.tmpl --merge fail-on-conflict", "Write nothing if an edit conflicts"],
  ],
  handler: (argv) => runGenerate(argv, [String(argv.template)]),
});

const batchCmd = defineCommand<GenerateFlags & { templates: string[] }>()({
  command: "batch-generate <templates..>",
  describe: "Render many templates concurrently, sharing parsed graphs and query results",
  positionals: {
    templates: { type: "string", array: true, describe: "Templates (paths, refs, dirs)" },
  },
  options: generateFlags,
  examples: [
    ["ggen template batch-generate t/a.tmpl t/b.tmpl --vars-file vars.yaml", "Two templates"],
    ["ggen template batch-generate templates/ --max-parallel 4 -o out", "Every template in a folder"],
  ],
  handler: (argv) => runGenerate(argv, strings(argv.templates)),
});

const listCmd = defineCommand<{ "packs-dir"?: string; dir?: string[] }>()({
  command: "list",
  describe: "List templates of installed packs and local template folders",
  options: {
    ...packsDirFlag,
    dir: {
      type: "string",
      array: true,
      describe: "Also list .tmpl/.hbs files under this folder (default: templates, if present)",
    },
  },
  examples: [
    ["ggen template list", "Installed pack templates"],
    ["ggen template list --packs-dir fixtures --json", "As JSON, from another packs folder"],
  ],
  handler: async (argv) => {
    const out = output(argv);
    const { listTemplates } = await import("@ggen/generator");
    const { table } = await import("@ggen/reporter");
    const dirs = argv.dir === undefined ? ["templates"] : strings(argv.dir);
    const rows = await listTemplates({
      cwd: process.cwd(),
      ...(typeof argv["packs-dir"] === "string" ? { packsDir: argv["packs-dir"] } : {}),
      dirs,
    });
    out.data(rows, () =>
      rows.length === 0
        ? "no templates (install a pack with 'ggen market add', or pass --packs-dir / --dir)"
        : table(rows, [
            { header: "TEMPLATE", value: (r) => r.ref },
            { header: "VERSION", value: (r) => r.pack?.version ?? "" },
            { header: "DESCRIPTION", value: (r) => r.description ?? r.path, max: 70 },
          ]),
    );
  },
});

const inspectCmd = defineCommand<{ template: string; "packs-dir"?: string }>()({
  command: "inspect <template>",
  describe: "Show a template's vars (types, defaults), graphs, queries and outputs",
  positionals: { template: { type: "string", describe: "Template file, pack:template or pack id" } },
  options: packsDirFlag,
  examples: [
    ["ggen template inspect fixtures/templates:sql-schema", "A pack template"],
    ["ggen template inspect t.tmpl --json", "As JSON"],
  ],
  handler: async (argv) => {
    const out = output(argv);
    const { inspectTemplate } = await import("@ggen/generator");
    const info = await inspectTemplate(String(argv.template), {
      cwd: process.cwd(),
      ...(typeof argv["packs-dir"] === "string" ? { packsDir: argv["packs-dir"] } : {}),
    });
    out.data(info.length === 1 ? info[0] : info, () =>
      info
        .map((t) => {
          const l: string[] = [
            `${t.ref}${t.pack ? `  (${t.pack.id} ${t.pack.version})` : ""}`,
            `  file: ${t.file}`,
          ];
          if (t.to !== undefined) l.push(`  to: ${t.to}${t.inject ? "  (inject)" : ""}`);
          if (t.forEach) l.push(`  for_each: ${t.forEach.trim().replace(/\s+/g, " ")}`);
          if (t.vars.length) {
            l.push("  vars:");
            for (const v of t.vars) {
              const bits = [
                v.type ?? "any",
                v.required ? "required" : "",
                v.default !== undefined ? `default ${JSON.stringify(v.default)}` : "",
                v.enum ? `one of ${v.enum.join("|")}` : "",
                v.pattern ? `/${v.pattern}/` : "",
              ].filter(Boolean);
              l.push(`    ${v.name}: ${bits.join(", ")}${v.description ? ` — ${v.description}` : ""}`);
            }
          }
          if (t.graphs.length || t.rdfInline)
            l.push(
              `  graphs: ${[...t.graphs, ...(t.rdfInline ? [`${t.rdfInline} inline`] : [])].join(", ")}`,
            );
          if (t.queries.length) l.push(`  queries: ${t.queries.map((q) => q.name).join(", ")}`);
          if (t.hooks.before.length || t.hooks.after.length)
            l.push(`  hooks: ${[...t.hooks.before, ...t.hooks.after].join("; ")}`);
          if (t.determinism) l.push(`  determinism: ${t.determinism}`);
          return l.join("\n");
        })
        .join("\n\n"),
    );
  },
});

const validateVarsCmd = defineCommand<{ "vars-file": string; template: string; "packs-dir"?: string }>()({
  command: "validate-vars <vars-file>",
  describe: "Check a vars file against a template's declarations",
  positionals: { "vars-file": { type: "string", describe: "A .yaml/.yml/.json/.toml vars file" } },
  options: {
    template: {
      alias: "t",
      type: "string",
      required: true,
      describe: "Template to check against",
    },
    ...packsDirFlag,
  },
  examples: [["ggen template validate-vars vars.yaml --template t.tmpl", "Check vars before generating"]],
  handler: async (argv) => {
    const out = output(argv);
    const { validateVarsFile } = await import("@ggen/generator");
    const r = await validateVarsFile(String(argv["vars-file"]), String(argv.template), {
      cwd: process.cwd(),
      ...(typeof argv["packs-dir"] === "string" ? { packsDir: argv["packs-dir"] } : {}),
    });
    out.data(r, () => {
      const lines = r.problems.map((p) => `${p.file}${p.line ? `:${p.line}` : ""}: ${p.message}`);
      for (const u of r.unknown) lines.push(`note: '${u}' is not declared by the template`);
      lines.push(r.ok ? `${String(argv["vars-file"])}: ok` : `${r.problems.length} problem(s)`);
      return lines.join("\n");
    });
    if (!r.ok) process.exitCode = 1;
  },
});

export const templateCommand = defineCommand()({
  command: "template",
  describe: "Render templates: generate, batch-generate, list, inspect, validate-vars",
  subcommands: [generateCmd, batchCmd, listCmd, inspectCmd, validateVarsCmd],
  requireSubcommand: "name a template command: generate, batch-generate, list, inspect, validate-vars",
  examples: [
    ["ggen template generate t.tmpl --vars name=shop -o out", "Render a template"],
    ["ggen template list", "Installed templates"],
  ],
});

export const genCommand = defineCommand<GenerateFlags & { template: string }>()({
  command: "gen <template>",
  describe: "Alias of 'template generate'",
  positionals: templatePositional,
  options: generateFlags,
  examples: [
    ["ggen gen fixtures/templates/templates/schema.sql.tmpl -o out", "Render one template"],
    ["ggen gen io.ggen.domain-service -o svc --vars name=shop", "Every template of a pack"],
    ["ggen gen io.ggen.domain-service -o svc --diff --dry-run", "What a regeneration would change"],
  ],
  handler: (argv) => runGenerate(argv, [String(argv.template)]),
});
