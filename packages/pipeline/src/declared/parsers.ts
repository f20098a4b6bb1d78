// The named result parsers a pack's stages choose from: each reads what a command printed (and its
// exit code) into facts — pass or fail, a one-line summary, test results, lint counts, findings. A new
// language reuses these by name; a new kind of output is one entry here.

import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Finding, PipelineParser, TestResult } from "@ggen/contract";
import { loadEngine } from "../engine.js";

/** What a stage's command left: as an environment's exec returns it. */
export interface CommandOutput {
  readonly exitCode: number | null;
  readonly signal?: string | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
  readonly durationMs: number;
}

export interface StageFacts {
  readonly ok: boolean;
  /** One line: "12/12 passed", "0 warnings", "2 files need formatting". */
  readonly summary: string;
  readonly tests?: readonly TestResult[];
  readonly lintWarnings?: number;
  readonly findings?: readonly Finding[];
  readonly audit?: { readonly passed: boolean; readonly vulnerabilities: number; readonly warnings: number };
  /** The packaged crate (name, version) a packaging stage made. */
  readonly packaged?: { readonly name: string; readonly version: string };
}

export interface ParseInput {
  readonly stage: string;
  /** The generated output on this machine. */
  readonly root: string;
  readonly output: CommandOutput;
}

type Parser = (input: ParseInput) => StageFacts | Promise<StageFacts>;

const firstError = (o: CommandOutput) =>
  `${o.stderr}\n${o.stdout}`
    .split("\n")
    .map((l) => l.trim())
    .find((l) => /^error(\[\w+\])?:/.test(l)) ?? `exit code ${o.exitCode ?? `signal ${o.signal ?? "?"}`}`;

/** Test results through the engine's runner parsers (a runner that failed without a failing test is one errored result). */
async function testResults(
  input: ParseInput,
  runner: "cargo" | "node" | "shell" | "vitest",
): Promise<StageFacts> {
  const { parseUnit, uniqueIds } = await loadEngine();
  const o = input.output;
  const file = runner === "cargo" ? "Cargo.toml" : input.stage;
  const tests = uniqueIds(
    parseUnit(
      { runner, dir: ".", files: [file] },
      {
        exitCode: o.exitCode,
        signal: o.signal ?? null,
        stdout: o.stdout,
        stderr: o.stderr,
        durationMs: o.durationMs,
        timedOut: o.timedOut,
      },
      input.root,
    ),
  );
  const bad = tests.filter(
    (t) => t.status === "failed" || t.status === "errored" || t.status === "timed-out",
  );
  const passed = tests.filter((t) => t.status === "passed").length;
  const compile = runner === "cargo" && /error(\[\w+\])?: could not compile/.test(o.stderr);
  return {
    ok: bad.length === 0 && o.exitCode === 0,
    summary: compile
      ? `does not compile: ${firstError(o)}`
      : `${passed}/${tests.length} passed${
          bad.length
            ? `; failed: ${bad
                .map((t) => t.name)
                .slice(0, 3)
                .join(", ")}${bad.length > 3 ? "…" : ""}`
            : ""
        }`,
    tests,
  };
}

async function cargo() {
  return import("@ggen/cargo");
}

export const PARSERS: Readonly<Record<PipelineParser, Parser>> = {
  "exit-code": ({ output }) => ({
    ok: output.exitCode === 0 && !output.timedOut,
    summary: output.exitCode === 0 ? "ok" : firstError(output),
  }),
  libtest: (i) => testResults(i, "cargo"),
  tap: (i) => testResults(i, "shell"),
  "vitest-json": (i) => testResults(i, "vitest"),
  "clippy-json": async ({ output }) => {
    const c = (await cargo()).parseClippyJson(output.stdout);
    const findings: Finding[] = c.lints.slice(0, 50).map((l) => ({
      check: "lint",
      severity: "warning",
      message: `${l.code ? `${l.code}: ` : ""}${l.message}`,
      ...(l.file ? { file: l.file } : {}),
      ...(l.line ? { line: l.line } : {}),
    }));
    for (const e of c.errorList.slice(0, 10))
      findings.push({
        check: "build",
        severity: "error",
        message: e.message,
        ...(e.file ? { file: e.file } : {}),
        ...(e.line ? { line: e.line } : {}),
      });
    const ok = output.exitCode === 0 && c.warnings === 0 && c.errors === 0;
    return {
      ok,
      summary:
        c.errors > 0
          ? `does not compile: ${c.errorList[0]?.message ?? firstError(output)}`
          : `${c.warnings} warning${c.warnings === 1 ? "" : "s"}${c.lints[0] ? ` (${c.lints[0].code ?? c.lints[0].message}${c.lints[0].file ? ` at ${c.lints[0].file}:${c.lints[0].line}` : ""})` : ""}`,
      lintWarnings: c.warnings,
      findings,
    };
  },
  "fmt-check": async ({ output, root }) => {
    const c = await cargo();
    const f = c.parseFmtCheck(`${output.stdout}${output.stderr}`, output.exitCode, {
      root,
      files: await c.rustSources(root),
    });
    return {
      ok: f.formatted,
      summary: f.formatted
        ? `${f.files.length} files formatted`
        : f.unformatted.length
          ? `${f.unformatted.length} file${f.unformatted.length === 1 ? "" : "s"} need formatting: ${f.unformatted.slice(0, 3).join(", ")}`
          : `rustfmt: ${f.errors[0] ?? firstError(output)}`,
      findings: [
        ...f.unformatted.map((file) => ({
          check: "format",
          severity: "error" as const,
          message: "not formatted (cargo fmt)",
          file,
        })),
        ...f.errors.map((message) => ({ check: "format", severity: "error" as const, message })),
      ],
    };
  },
  "cargo-package": async ({ output, root }) => {
    const c = await cargo();
    const p = c.parsePackagingOutput(output.stderr, output.exitCode);
    // A dry run against the local registry cannot see crates.io's own rules: checked here.
    const rules =
      p.command === "publish-dry-run"
        ? c.publishProblems(await readFile(join(root, "Cargo.toml"), "utf8"), { crateDir: root })
        : { errors: [], warnings: [] };
    const errors = [...p.errors, ...rules.errors];
    const what = p.command === "publish-dry-run" ? "dry-run publish" : "packaged";
    return {
      ok: p.ok && rules.errors.length === 0,
      summary:
        errors.length > 0
          ? errors[0]!
          : `${what} ${p.crate ? `${p.crate.name} ${p.crate.version}` : ""}${p.files !== undefined ? `, ${p.files} files, ${p.compressedSize} compressed` : ""}${p.verified ? ", verified" : ""}`.trim(),
      findings: [
        ...errors.map((message) => ({ check: "package", severity: "error" as const, message })),
        ...[...p.warnings, ...rules.warnings]
          .slice(0, 20)
          .map((message) => ({ check: "package", severity: "warning" as const, message })),
      ],
      ...(p.crate ? { packaged: p.crate } : {}),
    };
  },
  // The built-in audit's own result: a stage that `uses = "rustsec-audit"` leaves its facts in stdout.
  "rustsec-audit": ({ output }) => JSON.parse(output.stdout) as StageFacts,
};

/** The built-in checks a stage may `use` instead of a command; each answers as a command would. */
export const BUILTINS: Readonly<Record<"rustsec-audit", (root: string) => Promise<CommandOutput>>> = {
  "rustsec-audit": async (root) => {
    const t0 = performance.now();
    const c = await cargo();
    const lock = await readFile(join(root, "Cargo.lock"), "utf8");
    const dir = c.defaultAdvisoryDbDir();
    const r = c.auditCargoLock(lock, await c.loadAdvisoryDb(dir));
    const finding = (severity: "error" | "warning") => (f: (typeof r.vulnerabilities)[number]) => ({
      check: "audit",
      severity,
      message: `${f.id} ${f.package} ${f.version}${f.kind ? ` (${f.kind})` : ""}: ${f.title}; ${f.solution}`,
      file: "Cargo.lock",
    });
    const v = r.vulnerabilities;
    const facts: StageFacts = {
      ok: r.audit_passed,
      summary: v.length
        ? `${v.length} vulnerabilit${v.length === 1 ? "y" : "ies"}: ${v.map((f) => `${f.id} (${f.package} ${f.version})`).join(", ")}`
        : `${r.packages} crates checked against ${r.advisories} advisories; ${r.warnings.length} warning${r.warnings.length === 1 ? "" : "s"}`,
      findings: [...v.map(finding("error")), ...r.warnings.map(finding("warning"))],
      audit: { passed: r.audit_passed, vulnerabilities: v.length, warnings: r.warnings.length },
    };
    return {
      exitCode: r.audit_passed ? 0 : 1,
      stdout: JSON.stringify(facts),
      stderr: "",
      timedOut: false,
      durationMs: performance.now() - t0,
    };
  },
};
