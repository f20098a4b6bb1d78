// Runs and reports for tests and benchmarks (not exported from the package).

import type { CleanroomRun, TestResult } from "@ggen/contract";

export function sampleRun(n = 6, failEvery = 3): CleanroomRun {
  const tests: TestResult[] = [];
  for (let i = 0; i < n; i++) {
    const file = `test/file${i % 4}.test.mjs`;
    const failed = failEvery > 0 && i % failEvery === 2;
    const t: TestResult = {
      id: `${file}#case ${i}`,
      file,
      name: `case ${i}`,
      status: failed ? "failed" : i % 5 === 4 ? "skipped" : "passed",
      durationMs: 1 + (i % 17) * 3.25,
    };
    if (i % 2 === 0) t.suite = "suite <a & b>";
    if (failed) {
      t.failureMessage = `expected ${i} to be "${i + 1}" <&>`;
      t.outputTail = `AssertionError: expected ${i}\n    at file${i % 4}.test.mjs:${i}:1\n\u001b[31mred\u001b[0m \u0001ctl`;
    }
    tests.push(t);
  }
  const summary = { total: n, passed: 0, failed: 0, skipped: 0, timedOut: 0, errored: 0 };
  for (const t of tests) {
    if (t.status === "passed") summary.passed++;
    else if (t.status === "failed") summary.failed++;
    else summary.skipped++;
  }
  return {
    kind: "cleanroom-run/v1",
    runId: "run-20260113-100000-1a2b",
    tool: { name: "cleanroom", version: "0.1.0" },
    startedAt: "2026-01-13T10:00:01.000Z",
    finishedAt: "2026-01-13T10:00:03.500Z",
    environment: {
      name: "ci-1",
      backend: "local",
      isolation: { network: true, pid: true, filesystem: true, limits: true, mechanism: "unshare" },
    },
    services: [
      {
        name: "postgres",
        binary: "/usr/lib/postgresql/15/bin/postgres",
        readyMs: 310,
        endpoint: "postgresql://127.0.0.1:5432/app",
      },
    ],
    tests,
    summary,
    timings: { setupMs: 420, testMs: 1900, teardownMs: 80, totalMs: 2400 },
    resources: { peakMemoryMb: 96.2, cpuPercent: 71 },
  };
}
