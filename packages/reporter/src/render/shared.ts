// Small pieces every renderer shares: escaping, durations, the timeline shape, failures first.

import type { CleanroomRun, TestResult, TestStatus } from "@ggen/contract";

/** One bar of a timeline: a stage (setup, testing…) or a step (a scenario step, a runner invocation). */
export interface TimelineBar {
  name: string;
  lane: "stage" | "step";
  startMs: number;
  durationMs: number;
  status: TestStatus | "success" | "rolled-back";
}

// Characters XML 1.0 does not allow at all (C0 controls but tab, LF, CR; lone surrogates; U+FFFE/F).
const INVALID_XML =
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const ANSI = /\u001B\[[0-9;]*[A-Za-z]/g;

const ESC: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" };

/** Text safe inside XML/HTML content and attribute values. */
export function escapeXml(text: string): string {
  return text
    .replace(ANSI, "")
    .replace(INVALID_XML, "\uFFFD")
    .replace(/[&<>"']/g, (c) => ESC[c]!);
}

export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  const m = Math.floor(ms / 60_000);
  return `${m} min ${Math.round((ms % 60_000) / 1000)} s`;
}

const RANK: Record<TestStatus, number> = { failed: 0, errored: 1, "timed-out": 2, skipped: 3, passed: 4 };

export const isFailure = (t: TestResult) =>
  t.status === "failed" || t.status === "errored" || t.status === "timed-out";

/** Failures first (failed, errored, timed out), then skipped, then passed; stable otherwise. */
export function failuresFirst(tests: readonly TestResult[]): TestResult[] {
  return tests
    .map((t, i) => ({ t, i }))
    .sort((a, b) => RANK[a.t.status] - RANK[b.t.status] || a.i - b.i)
    .map((x) => x.t);
}

/** The timeline a run implies when none was recorded: its stages, and each file's tests back to back. */
export function impliedTimeline(run: CleanroomRun): TimelineBar[] {
  const { setupMs, testMs, teardownMs } = run.timings;
  const bars: TimelineBar[] = [
    { name: "setup", lane: "stage", startMs: 0, durationMs: setupMs, status: "passed" },
    {
      name: "tests",
      lane: "stage",
      startMs: setupMs,
      durationMs: testMs,
      status: run.tests.some(isFailure) ? "failed" : "passed",
    },
    { name: "teardown", lane: "stage", startMs: setupMs + testMs, durationMs: teardownMs, status: "passed" },
  ];
  const files = new Map<string, { ms: number; failed: boolean }>();
  for (const t of run.tests) {
    const f = files.get(t.file) ?? { ms: 0, failed: false };
    f.ms += t.durationMs;
    f.failed ||= isFailure(t);
    files.set(t.file, f);
  }
  let at = setupMs;
  for (const [name, f] of files) {
    bars.push({ name, lane: "step", startMs: at, durationMs: f.ms, status: f.failed ? "failed" : "passed" });
    at += f.ms;
  }
  return bars;
}

/** Stage bars for a run's phases plus recorded step bars (offset past setup). */
export function runTimeline(run: CleanroomRun, steps?: readonly TimelineBar[]): TimelineBar[] {
  if (!steps || steps.length === 0) return impliedTimeline(run);
  const stages = impliedTimeline(run).filter((b) => b.lane === "stage");
  const offset = run.timings.setupMs;
  return [...stages, ...steps.map((s) => (s.lane === "stage" ? s : { ...s, startMs: s.startMs + offset }))];
}
