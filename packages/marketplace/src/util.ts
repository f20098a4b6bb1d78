// Small shared pieces: id checks, hashing, atomic writes, schema checks.
import { createHash, randomBytes } from "node:crypto";
import { mkdir, open, rename, rm } from "node:fs/promises";
import { dirname } from "node:path";
import { GgenError, lineColumn, type SourceLocation } from "@ggen/contract";
import type { ErrorObject, ValidateFunction } from "ajv";
import type { Ajv2020 } from "ajv/dist/2020.js";
import { newAjv } from "./deps.js";

export const ID_PATTERN = /^[a-z0-9][a-z0-9._-]*$/;

/** Why `id` is not a valid pack id, or undefined when it is. */
export function invalidIdReason(id: string): string | undefined {
  if (id.length === 0) return "is empty";
  if (id.length > 128) return "is longer than 128 characters";
  if (id.includes("..")) return "contains '..'";
  if (!ID_PATTERN.test(id))
    return "must match ^[a-z0-9][a-z0-9._-]*$ (lowercase letters, digits, '.', '_', '-')";
  return undefined;
}

export function assertPackId(id: string, where?: SourceLocation): void {
  const why = invalidIdReason(id);
  if (why)
    throw new GgenError("INVALID_PACK_ID", `invalid pack id '${id}': ${why}`, {
      kind: "usage",
      ...(where ? { location: where } : {}),
    });
}

export function sha256(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/** The 1-based line on which `needle` first appears, if it does. */
export function lineOf(text: string, needle: string): number | undefined {
  const at = text.indexOf(needle);
  return at < 0 ? undefined : lineColumn(text, at).line;
}

let ajv: Ajv2020 | undefined;
const compiled = new Map<object, ValidateFunction>();

export function schemaValidator(schema: object): ValidateFunction {
  let v = compiled.get(schema);
  if (!v) {
    ajv ??= newAjv();
    v = ajv.compile(schema);
    compiled.set(schema, v);
  }
  return v;
}

export function describeSchemaError(e: ErrorObject): string {
  const p = e.params as Record<string, unknown>;
  let path = e.instancePath || "/";
  let message = e.message ?? "is invalid";
  if (e.keyword === "required") {
    path = `${e.instancePath}/${String(p.missingProperty)}`;
    message = "is required";
  } else if (e.keyword === "additionalProperties") {
    path = `${e.instancePath}/${String(p.additionalProperty)}`;
    message = "is not allowed here";
  } else if (e.keyword === "const") {
    message = `must be ${JSON.stringify(p.allowedValue)}`;
  } else if (e.keyword === "propertyNames") {
    message = `has an invalid key ${JSON.stringify(p.propertyName)}`;
  }
  return `${path} ${message}`;
}

/** Writes a file atomically: a temp file in the same directory, fsync, then rename. */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  const fh = await open(tmp, "w");
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await rename(tmp, file);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

export function randomSuffix(): string {
  return `${process.pid}-${randomBytes(4).toString("hex")}`;
}

/** True when `child` (already resolved) is `root` or inside it. */
export function isInside(root: string, child: string): boolean {
  if (child === root) return true;
  const r = root.endsWith("/") ? root : `${root}/`;
  return child.startsWith(r);
}
