// SHACL validation of a data graph against a shapes graph, on rdf-validate-shacl (SHACL Core; see the
// README for why this engine). Both graphs go to the engine as n3 stores read from oxigraph's N-Quads
// dump (the engine asks many small questions, which an in-process store answers faster than calls
// into WASM). Each violation comes back as a sentence about the user's data, located in the file that
// first writes its focus node as a subject when the caller passes the data's sources.
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import {
  compilePattern,
  GgenError,
  isGgenError,
  type SafePattern,
  type SourceLocation,
} from "@ggen/contract";
import type { Graph } from "./client.js";
import { n3lib } from "./engine.js";
import { formatFromPath } from "./formats.js";
import type { GraphSource } from "./load.js";
import { type Position, subjectPositions } from "./positions.js";
import { compactTerm } from "./results.js";
import type { Term } from "./terms.js";

const SH = "http://www.w3.org/ns/shacl#";
const RDF_FIRST = "http://www.w3.org/1999/02/22-rdf-syntax-ns#first";
const RDF_REST = "http://www.w3.org/1999/02/22-rdf-syntax-ns#rest";
const RDF_NIL = "http://www.w3.org/1999/02/22-rdf-syntax-ns#nil";

/** Literals of these datatypes print bare (`0`, not `"0"`) when they are well-formed numbers. */
const NUMERIC =
  /XMLSchema#(integer|decimal|double|float|int|long|short|byte|nonNegativeInteger|positiveInteger|negativeInteger|nonPositiveInteger|unsigned\w+)$/;

type RdfjsTerm = { termType: string; value: string; datatype?: { value: string }; language?: string };
type N3Store = import("n3").Store;

export interface ShapeViolation {
  /** The node that breaks the shape. */
  focus: Term;
  /** The shape: the named node shape a property shape belongs to, when there is one. */
  shape: Term;
  /** The constraint component's local name: MinCount, Datatype, Class, Pattern… */
  component: string;
  severity: "Violation" | "Warning" | "Info";
  /** The property path as written in SPARQL property-path syntax (compacted), when the shape has one. */
  path?: string;
  value?: Term;
  /** One sentence: `ex:b2 has no ex:title (shape ex:BookShape)`. */
  message: string;
  /** Where the focus node is first written (when `sources` were given and it could be found). */
  location?: SourceLocation;
}

export interface ShapesReport {
  conforms: boolean;
  violations: ShapeViolation[];
}

export interface ValidateShapesOptions {
  /** The data's sources: violations are located in the first that writes their focus node. */
  sources?: GraphSource[];
  /** Report at most this many results (default 1000). */
  limit?: number;
}

function toTerm(t: RdfjsTerm): Term {
  if (t.termType === "NamedNode") return { type: "iri", value: t.value };
  if (t.termType === "BlankNode") return { type: "blank", value: t.value };
  const out: Term = { type: "literal", value: t.value };
  if (t.language) out.language = t.language;
  else if (t.datatype) out.datatype = t.datatype.value;
  return out;
}

function storeOf(graph: Graph): N3Store {
  const n3 = n3lib();
  // blankNodePrefix "" keeps the dump's labels, so terms from the engine can be looked up again.
  const parser = new n3.Parser({ format: "N-Quads", blankNodePrefix: "" });
  return new n3.Store(parser.parse(graph.dump("nquads")));
}

let engineLib: Promise<typeof import("rdf-validate-shacl")> | undefined;

/**
 * The engine runs sh:pattern with JavaScript's backtracking RegExp; a pack's pattern on a user's value
 * must not hang a run, so its pattern check runs on RE2 (compilePattern) instead. The registry holds
 * the validator object, so replacing its `validate` is enough.
 */
async function loadEngine(): Promise<typeof import("rdf-validate-shacl")> {
  const engine = await import("rdf-validate-shacl");
  const { default: validators } = await import("rdf-validate-shacl/src/validators.js");
  const cache = new Map<string, SafePattern>();
  const pattern = validators.validatePattern as { validate: (...a: never[]) => boolean };
  pattern.validate = ((
    context: { ns: { sh: Record<string, unknown> } },
    _focus: unknown,
    valueNode: RdfjsTerm,
    constraint: { getParameterValue(t: unknown): RdfjsTerm | undefined },
  ) => {
    if (valueNode.termType === "BlankNode") return false;
    const source = constraint.getParameterValue(context.ns.sh.pattern)?.value ?? "";
    const flags = constraint.getParameterValue(context.ns.sh.flags)?.value ?? "";
    const key = `${flags}/${source}`;
    let re = cache.get(key);
    if (!re) {
      re = compilePattern(source, { flags, what: "sh:pattern" });
      cache.set(key, re);
    }
    return re.test(valueNode.value);
  }) as never;
  return engine;
}

/**
 * Validates `data` against the shapes in `shapes` (SHACL Core, with rdfs:subClassOf of the data graph
 * for targets and sh:class). SPARQL-based constraints are refused (a usage error), never skipped.
 */
export async function validateShapes(
  data: Graph,
  shapes: Graph,
  options: ValidateShapesOptions = {},
): Promise<ShapesReport> {
  engineLib ??= loadEngine();
  const { default: Validator } = await engineLib;
  const shapesStore = storeOf(shapes);
  const n3 = n3lib();
  const { namedNode } = n3.DataFactory;
  if (shapesStore.countQuads(null, namedNode(`${SH}sparql`), null, null) > 0) {
    throw new GgenError("SHACL_UNSUPPORTED", "SPARQL-based constraints (sh:sparql) are not supported", {
      kind: "usage",
      hint: "express the constraint with SHACL Core (sh:minCount, sh:datatype, sh:class, sh:pattern, …)",
    });
  }
  const validator = new Validator(shapesStore as never);
  const dataStore = storeOf(data);
  let report: Awaited<ReturnType<typeof validator.validate>>;
  try {
    report = await validator.validate(dataStore as never);
  } catch (e) {
    if (isGgenError(e)) throw e;
    throw new GgenError("SHACL_SHAPES", `the shapes cannot be used: ${String((e as Error).message ?? e)}`, {
      kind: "usage",
      cause: e,
    });
  }
  const prefixes = { sh: SH, ...shapes.prefixes, ...data.prefixes };
  const show = (t: Term) => {
    if (t.type !== "literal") return compactTerm(t, prefixes);
    const plain = NUMERIC.test(t.datatype ?? "") && /^[-+]?[\d.]+(e[-+]?\d+)?$/i.test(t.value);
    if (plain) return t.value;
    // A sentence names the value, it does not reproduce it: long literals are cut (the file:line says where).
    const v = t.value.length > 80 ? `${t.value.slice(0, 60)}… (${t.value.length} characters)` : t.value;
    return JSON.stringify(v) + (t.language ? `@${t.language}` : "");
  };
  const one = (s: RdfjsTerm, p: string): RdfjsTerm | undefined =>
    shapesStore.getObjects(s as never, namedNode(p), null)[0] as RdfjsTerm | undefined;
  const list = (head: RdfjsTerm | undefined): RdfjsTerm[] => {
    const items: RdfjsTerm[] = [];
    for (let n = head; n && n.value !== RDF_NIL && items.length < 1000; n = one(n, RDF_REST)) {
      const first = one(n, RDF_FIRST);
      if (first) items.push(first);
    }
    return items;
  };
  const pathText = (p: RdfjsTerm, depth = 0): string => {
    if (p.termType === "NamedNode" || depth > 20) return show(toTerm(p));
    const inv = one(p, `${SH}inversePath`);
    if (inv) return `^${pathText(inv, depth + 1)}`;
    const alt = one(p, `${SH}alternativePath`);
    if (alt)
      return `(${list(alt)
        .map((x) => pathText(x, depth + 1))
        .join("|")})`;
    for (const [k, mark] of [
      ["zeroOrMorePath", "*"],
      ["oneOrMorePath", "+"],
      ["zeroOrOnePath", "?"],
    ] as const) {
      const inner = one(p, `${SH}${k}`);
      if (inner) return `${pathText(inner, depth + 1)}${mark}`;
    }
    const seq = list(p);
    return seq.length ? seq.map((x) => pathText(x, depth + 1)).join("/") : show(toTerm(p));
  };
  const located = report.results.length > 0 ? await positionsOf(options.sources ?? []) : () => undefined;
  const limit = options.limit ?? 1000;
  const violations: ShapeViolation[] = [];
  for (const r of report.results.slice(0, limit)) {
    const focus = toTerm(r.focusNode as RdfjsTerm);
    // A blank node means nothing to the user: name it by the IRI that holds it (`ex:Book
    // rdfs:subClassOf [ … ]`), and locate it there.
    const owner = focus.type === "blank" ? ownerOf(dataStore, r.focusNode as RdfjsTerm) : undefined;
    const focusText = owner
      ? `${show(toTerm(owner.subject))} ${owner.path.map((p) => show(toTerm(p))).join("/")} [ … ]`
      : show(focus);
    const source = r.sourceShape as RdfjsTerm;
    const nodeShape = shapesStore.getSubjects(namedNode(`${SH}property`), source as never, null)[0] as
      | RdfjsTerm
      | undefined;
    const shape = toTerm(nodeShape && nodeShape.termType === "NamedNode" ? nodeShape : source);
    const component = (r.sourceConstraintComponent as RdfjsTerm).value
      .replace(SH, "")
      .replace(/ConstraintComponent$/, "");
    const severity = (r.severity as RdfjsTerm | undefined)?.value.replace(SH, "") ?? "Violation";
    const path = r.path ? pathText(r.path as RdfjsTerm) : undefined;
    // A node shape's own constraints report the focus node as the value: say it once.
    const raw = r.value as RdfjsTerm | null | undefined;
    const value = raw && !(path === undefined && raw.value === focus.value) ? toTerm(raw) : undefined;
    const param = (name: string) => {
      const t = one(source, `${SH}${name}`);
      return t ? toTerm(t) : undefined;
    };
    const engineSays = r.message.map((m) => (m as RdfjsTerm).value).join("; ");
    // The shape's author knows best what a violation means to the user: their sh:message wins.
    const authored = authoredMessage(shapesStore, source, {
      this: focusText,
      path,
      value: value && show(value),
    });
    const sentence =
      authored ??
      describe({
        focus: focusText,
        path,
        value: value && show(value),
        component,
        param,
        show,
        engineSays,
        list: (n) => list(one(source, `${SH}${n}`)).map((x) => show(toTerm(x))),
      });
    const v: ShapeViolation = {
      focus,
      shape,
      component,
      severity: severity === "Warning" || severity === "Info" ? severity : "Violation",
      message: `${sentence} (shape ${show(shape)})`,
    };
    if (path !== undefined) v.path = path;
    if (value !== undefined) v.value = value;
    const at = focus.type === "iri" ? located(focus.value) : owner ? located(owner.subject.value) : undefined;
    if (at) v.location = at;
    violations.push(v);
  }
  // A value of the wrong datatype also fails every range comparison: the datatype says it all.
  const mistyped = new Set(
    violations
      .filter((v) => v.component === "Datatype")
      .map((v) => `${v.focus.value} ${v.path} ${v.value?.value}`),
  );
  const kept = violations.filter(
    (v) =>
      !(
        /^(Min|Max)(In|Ex)clusive$/.test(v.component) &&
        mistyped.has(`${v.focus.value} ${v.path} ${v.value?.value}`)
      ),
  );
  violations.length = 0;
  violations.push(...kept);
  // Deterministic order, as a reader goes through the files: by place, then by sentence.
  const order = (v: ShapeViolation) =>
    [v.location?.file ?? "\uffff", v.location?.line ?? 0, v.location?.column ?? 0] as const;
  violations.sort((a, b) => {
    const [fa, la, ca] = order(a);
    const [fb, lb, cb] = order(b);
    if (fa !== fb) return fa < fb ? -1 : 1;
    return la - lb || ca - cb || (a.message < b.message ? -1 : a.message > b.message ? 1 : 0);
  });
  return { conforms: report.conforms, violations };
}

/**
 * The sh:message of the shape that reports the result (untagged or English, else any), with `{$this}`,
 * `{$path}` and `{$value}` (also `{?…}`) filled in; one line. Undefined when the shape has none.
 */
function authoredMessage(
  store: N3Store,
  shape: RdfjsTerm,
  parts: { this: string; path: string | undefined; value: string | undefined },
): string | undefined {
  const { namedNode } = n3lib().DataFactory;
  const literals = (store.getObjects(shape as never, namedNode(`${SH}message`), null) as RdfjsTerm[]).filter(
    (t) => t.termType === "Literal",
  );
  const chosen =
    literals.find((t) => !t.language) ??
    literals.find((t) => /^en(-|$)/i.test(t.language ?? "")) ??
    literals[0];
  return chosen?.value
    .replace(/\{[$?](this|focusNode)\}/g, parts.this)
    .replace(/\{[$?]path\}/g, parts.path ?? "")
    .replace(/\{[$?]value\}/g, parts.value ?? "")
    .replace(/\s+/g, " ")
    .trim();
}

/** The IRI a blank node hangs from (up to three blank nodes up), and the predicates on the way. */
function ownerOf(store: N3Store, node: RdfjsTerm): { subject: RdfjsTerm; path: RdfjsTerm[] } | undefined {
  let current = node;
  const path: RdfjsTerm[] = [];
  for (let depth = 0; depth < 3; depth++) {
    const q = store.getQuads(null, null, current as never, null)[0] as
      | { subject: RdfjsTerm; predicate: RdfjsTerm }
      | undefined;
    if (!q) return undefined;
    path.unshift(q.predicate);
    if (q.subject.termType === "NamedNode") return { subject: q.subject, path };
    current = q.subject;
  }
  return undefined;
}

interface Parts {
  focus: string;
  path: string | undefined;
  value: string | undefined;
  component: string;
  param: (name: string) => Term | undefined;
  show: (t: Term) => string;
  list: (name: string) => string[];
  engineSays: string;
}

/** A violation as a sentence about the data: "ex:b2 has no ex:title". */
function describe(p: Parts): string {
  const subject = p.path ? `${p.focus} ${p.path}` : p.focus;
  const valued = p.value !== undefined ? `${subject} ${p.value}` : subject;
  const n = (name: string) => p.param(name)?.value ?? "?";
  const shown = (name: string) => {
    const t = p.param(name);
    return t ? p.show(t) : "?";
  };
  switch (p.component) {
    case "MinCount":
      return n("minCount") === "1"
        ? `${p.focus} has no ${p.path ?? "value"}`
        : `${p.focus} has fewer than ${n("minCount")} ${p.path ?? "values"}`;
    case "MaxCount":
      return `${p.focus} has more than ${n("maxCount")} ${p.path ?? "values"}`;
    case "Datatype":
      return `${valued} is not a ${shown("datatype")}`;
    case "Class":
      return `${valued} is not a ${shown("class")}`;
    case "NodeKind":
      return `${valued} is not a ${shown("nodeKind")}`;
    case "Pattern":
      return `${valued} does not match /${n("pattern")}/`;
    case "In":
      return `${valued} is not one of ${p.list("in").join(", ")}`;
    case "HasValue":
      return `${subject} does not have the value ${shown("hasValue")}`;
    case "MinLength":
      return `${valued} is shorter than ${n("minLength")} characters`;
    case "MaxLength":
      return `${valued} is longer than ${n("maxLength")} characters`;
    case "MinInclusive":
      return `${valued} is less than ${n("minInclusive")}`;
    case "MaxInclusive":
      return `${valued} is more than ${n("maxInclusive")}`;
    case "MinExclusive":
      return `${valued} is not more than ${n("minExclusive")}`;
    case "MaxExclusive":
      return `${valued} is not less than ${n("maxExclusive")}`;
    case "Closed":
      return `${p.focus} has ${p.path ?? "a property"}${p.value !== undefined ? ` ${p.value}` : ""}, which the shape does not allow`;
    case "Or":
      return `${valued} matches none of the sh:or alternatives`;
    case "And":
      return `${valued} does not satisfy every sh:and shape`;
    case "Not":
      return `${valued} matches the sh:not shape`;
    case "Xone":
      return `${valued} does not match exactly one sh:xone shape`;
    case "Node":
      return `${valued} does not conform to ${shown("node")}`;
    case "QualifiedMinCount":
      return `${p.focus} has fewer than ${n("qualifiedMinCount")} ${p.path ?? "values"} of the qualified shape`;
    case "QualifiedMaxCount":
      return `${p.focus} has more than ${n("qualifiedMaxCount")} ${p.path ?? "values"} of the qualified shape`;
    case "UniqueLang":
      return `${subject} has two values in the same language`;
    default:
      return `${valued}: ${p.engineSays || `breaks ${p.component}`}`;
  }
}

/** Looks an IRI up in the sources' texts, first source first; files are read once, when needed. */
async function positionsOf(
  sources: readonly GraphSource[],
): Promise<(iri: string) => SourceLocation | undefined> {
  const maps: { file: string; positions: Map<string, Position> }[] = [];
  for (const s of sources) {
    if ("text" in s) {
      const opts = s.baseIri !== undefined ? { format: s.format, baseIri: s.baseIri } : { format: s.format };
      maps.push({ file: s.name ?? "<inline>", positions: subjectPositions(s.text, opts) });
    } else if ("path" in s) {
      const format = s.format ?? formatFromPath(s.path);
      if (!format) continue;
      let text: string;
      try {
        text = await readFile(s.path, "utf8");
      } catch {
        continue;
      }
      const baseIri = pathToFileURL(resolve(s.path)).href;
      maps.push({
        file: s.path,
        positions: subjectPositions(text.replace(/^\uFEFF/, ""), { format, baseIri }),
      });
    }
  }
  return (iri) => {
    let found: SourceLocation | undefined;
    for (const m of maps) {
      const p = m.positions.get(iri);
      if (p && !p.mention) return { file: m.file, line: p.line, column: p.column };
      if (p && !found) found = { file: m.file, line: p.line, column: p.column };
    }
    return found;
  };
}
