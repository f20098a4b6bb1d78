import { createRequire } from "node:module";
import type { ErrorObject, ValidateFunction } from "ajv";
import type { Ajv2020 } from "ajv/dist/2020.js";
import cleanroomRun from "../schemas/cleanroom-run.v1.json" with { type: "json" };
import deploymentMetrics from "../schemas/deployment-metrics.v1.json" with { type: "json" };
import generationManifest from "../schemas/generation-manifest.v1.json" with { type: "json" };
import pipelineReport from "../schemas/pipeline-report.v1.json" with { type: "json" };
import ajvOptions from "./ajv-options.json" with { type: "json" };
import { GgenError } from "./errors.js";
import type { ContractKind, ContractTypes } from "./types.js";

export const schemas: Record<ContractKind, object> = {
  "generation-manifest/v1": generationManifest,
  "cleanroom-run/v1": cleanroomRun,
  "pipeline-report/v1": pipelineReport,
  "deployment-metrics/v1": deploymentMetrics,
};

export const contractKinds = Object.keys(schemas) as ContractKind[];

export interface ContractIssue {
  /** JSON Pointer-like path to the offending value, e.g. `/files/0/sha256` ("/" for the root). */
  path: string;
  message: string;
}

export type ValidationResult<K extends ContractKind> =
  | { ok: true; value: ContractTypes[K] }
  | { ok: false; errors: ContractIssue[] };

// ajv costs ~80 ms to load and 0.2–0.4 s to compile the schemas; every program imports GgenError from
// here. So validators come from dist/validators.cjs, precompiled at build time (scripts/
// compile-validators.mjs), loaded on the first validation; without it (tests run from src) ajv compiles
// the one schema asked for. Both are CommonJS, hence require.
const require = createRequire(import.meta.url);

const compiled = new Map<ContractKind, ValidateFunction>();
let precompiled: Record<string, ValidateFunction> | null | undefined;
let ajv: Ajv2020 | undefined;

/** The validator ajv compiles now for `kind`, with the options the build precompiles with. */
export function runtimeValidator(kind: ContractKind): ValidateFunction {
  if (!ajv) {
    const { Ajv2020: AjvClass } = require("ajv/dist/2020.js") as { Ajv2020: typeof Ajv2020 };
    const formats = require("ajv-formats") as { default?: unknown };
    const addFormats = (formats.default ?? formats) as (ajv: Ajv2020) => Ajv2020;
    ajv = addFormats(new AjvClass(ajvOptions));
  }
  return ajv.getSchema(kind) ?? ajv.addSchema(schemas[kind], kind).getSchema(kind)!;
}

function validatorFor(kind: ContractKind): ValidateFunction {
  let fn = compiled.get(kind);
  if (fn) return fn;
  if (precompiled === undefined) {
    try {
      precompiled = require("./validators.cjs") as Record<string, ValidateFunction>;
    } catch {
      precompiled = null;
    }
  }
  fn = precompiled?.[kind.replace(/\W/g, "_")] ?? runtimeValidator(kind);
  compiled.set(kind, fn);
  return fn;
}

export function isContractKind(kind: string): kind is ContractKind {
  return Object.hasOwn(schemas, kind);
}

function describe(e: ErrorObject): ContractIssue {
  let path = e.instancePath || "/";
  let message = e.message ?? "is invalid";
  const p = e.params as Record<string, unknown>;
  if (e.keyword === "required") {
    path = `${e.instancePath}/${String(p.missingProperty)}`;
    message = "is required";
  } else if (e.keyword === "additionalProperties") {
    path = `${e.instancePath}/${String(p.additionalProperty)}`;
    message = "is not allowed here";
  } else if (e.keyword === "enum") {
    message = `must be one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(", ")}`;
  } else if (e.keyword === "const") {
    message = `must be ${JSON.stringify(p.allowedValue)}`;
  }
  return { path, message };
}

/** Validate `value` against the schema of `kind`: the typed value, or every problem with its path. */
export function validate<K extends ContractKind>(kind: K, value: unknown): ValidationResult<K> {
  if (!isContractKind(kind))
    throw new GgenError("CONTRACT_UNKNOWN_KIND", `unknown contract kind "${kind}"`, { kind: "usage" });
  const fn = validatorFor(kind);
  if (fn(value)) return { ok: true, value: value as ContractTypes[K] };
  const seen = new Set<string>();
  const errors: ContractIssue[] = [];
  for (const e of fn.errors ?? []) {
    // anyOf branches repeat the same complaint; keep the first of each.
    if (e.keyword === "anyOf") continue;
    const issue = describe(e);
    const key = `${issue.path} ${issue.message}`;
    if (!seen.has(key)) {
      seen.add(key);
      errors.push(issue);
    }
  }
  return { ok: false, errors };
}

/** Like `validate`, but throws a GgenError (code CONTRACT_INVALID) listing the problems. */
export function assertValid<K extends ContractKind>(
  kind: K,
  value: unknown,
  source: string = kind,
): ContractTypes[K] {
  const r = validate(kind, value);
  if (r.ok) return r.value;
  const list = r.errors.map((e) => `${e.path} ${e.message}`).join("; ");
  throw new GgenError("CONTRACT_INVALID", `${source} is not a valid ${kind}: ${list}`);
}

/** Detects the kind from a document's own `kind` field and validates it. */
export function validateDocument(
  value: unknown,
):
  | { ok: true; kind: ContractKind; value: ContractTypes[ContractKind] }
  | { ok: false; kind?: string; errors: ContractIssue[] } {
  const kind = (value as { kind?: unknown } | null)?.kind;
  if (typeof kind !== "string" || !isContractKind(kind)) {
    return {
      ok: false,
      errors: [
        {
          path: "/kind",
          message: `must be one of ${contractKinds.map((k) => JSON.stringify(k)).join(", ")}`,
        },
      ],
    };
  }
  const r = validate(kind, value);
  return r.ok ? { ok: true, kind, value: r.value } : { ok: false, kind, errors: r.errors };
}
