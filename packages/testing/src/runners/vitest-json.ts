// Vitest's `--reporter=json` (the Jest-compatible shape): testResults[] per file, assertionResults[]
// per test with ancestorTitles, status, duration and failureMessages.

import type { ParsedTest } from "./tap.js";

interface JsonAssertion {
  ancestorTitles?: string[];
  title?: string;
  fullName?: string;
  status?: string;
  duration?: number | null;
  failureMessages?: string[];
}

interface JsonFile {
  name?: string;
  status?: string;
  message?: string;
  assertionResults?: JsonAssertion[];
}

/** The JSON object starting with `marker`, found in output that may hold other lines around it. */
export function extractJson(text: string, marker: string): unknown {
  const start = text.indexOf(marker);
  if (start < 0) return undefined;
  const end = text.lastIndexOf("}");
  if (end < start) return undefined;
  try {
    return JSON.parse(text.slice(start, end + 1));
  } catch {
    return undefined;
  }
}

/** Tests per file (absolute file names as vitest reports them). */
export function parseVitestJson(text: string): { file: string; tests: ParsedTest[] }[] {
  const data = extractJson(text, '{"numTotalTestSuites"') as { testResults?: JsonFile[] } | undefined;
  if (!data?.testResults) return [];
  return data.testResults.map((f) => {
    const tests: ParsedTest[] = (f.assertionResults ?? []).map((a) => {
      const status =
        a.status === "passed"
          ? "passed"
          : a.status === "failed"
            ? "failed"
            : a.status === "pending" ||
                a.status === "skipped" ||
                a.status === "todo" ||
                a.status === "disabled"
              ? "skipped"
              : "errored";
      const t: ParsedTest = { name: a.title ?? a.fullName ?? "test", status, durationMs: a.duration ?? 0 };
      if (a.ancestorTitles && a.ancestorTitles.length > 0) t.suite = a.ancestorTitles.join(" > ");
      const fm = a.failureMessages?.filter(Boolean) ?? [];
      if (fm.length > 0) {
        t.failureMessage = fm[0]!.split("\n")[0]!;
        t.outputTail = fm.join("\n").split("\n").slice(0, 20).join("\n");
      }
      return t;
    });
    if (tests.length === 0 && f.status === "failed") {
      const t: ParsedTest = { name: "(file)", status: "errored", durationMs: 0 };
      if (f.message) t.failureMessage = f.message.split("\n")[0]!;
      tests.push(t);
    }
    return { file: f.name ?? "", tests };
  });
}
