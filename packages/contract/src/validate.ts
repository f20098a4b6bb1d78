import { createRequire } from "node:module";
import type { ErrorObject, ValidateFunction } from "ajv";
import type { Ajv2020 } from "ajv/dist/2020.js";
import frontmatterSchema from "../schemas/template-frontmatter.v1.json" with { type: "json" };
import ajvOptions from "./ajv-options.json" with { type: "json" };
import { GgenError } from "./errors.js";
import type { ContractKind, ContractTypes } from "./types.js";

// Every kind once: `satisfies` refuses a kind missing here (or one that is not a kind) at compile time.
const kindSet = {
  "generation-manifest/v1": true,
  "generation-plan/v1": true,
  "cleanroom-run/v1": true,
  "pipeline-report/v1": true,
  "deployment-metrics/v1": true,
  "pack-manifest/v1": true,
  "registry-index/v1": true,
  "lockfile/v1": true,
  "lifecycle-state/v1": true,
  "make-toml/v1": true,
  "ggen-config/v1": true,
  "cleanroom-config/v1": true,
  "scenario/v1": true,
  "template-frontmatter/v1": true,
} as const satisfies Record<ContractKind, true>;
const kinds = Object.keys(kindSet) as ContractKind[];

/**
 * Each kind's JSON Schema, read from schemas/<name>.v<N>.json when first asked for: a program that
 * validates nothing (a short `ggen gen` asks only for the frontmatter's keys) neither reads nor builds
 * the others — 50 KB of schema a bundle would otherwise build at every start.
 */
export const schemas = {} as Readonly<Record<ContractKind, object>>;
for (const kind of kinds) {
  // Frontmatter's is built in (3.5 KB): every `ggen gen` reads its keys, and finding the package's
  // files costs a short run more than the schema does.
  let schema: object | undefined = kind === "template-frontmatter/v1" ? frontmatterSchema : undefined;
  Object.defineProperty(schemas, kind, {
    enumerable: true,
    get: () => {
      schema ??= require(`../schemas/${fileNameOf(kind)}.json`) as object;
      return schema;
    },
  });
}

export const contractKinds = Object.keys(schemas) as ContractKind[];

/** The kinds whose documents name themselves in a `kind` field (what `validateDocument` detects). */
const selfDescribing: readonly ContractKind[] = [
  "generation-manifest/v1",
  "generation-plan/v1",
  "cleanroom-run/v1",
  "pipeline-report/v1",
  "deployment-metrics/v1",
];

export interface ContractIssue {
  /** JSON Pointer-like path to the offending value, e.g. `/files/0/sha256` ("/" for the root). */
  path: string;
  message: string;
}

export type ValidationResult<K extends ContractKind> =
  | { ok: true; value: ContractTypes[K] }
  | { ok: false; errors: ContractIssue[] };

// ajv costs ~80 ms to load and 0.2–0.4 s to compile the schemas; every program imports GgenError from
// here. So validators come from dist/validators/<name>.v<N>.cjs, precompiled at build time (scripts/
// compile-validators.mjs), one file per kind so a lockfile check loads only the lockfile's; without
// them (tests run from src) ajv compiles the one schema asked for. Both are CommonJS, hence require.
const require = createRequire(import.meta.url);

const compiled = new Map<ContractKind, ValidateFunction>();
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

/** `generation-manifest/v1` → `generation-manifest.v1`: the schema's and the precompiled file's name. */
export const fileNameOf = (kind: ContractKind): string => kind.replace("/", ".");

function precompiledValidator(kind: ContractKind): ValidateFunction | undefined {
  try {
    return (require(`./validators/${fileNameOf(kind)}.cjs`) as { default: ValidateFunction }).default;
  } catch {
    return undefined;
  }
}

function validatorFor(kind: ContractKind): ValidateFunction {
  let fn = compiled.get(kind);
  if (fn) return fn;
  fn = precompiledValidator(kind) ?? runtimeValidator(kind);
  compiled.set(kind, fn);
  return fn;
}

export function isContractKind(kind: string): kind is ContractKind {
  return Object.hasOwn(schemas, kind);
}

/** One ajv error as a path and a sentence ("/packs/0/name is required"): the one formatter of them. */
export function describeSchemaError(e: ErrorObject): ContractIssue {
  let path = e.instancePath || "/";
  let message = e.message ?? "is invalid";
  const p = e.params as Record<string, unknown>;
  // An error inside `propertyNames` is about a key, not a value: point at the key.
  const key = (e as { propertyName?: string }).propertyName;
  if (key !== undefined) {
    path = `${e.instancePath}/${key}`;
    message = `is not a valid key: ${message}`;
  } else if (e.keyword === "required") {
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
    // anyOf branches repeat the same complaint, and a bad key's own errors say more than
    // propertyNames' summary of them; keep the first of each.
    if (e.keyword === "anyOf" || e.keyword === "propertyNames") continue;
    const issue = describeSchemaError(e);
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
  if (typeof kind !== "string" || !selfDescribing.includes(kind as ContractKind)) {
    return {
      ok: false,
      errors: [
        {
          path: "/kind",
          message: `must be one of ${selfDescribing.map((k) => JSON.stringify(k)).join(", ")}`,
        },
      ],
    };
  }
  const r = validate(kind as ContractKind, value);
  return r.ok
    ? { ok: true, kind: kind as ContractKind, value: r.value }
    : { ok: false, kind, errors: r.errors };
}
