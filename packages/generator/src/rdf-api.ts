// The slice of @ggen/rdf the generator uses. @ggen/rdf is imported lazily (only for templates with
// graphs), and typed through this interface so the generator builds on its own.

export type RdfFormat = "turtle" | "trig" | "ntriples" | "nquads" | "n3" | "rdfxml" | "jsonld";
export type GraphSource =
  | { path: string; format?: RdfFormat }
  | { text: string; format: RdfFormat; baseIri?: string; name?: string }
  | { url: string; format?: RdfFormat };

export interface Term {
  value: string;
  type: "iri" | "literal" | "blank";
  datatype?: string;
  language?: string;
}
export type Row = Record<string, Term>;

export interface Graph {
  readonly hash: string;
  readonly size: number;
  readonly prefixes: Record<string, string>;
  readonly base: string | undefined;
  select(q: string): Row[];
  ask(q: string): boolean;
  free(): void;
}

export interface RdfApi {
  loadGraph(sources: GraphSource[], options?: { cacheDir?: string; cache?: boolean }): Promise<Graph>;
  bind(query: string, vars: Record<string, unknown>): string;
}

let rdf: Promise<RdfApi> | undefined;
export function loadRdf(): Promise<RdfApi> {
  rdf ??= import("@ggen/rdf") as unknown as Promise<RdfApi>;
  return rdf;
}
