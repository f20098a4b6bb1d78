// Template helpers. Per-render state (graph, seed, clock, file) travels in Handlebars' `data` as
// `data.ggen`, so one Handlebars environment serves every template of a run.

import { randomUUID } from "node:crypto";
import type { Graph, Row } from "@ggen/rdf";
import { isoTime, sha256 } from "@ggen/support";
import type { HelperDelegate, HelperOptions } from "handlebars";
import { clockMs } from "./clock.js";
import { at, fail } from "./errors.js";
import type { Rdf } from "./lazy.js";
import { camelCase, constantCase, kebabCase, pascalCase, snakeCase, titleCase } from "./text/cases.js";
import { pluralize, singularize } from "./text/inflect.js";

/** What helpers may read while a template renders. */
export interface RenderState {
  file: string;
  /** Added to a Handlebars (1-based) line number to get the template file's line. */
  lineOffset: number;
  seed: string | undefined;
  now: Date;
  graph: Graph | undefined;
  rdf: Rdf | undefined;
  /** Memoized query results of the run, keyed by graph hash and query text. */
  queryCache: Map<string, Row[]>;
  uuidCounter: number;
  /** PREFIX lines added to inline queries (the graph's and the template's prefixes). */
  queryPrefix?: string;
  /** Called for each query the sparql helper runs (for counts and timings). */
  onQuery?: (ms: number) => void;
  /** Stop a query after this long (the run's --query-timeout); default @ggen/rdf's limit. */
  queryTimeoutMs?: number;
  /** {{#each}} iterations so far in this render (the render budget). */
  iterations?: number;
  /** A hook command's values (shell mode, see hbs.ts): the environment its placeholders refer to. */
  hookValues?: string[];
}

/** The helper a hook's `{{expr}}` becomes: its value goes to the environment, a placeholder to the command. */
export const HOOK_VALUE = "ggen_hook_value";

/** A SPARQL term as templates see it: prints as its value, keeps type/datatype/language. */
export class TermValue {
  readonly value: string;
  readonly type: "iri" | "literal" | "blank";
  readonly datatype: string | undefined;
  readonly language: string | undefined;
  constructor(t: { value: string; type: "iri" | "literal" | "blank"; datatype?: string; language?: string }) {
    this.value = t.value;
    this.type = t.type;
    this.datatype = t.datatype;
    this.language = t.language;
  }
  toString(): string {
    return this.value;
  }
  toJSON(): unknown {
    return this.type === "literal" && !this.language && !this.datatype ? this.value : { ...this };
  }
}

export type TemplateRow = Record<string, TermValue>;

export function toTemplateRows(rows: Row[]): TemplateRow[] {
  return rows.map((r) => {
    const out: TemplateRow = {};
    for (const [k, t] of Object.entries(r)) out[k] = new TermValue(t);
    return out;
  });
}

const XSD = "http://www.w3.org/2001/XMLSchema#";

function xsdLocal(dt: unknown): string {
  const s = String(dt ?? "");
  if (s.startsWith(XSD)) return s.slice(XSD.length);
  if (s.startsWith("xsd:")) return s.slice(4);
  return s;
}

const SQL_TYPES: Record<string, string> = {
  string: "TEXT",
  normalizedString: "TEXT",
  token: "TEXT",
  language: "TEXT",
  anyURI: "TEXT",
  Name: "TEXT",
  boolean: "BOOLEAN",
  integer: "BIGINT",
  long: "BIGINT",
  nonNegativeInteger: "BIGINT",
  positiveInteger: "BIGINT",
  negativeInteger: "BIGINT",
  nonPositiveInteger: "BIGINT",
  unsignedLong: "NUMERIC(20)",
  int: "INTEGER",
  unsignedInt: "BIGINT",
  short: "SMALLINT",
  unsignedShort: "INTEGER",
  byte: "SMALLINT",
  unsignedByte: "SMALLINT",
  decimal: "NUMERIC",
  double: "DOUBLE PRECISION",
  float: "REAL",
  date: "DATE",
  dateTime: "TIMESTAMPTZ",
  dateTimeStamp: "TIMESTAMPTZ",
  time: "TIME",
  duration: "INTERVAL",
  dayTimeDuration: "INTERVAL",
  yearMonthDuration: "INTERVAL",
  gYear: "INTEGER",
  base64Binary: "BYTEA",
  hexBinary: "BYTEA",
};

const TS_TYPES: Record<string, string> = {
  boolean: "boolean",
  int: "number",
  short: "number",
  byte: "number",
  unsignedInt: "number",
  unsignedShort: "number",
  unsignedByte: "number",
  double: "number",
  float: "number",
  gYear: "number",
  integer: "number",
  long: "number",
  nonNegativeInteger: "number",
  positiveInteger: "number",
  negativeInteger: "number",
  nonPositiveInteger: "number",
};

/** XSD datatype (IRI, `xsd:` name or local name) → PostgreSQL column type; TEXT when unknown. */
export function sqlType(datatype: unknown): string {
  return SQL_TYPES[xsdLocal(datatype)] ?? "TEXT";
}

/**
 * XSD datatype → TypeScript type. Dates, times and decimals are strings (ISO text and exact decimals,
 * as a database driver hands them over without loss); unknown types are `string`.
 */
export function tsType(datatype: unknown): string {
  return TS_TYPES[xsdLocal(datatype)] ?? "string";
}

export function localName(iri: unknown): string {
  const s = String(iri ?? "");
  const i = Math.max(s.lastIndexOf("#"), s.lastIndexOf("/"), s.lastIndexOf(":"));
  return i >= 0 && i < s.length - 1 ? s.slice(i + 1) : s;
}

export function seededUuid(seed: string, name: string): string {
  const h = Buffer.from(sha256(`${seed}\0${name}`), "hex");
  h[6] = (h[6]! & 0x0f) | 0x40;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString("hex");
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

/** A fixed instant derived from a seed: 2020-01-01 plus up to ~5 years of seconds. */
export function seededNow(seed: string): Date {
  const h = Buffer.from(sha256(`now\0${seed}`), "hex");
  return new Date(Date.UTC(2020, 0, 1) + (h.readUInt32BE(0) % (5 * 365 * 86400)) * 1000);
}

const isOptions = (x: unknown): x is HelperOptions =>
  typeof x === "object" && x !== null && "hash" in x && "data" in x;

function argsOf(args: unknown[]): { params: unknown[]; options: HelperOptions } {
  const options = args[args.length - 1] as HelperOptions;
  return { params: args.slice(0, -1), options };
}

function stateOf(options: HelperOptions): RenderState {
  return (options.data as { ggen: RenderState }).ggen;
}

function helperError(options: HelperOptions, name: string, message: string): never {
  const st = stateOf(options);
  const loc = (options as unknown as { loc?: { start: { line: number; column: number } } }).loc;
  fail(
    "TEMPLATE_HELPER",
    `${name}: ${message}`,
    loc ? at(st.file, loc.start.line + st.lineOffset, loc.start.column + 1) : at(st.file),
    { kind: "usage" },
  );
}

/** A term's natural value: xsd:boolean → boolean, numeric literals → number, anything else its text. */
export function unwrap(v: unknown): unknown {
  if (!(v instanceof TermValue)) return v;
  const dt = v.datatype ? xsdLocal(v.datatype) : "";
  if (dt === "boolean") return v.value === "true" || v.value === "1";
  if (v.type === "literal" && TS_TYPES[dt] === "number") return Number(v.value);
  return v.value;
}

const str = (v: unknown) => (v === undefined || v === null ? "" : String(v));
const prim = (v: unknown) => (v instanceof TermValue ? v.value : v);
const num = (v: unknown) => {
  const p = prim(v);
  return typeof p === "number" ? p : Number(p);
};

function blockOrValue(
  this: unknown,
  args: unknown[],
  fn: (text: string, params: unknown[], o: HelperOptions) => string,
) {
  const { params, options } = argsOf(args);
  if (typeof options.fn === "function" && params.length === 0) {
    return fn(options.fn(this), params, options);
  }
  return fn(str(params[0]), params.slice(1), options);
}

function indentText(text: string, n: number): string {
  const pad = " ".repeat(Math.max(0, Math.floor(n)));
  return text
    .split("\n")
    .map((l) => (l.trim() ? pad + l : l))
    .join("\n");
}

function runSparql(options: HelperOptions, query: unknown, hash: Record<string, unknown>): TemplateRow[] {
  const st = stateOf(options);
  if (!st.graph || !st.rdf)
    helperError(options, "sparql", "this template has no graph (add `rdf:` or `rdf_inline:`)");
  let q = withPrefixes(str(query), st.queryPrefix ?? "");
  if (Object.keys(hash).length > 0) {
    const plain: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(hash)) plain[k] = v instanceof TermValue ? { ...v } : v;
    q = st.rdf.bind(q, plain);
  }
  const key = `${st.graph.hash}\0${q}`;
  let rows = st.queryCache.get(key);
  if (!rows) {
    const t0 = clockMs();
    try {
      rows = st.graph.select(q, st.queryTimeoutMs === undefined ? {} : { timeoutMs: st.queryTimeoutMs });
    } catch (e) {
      const err = e as { code?: string; message?: string };
      // A query past its limit is a failure (exit 1), not a mistake in the template.
      if (err.code === "SPARQL_TIMEOUT" || err.code === "RDF_ENGINE") {
        const loc = (options as unknown as { loc?: { start: { line: number; column: number } } }).loc;
        fail(
          err.code,
          `sparql helper: ${String(err.message)}`,
          at(st.file, loc ? loc.start.line + st.lineOffset : undefined),
          {
            hint:
              err.code === "SPARQL_TIMEOUT"
                ? "raise the limit with --query-timeout or GGEN_QUERY_TIMEOUT"
                : undefined,
          },
        );
      }
      helperError(options, "sparql", String(err.message ?? e).split("\n")[0]!);
    }
    st.onQuery?.(clockMs() - t0);
    st.queryCache.set(key, rows);
  }
  return toTemplateRows(rows);
}

function compare(a: unknown, b: unknown): number {
  const x = prim(a);
  const y = prim(b);
  if (typeof x === "number" && typeof y === "number") return x - y;
  const xs = str(x);
  const ys = str(y);
  return xs < ys ? -1 : xs > ys ? 1 : 0;
}

function getPath(obj: unknown, path: string): unknown {
  let cur: unknown = obj;
  for (const p of path.split(".")) {
    if (cur === null || cur === undefined) return undefined;
    cur = (cur as Record<string, unknown>)[p];
  }
  return cur;
}

const plainCase = (f: (s: unknown) => string): HelperDelegate =>
  function (this: unknown, ...args: unknown[]) {
    return blockOrValue.call(this, args, (t) => f(t));
  };

const RANGE_MAX = 10_000;

/** The helpers that read the template's graph (a run given a graph needs a template naming one, or a query). */
export const GRAPH_HELPERS: readonly string[] = ["sparql"];

export const helpers: Record<string, HelperDelegate> = {
  camel: plainCase(camelCase),
  pascal: plainCase(pascalCase),
  snake: plainCase(snakeCase),
  kebab: plainCase(kebabCase),
  constant: plainCase(constantCase),
  title: plainCase(titleCase),
  lower: plainCase((s) => str(s).toLowerCase()),
  upper: plainCase((s) => str(s).toUpperCase()),
  pluralize: plainCase(pluralize),
  singularize: plainCase(singularize),
  local: (...args: unknown[]) => localName(argsOf(args).params[0]),
  sparql: (...args: unknown[]) => {
    const { params, options } = argsOf(args);
    return runSparql(options, params[0], options.hash as Record<string, unknown>);
  },
  eq: (...args: unknown[]) => {
    const { params } = argsOf(args);
    return (
      compare(params[0], params[1]) === 0 &&
      (params[0] === params[1] || str(prim(params[0])) === str(prim(params[1])))
    );
  },
  ne: (...args: unknown[]) => {
    const { params } = argsOf(args);
    return str(prim(params[0])) !== str(prim(params[1]));
  },
  lt: (...args: unknown[]) => num(argsOf(args).params[0]) < num(argsOf(args).params[1]),
  gt: (...args: unknown[]) => num(argsOf(args).params[0]) > num(argsOf(args).params[1]),
  lte: (...args: unknown[]) => num(argsOf(args).params[0]) <= num(argsOf(args).params[1]),
  gte: (...args: unknown[]) => num(argsOf(args).params[0]) >= num(argsOf(args).params[1]),
  and: (...args: unknown[]) => argsOf(args).params.every((p) => Boolean(unwrap(p))),
  or: (...args: unknown[]) => argsOf(args).params.some((p) => Boolean(unwrap(p))),
  not: (...args: unknown[]) => !unwrap(argsOf(args).params[0]),
  where: (...args: unknown[]) => {
    const { params, options } = argsOf(args);
    const list = params[0];
    if (list === undefined || list === null) return [];
    if (!Array.isArray(list)) helperError(options, "where", "expects a list");
    const key = str(params[1]);
    if (params.length < 3) return list.filter((x) => Boolean(unwrap(getPath(x, key))));
    const want = str(prim(params[2]));
    return list.filter((x) => str(prim(getPath(x, key))) === want);
  },
  json: (...args: unknown[]) => {
    const { params } = argsOf(args);
    const space = params[1] === undefined ? undefined : num(params[1]);
    return JSON.stringify(params[0] ?? null, null, space);
  },
  indent: function (this: unknown, ...args: unknown[]) {
    const { params, options } = argsOf(args);
    if (typeof options.fn === "function") return indentText(options.fn(this), num(params[0]));
    return indentText(str(params[0]), num(params[1]));
  },
  join: (...args: unknown[]) => {
    const { params, options } = argsOf(args);
    const list = params[0];
    if (list === undefined || list === null) return "";
    if (!Array.isArray(list)) helperError(options, "join", "expects a list");
    const sep = params[1] === undefined || isOptions(params[1]) ? ", " : str(params[1]);
    const prop = params[2] === undefined ? undefined : str(params[2]);
    return list.map((x) => str(prop ? getPath(x, prop) : x)).join(sep);
  },
  sort_by: (...args: unknown[]) => {
    const { params, options } = argsOf(args);
    const list = params[0];
    if (list === undefined || list === null) return [];
    if (!Array.isArray(list)) helperError(options, "sort_by", "expects a list");
    const key = params[1] === undefined ? undefined : str(params[1]);
    const desc = str(params[2]) === "desc";
    const sorted = [...list].sort((a, b) => compare(key ? getPath(a, key) : a, key ? getPath(b, key) : b));
    return desc ? sorted.reverse() : sorted;
  },
  uuid: (...args: unknown[]) => {
    const { params, options } = argsOf(args);
    const st = stateOf(options);
    if (st.seed === undefined) return randomUUID();
    const name = params.length > 0 ? `name:${str(prim(params[0]))}` : `n:${st.uuidCounter++}`;
    return seededUuid(st.seed, `${st.file}\0${name}`);
  },
  now: (...args: unknown[]) => {
    const { params, options } = argsOf(args);
    const d = stateOf(options).now;
    const fmt = params[0] === undefined ? "iso" : str(params[0]);
    if (fmt === "iso") return isoTime(d);
    if (fmt === "date") return isoTime(d).slice(0, 10);
    if (fmt === "epoch") return String(Math.floor(d.getTime() / 1000));
    if (fmt === "year") return String(d.getUTCFullYear());
    helperError(options, "now", `unknown format '${fmt}' (use iso, date, epoch or year)`);
  },
  sql_type: (...args: unknown[]) => sqlType(prim(argsOf(args).params[0])),
  ts_type: (...args: unknown[]) => tsType(prim(argsOf(args).params[0])),
  default: (...args: unknown[]) => {
    const { params } = argsOf(args);
    const v = params[0];
    return v === undefined || v === null || v === "" ? params[1] : v;
  },
  concat: (...args: unknown[]) =>
    argsOf(args)
      .params.map((p) => str(p))
      .join(""),
  replace: (...args: unknown[]) => {
    const { params } = argsOf(args);
    return str(params[0]).split(str(params[1])).join(str(params[2]));
  },
  // Counting templates (one CI job per shard) need a list of n numbers; bounded so a var cannot make it huge.
  range: (...args: unknown[]) => {
    const { params, options } = argsOf(args);
    const [from, to] = params.length >= 2 ? [num(params[0]), num(params[1])] : [1, num(params[0])];
    if (!Number.isInteger(from) || !Number.isInteger(to))
      helperError(
        options,
        "range",
        `expects whole numbers, got ${params.map((p) => str(prim(p))).join(" ")}`,
      );
    if (to - from >= RANGE_MAX)
      helperError(options, "range", `at most ${RANGE_MAX} numbers, got ${to - from + 1}`);
    return Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);
  },
  len: (...args: unknown[]) => {
    const v = argsOf(args).params[0];
    if (Array.isArray(v) || typeof v === "string") return v.length;
    if (v && typeof v === "object") return Object.keys(v).length;
    return 0;
  },
  [HOOK_VALUE]: (...args: unknown[]) => {
    const { params, options } = argsOf(args);
    const st = stateOf(options);
    const v = prim(params[0]);
    st.hookValues ??= [];
    st.hookValues.push(Array.isArray(v) ? v.map((x) => str(prim(x))).join(",") : str(v));
    return `\uE003${st.hookValues.length - 1}\uE004`;
  },
  includes: (...args: unknown[]) => {
    const { params } = argsOf(args);
    const list = params[0];
    if (Array.isArray(list)) return list.some((x) => str(prim(x)) === str(prim(params[1])));
    return str(list).includes(str(params[1]));
  },
};

/** Names Handlebars provides itself. */
export const builtinHelpers = [
  "if",
  "unless",
  "each",
  "with",
  "lookup",
  "log",
  "blockHelperMissing",
  "helperMissing",
];

/** Prepend the PREFIX lines of `header` the query does not declare itself. */
export function withPrefixes(query: string, header: string): string {
  if (!header) return query;
  const own = new Set([...query.matchAll(/PREFIX\s+([\w-]*):/gi)].map((m) => m[1]));
  const lines = header.split("\n").filter((l) => {
    const m = /^PREFIX ([\w-]*):/.exec(l);
    return m && !own.has(m[1]);
  });
  return lines.length ? `${lines.join("\n")}\n${query}` : query;
}
