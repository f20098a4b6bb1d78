// JUnit XML as GitHub Actions (test reporters), GitLab and Jenkins read it: <testsuites> with one
// <testsuite> per file, <testcase name classname file time> (seconds), <failure>/<error>/<skipped>
// with message and text, <system-out>. Names are unique within a classname: GitLab keeps only the
// first of duplicates and uses classname as the suite.

import type { CleanroomRun, TestResult } from "@ggen/contract";
import { escapeXml as x } from "./shared.js";

const secs = (ms: number) => (Math.max(0, ms) / 1000).toFixed(3);

function caseXml(t: TestResult, name: string, out: string[]): void {
  const open = `    <testcase name="${x(name)}" classname="${x(t.file)}" file="${x(t.file)}" time="${secs(t.durationMs)}"`;
  const msg = t.failureMessage ?? "";
  // The failure's text: the message, then the output it left.
  const body = t.outputTail
    ? msg && !t.outputTail.includes(msg)
      ? `${msg}\n${t.outputTail}`
      : t.outputTail
    : msg;
  switch (t.status) {
    case "passed":
      if (!t.outputTail) {
        out.push(`${open}/>`);
        return;
      }
      out.push(`${open}>`, `      <system-out>${x(t.outputTail)}</system-out>`, "    </testcase>");
      return;
    case "skipped":
      out.push(`${open}>`, `      <skipped message="${x(msg || "skipped")}"/>`, "    </testcase>");
      return;
    case "failed":
      out.push(
        `${open}>`,
        `      <failure message="${x(msg || "failed")}" type="failure">${x(body)}</failure>`,
      );
      break;
    case "errored":
      out.push(`${open}>`, `      <error message="${x(msg || "errored")}" type="error">${x(body)}</error>`);
      break;
    case "timed-out":
      out.push(
        `${open}>`,
        `      <error message="${x(msg || "timed out")}" type="timeout">${x(body)}</error>`,
      );
      break;
  }
  out.push("    </testcase>");
}

export function renderJunit(run: CleanroomRun): string {
  const byFile = new Map<string, TestResult[]>();
  for (const t of run.tests) {
    const list = byFile.get(t.file) ?? [];
    list.push(t);
    byFile.set(t.file, list);
  }
  const count = (ts: TestResult[]) => {
    let failures = 0;
    let errors = 0;
    let skipped = 0;
    let ms = 0;
    for (const t of ts) {
      if (t.status === "failed") failures++;
      else if (t.status === "errored" || t.status === "timed-out") errors++;
      else if (t.status === "skipped") skipped++;
      ms += t.durationMs;
    }
    return { failures, errors, skipped, ms };
  };
  const all = count(run.tests);
  const out: string[] = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="${x(run.runId)}" tests="${run.tests.length}" failures="${all.failures}" errors="${all.errors}" skipped="${all.skipped}" time="${secs(run.timings.totalMs)}" timestamp="${x(run.startedAt)}">`,
  ];
  for (const [file, tests] of byFile) {
    const c = count(tests);
    out.push(
      `  <testsuite name="${x(file)}" tests="${tests.length}" failures="${c.failures}" errors="${c.errors}" skipped="${c.skipped}" time="${secs(c.ms)}" timestamp="${x(run.startedAt)}" file="${x(file)}">`,
    );
    const seen = new Map<string, number>();
    for (const t of tests) {
      const base = t.suite ? `${t.suite} > ${t.name}` : t.name;
      const n = (seen.get(base) ?? 0) + 1;
      seen.set(base, n);
      caseXml(t, n === 1 ? base : `${base} [${n}]`, out);
    }
    out.push("  </testsuite>");
  }
  out.push("</testsuites>", "");
  return out.join("\n");
}
