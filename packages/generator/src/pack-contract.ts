// A pack's contract, checked before anything is rendered: the input graph (--graph, or the pack's
// [graphs] files) against the pack's SHACL shapes, and the vars (pack defaults, vars files, --vars)
// against its vars JSON Schema. Every violation points into the user's file: the line where the focus
// node is written, or the vars file line (or --vars flag) the bad value came from.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { extname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import {
  compileVarsSchema,
  GgenError,
  lineColumn,
  type SourceLocation,
  tomlKeyLocation,
} from "@ggen/contract";
import type { GraphSource } from "@ggen/rdf";
import { sha256, sha256File, writeFileAtomicSync } from "@ggen/support";
import { parseYaml } from "./frontmatter.js";
import type { Pack } from "./packs.js";
import type { TemplateUnit } from "./resolve.js";
import type { Run } from "./run.js";
import { loadVarsFile } from "./vars.js";

/** Every broken rule of a pack's contract, each a located GgenError; thrown as the last of them. */
export class ContractViolations extends GgenError {
  constructor(readonly violations: GgenError[]) {
    const last = violations[violations.length - 1]!;
    super(last.code, last.message, {
      kind: "usage",
      ...(last.location ? { location: last.location } : {}),
      ...(violations.length > 1 ? { hint: `${violations.length} contract violations` } : {}),
    });
  }
}

const RDF_EXTENSIONS = new Set([".ttl", ".turtle", ".trig", ".nt", ".nq", ".n3", ".rdf", ".owl", ".jsonld"]);

/** The shapes files a `[contract] shapes` entry names: a file, or every RDF file of a directory. */
export function shapesFiles(entries: readonly string[], pack: string): string[] {
  const out: string[] = [];
  for (const e of entries) {
    if (!existsSync(e))
      throw new GgenError("PACK_CONTRACT", `shapes '${e}' not found`, {
        kind: "usage",
        location: { file: pack },
      });
    if (statSync(e).isDirectory()) {
      for (const f of readdirSync(e).sort())
        if (RDF_EXTENSIONS.has(extname(f).toLowerCase())) out.push(join(e, f));
    } else out.push(e);
  }
  return out;
}

/** Checks the contract of every pack the run renders from, once per pack, before rendering. */
export async function checkPackContracts(run: Run, units: readonly TemplateUnit[]): Promise<void> {
  const packs = new Map<string, Pack>();
  for (const u of units) if (u.pack && !packs.has(u.pack.dir)) packs.set(u.pack.dir, u.pack);
  const violations: GgenError[] = [];
  for (const pack of packs.values()) {
    if (pack.contract.varsSchema !== undefined) violations.push(...checkVarsSchema(run, pack));
    if (pack.contract.shapes.length > 0) violations.push(...(await checkShapes(run, pack)));
  }
  if (violations.length > 0) throw new ContractViolations(violations);
}

/**
 * A check that passed is remembered under the run's cache dir (`contracts/<sha256 of its inputs>`), so
 * the next run over the same graph, shapes and vars skips loading the SHACL engine and ajv. Failures are
 * never remembered: they are worked out again, to be reported.
 */
function passedBefore(run: Run, key: string): boolean {
  return run.opts.cacheDir !== undefined && existsSync(join(run.opts.cacheDir, "contracts", key));
}
function rememberPass(run: Run, key: string): void {
  if (run.opts.cacheDir === undefined) return;
  try {
    writeFileAtomicSync(join(run.opts.cacheDir, "contracts", key), "", { fsync: false });
  } catch {
    // Best effort: a cache that cannot be written only costs the next run the check.
  }
}

/**
 * What decides a source's triples, for the remembered-pass key: its format (the extension), its content,
 * and its base IRI (its file URL) only when the text may hold a relative IRI. A pack's files are copied
 * into every project, so a key with their paths would never be met again; one without the base would
 * take a graph whose relative IRIs resolve elsewhere (and may then break a shape) for the same graph.
 */
async function sourceKey(abs: string): Promise<string> {
  const st = statSync(abs);
  // Never read a device or a FIFO (the load refuses them, and says so).
  if (!st.isFile()) throw new Error(`'${abs}' is not a regular file`);
  const format = extname(abs).toLowerCase();
  if (st.size > SCANNED_BYTES) return `${format}\0${pathToFileURL(abs).href}\0${await sha256File(abs)}`;
  const bytes = readFileSync(abs);
  const base =
    RELATIVE_FREE_FORMATS.has(format) && !mayHoldRelativeIri(bytes.toString("utf8"))
      ? ""
      : pathToFileURL(abs).href;
  return `${format}\0${base}\0${sha256(bytes)}`;
}

/** Past this size a source is not scanned for relative IRIs: its key has its base, as if it had one. */
const SCANNED_BYTES = 32 * 1024 * 1024;

/** The formats whose every IRI is written `<…>` (or through a prefix, itself written so). */
const RELATIVE_FREE_FORMATS = new Set([".ttl", ".turtle", ".trig", ".nt", ".nq", ".n3"]);

/**
 * Whether a Turtle-family text may hold an IRI resolved against its base: any `<…>` without a scheme
 * (`<#x>`, `<>`, `<../y>`, a relative @base or @prefix), or with an escape in it. Every IRI reference is
 * found (the class is IRIREF's, so no match runs into the next `<`); one inside a literal or a comment
 * only makes the answer "may", never a wrong "no".
 */
export function mayHoldRelativeIri(text: string): boolean {
  for (const m of text.matchAll(/<([^\x00-\x20<>"{}|^`]*)>/g)) {
    const iri = m[1]!;
    if (iri.includes("\\") || !/^[A-Za-z][A-Za-z0-9+.-]*:/.test(iri)) return true;
  }
  return false;
}

async function checkShapes(run: Run, pack: Pack): Promise<GgenError[]> {
  const inputs =
    run.opts.graphs !== undefined ? run.opts.graphs.map((g) => resolve(run.cwd, g)) : pack.graphs;
  if (inputs.length === 0) return [];
  const files = shapesFiles(pack.contract.shapes, run.rel(pack.manifestFile));
  if (files.length === 0) return [];
  // Absolute paths: @ggen/rdf reads relative ones against the process's cwd, not the run's.
  const sources: GraphSource[] = inputs.map((g) => ({ path: g }));
  // By content (see sourceKey); a file that cannot be read is reported by the load below.
  const contentKey = async (): Promise<string | undefined> => {
    try {
      const keys = await Promise.all([...inputs, ...files].map(sourceKey));
      return sha256(
        ["shapes/2", ...keys.slice(0, inputs.length), "shapes", ...keys.slice(inputs.length)].join("\0"),
      );
    } catch {
      return undefined;
    }
  };
  const key = await contentKey();
  if (key !== undefined && passedBefore(run, key)) return [];
  const data = await run.graph(sources);
  // Loaded apart from the run's graphs: the shapes are not the model (the lock counts the model's triples,
  // which must not depend on whether this check was remembered as passed).
  const shapes = await run.rdf!.loadGraph(files.map((f) => ({ path: f })));
  let report: Awaited<ReturnType<NonNullable<Run["rdf"]>["validateShapes"]>>;
  try {
    report = await run.rdf!.validateShapes(data, shapes, { sources });
  } finally {
    shapes.free();
  }
  // Remembered only for the files as they still are (one changed while it was checked is not vouched for).
  if (
    key !== undefined &&
    report.violations.every((v) => v.severity !== "Violation") &&
    key === (await contentKey())
  )
    rememberPass(run, key);
  return report.violations
    .filter((v) => v.severity === "Violation")
    .map(
      (v) =>
        new GgenError("PACK_CONTRACT", v.message.replace(/\)$/, ` of ${pack.id})`), {
          kind: "usage",
          location: v.location
            ? { ...v.location, file: run.rel(v.location.file) }
            : { file: run.rel(inputs[0]!) },
        }),
    );
}

const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** Pack-level var defaults: a value, or a declaration table whose `default` is the value. */
function packDefaults(pack: Pack): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(pack.vars)) {
    if (isObj(v) && ("default" in v || "type" in v)) {
      if (v.default !== undefined) out[k] = v.default;
    } else out[k] = v;
  }
  return out;
}

function checkVarsSchema(run: Run, pack: Pack): GgenError[] {
  const file = pack.contract.varsSchema!;
  const shown = run.rel(file);
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    throw new GgenError("PACK_CONTRACT", "cannot read the vars schema", {
      kind: "usage",
      location: { file: shown },
    });
  }
  const vars = { ...packDefaults(pack), ...run.baseVars };
  const key = sha256(["vars/1", text, JSON.stringify(vars)].join("\0"));
  if (passedBefore(run, key)) return [];
  const issues = compileVarsSchema(text, shown)(vars);
  if (issues.length === 0) rememberPass(run, key);
  return issues.map((issue) => {
    const segs = issue.path.split("/").filter(Boolean);
    const name = segs.join(".");
    const value = segs.reduce<unknown>(
      (o, k) => (isObj(o) || Array.isArray(o) ? (o as Record<string, unknown>)[k] : undefined),
      vars,
    );
    const got =
      value !== undefined && !isObj(value) && !Array.isArray(value) ? `, got ${JSON.stringify(value)}` : "";
    const what = name === "" ? "vars" : `var '${name}'`;
    const message = `${what} ${issue.message}${issue.message === "is required" ? "" : got} (vars schema of ${pack.id})`;
    const top = segs[0];
    return new GgenError("PACK_CONTRACT", message, {
      kind: "usage",
      ...(top !== undefined ? withLocation(varLocation(run, pack, top)) : {}),
      ...(issue.message === "is required" && top !== undefined ? { hint: `pass --vars ${top}=…` } : {}),
    });
  });
}

function withLocation(l: SourceLocation | undefined): { location?: SourceLocation } {
  return l ? { location: l } : {};
}

/** Where the value of the top-level var `name` came from: --vars, the last vars file with it, the pack. */
function varLocation(run: Run, pack: Pack, name: string): SourceLocation | undefined {
  if (run.opts.vars && Object.hasOwn(run.opts.vars, name)) return { file: `--vars ${name}` };
  for (const f of [...(run.opts.varsFiles ?? [])].reverse()) {
    const abs = resolve(run.cwd, f);
    if (!Object.hasOwn(loadVarsFile(abs, f), name)) continue;
    return { file: f, ...(keyLine(readFileSync(abs, "utf8"), extname(f).toLowerCase(), name, f) ?? {}) };
  }
  if (Object.hasOwn(pack.vars, name)) {
    const text = readFileSync(pack.manifestFile, "utf8");
    return { file: run.rel(pack.manifestFile), ...(tomlKeyLocation(text, ["vars", name]) ?? {}) };
  }
  return undefined;
}

function keyLine(
  text: string,
  ext: string,
  name: string,
  file: string,
): { line: number; column: number } | undefined {
  if (ext === ".toml") return tomlKeyLocation(text, [name]);
  if (ext === ".json") {
    const i = text.indexOf(JSON.stringify(name));
    return i >= 0 ? lineColumn(text, i) : undefined;
  }
  try {
    const line = parseYaml(text, file).lineOf(name);
    return line === undefined ? undefined : { line, column: 1 };
  } catch {
    return undefined;
  }
}
