// examples/ are the seeds' scripts with the real commands: each one runs here as a user would run it.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const examples = join(import.meta.dirname, "..", "..", "..", "examples");
const run = (script: string, timeout = 240_000) =>
  spawnSync("bash", [join(examples, script)], {
    encoding: "utf8",
    timeout,
    env: { ...process.env, NO_COLOR: "1", GGEN_HOME: "" },
  });

describe("examples", () => {
  it("rest-api-postgres.sh: generated API tested against PostgreSQL, deployed and healthy", {
    timeout: 300_000,
  }, () => {
    const r = run("rest-api-postgres.sh");
    expect(r.status, (r.stdout + r.stderr).slice(-3000)).toBe(0);
    expect(r.stdout).toMatch(/PASSED +\d+ tests: \d+ passed/);
    expect(r.stdout).toMatch(/"status":"ok","service":"user-api","database":"up"/);
  });

  it("microservice-redis.sh: the Redis service passes its smoke scenario", { timeout: 300_000 }, () => {
    const r = run("microservice-redis.sh");
    expect(r.status, (r.stdout + r.stderr).slice(-3000)).toBe(0);
    expect(r.stdout).toMatch(/passed +smoke\.yaml +order-service smoke › store-and-read/);
    expect(r.stdout).toMatch(/Services: redis/);
  });

  it("cli-tool.sh: the Rust crate's tests pass in cleanroom and the binary runs", {
    timeout: 300_000,
  }, () => {
    const r = run("cli-tool.sh");
    expect(r.status, (r.stdout + r.stderr).slice(-3000)).toBe(0);
    expect(r.stdout).toMatch(/^0\.1\.0$/m);
  });

  it("complete.sh: every phase timed, deployed and healthy within the target", { timeout: 300_000 }, () => {
    const r = run("complete.sh");
    expect(r.status, (r.stdout + r.stderr).slice(-3000)).toBe(0);
    for (const phase of ["Marketplace", "Generation", "Testing", "Validation", "Deployment"]) {
      expect(r.stdout).toMatch(new RegExp(`\\[INFO\\] ${phase} completed in \\d+ ms`));
    }
    expect(r.stdout).toMatch(/Ultra-fast deployment complete: \d+s/);
  });

  it("concept-to-crate.sh: seed 001's flow, its scenarios verbatim, ends READY with the crate published", {
    timeout: 600_000,
  }, () => {
    const r = run("concept-to-crate.sh", 590_000);
    expect(r.status, (r.stdout + r.stderr).slice(-3000)).toBe(0);
    expect(r.stdout).toMatch(/PASSED +\d+ tests: \d+ passed/);
    // Every step of the seed's two scenarios is accounted for and none failed. The seed's budgets hold —
    // or, on a machine loaded beyond its cores, what is over budget is said with the load (never retried).
    for (const step of [
      "cargo-build",
      "cargo-fmt-check",
      "cargo-test",
      "cargo-clippy",
      "package-check",
      "doc-check",
      "audit-check",
      "dry-run-publish",
    ])
      expect(r.stdout).toMatch(new RegExp(`^(passed|timed-out|skipped) +${step} `, "m"));
    expect(r.stdout).not.toMatch(/^failed /m);
    for (const [what, ms] of [
      ["generation", 10000],
      ["cleanroom setup", 10000],
    ] as const)
      expect(r.stdout).toMatch(
        new RegExp(
          `^(${what}: \\d+ ms \\(budget ${ms} ms\\)|\\[WARN\\] ${what} took \\d+ ms, over the seed's budget of ${ms} ms: this machine is loaded \\(load [\\d.]+ on \\d+ cores\\).*)$`,
          "m",
        ),
      );
    // A step over budget is a warning only with the load that explains it.
    expect(r.stdout).not.toMatch(/^\[WARN\] .* over the seed's budget(?!.*this machine is loaded)/m);
    expect(r.stderr).toMatch(
      /cargo-audit is not installed: `cargo audit` runs ggen's built-in RustSec audit/,
    );
    expect(r.stdout).toMatch(/^deployment_status: READY$/m);
    expect(r.stdout).toMatch(/^coverage: (\d+(\.\d+)? %|unavailable \(.+\))$/m);
    expect(r.stdout).toMatch(/Crate is production-ready: my_service@0\.1\.0 in \.ggen\/deploy\/registry/);
  });
});
