// A deterministic synthetic ontology + instance data of about N triples, for benchmarks: classes with
// labels and comments, datatype properties with domains and ranges, and instances linked in chains.

export const syntheticNamespace = "http://example.org/bench#";

export interface SyntheticOptions {
  /** Number of owl:Classes; default max(8, triples / 1000). */
  classes?: number;
  /** Datatype properties per class; default 5. */
  propertiesPerClass?: number;
}

const RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#";
const RDFS = "http://www.w3.org/2000/01/rdf-schema#";
const OWL = "http://www.w3.org/2002/07/owl#";
const XSD = "http://www.w3.org/2001/XMLSchema#";
const ranges = ["string", "integer", "decimal", "boolean", "dateTime"];

/** N-Triples text of a graph with exactly `triples` triples (deterministic for a given input). */
export function syntheticGraph(triples: number, options: SyntheticOptions = {}): string {
  const ex = syntheticNamespace;
  const nClasses = options.classes ?? Math.max(8, Math.floor(triples / 1000));
  const nProps = options.propertiesPerClass ?? 5;
  const lines: string[] = [];
  const add = (s: string, p: string, o: string) => {
    if (lines.length < triples) lines.push(`${s} ${p} ${o} .`);
  };
  const iri = (s: string) => `<${s}>`;
  let seed = 42;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
  for (let c = 0; c < nClasses; c++) {
    const cls = iri(`${ex}Class${c}`);
    add(cls, iri(`${RDF}type`), iri(`${OWL}Class`));
    add(cls, iri(`${RDFS}label`), `"Class ${c}"@en`);
    add(cls, iri(`${RDFS}comment`), `"Synthetic class number ${c}."`);
    if (c > 0) add(cls, iri(`${RDFS}subClassOf`), iri(`${ex}Class${Math.floor((c - 1) / 2)}`));
    for (let p = 0; p < nProps; p++) {
      const prop = iri(`${ex}class${c}Prop${p}`);
      add(prop, iri(`${RDF}type`), iri(`${OWL}DatatypeProperty`));
      add(prop, iri(`${RDFS}domain`), cls);
      add(prop, iri(`${RDFS}range`), iri(`${XSD}${ranges[p % ranges.length]}`));
      add(prop, iri(`${RDFS}label`), `"property ${p} of class ${c}"`);
    }
  }
  let i = 0;
  while (lines.length < triples) {
    const item = iri(`${ex}item${i}`);
    add(item, iri(`${RDF}type`), iri(`${ex}Class${i % nClasses}`));
    add(item, iri(`${ex}name`), `"Item ${i}"`);
    add(item, iri(`${ex}value`), `"${Math.floor(rand() * 1000)}"^^<${XSD}integer>`);
    add(item, iri(`${ex}score`), `"${(rand() * 100).toFixed(2)}"^^<${XSD}decimal>`);
    // chains of 10 items for property paths
    if (i % 10 !== 9) add(item, iri(`${ex}next`), iri(`${ex}item${i + 1}`));
    add(item, iri(`${ex}related`), iri(`${ex}item${Math.floor(rand() * (i + 1))}`));
    i++;
  }
  return `${lines.join("\n")}\n`;
}
