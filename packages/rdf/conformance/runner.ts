// The W3C conformance runner: reads the suites' manifests with @ggen/rdf itself, runs the SPARQL 1.1
// query evaluation and syntax tests and the RDF 1.1 syntax/evaluation tests through @ggen/rdf, and
// reports one outcome per test (EARL).
import { readFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { isGgenError } from "@ggen/contract";
import {
  type Graph,
  type GraphSource,
  loadGraph,
  type RdfFormat,
  type Row,
  type Term,
  termText,
  toCsv,
  toSparqlJson,
  toTsv,
} from "../src/index.js";
import { exact, isomorphic, type Tuple } from "./compare.js";
import { type Expected, parseCsv, parseSrj, parseSrx, parseTsv, quadTuples } from "./results.js";

// The suites sit in shared/ beside the repository (as in CI); W3C_RDF_TESTS points elsewhere.
export const defaultRoot =
  process.env.W3C_RDF_TESTS ??
  join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "..", "shared", "w3c-rdf-tests");

export type Outcome = "passed" | "failed" | "inapplicable";

export interface TestResult {
  /** The test's IRI, relative to the suite root (e.g. sparql/sparql11/aggregates/manifest#agg01). */
  id: string;
  suite: string;
  type: string;
  name: string;
  outcome: Outcome;
  message?: string;
}

const MF = "http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#";
const RDFT = "http://www.w3.org/ns/rdftest#";

const manifestQuery = `
PREFIX mf: <${MF}>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX qt: <http://www.w3.org/2001/sw/DataAccess/tests/test-query#>
PREFIX ut: <http://www.w3.org/2009/sparql/tests/test-update#>
PREFIX dawgt: <http://www.w3.org/2001/sw/DataAccess/tests/test-dawg#>
SELECT ?test ?type ?name ?action ?result ?query ?data ?graphData ?endpoint ?endpointData ?request ?approval WHERE {
  ?manifest mf:entries/rdf:rest*/rdf:first ?test .
  ?test rdf:type ?type .
  OPTIONAL { ?test mf:name ?name }
  OPTIONAL { ?test mf:action ?action
    OPTIONAL { ?action qt:query ?query }
    OPTIONAL { ?action qt:data ?data }
    OPTIONAL { ?action qt:graphData ?graphData }
    OPTIONAL { ?action qt:serviceData [ qt:endpoint ?endpoint ; qt:data ?endpointData ] }
    OPTIONAL { ?action ut:request ?request }
  }
  OPTIONAL { ?test mf:result ?result }
  OPTIONAL { ?test dawgt:approval ?approval }
}`;

interface ManifestTest {
  iri: string;
  type: string;
  name: string;
  action?: string;
  result?: string;
  query?: string;
  data: string[];
  graphData: string[];
  /** qt:serviceData: endpoint IRI → its data files. */
  serviceData: Map<string, string[]>;
  request?: string;
  approval?: string;
}

async function readManifest(path: string): Promise<{ tests: ManifestTest[]; base?: string }> {
  const g = await loadGraph([{ path }], { cache: false });
  try {
    const rows = g.select(manifestQuery);
    const byIri = new Map<string, ManifestTest>();
    const order: string[] = [];
    for (const r of rows) {
      const iri = r.test?.value as string;
      let t = byIri.get(iri);
      if (!t) {
        t = {
          iri,
          type: r.type?.value ?? "",
          name: r.name?.value ?? "",
          data: [],
          graphData: [],
          serviceData: new Map(),
        };
        byIri.set(iri, t);
        order.push(iri);
      }
      if (r.action?.type === "iri") t.action = r.action.value;
      if (r.result) t.result = r.result.value;
      if (r.query) t.query = r.query.value;
      if (r.request) t.request = r.request.value;
      if (r.approval) t.approval = r.approval.value;
      if (r.endpoint && r.endpointData) {
        const files = t.serviceData.get(r.endpoint.value) ?? [];
        if (!files.includes(r.endpointData.value)) files.push(r.endpointData.value);
        t.serviceData.set(r.endpoint.value, files);
      }
      if (r.data && !t.data.includes(r.data.value)) t.data.push(r.data.value);
      if (r.graphData && !t.graphData.includes(r.graphData.value)) t.graphData.push(r.graphData.value);
    }
    const base = g.select(`SELECT ?b WHERE { ?m <${MF}assumedTestBase> ?b }`)[0]?.b?.value;
    const out: { tests: ManifestTest[]; base?: string } = {
      tests: order.map((i) => byIri.get(i) as ManifestTest),
    };
    if (base !== undefined) out.base = base;
    return out;
  } finally {
    g.free();
  }
}

function local(iri: string): string {
  return iri.slice(iri.lastIndexOf("/") + 1);
}

const sparqlTestBase = "http://www.w3.org/2009/sparql/docs/tests/data-sparql11/";

function rel(root: string, iri: string): string {
  if (iri.startsWith(sparqlTestBase)) return `sparql/sparql11/${iri.slice(sparqlTestBase.length)}`;
  if (!iri.startsWith("file:")) return iri;
  const hash = iri.indexOf("#");
  const p = fileURLToPath(hash >= 0 ? iri.slice(0, hash) : iri);
  const frag = hash >= 0 ? iri.slice(hash) : "";
  return p.startsWith(root) ? `${p.slice(root.length + 1).replace(/\.ttl$/, "")}${frag}` : iri;
}

function message(e: unknown): string {
  if (isGgenError(e)) return e.toLine();
  return e instanceof Error ? e.message : String(e);
}

// ---- SPARQL ---------------------------------------------------------------------------------------

const queryTypes = new Set([`${MF}QueryEvaluationTest`, `${MF}CSVResultFormatTest`]);
const syntaxTypes: Record<string, { update: boolean; positive: boolean }> = {
  [`${MF}PositiveSyntaxTest11`]: { update: false, positive: true },
  [`${MF}NegativeSyntaxTest11`]: { update: false, positive: false },
  [`${MF}PositiveUpdateSyntaxTest11`]: { update: true, positive: true },
  [`${MF}NegativeUpdateSyntaxTest11`]: { update: true, positive: false },
};

function show(t: Tuple): string {
  return t.map((x) => (x ? termText(x) : "-")).join(" ");
}

/** The first tuple only in `actual` and the first only in `expected` (blank nodes ignored), for messages. */
function diff(actual: Tuple[], expected: Tuple[]): string {
  const key = (t: Tuple) => t.map((x) => (x ? exact(x) : "-")).join(" ");
  const ek = new Set(expected.map(key));
  const ak = new Set(actual.map(key));
  const a = actual.find((t) => !ek.has(key(t)));
  const e = expected.find((t) => !ak.has(key(t)));
  return `${a ? `; got ${show(a)}` : ""}${e ? `; expected ${show(e)}` : ""}`.slice(0, 400);
}

function rowsTuples(vars: string[], rows: Row[]): Tuple[] {
  return rows.map((r) => vars.map((v) => r[v]));
}

function graphTuples(g: Graph): Tuple[] {
  return quadTuples(g.dump("nquads"));
}

async function expectedGraph(iri: string): Promise<Tuple[]> {
  const g = await loadGraph([{ path: fileURLToPath(iri) }], { cache: false });
  try {
    return graphTuples(g);
  } finally {
    g.free();
  }
}

function readExpected(iri: string): Expected {
  const path = fileURLToPath(iri);
  const text = readFileSync(path, "utf8");
  if (path.endsWith(".srx")) return parseSrx(text);
  if (path.endsWith(".srj")) return parseSrj(text);
  if (path.endsWith(".tsv")) return parseTsv(text);
  if (path.endsWith(".csv")) return parseCsv(text);
  throw new Error(`unsupported results file ${basename(path)}`);
}

/** A result set written in RDF (the rs: vocabulary of the DAWG tests). */
async function rdfResultSet(path: string): Promise<Expected> {
  const g = await loadGraph([{ path }], { cache: false });
  try {
    const RS = "http://www.w3.org/2001/sw/DataAccess/tests/result-set#";
    const bool = g.select(`SELECT ?b WHERE { ?rs <${RS}boolean> ?b }`)[0]?.b;
    if (bool) return { kind: "boolean", value: bool.value === "true" };
    const vars = g.select(`SELECT ?v WHERE { ?rs <${RS}resultVariable> ?v }`).map((r) => r.v?.value ?? "");
    const rows = new Map<string, Record<string, Term>>();
    for (const s of g.select(`SELECT ?s WHERE { ?rs <${RS}solution> ?s }`)) rows.set(s.s?.value ?? "", {});
    for (const r of g.select(
      `SELECT ?s ?var ?val WHERE { ?rs <${RS}solution> ?s . ?s <${RS}binding> ?b . ?b <${RS}variable> ?var ; <${RS}value> ?val }`,
    )) {
      const row = rows.get(r.s?.value ?? "");
      if (row && r.var && r.val) row[r.var.value] = r.val;
    }
    return { kind: "table", table: { vars, rows: [...rows.values()] } };
  } finally {
    g.free();
  }
}

const datasetClause = /\bFROM\s+(NAMED\s+)?<([^>]*)>/gi;

async function runQueryTest(t: ManifestTest): Promise<void> {
  if (!t.query) throw new Error("no qt:query");
  const queryPath = fileURLToPath(t.query);
  const text = readFileSync(queryPath, "utf8");
  const sources: GraphSource[] = t.data.map((d) => ({ path: fileURLToPath(d) }));
  for (const g of t.graphData) sources.push({ path: fileURLToPath(g), graph: g });
  // FROM / FROM NAMED name files next to the query: load them into graphs of those names.
  for (const m of text.matchAll(datasetClause)) {
    const iri = new URL(m[2] ?? "", t.query).href;
    if (iri.startsWith("file:") && !t.graphData.includes(iri) && !t.data.includes(iri)) {
      sources.push({ path: fileURLToPath(iri), graph: iri });
    }
  }
  const graph = await loadGraph(sources, { cache: false });
  // qt:serviceData: each endpoint answered by a local graph of its data (see QueryOptions.services).
  const services: Record<string, Graph> = {};
  for (const [endpoint, files] of t.serviceData) {
    services[endpoint] = await loadGraph(
      files.map((f) => ({ path: fileURLToPath(f) })),
      { cache: false },
    );
  }
  try {
    const result = graph.query(text, {
      name: queryPath,
      baseIri: t.query,
      ...(t.serviceData.size > 0 ? { services } : {}),
    });
    if (!t.result) throw new Error("no mf:result");
    const resultPath = fileURLToPath(t.result);
    if (result.type === "graph") {
      const actual = graphTuples(result.graph);
      result.graph.free();
      const expected = await expectedGraph(t.result);
      if (!isomorphic(actual, expected, "set")) {
        throw new Error(
          `graph differs: ${actual.length} quads, expected ${expected.length}${diff(actual, expected)}`,
        );
      }
      return;
    }
    const expected = /\.(ttl|rdf|nt)$/.test(resultPath)
      ? await rdfResultSet(resultPath)
      : readExpected(t.result);
    if (result.type === "ask") {
      if (expected.kind !== "boolean" || expected.value !== result.value) {
        throw new Error(
          `ASK gave ${result.value}, expected ${expected.kind === "boolean" ? expected.value : "a table"}`,
        );
      }
      return;
    }
    if (expected.kind !== "table") throw new Error("SELECT gave a table, expected a boolean");
    // Round-trip through our own writers where the expected file is in that format.
    let actual = { vars: result.vars, rows: result.rows };
    if (resultPath.endsWith(".csv")) {
      const parsed = parseCsv(toCsv(actual));
      if (parsed.kind === "table") actual = parsed.table;
    } else if (resultPath.endsWith(".tsv")) {
      const parsed = parseTsv(toTsv(actual));
      if (parsed.kind === "table") actual = parsed.table;
    } else if (resultPath.endsWith(".srj")) {
      const parsed = parseSrj(JSON.stringify(toSparqlJson(actual)));
      if (parsed.kind === "table") actual = parsed.table;
    }
    const vars = expected.table.vars;
    const sameVars = vars.length === actual.vars.length && vars.every((v) => actual.vars.includes(v));
    if (!sameVars) throw new Error(`variables ${actual.vars.join(",")}, expected ${vars.join(",")}`);
    const ordered = /\bORDER\s+BY\b/i.test(text);
    if (
      !isomorphic(
        rowsTuples(vars, actual.rows),
        rowsTuples(vars, expected.table.rows),
        ordered ? "ordered" : "bag",
      )
    ) {
      throw new Error(
        `rows differ: ${actual.rows.length} rows, expected ${expected.table.rows.length}${diff(
          rowsTuples(vars, actual.rows),
          rowsTuples(vars, expected.table.rows),
        )}`,
      );
    }
  } finally {
    graph.free();
    for (const g of Object.values(services)) g.free();
  }
}

async function runSparqlSyntaxTest(
  t: ManifestTest,
  kind: { update: boolean; positive: boolean },
): Promise<void> {
  if (!t.action) throw new Error("no mf:action");
  const path = fileURLToPath(t.action);
  const text = readFileSync(path, "utf8");
  const graph = await loadGraph([], { cache: false });
  let syntaxError: unknown;
  try {
    if (kind.update) graph.update(text, { name: path, baseIri: t.action });
    else graph.query(text, { name: path, baseIri: t.action });
  } catch (e) {
    if (isGgenError(e) && e.code === "SPARQL_SYNTAX") syntaxError = e;
  } finally {
    graph.free();
  }
  if (kind.positive && syntaxError) throw new Error(message(syntaxError));
  if (!kind.positive && !syntaxError) throw new Error("accepted a query with a syntax error");
}

// ---- SPARQL Update ------------------------------------------------------------------------------

export const sparqlUpdateDirs = [
  "add",
  "basic-update",
  "clear",
  "copy",
  "delete-data",
  "delete-insert",
  "delete-where",
  "delete",
  "drop",
  "move",
  "update-silent",
];

const UT = "http://www.w3.org/2009/sparql/tests/test-update#";

interface UpdateTest {
  iri: string;
  name: string;
  request: string;
  before: GraphSource[];
  after: GraphSource[];
}

async function readUpdateTests(path: string): Promise<UpdateTest[]> {
  const g = await loadGraph([{ path }], { cache: false });
  try {
    const tests = new Map<string, UpdateTest>();
    for (const r of g.select(`PREFIX mf: <${MF}> PREFIX ut: <${UT}>
      PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
      SELECT ?test ?name ?request WHERE {
        ?m mf:entries/rdf:rest*/rdf:first ?test . ?test a mf:UpdateEvaluationTest ; mf:action ?a .
        ?a ut:request ?request . OPTIONAL { ?test mf:name ?name } }`)) {
      const iri = r.test?.value ?? "";
      tests.set(iri, {
        iri,
        name: r.name?.value ?? "",
        request: r.request?.value ?? "",
        before: [],
        after: [],
      });
    }
    for (const [prop, side] of [
      ["mf:action", "before"],
      ["mf:result", "after"],
    ] as const) {
      for (const r of g.select(`PREFIX mf: <${MF}> PREFIX ut: <${UT}>
        PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
        SELECT ?test ?data ?gfile ?glabel WHERE {
          ?test ${prop} ?x .
          { ?x ut:data ?data } UNION { ?x ut:graphData ?gd . ?gd ut:graph ?gfile OPTIONAL { ?gd rdfs:label ?glabel } } }`)) {
        const t = tests.get(r.test?.value ?? "");
        if (!t) continue;
        if (r.data) t[side].push({ path: fileURLToPath(r.data.value) });
        if (r.gfile)
          t[side].push({ path: fileURLToPath(r.gfile.value), graph: r.glabel?.value ?? r.gfile.value });
      }
    }
    return [...tests.values()];
  } finally {
    g.free();
  }
}

async function runUpdateTest(t: UpdateTest): Promise<void> {
  const graph = await loadGraph(t.before, { cache: false });
  try {
    graph.update(readFileSync(fileURLToPath(t.request), "utf8"), {
      name: fileURLToPath(t.request),
      baseIri: t.request,
    });
    const expected = await loadGraph(t.after, { cache: false });
    try {
      const a = graphTuples(graph);
      const b = graphTuples(expected);
      if (!isomorphic(a, b, "set"))
        throw new Error(`dataset differs: ${a.length} quads, expected ${b.length}${diff(a, b)}`);
    } finally {
      expected.free();
    }
  } finally {
    graph.free();
  }
}

// ---- RDF ------------------------------------------------------------------------------------------

const rdfSuites: Record<string, { format: RdfFormat; expected: RdfFormat }> = {
  "rdf-turtle": { format: "turtle", expected: "ntriples" },
  "rdf-trig": { format: "trig", expected: "nquads" },
  "rdf-n-triples": { format: "ntriples", expected: "ntriples" },
  "rdf-n-quads": { format: "nquads", expected: "nquads" },
  "rdf-xml": { format: "rdfxml", expected: "ntriples" },
};

async function runRdfTest(
  t: ManifestTest,
  suite: string,
  base: string | undefined,
  manifestDir: string,
): Promise<"ok" | "skip"> {
  const local = (iri: string) => (iri.startsWith(manifestDir) ? iri.slice(manifestDir.length) : iri);
  const conf = rdfSuites[suite];
  if (!conf || !t.action) throw new Error("no mf:action");
  const kind = t.type.slice(RDFT.length);
  const path = fileURLToPath(t.action);
  const testBase = base ? new URL(local(t.action), base).href : t.action;
  const load = async (p: string, format: RdfFormat, b: string) =>
    loadGraph([{ text: readFileSync(p, "utf8"), format, baseIri: b, name: p }], { cache: false });
  if (/NegativeSyntax|NegativeEval/.test(kind)) {
    let g: Graph | undefined;
    try {
      g = await load(path, conf.format, testBase);
    } catch (e) {
      if (isGgenError(e) && e.code === "RDF_SYNTAX") return "ok";
      throw e;
    }
    g.free();
    throw new Error("accepted a document with a syntax error");
  }
  const g = await load(path, conf.format, testBase);
  try {
    if (/Eval$/.test(kind)) {
      if (!t.result) throw new Error("no mf:result");
      const resultPath = fileURLToPath(t.result);
      const expected = await load(
        resultPath,
        conf.expected,
        base ? new URL(local(t.result), base).href : t.result,
      );
      try {
        const a = graphTuples(g);
        const b = graphTuples(expected);
        if (!isomorphic(a, b, "set"))
          throw new Error(`graph differs: ${a.length} quads, expected ${b.length}${diff(a, b)}`);
      } finally {
        expected.free();
      }
    }
  } finally {
    g.free();
  }
  return "ok";
}

// ---- driver ---------------------------------------------------------------------------------------

export const sparqlQueryDirs = [
  "aggregates",
  "bind",
  "bindings",
  "cast",
  "construct",
  "csv-tsv-res",
  "entailment",
  "exists",
  "functions",
  "grouping",
  "json-res",
  "negation",
  "project-expression",
  "property-path",
  "service",
  "subquery",
  "syntax-query",
  "syntax-update-1",
  "syntax-update-2",
  "syntax-fed",
];

export interface RunOptions {
  root?: string;
  /** Only suites whose name contains one of these. */
  only?: string[];
}

export async function runConformance(options: RunOptions = {}): Promise<TestResult[]> {
  const root = options.root ?? defaultRoot;
  const results: TestResult[] = [];
  const want = (suite: string) => !options.only || options.only.some((o) => suite.includes(o));
  for (const dir of sparqlQueryDirs) {
    const manifest = join(root, "sparql/sparql11", dir, "manifest.ttl");
    const { tests } = await readManifest(manifest);
    for (const t of tests) {
      const syntax = syntaxTypes[t.type];
      const suite = syntax
        ? "sparql11-syntax"
        : queryTypes.has(t.type)
          ? dir === "entailment"
            ? "sparql11-entailment"
            : "sparql11-query"
          : undefined;
      if (!suite || !want(suite)) continue;
      const r: TestResult = {
        id: rel(root, t.iri),
        suite,
        type: local(t.type),
        name: t.name,
        outcome: "passed",
      };
      try {
        if (syntax) await runSparqlSyntaxTest(t, syntax);
        else await runQueryTest(t);
      } catch (e) {
        r.outcome = "failed";
        r.message = message(e).split("\n")[0] ?? "";
      }
      results.push(r);
    }
  }
  if (want("sparql11-update")) {
    for (const dir of sparqlUpdateDirs) {
      for (const t of await readUpdateTests(join(root, "sparql/sparql11", dir, "manifest.ttl"))) {
        const r: TestResult = {
          id: rel(root, t.iri),
          suite: "sparql11-update",
          type: "UpdateEvaluationTest",
          name: t.name,
          outcome: "passed",
        };
        try {
          await runUpdateTest(t);
        } catch (e) {
          r.outcome = "failed";
          r.message = message(e).split("\n")[0] ?? "";
        }
        results.push(r);
      }
    }
  }
  for (const dir of Object.keys(rdfSuites)) {
    const suite = dir;
    if (!want(suite)) continue;
    const manifest = join(root, "rdf/rdf11", dir, "manifest.ttl");
    const { tests, base } = await readManifest(manifest);
    for (const t of tests) {
      if (!t.type.startsWith(RDFT)) continue;
      const r: TestResult = {
        id: rel(root, t.iri),
        suite,
        type: local(t.type).replace(/^rdftest#/, ""),
        name: t.name,
        outcome: "passed",
      };
      try {
        await runRdfTest(t, dir, base, pathToFileURL(join(root, "rdf/rdf11", dir, "/")).href);
      } catch (e) {
        r.outcome = "failed";
        r.message = message(e).split("\n")[0] ?? "";
      }
      results.push(r);
    }
  }
  return results;
}

// ---- EARL -----------------------------------------------------------------------------------------

const ttlString = (s: string) => JSON.stringify(s);

export function earlReport(results: TestResult[], root: string, date = new Date()): string {
  const lines = [
    "@prefix earl: <http://www.w3.org/ns/earl#> .",
    "@prefix doap: <http://usefulinc.com/ns/doap#> .",
    "@prefix dc: <http://purl.org/dc/terms/> .",
    "@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .",
    "",
    "<urn:ggen:rdf> a doap:Project, earl:TestSubject, earl:Software ;",
    '  doap:name "@ggen/rdf" ;',
    '  doap:description "RDF loading and SPARQL 1.1 for ggen, on oxigraph" .',
    "",
  ];
  const when = date.toISOString();
  for (const r of results) {
    const test = pathToFileURL(join(root, r.id.replace(/#/, ".ttl#"))).href;
    lines.push(
      "[] a earl:Assertion ;",
      "  earl:assertedBy <urn:ggen:rdf> ;",
      "  earl:subject <urn:ggen:rdf> ;",
      `  earl:test <${test}> ;`,
      "  earl:mode earl:automatic ;",
      `  earl:result [ a earl:TestResult ; earl:outcome earl:${r.outcome} ; dc:date ${ttlString(when)}^^xsd:dateTime${
        r.message ? ` ; dc:description ${ttlString(r.message)}` : ""
      } ] .`,
    );
  }
  return `${lines.join("\n")}\n`;
}

export interface SuiteCount {
  passed: number;
  total: number;
}

export function summarize(results: TestResult[]): Record<string, SuiteCount> {
  const out: Record<string, SuiteCount> = {};
  for (const r of results) {
    const s = out[r.suite] ?? { passed: 0, total: 0 };
    out[r.suite] = s;
    s.total++;
    if (r.outcome === "passed") s.passed++;
  }
  return out;
}

export const conformanceDir = dirname(fileURLToPath(import.meta.url));
export type { Term };
