// GitHub Actions workflow commands (`::error file=…,line=…,title=…::message`): each failed test becomes an
// annotation on its file (and line, when the runner said), then one notice with the counts. Printed by
// the commands that report a run when GITHUB_ACTIONS=true.

import type { CleanroomRun } from "@ggen/contract";
import { isFailure } from "./shared.js";

// The runner's own escaping (actions/toolkit, command.ts): data escapes % CR LF; properties also : and ,.
const data = (s: string) => s.replace(/%/g, "%25").replace(/\r/g, "%0D").replace(/\n/g, "%0A");
const property = (s: string) => data(s).replace(/:/g, "%3A").replace(/,/g, "%2C");

export function renderGithubAnnotations(run: CleanroomRun): string {
  const lines: string[] = [];
  for (const t of run.tests) {
    if (!isFailure(t)) continue;
    const props = [`file=${property(t.file)}`];
    if (t.line !== undefined) props.push(`line=${t.line}`);
    props.push(`title=${property(`${t.suite ? `${t.suite} > ` : ""}${t.name} [${t.status}]`)}`);
    lines.push(`::error ${props.join(",")}::${data(t.failureMessage ?? t.status)}`);
  }
  const s = run.summary;
  const bad = s.failed + s.errored + s.timedOut;
  lines.push(
    `::notice title=${property("cleanroom")}::${data(`${bad ? "FAILED" : "PASSED"} ${s.total} tests: ${s.passed} passed, ${bad} failed, ${s.skipped} skipped (${run.runId})`)}`,
  );
  return `${lines.join("\n")}\n`;
}
