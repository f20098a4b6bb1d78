// A graph the user gives (--graph) must reach a template that reads one: a run whose templates have no
// query and name no graph helper would load the graph and silently ignore it. Decided from what each
// template is (its frontmatter and the helpers its compiled texts name) before any graph is parsed or
// anything is written; anything that might read a graph counts as reading it.
import { fail } from "./errors.js";
import { Slot } from "./frontmatter.js";
import { isObj } from "./graphs.js";
import type { Compiled } from "./hbs.js";
import { GRAPH_HELPERS } from "./helpers.js";
import type { LoadedTemplate, TemplateUnit } from "./resolve.js";
import type { Run } from "./run.js";

const A_VAR = /^\s*[A-Za-z_][\w.]*\s*$/;

/** Whether compiled text may call a graph helper (unknown helpers: it may). */
const callsGraphHelper = (c: Compiled | undefined): boolean =>
  c !== undefined && (c.helpers === undefined || c.helpers.some((h) => GRAPH_HELPERS.includes(h)));

/** Every Slot of a frontmatter value. */
function slotsIn(v: unknown, out: Slot[] = []): Slot[] {
  if (v instanceof Slot) out.push(v);
  else if (Array.isArray(v)) for (const x of v) slotsIn(x, out);
  else if (isObj(v)) for (const x of Object.values(v)) slotsIn(x, out);
  return out;
}

/**
 * Whether a template may read its graph: `sparql:` queries, a `for_each` query, a `when:` that is not
 * true/false (an ASK), a `from:` body (read only when rendered), or a graph helper in its body or in any
 * frontmatter value.
 */
export function readsGraph(tpl: LoadedTemplate): boolean {
  if (callsGraphHelper(tpl.body)) return true;
  const front = tpl.front?.value;
  if (!isObj(front)) return false;
  if (slotsIn(front).some((s) => callsGraphHelper(s.compiled))) return true;
  const has = (k: string) => front[k] !== undefined && front[k] !== null;
  if (has("sparql") && !(isObj(front.sparql) && Object.keys(front.sparql).length === 0)) return true;
  if (has("from") && front.from !== "") return true;
  const fe = front.for_each;
  if (
    has("for_each") &&
    !(typeof fe === "string" && A_VAR.test(fe)) &&
    !(isObj(fe) && fe.query === undefined)
  )
    return true;
  const w = front.when;
  return has("when") && typeof w !== "boolean" && !(typeof w === "string" && /^\s*(true|false)\s*$/i.test(w));
}

/** Refuses a run given --graph none of whose templates reads a graph (usage error, nothing done yet). */
export function checkGraphRead(run: Run, units: readonly TemplateUnit[]): void {
  const given = run.opts.graphs ?? [];
  if (given.length === 0 || units.length === 0) return;
  if (units.some((u) => readsGraph(run.template(u)))) return;
  const packs = new Set(units.map((u) => u.pack?.id));
  const one = units[0]!;
  const none =
    units.length === 1
      ? `${one.pack ? one.ref : one.display} reads no graph`
      : packs.size === 1 && one.pack
        ? `no template of ${one.pack.id} reads a graph`
        : `none of the ${units.length} templates reads a graph`;
  fail(
    "GRAPH_UNUSED",
    `--graph ${given.join(", ")}: ${none} (no query, no sparql helper); leave out --graph, or use ${one.pack ? "a pack" : "a template"} that queries one`,
    undefined,
    { kind: "usage" },
  );
}
