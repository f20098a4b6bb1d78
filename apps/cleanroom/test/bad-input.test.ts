// Bad input: one clear line (with file:line:col where there is one), exit 2, nothing started.

import { existsSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { oneLine, type Project, project } from "./helpers.js";

// Each test runs the program several times; on a busy 2-core machine that takes seconds.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 60_000 });

let p: Project;
beforeAll(() => {
  p = project();
});
afterAll(() => p.cleanup());

/** Nothing was started: no environment, no run recorded. */
function nothingStarted() {
  expect(p.envDirs()).toEqual([]);
  expect(existsSync(join(p.dir, ".cleanroom", "runs"))).toBe(false);
}

describe("bad input", () => {
  it("a missing test file", () => {
    const r = p.run("test", "run", "--backend", "local", "--file", "nope.test.mjs");
    expect(r.status).toBe(2);
    expect(oneLine(r)).toBe("cleanroom: error: nope.test.mjs: test file not found: nope.test.mjs");
    nothingStarted();
  });

  it("a glob matching nothing", () => {
    const r = p.run("test", "run", "--backend", "local", "--files", "spec/**/*.test.mjs");
    expect(r.status).toBe(2);
    expect(oneLine(r)).toMatch(/^cleanroom: error: --files 'spec\/\*\*\/\*\.test\.mjs' matches no file/);
    nothingStarted();
  });

  it("cyclic depends, with where the cycle starts", () => {
    p.write(
      "cycle.yaml",
      "steps:\n  - name: a\n    run: 'true'\n    depends: [b]\n  - name: b\n    run: 'true'\n    depends: [a]\n",
    );
    const r = p.run("exec", "--scenario", "cycle.yaml", "--backend", "local");
    expect(r.status).toBe(2);
    expect(oneLine(r)).toBe("cleanroom: error: cycle.yaml:2:5: cyclic depends: a → b → a");
    nothingStarted();
  });

  it("an unknown step name in depends, with a suggestion", () => {
    p.write(
      "unknown.yaml",
      "steps:\n  - name: build\n    run: 'true'\n  - name: test\n    run: 'true'\n    depends: [buidl]\n",
    );
    const r = p.run("test", "run", "--scenario", "unknown.yaml", "--backend", "local");
    expect(r.status).toBe(2);
    expect(oneLine(r)).toBe(
      "cleanroom: error: unknown.yaml:6:15: step 'test' depends on unknown step 'buidl' (did you mean 'build'?)",
    );
    nothingStarted();
  });

  it("invalid YAML, with its line", () => {
    p.write("broken.yaml", "name: x\nsteps:\n  - name: a\n    run: x\n   oops: 1\n");
    const r = p.run("exec", "--scenario", "broken.yaml");
    expect(r.status).toBe(2);
    expect(oneLine(r)).toMatch(/^cleanroom: error: broken\.yaml:5:\d+: invalid YAML: /);
    nothingStarted();
  });

  it("a missing scenario file", () => {
    const r = p.run("exec", "--scenario", "absent.yaml");
    expect(r.status).toBe(2);
    expect(oneLine(r)).toBe("cleanroom: error: absent.yaml: scenario not found");
  });

  it("an unknown service, with a suggestion", () => {
    const r = p.run("container", "start", "postgress", "--backend", "local");
    expect(r.status).toBe(2);
    expect(oneLine(r)).toMatch(
      /^cleanroom: error: unknown service 'postgress' \(did you mean 'postgres'\?\)/,
    );
    nothingStarted();
  });

  it("an image with the local backend, before any environment is made", () => {
    const r = p.run("container", "start", "nginx:1.25", "--backend", "local");
    expect(r.status).toBe(2);
    expect(oneLine(r)).toMatch(
      /^cleanroom: error: the local backend runs postgres and redis, not images like 'nginx:1\.25'/,
    );
    nothingStarted();
  });

  describe("a port in use", () => {
    let server: Server;
    let port = 0;
    beforeAll(async () => {
      server = createServer();
      await new Promise<void>((ok) => server.listen(0, "127.0.0.1", () => ok()));
      port = (server.address() as { port: number }).port;
    });
    afterAll(() => new Promise<void>((ok) => server.close(() => ok())));

    it("is refused before anything starts", () => {
      const r = p.run("container", "start", "postgres", "--backend", "local", "--port", String(port));
      expect(r.status).toBe(2);
      expect(oneLine(r)).toBe(
        `cleanroom: error: port ${port} is in use on 127.0.0.1 (stop what listens there, or leave out --port for a free one)`,
      );
      nothingStarted();
    });
  });

  it("a missing manifest, and a file that is not one", () => {
    const r = p.run("ultra-fast-test", "--manifest", "gen/manifest.json", "--backend", "local");
    expect(r.status).toBe(2);
    expect(oneLine(r)).toBe("cleanroom: error: gen/manifest.json: manifest not found");
    p.write("broken-manifest.json", '{\n  "kind": "generation-manifest/v1",\n  "files": [,]\n}\n');
    const broken = p.run("ultra-fast-test", "--manifest", "broken-manifest.json", "--backend", "local");
    expect(broken.status).toBe(2);
    expect(oneLine(broken)).toBe(
      'cleanroom: error: broken-manifest.json:3:13: not valid JSON: unexpected ","',
    );
    p.write("bad-manifest.json", JSON.stringify({ kind: "generation-manifest/v1" }));
    const r2 = p.run("ultra-fast-test", "--manifest", "bad-manifest.json", "--backend", "local");
    expect(r2.status).toBe(2);
    expect(oneLine(r2)).toMatch(
      /^cleanroom: error: bad-manifest\.json: not a generation-manifest\/v1: \/\w+ is required/,
    );
    nothingStarted();
  });

  it("results before any run, a bad shard, a bad timeout", () => {
    expect(oneLine(p.run("test", "results"))).toMatch(
      /no test runs recorded.*\(run 'cleanroom test run' first\)/,
    );
    p.write("t/a.test.mjs", "");
    const shard = p.run("test", "run", "--files", "t/*.mjs", "--shard", "0/2");
    expect(shard.status).toBe(2);
    expect(oneLine(shard)).toBe('cleanroom: error: --shard "0/2": expected k/n with 1 ≤ k ≤ n');
    const t = p.run("test", "run", "--files", "t/*.mjs", "--timeout", "-1");
    expect(t.status).toBe(2);
    expect(oneLine(t)).toMatch(/--timeout "-1": expected a duration such as 50s, 2m or 1500ms/);
    nothingStarted();
  });

  it("a subcommand missing or unknown", () => {
    const r = p.run("test");
    expect(r.status).toBe(2);
    expect(oneLine(r)).toMatch(/give a test command: run or results/);
    const r2 = p.run("environment", "craete");
    expect(r2.status).toBe(2);
    expect(oneLine(r2)).toMatch(/unknown command 'craete'/);
  });
});
