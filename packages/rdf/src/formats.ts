// The serializations @ggen/rdf reads and writes, and how a file name or a content type maps to one.
import { extname } from "node:path";

export type RdfFormat = "turtle" | "trig" | "ntriples" | "nquads" | "n3" | "rdfxml" | "jsonld";

export const rdfFormats: readonly RdfFormat[] = [
  "turtle",
  "trig",
  "ntriples",
  "nquads",
  "n3",
  "rdfxml",
  "jsonld",
];

/** The media type oxigraph understands for each format. */
export const mediaTypes: Record<RdfFormat, string> = {
  turtle: "text/turtle",
  trig: "application/trig",
  ntriples: "application/n-triples",
  nquads: "application/n-quads",
  n3: "text/n3",
  rdfxml: "application/rdf+xml",
  jsonld: "application/ld+json",
};

/** Formats that carry named graphs. */
export const datasetFormats: ReadonlySet<RdfFormat> = new Set(["trig", "nquads", "jsonld"]);

const extensions: Record<string, RdfFormat> = {
  ".ttl": "turtle",
  ".turtle": "turtle",
  ".trig": "trig",
  ".nt": "ntriples",
  ".ntriples": "ntriples",
  ".nq": "nquads",
  ".nquads": "nquads",
  ".n3": "n3",
  ".rdf": "rdfxml",
  ".owl": "rdfxml",
  ".xml": "rdfxml",
  ".rdfxml": "rdfxml",
  ".jsonld": "jsonld",
  ".json-ld": "jsonld",
};

/** Extensions recognised by {@link formatFromPath}, for hints. */
export const knownExtensions: readonly string[] = Object.keys(extensions);

export function formatFromPath(path: string): RdfFormat | undefined {
  const clean = path.replace(/[?#].*$/, "");
  return extensions[extname(clean).toLowerCase()];
}

const contentTypes: Record<string, RdfFormat> = {
  "text/turtle": "turtle",
  "application/x-turtle": "turtle",
  "application/trig": "trig",
  "application/n-triples": "ntriples",
  "text/plain": "ntriples",
  "application/n-quads": "nquads",
  "text/n3": "n3",
  "text/rdf+n3": "n3",
  "application/rdf+xml": "rdfxml",
  "application/xml": "rdfxml",
  "text/xml": "rdfxml",
  "application/ld+json": "jsonld",
  "application/json": "jsonld",
};

export function formatFromContentType(contentType: string | null | undefined): RdfFormat | undefined {
  if (!contentType) return undefined;
  const base = contentType.split(";")[0]?.trim().toLowerCase() ?? "";
  return contentTypes[base];
}

/** Accepts a format name or a common alias (ttl, nt, nq, xml, json-ld, …). */
export function parseFormatName(name: string): RdfFormat | undefined {
  const n = name.toLowerCase();
  if ((rdfFormats as readonly string[]).includes(n)) return n as RdfFormat;
  const alias: Record<string, RdfFormat> = {
    ttl: "turtle",
    nt: "ntriples",
    "n-triples": "ntriples",
    nq: "nquads",
    "n-quads": "nquads",
    rdf: "rdfxml",
    xml: "rdfxml",
    "rdf/xml": "rdfxml",
    owl: "rdfxml",
    "json-ld": "jsonld",
  };
  return alias[n] ?? formatFromPath(`x.${n}`);
}
