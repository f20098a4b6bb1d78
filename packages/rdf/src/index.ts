// Public entry of @ggen/rdf: RDF graphs loaded into oxigraph, SPARQL 1.1 over them, safe binding.

export type { IriValue, LiteralValue } from "./bind.js";
export { bind, escapeString, iriRef, sparqlTerm } from "./bind.js";
export type { CacheStats, Graph, QueryOptions, QueryResult } from "./client.js";
export { cacheStats, clearGraphCache, loadGraph, prepareGraphHost } from "./client.js";
export type { RdfFormat } from "./formats.js";
export {
  formatFromContentType,
  formatFromPath,
  knownExtensions,
  parseFormatName,
  rdfFormats,
} from "./formats.js";
export type { QueryForm } from "./lexer.js";
export { queryForm, undeclaredPrefixes } from "./lexer.js";
export type { RdfLimits } from "./limits.js";
export { defaultRdfLimits, formatDuration, rdfLimits, setRdfLimits } from "./limits.js";
export type { GraphSource, LoadOptions, SourceLimits } from "./load.js";
export { contentHash } from "./load.js";
export type { Position } from "./positions.js";
export { subjectPositions } from "./positions.js";
export type { Declarations } from "./prefixes.js";
export { declarations } from "./prefixes.js";
export type { ResultsFormat, SparqlJson, SparqlJsonTerm } from "./results.js";
export { compactTerm, formatResults, toCsv, toJsonTerm, toSparqlJson, toTsv, tsvTerm } from "./results.js";
export type { ShapesReport, ShapeViolation, ValidateShapesOptions } from "./shacl.js";
export { validateShapes } from "./shacl.js";
export type { SyntheticOptions } from "./synthetic.js";
export { syntheticGraph, syntheticNamespace } from "./synthetic.js";
export type { Row, Term } from "./terms.js";
export { termText } from "./terms.js";
