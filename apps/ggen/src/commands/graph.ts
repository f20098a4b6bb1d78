// `ggen graph query|export|validate`: SPARQL over RDF files, conversion between serializations, and
// syntax checks with file:line:column.
import { GgenError } from "@ggen/contract";
import { defineCommand, type OptionTable, table } from "@ggen/reporter";
import { formatSize, parseDuration, parseKeyValues, writeFileAtomic } from "@ggen/support";
import { output } from "../context.js";

const tabular = ["table", "json", "csv", "tsv"] as const;
const serializations = [
  "turtle",
  "ttl",
  "trig",
  "nt",
  "ntriples",
  "nq",
  "nquads",
  "n3",
  "rdfxml",
  "xml",
  "jsonld",
];

interface FilesArgs {
  files: string[];
  "input-format"?: string;
}

const files = {
  type: "string",
  array: true,
  required: true,
  describe: "RDF files (format from the extension)",
} as const;

const inputFormatFlag: OptionTable<Pick<FilesArgs, "input-format">> = {
  "input-format": {
    type: "string",
    describe: "Format of the input files when their extension does not tell",
  },
};

async function sourcesOf(argv: FilesArgs) {
  const { parseFormatName } = await import("@ggen/rdf");
  let format: import("@ggen/rdf").RdfFormat | undefined;
  if (argv["input-format"] !== undefined) {
    format = parseFormatName(argv["input-format"]);
    if (!format) {
      throw new GgenError("RDF_FORMAT", `unknown input format '${argv["input-format"]}'`, {
        kind: "usage",
        hint: "turtle, trig, ntriples, nquads, n3, rdfxml or jsonld",
      });
    }
  }
  return argv.files.map((f) =>
    /^https?:\/\//.test(f)
      ? format
        ? { url: f, format }
        : { url: f }
      : format
        ? { path: f, format }
        : { path: f },
  );
}

const MAX_QUERY_BYTES = 16 * 1024 * 1024;

async function readQuery(q: string): Promise<{ text: string; name: string }> {
  if (q.startsWith("@")) {
    const file = q.slice(1);
    const { readFile, stat } = await import("node:fs/promises");
    const refuse = (why: string) => new GgenError("QUERY_READ", why, { kind: "usage", location: { file } });
    // A query file is a regular file of reasonable size: never a FIFO or /dev/zero read forever.
    const info = await stat(file).catch(() => undefined);
    if (!info) throw refuse("cannot read the query file");
    if (!info.isFile()) throw refuse("the query file is not a regular file");
    if (info.size > MAX_QUERY_BYTES)
      throw refuse(`the query file is larger than ${formatSize(MAX_QUERY_BYTES)}`);
    try {
      return { text: await readFile(file, "utf8"), name: file };
    } catch {
      throw refuse("cannot read the query file");
    }
  }
  return { text: q, name: "--query" };
}

async function rdfFormat(name: string) {
  const { parseFormatName } = await import("@ggen/rdf");
  const f = parseFormatName(name);
  if (!f) {
    throw new GgenError("RDF_FORMAT", `unknown serialization '${name}'`, {
      kind: "usage",
      hint: `one of ${serializations.join(", ")}`,
    });
  }
  return f;
}

/** `--bind name=value`: `<…>` makes an IRI, anything else a string literal; bind() escapes both. */
function bindings(pairs: string[] | undefined): Record<string, unknown> {
  const vars: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(
    parseKeyValues(pairs ?? [], { flag: "--bind", code: "BIND_ARG" }),
  )) {
    const key = name.replace(/^[?$]/, "");
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) {
      throw new GgenError("BIND_ARG", `--bind '${name}=${value}': '${key}' is not a variable name`, {
        kind: "usage",
      });
    }
    vars[key] = /^<.*>$/.test(value) ? { iri: value.slice(1, -1) } : value;
  }
  return vars;
}

interface QueryFlags extends FilesArgs {
  query: string;
  format?: string;
  bind?: string[];
  service?: string[];
  "query-timeout"?: string;
}

const queryCommand = defineCommand<QueryFlags>()({
  command: "query <files..>",
  describe: "Run a SPARQL query (SELECT, ASK, CONSTRUCT, DESCRIBE) over RDF files",
  positionals: { files },
  options: {
    ...inputFormatFlag,
    query: {
      type: "string",
      required: true,
      describe: "SPARQL text, or @file to read it from a file",
    },
    format: {
      alias: "f",
      type: "string",
      describe: "table|json|csv|tsv for SELECT/ASK; turtle|nt|nq|trig|jsonld|rdfxml for CONSTRUCT/DESCRIBE",
    },
    bind: {
      type: "string",
      array: true,
      describe:
        "name=value puts a value into ?name / $name (a string literal, or an IRI written <…>), escaped",
    },
    service: {
      type: "string",
      array: true,
      describe:
        "endpoint=file answers SERVICE <endpoint> from a local RDF file, so federated queries run offline",
    },
    "query-timeout": {
      type: "string",
      describe: "Stop the query after this long (30s, 2m; default 30s or GGEN_QUERY_TIMEOUT): exit 1",
    },
  },
  examples: [
    ["$0 graph query shop.ttl --query 'SELECT * { ?c a owl:Class }'", "Classes as a table"],
    ["$0 graph query shop.ttl --query @classes.rq --format json", "W3C SPARQL JSON results"],
    [
      "$0 graph query local.ttl --query @fed.rq --service https://example.org/sparql=remote.ttl",
      "SERVICE answered from a file",
    ],
    ["$0 graph query shop.ttl --query @by-label.rq --bind label=Order", "Bind ?label safely"],
    ["$0 graph query a.ttl --query @shape.rq --format nt", "CONSTRUCT as N-Triples"],
  ],
  handler: async (argv) => {
    const out = output(argv);
    const rdf = await import("@ggen/rdf");
    if (argv["query-timeout"] !== undefined) {
      rdf.setRdfLimits({ queryTimeoutMs: parseDuration(argv["query-timeout"], { flag: "--query-timeout" }) });
    }
    const read = await readQuery(argv.query);
    const name = read.name;
    const text = argv.bind?.length ? rdf.bind(read.text, bindings(argv.bind)) : read.text;
    const services: Record<string, import("@ggen/rdf").Graph> = {};
    for (const spec of argv.service ?? []) {
      // The last '=': an endpoint URL may have a query string (?default-graph-uri=…), a file name rarely does.
      const eq = spec.lastIndexOf("=");
      if (eq <= 0 || eq === spec.length - 1)
        throw new GgenError("USAGE", `--service '${spec}': expected endpoint=file`, { kind: "usage" });
      services[spec.slice(0, eq)] = await rdf.loadGraph([{ path: spec.slice(eq + 1) }], { cache: false });
    }
    const graph = await rdf.loadGraph(await sourcesOf(argv), { cache: false });
    try {
      const prefixed = withPrefixes(text, graph.prefixes);
      const result = graph.query(prefixed.text, {
        name,
        line: 1 - prefixed.lines,
        ...(argv.service?.length ? { services } : {}),
      });
      if (result.type === "graph") {
        const format = await rdfFormat(argv.format ?? "turtle");
        const dumped = result.graph.dump(format);
        const quads = result.graph.size;
        result.graph.free();
        out.data({ format, quads, text: dumped }, () => dumped);
        return;
      }
      const value = result.type === "ask" ? result.value : { vars: result.vars, rows: result.rows };
      const format = argv.format ?? "table";
      if (!(tabular as readonly string[]).includes(format)) {
        throw new GgenError(
          "RESULTS_FORMAT",
          `unknown results format '${format}' for a ${result.type.toUpperCase()} query`,
          {
            kind: "usage",
            hint: "table, json, csv or tsv",
          },
        );
      }
      if (format === "table") {
        out.data(rdf.toSparqlJson(value), () => {
          if (typeof value === "boolean") return String(value);
          const cols = value.vars.map((v) => ({
            header: `?${v}`,
            value: (r: import("@ggen/rdf").Row) => (r[v] ? rdf.compactTerm(r[v], graph.prefixes) : ""),
            max: 80,
          }));
          return `${table(value.rows, cols)}\n(${value.rows.length} row${value.rows.length === 1 ? "" : "s"})`;
        });
      } else {
        process.stdout.write(rdf.formatResults(value, format as "json" | "csv" | "tsv"));
      }
    } finally {
      graph.free();
      for (const g of Object.values(services)) g.free();
    }
  },
});

/**
 * Prefixes declared by the data are available to a query that does not declare them itself: a PREFIX
 * line is added for each prefix the query uses but does not declare. Returns how many lines were added
 * so error positions still point into the user's query.
 */
function withPrefixes(query: string, prefixes: Record<string, string>): { text: string; lines: number } {
  const declared = new Set<string>();
  for (const m of query.matchAll(/\bPREFIX\s+([A-Za-z][\w.-]*)?:/gi)) declared.add(m[1] ?? "");
  const lines: string[] = [];
  for (const [p, ns] of Object.entries(prefixes)) {
    if (declared.has(p)) continue;
    const re = new RegExp(`(^|[\\s(/^|,;{}!])${p.replace(/[.-]/g, "\\$&")}:`);
    if (re.test(query)) lines.push(`PREFIX ${p}: <${ns}>`);
  }
  return { text: lines.length ? `${lines.join("\n")}\n${query}` : query, lines: lines.length };
}

const exportCommand = defineCommand<FilesArgs & { format: string; output?: string }>()({
  command: "export <files..>",
  describe: "Convert RDF files to one serialization",
  positionals: { files },
  options: {
    ...inputFormatFlag,
    format: {
      alias: "f",
      type: "string",
      required: true,
      describe: `Output serialization: ${serializations.join(", ")}`,
    },
    output: {
      alias: "o",
      type: "string",
      describe: "Write to this file (atomically) instead of stdout",
    },
  },
  examples: [
    ["$0 graph export shop.ttl --format nt", "Turtle to N-Triples"],
    ["$0 graph export a.ttl b.trig --format trig -o all.trig", "Merge into one TriG file"],
  ],
  handler: async (argv) => {
    const out = output(argv);
    const rdf = await import("@ggen/rdf");
    const format = await rdfFormat(argv.format);
    const graph = await rdf.loadGraph(await sourcesOf(argv), { cache: false });
    try {
      const text = graph.dump(format);
      if (format !== "trig" && format !== "nquads" && format !== "jsonld") {
        const named =
          graph.select("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }")[0]?.n?.value ?? "0";
        if (named !== "0") {
          out.warn(
            `${named} quads in named graphs are left out of ${format} (default graph only); use trig or nquads`,
          );
        }
      }
      if (argv.output) {
        await writeFileAtomic(argv.output, text);
        out.data({ output: argv.output, format, quads: graph.size }, () => "");
        out.info(`wrote ${graph.size} quads to ${argv.output}`);
      } else {
        process.stdout.write(text.endsWith("\n") || text === "" ? text : `${text}\n`);
      }
    } finally {
      graph.free();
    }
  },
});

// `--shapes` takes one value per flag (repeat it): an array flag would swallow the data files after it.
const validateCommand = defineCommand<FilesArgs & { shapes?: string }>()({
  command: "validate <files..>",
  describe:
    "Check RDF files for syntax errors, and with --shapes against SHACL shapes (file:line:col; exit 1 on any)",
  positionals: { files },
  options: {
    ...inputFormatFlag,
    shapes: {
      type: "string",
      describe:
        "SHACL shapes file (repeatable): the files, read as one graph, must conform; each violation is reported at the line of its focus node",
    },
  },
  examples: [
    ["$0 graph validate fixtures/domain/*.ttl", "Check every Turtle file"],
    ["$0 graph validate data.rdf --json", "Report as JSON"],
    ["$0 graph validate --shapes shapes/book.ttl library.ttl", "Check the data against SHACL shapes"],
  ],
  handler: async (argv) => {
    const out = output(argv);
    const rdf = await import("@ggen/rdf");
    const { isGgenError } = await import("@ggen/contract");
    const sources = await sourcesOf(argv);
    const report: { file: string; ok: boolean; quads?: number; error?: string }[] = [];
    const errors: GgenError[] = [];
    for (const [i, source] of sources.entries()) {
      const file = argv.files[i] ?? "";
      try {
        const g = await rdf.loadGraph([source], { cache: false });
        report.push({ file, ok: true, quads: g.size });
        g.free();
      } catch (e) {
        if (!isGgenError(e)) throw e;
        errors.push(e);
        report.push({ file, ok: false, error: e.toLine() });
      }
    }
    const shapesFiles = ([] as unknown[]).concat(argv.shapes ?? []).map(String);
    let violations: import("@ggen/rdf").ShapeViolation[] = [];
    if (errors.length === 0 && shapesFiles.length > 0) {
      const shapes = await rdf.loadGraph(
        shapesFiles.map((f) => ({ path: f })),
        { cache: false },
      );
      const data = await rdf.loadGraph(sources, { cache: false });
      try {
        violations = (await rdf.validateShapes(data, shapes, { sources })).violations;
      } finally {
        data.free();
        shapes.free();
      }
      for (const v of violations) {
        if (v.severity !== "Violation") {
          const at = v.location ? `${v.location.file}:${v.location.line}:${v.location.column}: ` : "";
          out.warn(`${at}${v.message} (${v.severity.toLowerCase()})`);
          continue;
        }
        errors.push(
          new GgenError("SHACL_VIOLATION", v.message, {
            kind: "failure",
            location: v.location ?? { file: argv.files[0] ?? "" },
          }),
        );
      }
    }
    out.data(
      {
        valid: errors.length === 0,
        files: report,
        ...(shapesFiles.length > 0
          ? {
              shapes: shapesFiles,
              conforms: errors.length === 0,
              violations: violations.map((v) => ({
                ...(v.location ? { location: v.location } : {}),
                focus: v.focus.value,
                shape: v.shape.value,
                component: v.component,
                severity: v.severity,
                ...(v.path !== undefined ? { path: v.path } : {}),
                ...(v.value !== undefined ? { value: v.value.value } : {}),
                message: v.message,
              })),
            }
          : {}),
      },
      () =>
        report
          .filter((r) => r.ok)
          .map((r) => `ok ${r.file} (${r.quads} quads)`)
          .concat(
            shapesFiles.length > 0 && errors.length === 0 ? [`conforms to ${shapesFiles.join(", ")}`] : [],
          )
          .join("\n"),
    );
    if (errors.length === 0) return;
    // Every error but the last as its own line; the last is raised so the exit code follows it.
    for (const e of errors.slice(0, -1)) process.stderr.write(`ggen: error: ${e.toLine()}\n`);
    const last = errors[errors.length - 1] as GgenError;
    throw new GgenError(last.code, last.message, {
      ...(last.location ? { location: last.location } : {}),
      kind: "failure",
      ...(last.hint ? { hint: last.hint } : {}),
    });
  },
});

interface DiffFlags {
  old: string;
  new: string;
  impact: boolean;
  manifest?: string;
  "output-dir"?: string;
  vars?: string[];
}

const diffCommand = defineCommand<DiffFlags>()({
  command: "diff <old> <new>",
  describe:
    "Triples added and removed between two graphs (--impact: the generated outputs that would change)",
  positionals: {
    old: { type: "string", describe: "The graph before (any RDF file)" },
    new: { type: "string", describe: "The graph after" },
  },
  options: {
    impact: {
      type: "boolean",
      default: false,
      describe: "Also list the outputs of the generation manifest that would change on the new graph",
    },
    manifest: {
      type: "string",
      describe: "The generation manifest (default <output-dir>/.ggen/manifest.json)",
    },
    "output-dir": {
      alias: "o",
      type: "string",
      describe: "The generated output dir (default: the one --manifest records, else .)",
    },
    vars: {
      type: "string",
      array: true,
      describe: "Vars the manifest redacted (secrets), as name=value (repeatable)",
    },
  },
  examples: [
    ["$0 graph diff shop-v1.ttl shop.ttl", "+/- lines of N-Quads"],
    ["$0 graph diff shop-v1.ttl shop.ttl --impact -o svc", "And which files of svc would change"],
  ],
  handler: async (argv) => {
    const out = output(argv);
    const g = await import("@ggen/generator");
    const diff = await g.diffGraphs(argv.old, argv.new, process.cwd());
    const given = (["manifest", "output-dir", "vars"] as const).find((k) => argv[k] !== undefined);
    if (!argv.impact && given)
      throw new GgenError("USAGE", `--${given} is read only with --impact`, {
        kind: "usage",
        hint: "add --impact, or leave it out",
      });
    const impact = argv.impact
      ? await g.impactOf({
          graph: argv.new,
          cwd: process.cwd(),
          ...(typeof argv["output-dir"] === "string" ? { outputDir: argv["output-dir"] } : {}),
          ...(typeof argv.manifest === "string" ? { manifest: argv.manifest } : {}),
          vars: parseKeyValues((argv.vars ?? []).map(String), { flag: "--vars", code: "VARS_SYNTAX" }),
        })
      : undefined;
    out.data({ ...diff, ...(impact ? { impact } : {}) }, () => {
      const lines = [...diff.removed.map((l) => `- ${l}`), ...diff.added.map((l) => `+ ${l}`)];
      lines.push(`${diff.added.length} added, ${diff.removed.length} removed`);
      if (impact) {
        for (const i of impact) lines.push(`${i.change.padEnd(8)} ${i.path}`);
        lines.push(`${impact.length} output(s) would change`);
      }
      return lines.join("\n");
    });
  },
});

export const graphCommand = defineCommand()({
  command: "graph <command>",
  describe: "Query, export, validate and diff RDF graphs",
  subcommands: [queryCommand, exportCommand, validateCommand, diffCommand],
  requireSubcommand: "graph needs a subcommand: query, export, validate or diff",
  examples: [
    ["$0 graph query shop.ttl --query @q.rq --format csv", "Query a graph"],
    ["$0 graph export shop.ttl --format jsonld", "Convert to JSON-LD"],
    ["$0 graph validate shop.ttl other.rdf", "Check syntax"],
    ["$0 graph diff old.ttl shop.ttl --impact", "What changed, and what it regenerates"],
  ],
});
