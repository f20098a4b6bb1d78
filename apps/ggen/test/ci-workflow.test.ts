// io.ggen.ci-workflow's `cleanroom` workflow (issue 19), through the built programs: generated into a
// project io.ggen.node-cli made, valid against SchemaStore's GitHub Actions workflow schema (the fixture in
// fixtures/github-actions), and its jobs run here the way Actions runs them — each job on a fresh copy of
// the project, the shards as separate processes at once, artifacts handed from job to job, `if:` obeyed —
// ending in report merge, report --verify and the JUnit the publish step reads. The commands are run, not
// the Actions runner: each `uses:` step the workflow has is played by the few lines that do its part here.
import { execFile, spawnSync } from "node:child_process";
import { chmodSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv } from "ajv";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { repoRoot, type Sandbox, sandbox } from "./market-helpers.js";

const cleanroomBin = join(repoRoot, "apps", "cleanroom", "dist", "bin.js");
const schemaFile = join(repoRoot, "fixtures", "github-actions", "workflow.schema.json");

interface Step {
  name?: string;
  if?: string;
  uses?: string;
  run?: string;
  with?: Record<string, string | boolean>;
}
interface Job {
  needs?: string | string[];
  if?: string;
  strategy?: { "fail-fast"?: boolean; matrix: { shard: number[] } };
  steps: Step[];
}
interface Workflow {
  jobs: { test: Job; merge: Job };
}
interface StepResult {
  step: string;
  status: number | null;
  stdout: string;
  stderr: string;
}
interface JobResult {
  ok: boolean;
  dir: string;
  steps: StepResult[];
}

// biome-ignore lint/suspicious/noTemplateCurlyInString: a GitHub Actions expression, not a JS template
const ALWAYS_BUT_CANCELLED = "${{ !cancelled() }}";

let b: Sandbox;
let shim: string;
beforeAll(() => {
  expect(existsSync(cleanroomBin), `${cleanroomBin}: build apps/cleanroom first`).toBe(true);
  b = sandbox();
  for (const id of ["io.ggen.node-cli", "io.ggen.ci-workflow"]) {
    const add = b.run("market", "add", id);
    expect(add.status, add.stderr).toBe(0);
  }
  // `cleanroom` on PATH, as `npm install --global @ggen/cleanroom` puts it there on a runner.
  shim = join(b.dir, "bin");
  mkdirSync(shim);
  writeFileSync(
    join(shim, "cleanroom"),
    `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(cleanroomBin)} "$@"\n`,
  );
  chmodSync(join(shim, "cleanroom"), 0o755);
});
afterAll(() => b?.cleanup());

function generate(template: string, out: string, ...vars: string[]): void {
  const args = ["template", "generate", template, "-o", out, ...vars.flatMap((v) => ["--vars", v])];
  const r = b.run(...args);
  expect(r.stderr, `ggen ${args.join(" ")}`).toBe("");
  expect(r.status).toBe(0);
}

/** A project as it would be committed: the node-cli app, its lockfile, the workflow, `extra` test files. */
function project(name: string, extra: Record<string, string>): string {
  const dir = join(b.dir, name);
  generate("io.ggen.node-cli", dir, "name=greeter");
  generate("io.ggen.ci-workflow:cleanroom", dir, "shards=3", "backend=local");
  for (const [file, text] of Object.entries(extra)) writeFileSync(join(dir, file), text);
  const lock = spawnSync("npm", ["install", "--package-lock-only", "--offline", "--no-audit", "--no-fund"], {
    cwd: dir,
    encoding: "utf8",
  });
  expect(lock.status, lock.stderr).toBe(0);
  return dir;
}

const workflowOf = (dir: string) =>
  parse(readFileSync(join(dir, ".github/workflows/cleanroom.yml"), "utf8")) as Workflow;

/** `${{ matrix.shard }}` is the only expression a step's text may hold; anything else would not run here. */
function expand(text: string, matrix: Record<string, number>): string {
  return text.replace(/\$\{\{\s*([^}]*?)\s*\}\}/g, (_, expr: string) => {
    const m = /^matrix\.(\w+)$/.exec(expr);
    if (!m || matrix[m[1]!] === undefined)
      throw new Error(`unexpected expression \${{ ${expr} }} in ${text}`);
    return String(matrix[m[1]!]);
  });
}

/** Actions' step condition: none = only while nothing failed; `!cancelled()` = always (nothing is cancelled here). */
function runs(condition: string | undefined, failed: boolean): boolean {
  if (condition === undefined) return !failed;
  if (condition === ALWAYS_BUT_CANCELLED) return true;
  throw new Error(`unexpected condition ${condition}`);
}

function sh(command: string, cwd: string): Promise<StepResult> {
  // Actions' `run:` on Linux: bash -e {0}; GITHUB_ACTIONS=true as on a runner.
  const env = {
    ...process.env,
    PATH: `${shim}:${process.env.PATH}`,
    CI: "true",
    GITHUB_ACTIONS: "true",
    CLEANROOM_ENV: "",
    NO_COLOR: "1",
    npm_config_audit: "false",
    npm_config_fund: "false",
    npm_config_update_notifier: "false",
  };
  return new Promise((resolve) =>
    execFile("bash", ["-e", "-c", command], { cwd, env, maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      const status = error ? (typeof error.code === "number" ? error.code : 1) : 0;
      resolve({ step: command, status, stdout, stderr });
    }),
  );
}

const lines = (v: unknown) =>
  String(v ?? "")
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);

/** One job on a fresh runner: the checkout is a copy of `source`; artifacts live under `artifacts`. */
async function runJob(
  name: string,
  job: Job,
  source: string,
  artifacts: string,
  matrix: Record<string, number>,
): Promise<JobResult> {
  const dir = join(source, "..", `${source.split("/").pop()}-runner-${name}`);
  const results: StepResult[] = [];
  let failed = false;
  for (const step of job.steps) {
    if (!runs(step.if, failed)) continue;
    const uses = step.uses?.replace(/@.*/, "");
    let r: StepResult = { step: step.uses ?? step.run ?? "", status: 0, stdout: "", stderr: "" };
    if (uses === "actions/checkout") cpSync(source, dir, { recursive: true });
    else if (uses === "actions/setup-node") expect(String(step.with?.["node-version"])).toMatch(/^\d+$/);
    else if (step.run?.startsWith("npm install --global @ggen/cleanroom@")) {
      // The package is installed by the shim above: what this workspace builds stands in for the release.
    } else if (uses === "actions/upload-artifact") {
      const into = join(artifacts, expand(String(step.with!.name), matrix));
      mkdirSync(into, { recursive: true });
      for (const file of lines(step.with!.path).map((p) => expand(p, matrix))) {
        if (existsSync(join(dir, file))) cpSync(join(dir, file), join(into, file));
        else if (step.with!["if-no-files-found"] === "error")
          r = { ...r, status: 1, stderr: `${file} missing` };
      }
    } else if (uses === "actions/download-artifact") {
      const glob = new RegExp(`^${String(step.with!.pattern).replace(/\*/g, ".*")}$`);
      expect(step.with!["merge-multiple"]).toBe(true);
      for (const artifact of readdirSync(artifacts).filter((a) => glob.test(a)))
        cpSync(join(artifacts, artifact), dir, { recursive: true });
    } else if (uses === "mikepenz/action-junit-report") {
      const junit = join(dir, String(step.with!.report_paths));
      r = {
        ...r,
        status: existsSync(junit) ? 0 : 1,
        stdout: existsSync(junit) ? readFileSync(junit, "utf8") : "",
      };
    } else if (step.run !== undefined) r = await sh(expand(step.run, matrix), dir);
    else throw new Error(`a step this test cannot play: ${JSON.stringify(step)}`);
    results.push(r);
    if (r.status !== 0) failed = true;
  }
  return { ok: !failed, dir, steps: results };
}

/** The whole workflow: every shard of the matrix at once, then the merge job (its `needs` and `if`). */
async function runWorkflow(source: string) {
  const wf = workflowOf(source);
  const artifacts = join(source, "..", `${source.split("/").pop()}-artifacts`);
  mkdirSync(artifacts);
  const shards = wf.jobs.test.strategy!.matrix.shard;
  const test = await Promise.all(
    shards.map((shard) => runJob(`test-${shard}`, wf.jobs.test, source, artifacts, { shard })),
  );
  expect(wf.jobs.merge.needs).toBe("test");
  const merge = runs(
    wf.jobs.merge.if,
    test.some((j) => !j.ok),
  )
    ? await runJob("merge", wf.jobs.merge, source, artifacts, {})
    : undefined;
  return { test, merge, artifacts };
}

const step = (job: JobResult, command: RegExp) => {
  const found = job.steps.find((s) => command.test(s.step));
  if (!found) throw new Error(`no step ${command} ran; ran: ${job.steps.map((s) => s.step).join(" | ")}`);
  return found;
};

const testFile = (i: number, fails = false) =>
  `import { test } from "node:test";\ntest("extra ${i}", () => {${fails ? ` throw new Error("extra ${i} is broken");` : ""} });\n`;

describe("io.ggen.ci-workflow:cleanroom", { timeout: 300_000 }, () => {
  it("generates a workflow the GitHub Actions workflow schema accepts (and that schema refuses a broken one)", () => {
    const dir = join(b.dir, "schema");
    generate("io.ggen.ci-workflow", dir, "shards=4");
    const ajv = new Ajv({ strict: false, allErrors: true });
    const valid = ajv.compile(JSON.parse(readFileSync(schemaFile, "utf8")));
    for (const file of ["cleanroom.yml", "ci.yml", "rust.yml"]) {
      const doc = parse(readFileSync(join(dir, ".github/workflows", file), "utf8"));
      expect(valid(doc), `${file}: ${ajv.errorsText(valid.errors)}`).toBe(true);
    }
    const wf = workflowOf(dir);
    expect(wf.jobs.test.strategy?.matrix.shard).toEqual([1, 2, 3, 4]);
    expect(wf.jobs.test.strategy?.["fail-fast"]).toBe(false);
    const runSteps = wf.jobs.test.steps.map((s) => s.run).filter(Boolean);
    expect(runSteps).toContain(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a GitHub Actions expression, not a JS template
      "cleanroom test run --backend auto --shard ${{ matrix.shard }}/4 --report shard-${{ matrix.shard }}.json",
    );
    expect(wf.jobs.merge.steps.map((s) => s.run).filter(Boolean)).toEqual(
      expect.arrayContaining([
        "cleanroom report merge shard-*.json -o run.json --junit junit.xml --html report.html --attest run.intoto.json",
        "cleanroom report --verify run.intoto.json",
      ]),
    );
    // The schema is not a rubber stamp: a step with both `run` and `uses`, or a matrix that is no list, fails.
    const broken = structuredClone(wf) as unknown as { jobs: Record<string, Job> };
    broken.jobs.test!.steps[0] = { uses: "actions/checkout@v4", run: "true" };
    expect(valid(broken)).toBe(false);
    const noMatrix = structuredClone(wf) as unknown as { jobs: { test: { strategy: { matrix: unknown } } } };
    noMatrix.jobs.test.strategy.matrix = "1,2,3,4";
    expect(valid(noMatrix)).toBe(false);
  });

  it("its steps, run here: 3 shards as separate processes at once, merged, verified; JUnit published", async () => {
    const source = project(
      "green",
      Object.fromEntries([1, 2, 3, 4].map((i) => [`test/extra-${i}.test.mjs`, testFile(i)])),
    );
    const { test, merge } = await runWorkflow(source);
    for (const [k, job] of test.entries()) {
      expect(job.ok, JSON.stringify(job.steps.filter((s) => s.status !== 0))).toBe(true);
      expect(step(job, /^npm ci$/).status).toBe(0);
      expect(step(job, /cleanroom test run/).stderr).toMatch(
        new RegExp(`shard ${k + 1}/3: \\d of 5 files \\(balanced by file count\\)`),
      );
    }
    // Every file ran once, on one shard.
    const files = test.flatMap((j) => {
      const run = JSON.parse(readFileSync(join(j.dir, `shard-${test.indexOf(j) + 1}.json`), "utf8"));
      return [...new Set((run.tests as { file: string }[]).map((t) => t.file))];
    });
    expect(files.sort()).toEqual([
      "test/cli.test.mjs",
      "test/extra-1.test.mjs",
      "test/extra-2.test.mjs",
      "test/extra-3.test.mjs",
      "test/extra-4.test.mjs",
    ]);
    expect(merge?.ok, JSON.stringify(merge?.steps.filter((s) => s.status !== 0))).toBe(true);
    expect(step(merge!, /report merge/).stdout).toContain("Merged 3 shards (attestations verified)");
    expect(step(merge!, /report --verify/).stdout).toMatch(/^VERIFIED {2}\d+\/\d+ files match/);
    const run = JSON.parse(readFileSync(join(merge!.dir, "run.json"), "utf8"));
    expect(run.summary).toMatchObject({ failed: 0, passed: run.summary.total });
    expect(run.tests.length).toBe(run.summary.total);
    expect(step(merge!, /mikepenz\/action-junit-report/).stdout).toMatch(
      new RegExp(`<testsuites name="run-[^"]+" tests="${run.summary.total}" failures="0"`),
    );
  });

  it("a failing test: its shard fails and annotates it, the merge still runs, fails, verifies and publishes", async () => {
    const source = project("red", {
      "test/extra-1.test.mjs": testFile(1),
      "test/extra-2.test.mjs": testFile(2, true),
    });
    const { test, merge } = await runWorkflow(source);
    const red = test.filter((j) => !j.ok);
    expect(red).toHaveLength(1);
    const shardRun = step(red[0]!, /cleanroom test run/);
    expect(shardRun.status).toBe(1);
    expect(shardRun.stdout).toMatch(/^::error file=test\/extra-2\.test\.mjs,.*::.*extra 2 is broken/m);
    // `if: !cancelled()`: the attestation and the upload still happen after the failed run.
    expect(step(red[0]!, /report --attestation/).status).toBe(0);
    expect(step(red[0]!, /actions\/upload-artifact/).status).toBe(0);
    expect(merge).toBeDefined();
    expect(merge!.ok).toBe(false);
    expect(step(merge!, /report merge/).status).toBe(1);
    expect(step(merge!, /report --verify/).status).toBe(0);
    expect(step(merge!, /mikepenz\/action-junit-report/).stdout).toMatch(/tests="\d+" failures="1"/);
  });
});
