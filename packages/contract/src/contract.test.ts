import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ValidateFunction } from "ajv";
import { describe, expect, it, onTestFinished } from "vitest";
import {
  assertValid,
  contractKinds,
  type GgenError,
  isGgenError,
  jsonErrorOffset,
  lineColumn,
  parseJson,
  validate,
  validateDocument,
} from "./index.js";
import { fileNameOf, runtimeValidator } from "./validate.js";

const dir = join(import.meta.dirname, "..", "examples");
const read = (f: string) => JSON.parse(readFileSync(join(dir, f), "utf8"));

describe("contract examples", () => {
  it("has a valid and an invalid example for every kind", () => {
    const files = readdirSync(dir);
    for (const kind of contractKinds) {
      expect(files).toContain(`${fileNameOf(kind)}.json`);
      expect(files).toContain(`${fileNameOf(kind)}.invalid.json`);
    }
  });

  for (const kind of contractKinds) {
    it(`${kind}: the documented example validates`, () => {
      const r = validate(kind, read(`${fileNameOf(kind)}.json`));
      expect(r.ok ? [] : r.errors).toEqual([]);
    });

    it(`${kind}: the wrong example fails naming each wrong field`, () => {
      const bad = read(`${fileNameOf(kind)}.invalid.json`) as { expect: string[]; value: unknown };
      const r = validate(kind, bad.value);
      expect(r.ok).toBe(false);
      if (r.ok) return;
      const paths = r.errors.map((e) => e.path);
      for (const p of bad.expect) expect(paths).toContain(p);
      for (const e of r.errors) expect(e.message.length).toBeGreaterThan(3);
    });
  }
});

describe("revision 1.1 of the generation documents (additive)", () => {
  it("still reads a 1.0 manifest and plan, and refuses a malformed 1.1 field", () => {
    const manifest = read("generation-manifest.v1.json");
    expect(manifest.inputs.results).toHaveLength(1);
    delete manifest.inputs.results;
    expect(validate("generation-manifest/v1", manifest).ok).toBe(true);
    manifest.inputs.results = [{ key: "x", sha256: "y" }];
    const bad = validate("generation-manifest/v1", manifest);
    expect(bad.ok ? [] : bad.errors.map((e) => e.path)).toContain("/inputs/results/0/key");
    const plan = read("generation-plan.v1.json");
    expect(plan.files[0].backup).toBe(true);
    delete plan.files[0].backup;
    expect(validate("generation-plan/v1", plan).ok).toBe(true);
    plan.files[0].backup = false;
    expect(validate("generation-plan/v1", plan).ok).toBe(false);
  });
});

describe("validateDocument", () => {
  it("detects the kind from the document", () => {
    const r = validateDocument(read("cleanroom-run.v1.json"));
    expect(r.ok && r.kind).toBe("cleanroom-run/v1");
  });
  it("rejects an unknown kind naming /kind", () => {
    const r = validateDocument({ kind: "cleanroom-run/v9" });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors[0]?.path).toBe("/kind");
  });
});

describe("assertValid", () => {
  it("throws a GgenError whose message names the field", () => {
    const bad = read("deployment-metrics.v1.invalid.json").value;
    try {
      assertValid("deployment-metrics/v1", bad, "metrics.jsonl:3");
      expect.unreachable();
    } catch (e) {
      expect(isGgenError(e)).toBe(true);
      expect(String((e as Error).message)).toMatch(
        /metrics\.jsonl:3 .*\/testMetrics\/totalTests is required/,
      );
    }
  });
});

describe("precompiled validators (scripts/compile-validators.mjs, what dist/ loads)", () => {
  it("judge every example exactly as ajv compiling at run time does, errors included", () => {
    const scratch = mkdtempSync(join(tmpdir(), "ggen-validators-"));
    onTestFinished(() => rmSync(scratch, { recursive: true, force: true }));
    execFileSync(process.execPath, [
      join(import.meta.dirname, "..", "scripts", "compile-validators.mjs"),
      scratch,
    ]);
    const load = createRequire(import.meta.url);
    for (const kind of contractKinds) {
      const fn = (load(join(scratch, `${fileNameOf(kind)}.cjs`)) as { default: ValidateFunction }).default;
      expect(fn, kind).toBeTypeOf("function");
      const runtime = runtimeValidator(kind);
      const bad = read(`${fileNameOf(kind)}.invalid.json`) as { value: unknown };
      for (const value of [read(`${fileNameOf(kind)}.json`), bad.value, {}, { kind }]) {
        const ok = fn(value);
        expect(ok, kind).toBe(runtime(value));
        expect(fn.errors ?? null, kind).toEqual(runtime.errors ?? null);
      }
    }
  });
});

describe("parseJson", () => {
  it("points a syntax error at file:line:col", () => {
    const text = '{\n  "a": [1, 2,],\n  "b": 3\n}';
    expect(lineColumn(text, jsonErrorOffset(text))).toEqual({ line: 2, column: 14 });
    expect(jsonErrorOffset('{"a": tru}')).toBe(6);
    expect(jsonErrorOffset('{"a": 1')).toBe(7);
    try {
      parseJson(text, "m.json", "MANIFEST_INVALID", "usage");
      expect.unreachable();
    } catch (e) {
      expect(isGgenError(e)).toBe(true);
      expect((e as GgenError).toLine()).toBe('m.json:2:14: not valid JSON: unexpected "]"');
      expect((e as GgenError).exitCode).toBe(2);
    }
    expect(() => parseJson('{"a": 1', "x.json", "X", "failure")).toThrow(/unexpected end of input/);
    expect(parseJson('{"a": [1]}', "ok.json", "X", "usage")).toEqual({ a: [1] });
  });
});
