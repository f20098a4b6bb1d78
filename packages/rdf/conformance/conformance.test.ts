// W3C conformance: runs the suites, writes the EARL report (conformance/out/, gitignored) and fails when
// a suite's pass count drops below conformance/baseline.json. UPDATE_BASELINE=1 rewrites the baseline's
// counts and exclusions (keeping reasons already written).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect, it } from "vitest";
import { conformanceDir, defaultRoot, earlReport, runConformance, summarize } from "./runner.js";

interface Baseline {
  suites: Record<string, { passed: number; total: number }>;
  exclusions: { test: string; suite: string; reason: string }[];
}

const baselineFile = join(conformanceDir, "baseline.json");

// In CI the suites must be there: a missing folder fails instead of skipping.
it.skipIf(!existsSync(defaultRoot) && !process.env.CI)(
  "W3C RDF 1.1 and SPARQL 1.1 suites stay at or above the baseline",
  async () => {
    const results = await runConformance();
    const summary = summarize(results);
    const out = join(conformanceDir, "out");
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, "earl.ttl"), earlReport(results, defaultRoot));
    writeFileSync(join(out, "results.json"), `${JSON.stringify(results, null, 2)}\n`);
    const line = Object.entries(summary)
      .map(([s, c]) => `${s} ${c.passed}/${c.total}`)
      .join(", ");
    console.log(`conformance: ${line}`);

    const baseline: Baseline = existsSync(baselineFile)
      ? (JSON.parse(readFileSync(baselineFile, "utf8")) as Baseline)
      : { suites: {}, exclusions: [] };
    if (process.env.UPDATE_BASELINE) {
      const reasons = new Map(baseline.exclusions.map((e) => [e.test, e.reason]));
      const next: Baseline = {
        suites: summary,
        exclusions: results
          .filter((r) => r.outcome !== "passed")
          .map((r) => ({ test: r.id, suite: r.suite, reason: reasons.get(r.id) ?? r.message ?? "failed" })),
      };
      writeFileSync(baselineFile, `${JSON.stringify(next, null, 2)}\n`);
      return;
    }
    const excluded = new Set(baseline.exclusions.map((e) => e.test));
    const unexpected = results.filter((r) => r.outcome !== "passed" && !excluded.has(r.id));
    for (const [suite, counts] of Object.entries(baseline.suites)) {
      expect(
        summary[suite]?.passed ?? 0,
        `${suite} pass count (${JSON.stringify(unexpected.slice(0, 5))})`,
      ).toBeGreaterThanOrEqual(counts.passed);
    }
    expect(unexpected.map((r) => `${r.id}: ${r.message}`)).toEqual([]);
  },
  300_000,
);
