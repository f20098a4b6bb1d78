// Validation: build, bundle and lint (with the type check) under the run's profile, and the security
// check, start as soon as the generated files and their dependencies are there — alongside the tests;
// the tests gate reads the test run's report, so it alone waits for the tests.

import type { Finding, GateResult, PipelineReport } from "@ggen/contract";
import type { RunResult, ValidationReport } from "@ggen/lifecycle";
import { GgenError } from "@ggen/support";
import { keepTypecheckState, restoreTypecheckState } from "../dependencies.js";
import type { Project } from "../project.js";
import type { Stage } from "../stage.js";

export interface ValidationInput {
  readonly project: Project;
  /** The test run: the tests gate waits for it (a failed one ends the run, which cancels this stage). */
  readonly testing: Promise<unknown>;
  /** The project's dependency set in its cache: the type checker's state is kept with it. */
  readonly dependencies?: { readonly cacheDir: string; readonly key?: string };
}

export interface Validated {
  readonly phases: RunResult;
  /** The tests and security checks, together. */
  readonly checks: ValidationReport;
  /** The report's validation section. */
  readonly validation: PipelineReport["validation"];
}

/** A lifecycle phase that passed (ran now, or its inputs were unchanged). */
const succeeded = (p: { status: string }) => p.status === "success" || p.status === "cached";

/** The report's validation section before (or without) a validation. */
export const NOT_VALIDATED: PipelineReport["validation"] = {
  packageValid: false,
  testsPassed: false,
  securityPassed: false,
  publishReady: false,
  skipped: ["packageValid", "testsPassed", "securityPassed", "publishReady"],
};

/** The report's validation section from the phases and the checks. */
export function validationSection(phases: RunResult, checks: ValidationReport): PipelineReport["validation"] {
  const findings: Finding[] = checks.findings.slice(0, 50);
  const phaseOk = (n: string) => phases.phases.some((p) => p.phase === n && succeeded(p));
  // A phase the profile left out passed nothing and failed nothing: the report leaves it out too.
  const ran = (n: string) => !phases.plan.skipped.includes(n);
  return {
    packageValid: phaseOk("bundle"),
    ...(ran("build") ? { buildPassed: phaseOk("build") } : {}),
    ...(ran("lint") ? { lintPassed: phaseOk("lint") } : {}),
    testsPassed: !checks.findings.some((f) => f.check === "tests" && f.severity === "error"),
    securityPassed: !checks.findings.some((f) => f.check === "security" && f.severity === "error"),
    publishReady: phases.ok && checks.passed,
    findings,
  };
}

export const validation: Stage<ValidationInput, Validated, "validation"> = {
  name: "validation",
  onAbort: "stop-waiting",
  async run(ctx, { project, testing, dependencies }) {
    const lifecycle = await import("@ggen/lifecycle");
    const o = ctx.options;
    const signal = ctx.signal;
    // The type check (lint) starts from the state the last project with these dependencies left.
    const typecheck = dependencies
      ? await restoreTypecheckState(project.config.root, dependencies).catch(() => undefined)
      : undefined;
    const [phases, security, tests] = await Promise.all([
      // Under a profile its jobs and skips apply (fast skips the type check, say).
      lifecycle.runPhases(project.config, ["bundle", "lint"], {
        env: o.env,
        signal,
        yes: true,
        ...(o.profile ? { profile: o.profile } : {}),
      }),
      lifecycle.validate(project.config, { checks: ["security"], env: o.env }),
      // A failed test run ends the pipeline, which aborts the signal: this branch then rejects too, so
      // the stage settles (as skipped) and the cleanup never waits on it.
      testing.then(
        () => lifecycle.validate(project.config, { checks: ["tests"], env: o.env }),
        () =>
          new Promise<never>((_, rej) => {
            if (signal.aborted) rej(signal.reason);
            else signal.addEventListener("abort", () => rej(signal.reason), { once: true });
          }),
      ),
    ]);
    if (typecheck) await keepTypecheckState(typecheck).catch(() => undefined);
    const findings = [...security.findings, ...tests.findings];
    const errors = findings.filter((f) => f.severity === "error").length;
    const warnings = findings.filter((f) => f.severity === "warning").length;
    const checks: ValidationReport = {
      ...tests,
      checks: ["tests", "security"],
      findings,
      errors,
      warnings,
      passed: errors === 0,
    };
    return { phases, checks, validation: validationSection(phases, checks) };
  },
  verdict: ({ phases, checks }) =>
    phases.ok && checks.passed
      ? undefined
      : {
          error: new GgenError(
            "VALIDATION_FAILED",
            phases.failure?.message ?? `validation found ${checks.errors} error(s)`,
          ),
          message: phases.failure?.message ?? "validation found errors",
        },
  describe: ({ phases: p, checks: c }, _input, ctx) => {
    const ran = p.phases.filter((ph) => !p.plan.skipped.includes(ph.phase));
    const ok = ran.filter(succeeded).map((ph) => ph.phase);
    const bad = ran.filter((ph) => !succeeded(ph)).map((ph) => ph.phase);
    const parts = [ok.length ? `${ok.join(", ")} ok` : "", bad.length ? `${bad.join(", ")} failed` : ""];
    if (p.plan.skipped.length)
      parts.push(`${p.plan.skipped.join(", ")} skipped (profile ${ctx.options.profile})`);
    return `${parts.filter(Boolean).join("; ")}; ${c.errors} errors, ${c.warnings} warnings`;
  },
};

/**
 * The quality gates of a Node service's run (make.toml phases, the security check, the tests): a check
 * that did not run — validation cut off by a failed test run, a phase the profile leaves out — is
 * skipped, never failed.
 */
export function nodeGates(
  validated: Validated | undefined,
  tests: { ran: boolean; passed: boolean },
): GateResult[] {
  const phase = (name: string, gate: GateResult["name"]): GateResult => {
    const p = validated?.phases.phases.find((x) => x.phase === name);
    const skipped = !validated || !p || validated.phases.plan.skipped.includes(name);
    return {
      name: gate,
      status: skipped ? "skipped" : succeeded(p) ? "passed" : "failed",
      stages: ["validation"],
      ...(skipped ? {} : succeeded(p) ? {} : { message: `phase ${name} ${p.status}` }),
    };
  };
  const security =
    validated?.checks.findings.filter((f) => f.check === "security" && f.severity === "error") ?? [];
  return [
    phase("build", "build"),
    {
      name: "tests",
      status: !tests.ran ? "skipped" : tests.passed ? "passed" : "failed",
      stages: ["testing"],
    },
    phase("lint", "lint"),
    phase("bundle", "package"),
    {
      name: "audit",
      status: !validated ? "skipped" : security.length ? "failed" : "passed",
      stages: ["validation"],
      ...(security[0] ? { message: security[0].message } : {}),
    },
  ];
}
