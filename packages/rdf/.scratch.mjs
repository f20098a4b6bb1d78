import { loadGraph } from "./dist/index.js";
const g = await loadGraph([{ path: "conformance/out/earl.ttl" }]);
console.log(g.size, g.select("PREFIX earl: <http://www.w3.org/ns/earl#> SELECT ?o (COUNT(*) AS ?n) WHERE { ?a a earl:Assertion ; earl:result/earl:outcome ?o } GROUP BY ?o").map(r => r.o.value + " " + r.n.value));
