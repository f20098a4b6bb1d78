// A sample of the W3C RDF 1.1 syntax tests through `ggen graph validate` (the full suites run through
// @ggen/rdf in packages/rdf/conformance): positive files pass, every negative file is one error line
// with file:line:col, exit 1.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const bin = join(import.meta.dirname, "..", "dist", "bin.js");
const root =
  process.env.W3C_RDF_TESTS ?? join(import.meta.dirname, "..", "..", "..", "..", "shared", "w3c-rdf-tests");
const suites = [
  { dir: "rdf/rdf11/rdf-turtle", ext: ".ttl", bad: /^turtle-syntax-bad-/ },
  { dir: "rdf/rdf11/rdf-trig", ext: ".trig", bad: /^trig-syntax-bad-/ },
  { dir: "rdf/rdf11/rdf-n-triples", ext: ".nt", bad: /^nt-syntax-bad-/ },
];

const validate = (cwd: string, files: string[]) =>
  spawnSync(process.execPath, [bin, "graph", "validate", ...files], {
    cwd,
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1" },
  });

// Skipped only outside CI without ../shared/w3c-rdf-tests; under CI a missing suite fails instead.
describe.skipIf(!existsSync(root) && !process.env.CI)("ggen graph validate on W3C syntax tests", () => {
  for (const s of suites) {
    const cwd = join(root, s.dir);
    const files = existsSync(cwd)
      ? readdirSync(cwd)
          .filter((f) => f.endsWith(s.ext))
          .sort()
      : [];
    const positive = files.filter((f) => !s.bad.test(f) && /syntax/.test(f)).slice(0, 25);
    const negative = files.filter((f) => s.bad.test(f)).slice(0, 25);

    it(`${s.dir}: ${positive.length} positive syntax files are valid`, () => {
      expect(positive.length).toBeGreaterThan(10);
      const r = validate(cwd, positive);
      expect(r.stderr).toBe("");
      expect(r.status).toBe(0);
      expect(r.stdout.trim().split("\n")).toHaveLength(positive.length);
    });

    it(`${s.dir}: ${negative.length} negative syntax files each give one located error`, () => {
      expect(negative.length).toBeGreaterThan(10);
      const r = validate(cwd, negative);
      expect(r.status).toBe(1);
      const lines = r.stderr.trim().split("\n");
      expect(lines).toHaveLength(negative.length);
      lines.forEach((line, i) => {
        expect(line).toMatch(
          new RegExp(`^ggen: error: ${negative[i]?.replace(/[.]/g, "\\.")}:\\d+:\\d+: RDF syntax error: `),
        );
      });
    });
  }
});
