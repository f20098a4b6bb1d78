import type { PackPipeline } from "@ggen/contract";
import { describe, expect, it } from "vitest";
import { gatesOf, planPipeline } from "./plan.js";

const decl: PackPipeline = {
  version: 1,
  toolchain: "cargo",
  stages: [
    { name: "fmt", gate: "format", run: ["cargo", "fmt", "--check"], parse: "fmt-check" },
    { name: "clippy", gate: "lint", run: ["cargo", "clippy"], parse: "clippy-json", lane: "check" },
    { name: "build", gate: "build", run: ["cargo", "build"], lane: "build" },
    {
      name: "test",
      gate: "tests",
      run: ["cargo", "test"],
      parse: "libtest",
      after: ["build"],
      lane: "build",
      timeout: "2m",
    },
    { name: "audit", gate: "audit", uses: "rustsec-audit" },
  ],
  deploy: { uses: "cargo-registry" },
};

describe("planPipeline", () => {
  it("fills in parsers, dependencies, timeouts and the lanes in order of first use", () => {
    const p = planPipeline(decl);
    expect(p.lanes).toEqual(["check", "build"]);
    expect(p.stages.find((s) => s.name === "build")).toMatchObject({ parse: "exit-code", after: [] });
    expect(p.stages.find((s) => s.name === "audit")).toMatchObject({ parse: "rustsec-audit" });
    expect(p.stages.find((s) => s.name === "test")?.timeoutMs).toBe(120_000);
    expect(p.deploy).toEqual({ uses: "cargo-registry" });
    expect(planPipeline({ version: 1, stages: [{ name: "x", run: ["true"] }] }).toolchain).toBe("none");
  });

  it("refuses a stage named like one of the run's own", () => {
    expect(() =>
      planPipeline({ version: 1, stages: [{ name: "deployment", run: ["true"] }] }, "p/ggen.toml"),
    ).toThrow(/'deployment' is the name of one of the run's own stages/);
  });
});

describe("gatesOf", () => {
  it("a gate fails when a stage of it failed, is skipped when one never ran, and names why", () => {
    const p = planPipeline(decl);
    const gates = gatesOf(
      p,
      new Map([
        ["fmt", { status: "passed" as const }],
        ["clippy", { status: "failed" as const, summary: "1 warning (clippy::ptr_arg at src/lib.rs:3)" }],
        ["build", { status: "failed" as const, summary: "error[E0308]: mismatched types" }],
        ["test", { status: "skipped" as const, summary: "not run: build did not pass" }],
      ]),
    );
    expect(gates.map((g) => `${g.name}:${g.status}`)).toEqual([
      "build:failed",
      "tests:skipped",
      "lint:failed",
      "format:passed",
      "audit:skipped",
    ]);
    expect(gates.find((g) => g.name === "lint")?.message).toBe(
      "clippy: 1 warning (clippy::ptr_arg at src/lib.rs:3)",
    );
  });
});
