// `cargo test` output (libtest's human format, stable Rust): `test path::name ... ok|FAILED|ignored`,
// then `---- path::name stdout ----` sections holding each failure's output.

import type { ParsedTest } from "./tap.js";

const LINE = /^test (.+?) \.\.\. (ok|FAILED|ignored|bench)(?:, .*)?$/;
const SECTION = /^---- (.+?) stdout ----$/;
const SUITE = /^\s*Running (?:unittests )?(\S+)/;

export function parseLibtest(text: string): ParsedTest[] {
  const tests: ParsedTest[] = [];
  const byName = new Map<string, ParsedTest>();
  const lines = text.split(/\r?\n/);
  let suite: string | undefined;
  let section: { test: ParsedTest; lines: string[] } | undefined;
  const close = () => {
    if (!section) return;
    const out = section.lines.join("\n").trim();
    const panic = /panicked at [^\n]*\n([^\n]+)/.exec(out) ?? /panicked at '([^']+)'/.exec(out);
    section.test.failureMessage = panic?.[1]?.trim() ?? out.split("\n")[0] ?? "failed";
    section.test.outputTail = out.split("\n").slice(-20).join("\n");
    section = undefined;
  };
  for (const line of lines) {
    const s = SUITE.exec(line);
    if (s && !section) {
      suite = s[1]!.replace(/^.*\//, "").replace(/-[0-9a-f]{16}$/, "");
      continue;
    }
    const m = LINE.exec(line);
    if (m && !section) {
      const t: ParsedTest = {
        name: m[1]!,
        status: m[2] === "ok" || m[2] === "bench" ? "passed" : m[2] === "FAILED" ? "failed" : "skipped",
        durationMs: 0,
      };
      if (suite) t.suite = suite;
      tests.push(t);
      byName.set(`${suite ?? ""}\0${t.name}`, t);
      continue;
    }
    const sec = SECTION.exec(line);
    if (sec) {
      close();
      const t = byName.get(`${suite ?? ""}\0${sec[1]}`);
      if (t) section = { test: t, lines: [] };
      continue;
    }
    if (section) {
      if (/^(failures:|test result:)/.test(line.trim()) || line.startsWith("---- ")) close();
      else section.lines.push(line);
    }
  }
  close();
  return tests;
}
