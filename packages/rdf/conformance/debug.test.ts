import { readFileSync } from "node:fs";
import { it } from "vitest";
import { loadGraph } from "../src/index.js";
import { exact } from "./compare.js";
import { parseSrx } from "./results.js";
const D = "/work/shared/w3c-rdf-tests/sparql/sparql11/";
it("debug", async () => {
  for (const [dir, q, d, r] of [["cast", "cast-bool.rq", "data.ttl", "cast-bool.srx"], ["aggregates", "agg-groupconcat-04.rq", "agg-groupconcat-3.ttl", "agg-groupconcat-04.srx"], ["functions", "bnode01.rq", "data-builtin-1.ttl", "bnode01.srx"]]) {
    const g = await loadGraph([{ path: D + dir + "/" + d }], { cache: false });
    let res;
    try { res = g.query(readFileSync(D + dir + "/" + q, "utf8")); } catch (e) { console.log(q, String(e)); continue }
    const exp = parseSrx(readFileSync(D + dir + "/" + r, "utf8"));
    if (res.type !== "select" || exp.kind !== "table") { console.log(q, res, exp); continue; }
    const key = (row) => exp.table.vars.map((v) => (row[v] ? exact(row[v]) : "-")).join(" ");
    const a = new Set(res.rows.map(key)); const e = new Set(exp.table.rows.map(key));
    console.log(q, "only actual:", [...a].filter((k) => !e.has(k)).slice(0, 4), "only expected:", [...e].filter((k) => !a.has(k)).slice(0, 4));
    g.free();
  }
});
