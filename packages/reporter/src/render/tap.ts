// TAP 14 (testanything.org) for CI tools that read it: a plan, one test point per test, `# SKIP` for
// skipped ones, and a YAML diagnostic (message, file, line, duration) under each failure.

import type { CleanroomRun, TestResult } from "@ggen/contract";
import { isFailure } from "./shared.js";

// A description may not contain `#` unescaped (it starts a directive), nor a line break.
const description = (t: TestResult) =>
  `${t.file} > ${t.suite ? `${t.suite} > ` : ""}${t.name}`.replace(/[\r\n]+/g, " ").replace(/#/g, "\\#");

/** A YAML scalar that is always a string: double-quoted, JSON escapes are valid YAML. */
const yamlString = (s: string) => JSON.stringify(s);

export function renderTap(run: CleanroomRun): string {
  const out = ["TAP version 14", `1..${run.tests.length}`];
  run.tests.forEach((t, i) => {
    const n = i + 1;
    if (t.status === "skipped") {
      const why = (t.failureMessage ?? "").replace(/[\r\n]+/g, " ").replace(/#/g, "\\#");
      out.push(`ok ${n} - ${description(t)} # SKIP${why ? ` ${why}` : ""}`);
      return;
    }
    if (!isFailure(t)) {
      out.push(`ok ${n} - ${description(t)}`);
      return;
    }
    out.push(`not ok ${n} - ${description(t)}`, "  ---");
    out.push(`  message: ${yamlString(t.failureMessage ?? t.status)}`);
    out.push(`  severity: ${t.status === "failed" ? "fail" : t.status}`);
    out.push(`  file: ${yamlString(t.file)}`);
    if (t.line !== undefined) out.push(`  line: ${t.line}`);
    out.push(`  duration_ms: ${t.durationMs}`);
    if (t.outputTail) out.push(`  output: ${yamlString(t.outputTail)}`);
    out.push("  ...");
  });
  const s = run.summary;
  out.push(`# ${s.passed} passed, ${s.failed + s.errored + s.timedOut} failed, ${s.skipped} skipped`, "");
  return out.join("\n");
}
