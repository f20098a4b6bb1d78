// Public entry of @ggen/rdf: RDF graphs loaded into oxigraph, SPARQL 1.1 over them, safe binding.

export type { IriValue, LiteralValue } from "./bind.js";
export { bind, escapeString, iriRef, sparqlTerm } from "./bind.js";
export type { RdfFormat } from "./formats.js";
export {
  formatFromContentType,
  formatFromPath,
  knownExtensions,
  parseFormatName,
  rdfFormats,
} from "./formats.js";
export type { CacheStats, Graph, QueryOptions, QueryResult } from "./graph.js";
export { cacheStats, clearGraphCache } from "./graph.js";
export type { QueryForm } from "./lexer.js";
export { queryForm } from "./lexer.js";
export type { GraphSource, LoadOptions } from "./load.js";
export { contentHash, loadGraph } from "./load.js";
export type { Position } from "./positions.js";
export { subjectPositions } from "./positions.js";
export type { ResultsFormat, SparqlJson, SparqlJsonTerm } from "./results.js";
export { compactTerm, formatResults, toCsv, toJsonTerm, toSparqlJson, toTsv, tsvTerm } from "./results.js";
export type { ShapesReport, ShapeViolation, ValidateShapesOptions } from "./shacl.js";
export { validateShapes } from "./shacl.js";
export type { SyntheticOptions } from "./synthetic.js";
export { syntheticGraph, syntheticNamespace } from "./synthetic.js";
export type { Row, Term } from "./terms.js";
export { termText } from "./terms.js";
