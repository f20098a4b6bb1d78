// Deterministic blank node labels. oxigraph gives every parsed blank node a random label, and the order
// of some results (GROUP BY a blank node, say) follows those labels, so the same file could give rows in
// another order on the next run. After a load, blank nodes are relabelled from the graph's structure
// (colour refinement over their quads), so the same content always gets the same labels.
import { createHash } from "node:crypto";
import type { Ox, OxStore } from "./engine.js";
import type { JsonResults, JsonTerm } from "./terms.js";

const XSD_STRING = "http://www.w3.org/2001/XMLSchema#string";
/** Graphs with more blank-node quads than this keep oxigraph's labels (relabelling would cost too much). */
export const MAX_BLANK_QUADS = 500_000;

const selectBlankQuads = `SELECT ?s ?p ?o ?g WHERE {
  { ?s ?p ?o FILTER(isBlank(?s) || isBlank(?o)) }
  UNION
  { GRAPH ?g { ?s ?p ?o } FILTER(isBlank(?s) || isBlank(?o) || isBlank(?g)) }
}`;

type Q = [JsonTerm, JsonTerm, JsonTerm, JsonTerm | undefined];

function groundKey(t: JsonTerm | undefined): string {
  if (!t) return "-";
  if (t.type === "uri") return `<${String(t.value)}>`;
  return `"${String(t.value)}"@${t["xml:lang"] ?? ""}^^${t.datatype ?? ""}`;
}

const sha = (s: string) => createHash("sha1").update(s).digest("hex");

/** Relabels the store's blank nodes deterministically; returns how many blank nodes were relabelled. */
export function canonicalizeBlankNodes(ox: Ox, store: OxStore): number {
  const json = JSON.parse(store.query(selectBlankQuads, { results_format: "json" }) as string) as JsonResults;
  const bindings = json.results?.bindings ?? [];
  if (bindings.length === 0 || bindings.length > MAX_BLANK_QUADS) return 0;
  const quads: Q[] = [];
  for (const b of bindings) {
    const s = b.s;
    const p = b.p;
    const o = b.o;
    if (!s || !p || !o) continue;
    if (s.type === "triple" || o.type === "triple") return 0; // RDF-star: leave as is
    quads.push([s, p, o, b.g]);
  }
  const color = new Map<string, string>();
  for (const q of quads) for (const t of q) if (t?.type === "bnode") color.set(String(t.value), "");
  let distinct = 1;
  for (let round = 0; round < 8; round++) {
    const sigs = new Map<string, string[]>();
    for (const q of quads) {
      for (let k = 0; k < 4; k++) {
        const self = q[k];
        if (self?.type !== "bnode") continue;
        const id = String(self.value);
        const sig = q
          .map((t, j) =>
            j === k || (t?.type === "bnode" && String(t.value) === id)
              ? `@${j}`
              : t?.type === "bnode"
                ? `_${color.get(String(t.value))}`
                : groundKey(t),
          )
          .join(" ");
        const list = sigs.get(id) ?? [];
        list.push(sig);
        sigs.set(id, list);
      }
    }
    const next = new Map<string, string>();
    for (const [id, c] of color) next.set(id, sha(`${c}|${(sigs.get(id) ?? []).sort().join("\n")}`));
    const n = new Set(next.values()).size;
    for (const [id, c] of next) color.set(id, c);
    if (n === color.size || (round > 0 && n === distinct)) break;
    distinct = n;
  }
  // labels: the colour, plus an index among nodes the refinement cannot tell apart
  const groups = new Map<string, string[]>();
  for (const [id, c] of color) {
    const g = groups.get(c) ?? [];
    g.push(id);
    groups.set(c, g);
  }
  const label = new Map<string, string>();
  for (const [c, ids] of groups) {
    ids.sort();
    ids.forEach((id, i) => {
      label.set(id, `b${c.slice(0, 16)}${i > 0 ? `x${i}` : ""}`);
    });
  }
  const term = (t: JsonTerm) => {
    if (t.type === "uri") return ox.namedNode(String(t.value));
    if (t.type === "bnode") return ox.blankNode(label.get(String(t.value)) ?? String(t.value));
    const lang = t["xml:lang"];
    return ox.literal(String(t.value), lang ? lang : ox.namedNode(t.datatype ?? XSD_STRING));
  };
  store.update(
    "DELETE { ?s ?p ?o } WHERE { ?s ?p ?o FILTER(isBlank(?s) || isBlank(?o)) } ; " +
      "DELETE { GRAPH ?g { ?s ?p ?o } } WHERE { GRAPH ?g { ?s ?p ?o } FILTER(isBlank(?s) || isBlank(?o) || isBlank(?g)) }",
  );
  for (const [s, p, o, g] of quads) {
    store.add(
      ox.quad(
        term(s) as import("oxigraph").Quad_Subject,
        term(p) as import("oxigraph").Quad_Predicate,
        term(o) as import("oxigraph").Quad_Object,
        g ? (term(g) as import("oxigraph").Quad_Graph) : ox.defaultGraph(),
      ),
    );
  }
  return color.size;
}
