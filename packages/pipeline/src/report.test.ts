import { validate } from "@ggen/contract";
import type { StageRecord } from "@ggen/reporter";
import { GgenError } from "@ggen/support";
import { describe, expect, it } from "vitest";
import {
  buildReport,
  deploymentOf,
  deploymentRecord,
  deploymentStatusOf,
  engineShare,
  failureLine,
  type Outcome,
  type ReportInput,
} from "./report.js";
import { NOT_VALIDATED } from "./stages/validation.js";

const stage = (
  name: string,
  status: StageRecord["status"],
  extra: Partial<StageRecord> = {},
): StageRecord => ({
  name,
  status,
  ...extra,
});

const input = (outcome: Outcome): ReportInput => ({
  sessionId: "5f0c2a7e-0000-4000-8000-000000000000",
  name: "shop",
  environment: "production",
  backend: "local",
  startedAt: new Date("2026-01-13T10:00:00.000Z"),
  outcome,
  filesGenerated: 12,
  validation: NOT_VALIDATED,
  statement: { digest: "a".repeat(64), path: "attestation.intoto.json" },
  references: {},
  reporting: { startedAtMs: 900.4, durationMs: 0.2 },
  totalDurationMs: 901.6,
});

describe("buildReport", () => {
  it("a ready run: every stage, the release and its URL, a valid pipeline-report/v1", () => {
    const outcome: Outcome = {
      ok: true,
      stages: [
        stage("marketplace", "success", { startedAtMs: 1.2, durationMs: 100.6, message: "p@1.0.0" }),
        stage("deployment", "success", { startedAtMs: 500, durationMs: 300 }),
      ],
      deployed: { provider: "process", releaseId: "r1", url: "http://127.0.0.1:4000/health" },
    };
    const report = buildReport(input(outcome));
    expect(validate("pipeline-report/v1", report).ok).toBe(true);
    expect(Object.keys(report.stages)).toEqual(["marketplace", "deployment", "reporting"]);
    expect(report.stages.marketplace).toEqual({
      durationMs: 101,
      status: "success",
      startedAtMs: 1,
      message: "p@1.0.0",
    });
    expect(report.stages.reporting).toEqual({ durationMs: 0, status: "success", startedAtMs: 900 });
    expect(report.totalDurationMs).toBe(902);
    expect(report.deploymentStatus).toBe("READY");
    expect(report.deployment).toEqual({
      provider: "process",
      releaseId: "r1",
      url: "http://127.0.0.1:4000/health",
    });
    expect(report.recommendation).toBe(
      "Ready: every stage passed and http://127.0.0.1:4000/health answers its health check.",
    );
    expect(report.attestation).toMatchObject({ digest: `sha256:${"a".repeat(64)}`, reproducible: false });
    expect(failureLine(outcome, "r.json")).toBeUndefined();
  });

  it("stages that never ended are skipped, without a start; messages keep their first line", () => {
    const report = buildReport(
      input({
        ok: false,
        failure: new GgenError("TESTS_FAILED", "1 of 9 generated tests failed"),
        stages: [
          stage("testing", "failed", { startedAtMs: 10, durationMs: 20, message: "first\nsecond" }),
          stage("validation", "running", { startedAtMs: 12 }),
          stage("deployment", "pending"),
        ],
      }),
    );
    expect(report.stages.testing).toEqual({
      durationMs: 20,
      status: "failed",
      startedAtMs: 10,
      message: "first",
    });
    expect(report.stages.validation).toEqual({ durationMs: 0, status: "skipped" });
    expect(report.stages.deployment).toEqual({ durationMs: 0, status: "skipped" });
    expect(report.deploymentStatus).toBe("NOT_READY");
    expect(report).not.toHaveProperty("deployment");
    expect(report.recommendation).toBe("Not ready: 1 of 9 generated tests failed");
  });
});

describe("how a run ended", () => {
  it("a rolled-back release: ROLLED_BACK, the release restored, one line naming it", () => {
    const outcome: Outcome = {
      ok: false,
      failure: new GgenError("DEPLOY_FAILED", "verify failed"),
      stages: [stage("deployment", "rolled-back")],
      deployed: { provider: "process", releaseId: "r2", rolledBackTo: "r1", url: "http://x/health" },
    };
    expect(deploymentStatusOf(outcome)).toBe("ROLLED_BACK");
    expect(deploymentOf(outcome)).toEqual({ provider: "process", rolledBackTo: "r1" });
    expect(failureLine(outcome, "t/report.json")).toBe(
      "verify failed and the deployment was rolled back to r1 (details: t/report.json)",
    );
  });

  it("deployed but failed afterwards (over --timeout): FAILED, no deployment section", () => {
    const outcome: Outcome = {
      ok: false,
      failure: new GgenError("TIMEOUT", "timed out after 60s in deployment\nmore"),
      stages: [stage("deployment", "timed-out")],
      deployed: { provider: "process", releaseId: "r2" },
    };
    expect(deploymentStatusOf(outcome)).toBe("FAILED");
    expect(deploymentOf(outcome)).toBeUndefined();
    expect(failureLine(outcome, "r.json")).toBe("timed out after 60s in deployment (details: r.json)");
  });
});

describe("a crate's report (revision 1.1)", () => {
  it("gates, coverage (or its absence), package, registry and signature land in a valid report", () => {
    const outcome: Outcome = {
      ok: true,
      stages: [stage("test", "success", { startedAtMs: 100, durationMs: 400 })],
      deployed: {
        provider: "cargo-registry",
        releaseId: "my_service@0.1.0",
        registry: ".ggen/deploy/registry",
        artifact: {
          path: ".ggen/deploy/registry/crates/my_service/my_service-0.1.0.crate",
          sha256: "b".repeat(64),
        },
      },
    };
    const r = buildReport({
      ...input(outcome),
      gates: [{ name: "tests", status: "passed", stages: ["test"] }],
      coverage: { status: "unavailable", reason: "no llvm-profdata of LLVM 22" },
      lintWarnings: 0,
      package: { name: "my_service", version: "0.1.0", ecosystem: "cargo" },
      statement: { digest: "a".repeat(64), path: "attestation.intoto.json", keyId: "ed25519:abc" },
    });
    const v = validate("pipeline-report/v1", r);
    expect(v.ok ? [] : v.errors).toEqual([]);
    expect(r.metrics.coveragePercentage).toBeUndefined();
    expect(r.metrics.coverage).toEqual({ status: "unavailable", reason: "no llvm-profdata of LLVM 22" });
    expect(r.attestation).toMatchObject({ signed: true, keyId: "ed25519:abc" });
    expect(r.deployment).toMatchObject({ registry: ".ggen/deploy/registry", releaseId: "my_service@0.1.0" });
    expect(r.recommendation).toMatch(
      /^Ready: every quality gate passed and my_service@0\.1\.0 was published/,
    );
  });
});

describe("deploymentRecord", () => {
  it("total is the wall time, not the sum of stages that overlapped; each stage keeps its offset", () => {
    const rec = deploymentRecord({
      deploymentId: "my_service@0.1.0",
      at: new Date("2026-01-13T10:00:10.000Z"),
      name: "my_service",
      environment: "production",
      status: "success",
      wallMs: 10_000,
      stages: [
        stage("build", "success", { startedAtMs: 1000, durationMs: 6000 }),
        stage("clippy", "success", { startedAtMs: 1000, durationMs: 7000 }),
        stage("never", "skipped"),
      ],
      resources: { peakMemoryMb: 100, cpuPercent: 50 },
    });
    expect(validate("deployment-metrics/v1", rec).ok).toBe(true);
    expect(rec.totalTimeSeconds).toBe(10);
    expect(rec.phases).toEqual({ build: 6, clippy: 7 });
    expect(rec.stages).toEqual({
      build: { startSeconds: 1, durationSeconds: 6, status: "success" },
      clippy: { startSeconds: 1, durationSeconds: 7, status: "success" },
    });
  });
});

describe("engineShare", () => {
  it("states the engine's waits, largest first, against the run's wall time; the report carries it", () => {
    const line = engineShare(
      {
        totalMs: 2950,
        parts: {
          "environment container": { count: 1, ms: 900 },
          "exec round trip": { count: 3, ms: 350 },
          "postgres until ready": { count: 1, ms: 1200 },
          removal: { count: 2, ms: 500 },
        },
      },
      12_400,
    );
    expect(line).toBe(
      "Docker engine: 3.0 s waited on it during the run's 12.4 s (postgres until ready 1.2 s, environment container 0.9 s, removal ×2 0.5 s, exec round trip ×3 0.3 s)",
    );
    const report = buildReport({
      ...input({ ok: true, stages: [] }),
      reporting: { startedAtMs: 900, durationMs: 1, message: line! },
    });
    expect(report.stages.reporting?.message).toBe(line);
    expect(validate("pipeline-report/v1", report).ok).toBe(true);
  });

  it("says nothing without an engine (the local backend) or before it was used", () => {
    expect(engineShare(undefined, 1000)).toBeUndefined();
    expect(engineShare({ totalMs: 0, parts: {} }, 1000)).toBeUndefined();
  });
});
