// The ultra-fast path, composed from the packages: marketplace → generator ∥ (environment + services
// + dependency cache) → cleanroom tests → validation (build, lint, tests gate, security in parallel)
// → deploy + verify (automatic rollback) → pipeline-report/v1 with an in-toto attestation, and a
// deployment-metrics/v1 record. Orchestration only: every step is a package's function.

import { createHash, randomUUID } from "node:crypto";
import { mkdir, readdir, readFile, rename, rmdir, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { dirname, join, relative, resolve } from "node:path";
import {
  assertValid,
  type CleanroomRun,
  type Finding,
  GgenError,
  type PipelineReport,
  type Reference,
  type StageStatus,
} from "@ggen/contract";
import type { StageView } from "@ggen/reporter";
import { cacheDir } from "../context.js";
import { type PreparedDependencies, prepareDependencies } from "./deps.js";

export const STAGES = [
  "marketplace",
  "generation",
  "setup",
  "testing",
  "validation",
  "deployment",
  "reporting",
];

export interface UltraFastOptions {
  template: string;
  name: string;
  version?: string;
  vars: Record<string, string>;
  env: string;
  backend: "auto" | "local" | "testcontainers";
  timeoutMs: number;
  report?: string;
  profile?: string;
  output?: string;
  first: boolean;
  keepRunning: boolean;
  isolated: boolean;
  registries?: string[];
  offline?: boolean;
  cwd: string;
  ggenVersion: string;
  view: StageView;
  onNote: (text: string) => void;
  signal?: AbortSignal;
}

export interface UltraFastResult {
  report: PipelineReport;
  reportPath: string;
  /** 0 ready and verified; 1 any failure (also a failed verify that was rolled back: see `rolledBack`). */
  exitCode: 0 | 1;
  /** The one line to print for a failure (the report holds the detail). */
  error?: string;
  /** The new release failed verify and the previous one was restored. */
  rolledBack?: boolean;
  url?: string;
  /** The deployed service's pid, with --keep-running. */
  pid?: number;
  stopHint?: string;
  /** The cleanroom environment left running with --keep-running (its services serve the deployment). */
  environment?: string;
  /** Where the releases are. */
  releasesDir?: string;
}

const sha256 = (data: string | Buffer) => createHash("sha256").update(data).digest("hex");

async function writeAtomic(file: string, text: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, text);
  await rename(tmp, file);
}

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once("error", rej);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => res(port));
    });
  });
}

/** A lifecycle phase that passed (ran now, or its inputs were unchanged). */
const succeeded = (p: { status: string }) => p.status === "success" || p.status === "cached";

/** `pack`, `pack:template`, or (with --first) a search query. */
function splitTemplate(spec: string): { pack: string; template?: string } {
  const i = spec.indexOf(":");
  return i > 0 ? { pack: spec.slice(0, i), template: spec.slice(i + 1) } : { pack: spec };
}

/** Ends what is still running with `status`, and marks what never started skipped — all but the
 * reporting stage, which runs whatever happened. */
function settle(view: StageView, status: StageStatus, message?: string): void {
  for (const s of view.records()) {
    if (s.status === "running") view.end(s.name, status, message);
    else if (s.status === "pending" && s.name !== "reporting") view.end(s.name, "skipped");
  }
}

export async function ultraFastDeploy(o: UltraFastOptions): Promise<UltraFastResult> {
  const view = o.view;
  const startedAt = new Date();
  const sessionId = randomUUID();
  const outDir = resolve(o.cwd, o.output ?? join("target", "generated", o.name));
  const reportPath = resolve(o.cwd, o.report ?? join("target", "ultra-fast", o.name, "report.json"));
  const stateDir = join(o.cwd, ".cleanroom");
  const abort = new AbortController();
  const signal = abort.signal;
  o.signal?.addEventListener("abort", () => abort.abort(o.signal?.reason), { once: true });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    abort.abort(new GgenError("TIMEOUT", "timed out"));
  }, o.timeoutMs);
  timer.unref();
  const guard = <T>(p: Promise<T>): Promise<T> =>
    new Promise<T>((res, rej) => {
      if (signal.aborted) return rej(signal.reason);
      const onAbort = () => rej(signal.reason);
      signal.addEventListener("abort", onAbort, { once: true });
      p.then(
        (v) => {
          signal.removeEventListener("abort", onAbort);
          res(v);
        },
        (e) => {
          signal.removeEventListener("abort", onAbort);
          rej(e);
        },
      );
    });

  const [market, generator, backends, cr, lifecycle, reporter] = await Promise.all([
    import("@ggen/marketplace"),
    import("@ggen/generator"),
    import("@ggen/cleanroom-backends"),
    import("@ggen/testing"),
    import("@ggen/lifecycle"),
    import("@ggen/reporter"),
  ]);
  const marketOpts = {
    projectDir: o.cwd,
    ggenVersion: o.ggenVersion,
    onWarning: o.onNote,
    ...(o.registries?.length ? { registries: o.registries } : {}),
    ...(o.offline ? { offline: true } : {}),
  };

  const inflight: Promise<unknown>[] = [];
  const track = <T>(p: Promise<T>): Promise<T> => {
    inflight.push(p.catch(() => undefined));
    return p;
  };
  let backend: Awaited<ReturnType<typeof backends.createBackend>> | undefined;
  let envName: string | undefined;
  let run: CleanroomRun | undefined;
  let runRef: Reference | undefined;
  let manifestRef: Reference | undefined;
  let filesGenerated = 0;
  let packRef: { id: string; version: string; sha256: string } | undefined;
  let validation: PipelineReport["validation"] = {
    packageValid: false,
    testsPassed: false,
    securityPassed: false,
    publishReady: false,
  };
  let deployment: PipelineReport["deployment"] | undefined;
  let deploymentStatus: PipelineReport["deploymentStatus"] = "NOT_READY";
  let exitCode: 0 | 1 = 1;
  let rolledBack = false;
  let failure: unknown;
  let url: string | undefined;
  let config: Awaited<ReturnType<typeof lifecycle.loadConfig>> | undefined;
  let deployed = false;
  let gen: Awaited<ReturnType<typeof generator.generate>> | undefined;
  let releasesDir: string | undefined;
  let metricsRef: Reference | undefined;
  let servicePid: number | undefined;

  let createdOutDir = false;
  try {
    // The cleanroom environment needs nothing from the pack: it is created while the marketplace
    // stage runs (on testcontainers that is a container start); its services follow in setup.
    createdOutDir = (await mkdir(outDir, { recursive: true })) !== undefined;
    const environment = track(
      (async () => {
        const b = await backends.createBackend(o.backend, { stateDir });
        backend = b;
        const name = `ufd-${o.name}-${sessionId.slice(0, 6)}`;
        envName = name;
        await b.createEnvironment({
          name,
          // Deleted when the run ends; if the run is killed, prune finds it by its dead owner. With
          // --keep-running it outlives the run (the deployed service uses its database): no owner then.
          throwaway: !o.keepRunning,
          ...(o.isolated ? { isolated: true } : {}),
          caches: ["npm"],
          mounts: [{ host: outDir, target: cr.WORKSPACE, writable: true }],
        });
        return { b, name };
      })(),
    );

    // 1. marketplace: resolve (a query with --first picks the best match) and install.
    const { pack: packSpec, template } = splitTemplate(o.template);
    const packId = await view.run(
      "marketplace",
      () =>
        guard(
          (async () => {
            const catalog = await market.loadCatalog(marketOpts);
            let id = packSpec;
            if (!catalog.packs.has(id)) {
              const hits = market.search(catalog.list, packSpec, { limit: 5 });
              if (o.first && hits[0]) id = hits[0].pack.id;
              else {
                const hint = hits[0]
                  ? `did you mean '${hits[0].pack.id}'? (or pass --first)`
                  : "try 'ggen market search'";
                throw new GgenError("UNKNOWN_PACK", `no pack '${packSpec}' in the registry`, {
                  kind: "usage",
                  hint,
                });
              }
            }
            await market.addPacks([id], { ...marketOpts, catalog });
            const installed = await market.installedPack(o.cwd, id);
            if (installed) packRef = { id, version: installed.version, sha256: installed.sha256 };
            return id;
          })(),
        ),
      (id) => `${id}${packRef ? `@${packRef.version}` : ""}`,
    );

    // 2 ∥ 3. generation, while the environment, its services and the dependency cache get ready.
    const packDir = join(o.cwd, ".ggen", "packages", packId);
    // What the generated project will need (PostgreSQL, Redis) is read off the pack's templates, so
    // the services start while generation runs.
    const packFiles = (await readdir(packDir, { recursive: true, withFileTypes: true }))
      .filter((d) => d.isFile())
      .map((d) => relative(packDir, join(d.parentPath, d.name)));
    const needs = cr.detectNeeds(packDir, packFiles);
    const generation = view.run(
      "generation",
      () =>
        guard(
          track(
            generator.generate({
              templates: [template ? `${packId}:${template}` : packId],
              cwd: o.cwd,
              outputDir: outDir,
              vars: { name: o.name, ...(o.version ? { version: o.version } : {}), ...o.vars },
              force: true,
              // Compiled templates are kept between runs, as `ggen gen` keeps them.
              cacheDir: cacheDir("templates"),
              onWarn: o.onNote,
            }),
          ),
        ),
      (g) => `${g.files.length} files`,
    );
    // Setup: the environment and its services start at once; the project's dependencies (a copy of
    // the tree prepared for its dependency set, installed first when there is none, which also warms
    // npm's cache) land as soon as the generated package.json exists. The stage ends when both are done.
    let deps: PreparedDependencies = { source: "none" };
    const dependencies = generation.then(
      async () => {
        deps = await prepareDependencies(outDir, { signal });
      },
      // A failed generation is the generation stage's failure, not this one's.
      () => undefined,
    );
    const setup = view.run(
      "setup",
      () =>
        guard(
          track(
            Promise.all([
              environment.then(({ b, name }) =>
                Promise.all(needs.map((n) => b.startService(name, { kind: n.service }))),
              ),
              dependencies,
            ]).then(([services]) => services),
          ),
        ),
      (services) =>
        `${backend?.name} backend; ${services.map((s) => `${s.kind} ready in ${Math.round(s.readyMs)} ms`).join(", ") || "no services"}${deps.source === "cache" ? "; dependencies from the prepared tree" : deps.source === "install" ? "; dependencies installed (and kept)" : ""}`,
    );
    // Awaited by the tests (below); a failure before then is theirs to report, never unhandled.
    setup.catch(() => undefined);
    // Validation needs the generated files and their dependencies, not the services: it goes as soon as
    // those are there, while the services may still be coming up (a container start, say).
    const [generated] = await Promise.all([generation, guard(dependencies)]);
    gen = generated;
    filesGenerated = gen.files.length;
    if (gen.manifestPath)
      manifestRef = {
        path: relative(o.cwd, gen.manifestPath),
        sha256: sha256(await readFile(gen.manifestPath)),
      };

    config = await lifecycle.loadConfig(outDir);
    const loaded = config;
    // The profile comes from the generated make.toml: checked here, before anything runs under it.
    const profile = o.profile ? loaded.profiles.get(o.profile) : undefined;
    if (o.profile && !profile) {
      const names = [...loaded.profiles.keys()];
      throw new GgenError("UNKNOWN_PROFILE", `the generated make.toml has no profile '${o.profile}'`, {
        kind: "usage",
        location: { file: loaded.file },
        hint: names.length ? `profiles: ${names.join(", ")}` : "the pack declares no [profiles.<name>]",
      });
    }

    // 4. the generated tests, in the cleanroom environment, against the real services.
    const files = await cr.selectFiles(outDir, {});
    const sourceRefs = generated.manifest.files
      .filter((f) => f.action !== "skipped")
      .map((f) => ({ path: f.path, sha256: f.sha256 }));
    // The tests start once the services answer.
    const testing = setup.then((services) =>
      view.run(
        "testing",
        async () => {
          const session = await cr.runSession({
            root: outDir,
            stateDir,
            kind: "ultra-fast-test",
            ...(backend ? { backend } : {}),
            ...(envName ? { envName } : {}),
            sourceRefs,
            ...(manifestRef ? { manifest: manifestRef } : {}),
            tool: { name: "ggen", version: o.ggenVersion },
            signal,
            onNote: o.onNote,
            work: (ctx) => cr.testProject(outDir, ctx, { files, parallel: true }),
          });
          const text = `${JSON.stringify(session.run, null, 2)}\n`;
          const file = join(outDir, ".ggen", "cleanroom-run.json");
          await writeAtomic(file, text);
          runRef = { path: relative(o.cwd, file), sha256: sha256(text) };
          if (!cr.runPassed(session.run)) {
            const s = session.run.summary;
            throw new GgenError(
              "TESTS_FAILED",
              `${s.failed + s.errored + s.timedOut} of ${s.total} generated tests failed`,
            );
          }
          return session.run;
        },
        (r) =>
          `${r.summary.passed}/${r.summary.total} passed${services.length ? ` against ${services.map((s) => s.kind).join(", ")}` : ""}`,
      ),
    );
    track(testing);

    // 5. validation starts before the tests, not after them: build, bundle, lint (with the type check)
    // and the security check need only the generated files and their dependencies; the tests gate
    // reads the test run's report, so it alone waits for the tests. Independent checks run in parallel.
    const validating = view.run(
      "validation",
      () =>
        guard(
          track(
            Promise.all([
              // Under a profile its jobs and skips apply (fast skips the type check, say).
              lifecycle.runPhases(loaded, ["bundle", "lint"], {
                env: o.env,
                signal,
                yes: true,
                ...(o.profile ? { profile: o.profile } : {}),
              }),
              lifecycle.validate(loaded, { checks: ["security"], env: o.env }),
              // A failed test run ends the pipeline (below), which aborts the signal: this branch then
              // rejects too, so the stage settles (as skipped) and the cleanup never waits on it.
              testing.then(
                () => lifecycle.validate(loaded, { checks: ["tests"], env: o.env }),
                () =>
                  new Promise<never>((_, rej) => {
                    if (signal.aborted) rej(signal.reason);
                    else signal.addEventListener("abort", () => rej(signal.reason), { once: true });
                  }),
              ),
            ]).then(([p, security, tests]) => {
              const all = [...security.findings, ...tests.findings];
              const errors = all.filter((f) => f.severity === "error").length;
              const warnings = all.filter((f) => f.severity === "warning").length;
              return [
                p,
                {
                  ...tests,
                  checks: ["tests", "security"],
                  findings: all,
                  errors,
                  warnings,
                  passed: errors === 0,
                },
              ] as const;
            }),
          ),
        ),
      ([p, c]) => {
        const ran = p.phases.filter((ph) => !p.plan.skipped.includes(ph.phase));
        const ok = ran.filter(succeeded).map((ph) => ph.phase);
        const bad = ran.filter((ph) => !succeeded(ph)).map((ph) => ph.phase);
        const parts = [ok.length ? `${ok.join(", ")} ok` : "", bad.length ? `${bad.join(", ")} failed` : ""];
        if (p.plan.skipped.length) parts.push(`${p.plan.skipped.join(", ")} skipped (profile ${o.profile})`);
        return `${parts.filter(Boolean).join("; ")}; ${c.errors} errors, ${c.warnings} warnings`;
      },
    );
    // Settled here too, so a rejection while the tests still run is never unhandled.
    validating.catch(() => undefined);
    run = await testing;
    const [phases, checks] = await validating;
    const findings: Finding[] = checks.findings.slice(0, 50);
    const phaseOk = (n: string) => phases.phases.some((p) => p.phase === n && succeeded(p));
    // A phase the profile left out passed nothing and failed nothing: the report leaves it out too.
    const ran = (n: string) => !phases.plan.skipped.includes(n);
    validation = {
      packageValid: phaseOk("bundle"),
      ...(ran("build") ? { buildPassed: phaseOk("build") } : {}),
      ...(ran("lint") ? { lintPassed: phaseOk("lint") } : {}),
      testsPassed: !checks.findings.some((f) => f.check === "tests" && f.severity === "error"),
      securityPassed: !checks.findings.some((f) => f.check === "security" && f.severity === "error"),
      publishReady: phases.ok && checks.passed,
      findings,
    };
    if (!phases.ok || !checks.passed) {
      view.end("validation", "failed", phases.failure?.message ?? "validation found errors");
      throw new GgenError(
        "VALIDATION_FAILED",
        phases.failure?.message ?? `validation found ${checks.errors} error(s)`,
      );
    }

    // 6. deploy + verify, with automatic rollback; the service gets a free port and the database.
    const services = await setup;
    const port = await freePort();
    const env = loaded.environments.get(o.env);
    if (!env?.deploy) {
      throw new GgenError("NO_DEPLOY", `the generated make.toml has no [environments.${o.env}.deploy]`, {
        kind: "usage",
      });
    }
    env.deploy.port = port;
    releasesDir = join(outDir, env.deploy.dir);
    if (env.verify) env.verify.url = env.verify.url.replace(/:\d+\//, `:${port}/`);
    const serviceEnv: Record<string, string> = { HOST: "127.0.0.1" };
    for (const s of services) Object.assign(serviceEnv, s.env);
    const testRun = run;
    const result = await view.run(
      "deployment",
      async () => {
        const r = await lifecycle.deploy(loaded, o.env, {
          env: serviceEnv,
          // A failed verify rolls back, as the ultra-fast path promises — unless the profile itself
          // says rollback = false.
          rollback: profile?.rollback ?? true,
          ...(profile?.verifyRetries !== undefined ? { verifyRetries: profile.verifyRetries } : {}),
          version: o.version ?? "0.1.0",
          phases: Object.fromEntries(
            view
              .records()
              .filter((s) => s.durationMs !== undefined)
              .map((s) => [s.name, Math.round(s.durationMs ?? 0) / 1000]),
          ),
          testMetrics: {
            totalTests: testRun.summary.total,
            passed: testRun.summary.passed,
            failed: testRun.summary.failed,
            skipped: testRun.summary.skipped,
            durationSeconds: Math.round(testRun.timings.testMs) / 1000,
          },
        });
        deployed = true;
        if (r.rolledBackTo) deployment = { provider: r.provider, rolledBackTo: r.rolledBackTo };
        if (r.status !== "success") {
          view.end(
            "deployment",
            r.status === "rolled-back" ? "rolled-back" : "failed",
            r.message ?? r.status,
          );
          throw new GgenError("DEPLOY_FAILED", r.message ?? `deploy ${r.status}`);
        }
        // The deploy itself cannot be cut off half-way; over --timeout it is undone afterwards.
        if (signal.aborted) throw signal.reason;
        return r;
      },
      (r) => `release ${r.releaseId} answers ${env.verify?.url ?? ""}`,
    );
    url = env.verify?.url;
    deployment = {
      provider: result.provider,
      ...(result.releaseId ? { releaseId: result.releaseId } : {}),
      ...(url ? { url } : {}),
    };
    deploymentStatus = "READY";
    exitCode = 0;
    if (o.keepRunning) {
      const pid = Number.parseInt(
        await readFile(join(releasesDir, "service.pid"), "utf8").catch(() => ""),
        10,
      );
      if (pid > 0) servicePid = pid;
    }
  } catch (e) {
    failure = e;
    // What still runs (validation alongside a failed test run, say) is cancelled, then awaited below.
    if (!signal.aborted) abort.abort(new GgenError("CANCELLED", "cancelled: an earlier stage failed"));
    if (timedOut) {
      const running = [
        ...view.running(),
        ...view
          .records()
          .filter((st) => st.status === "timed-out")
          .map((st) => st.name),
      ];
      settle(view, "timed-out", `over --timeout ${o.timeoutMs / 1000}s`);
      failure = new GgenError(
        "TIMEOUT",
        `timed out after ${o.timeoutMs / 1000}s in ${running.join(", ") || "a stage"}`,
      );
    } else {
      // Ctrl-C: whatever a stage made of being cut off (tests killed, say), the cause is the interrupt.
      if (o.signal?.aborted) failure = new GgenError("INTERRUPTED", "interrupted");
      settle(view, "skipped");
    }
    const rolled = view.records().some((s) => s.status === "rolled-back");
    deploymentStatus = rolled ? "ROLLED_BACK" : deployed ? "FAILED" : "NOT_READY";
    rolledBack = rolled;
    exitCode = 1;
  } finally {
    clearTimeout(timer);
    // Work cut off by a timeout may still be finishing (a service coming up): let it land first, so
    // what it started is in the environment when the environment goes.
    await Promise.allSettled(inflight);
    // Test services and the environment go; the deployed service stays only with --keep-running.
    // Independent, so at once.
    const b = backend as (typeof backend & { close?: () => Promise<void> }) | undefined;
    // With --keep-running a ready service stays, and so does its database: the environment (see stopHint).
    const keep = o.keepRunning && exitCode === 0;
    const teardown = async () => {
      if (b && envName && !keep) await b.deleteEnvironment(envName, { force: true }).catch(() => {});
      if (typeof b?.close === "function") await b.close().catch(() => {});
    };
    await Promise.all([
      teardown(),
      config && deployed && !keep ? lifecycle.stopService(config, o.env).catch(() => false) : undefined,
    ]);
    // Nothing generated (a bad pack name, say): the output dir this run created goes too, if empty.
    if (createdOutDir && !gen) await rmdir(outDir).catch(() => {});
  }

  // 7. the report: stages, metrics, validation, attestation (digest of the in-toto statement), references.
  view.begin("reporting");
  if (deployed) {
    const metricsFile = join(outDir, lifecycle.METRICS_FILE);
    const text = await readFile(metricsFile).catch(() => undefined);
    if (text) metricsRef = { path: relative(o.cwd, metricsFile), sha256: sha256(text) };
  }
  // SLSA provenance of the generated files, then the test-result statement over the run, which names
  // the provenance (and the manifest) among its configuration: one digest covers both.
  const reportDir = dirname(reportPath);
  const configuration: Reference[] = [];
  if (gen) {
    const provenance = reporter.provenanceStatement(gen.manifest, {
      ...(manifestRef ? { manifestRef } : {}),
      ...(backend ? { backend: backend.name } : {}),
      startedOn: startedAt.toISOString(),
      invocationId: sessionId,
    });
    const text = `${JSON.stringify(provenance, null, 2)}\n`;
    const file = join(reportDir, "provenance.intoto.json");
    await writeAtomic(file, text);
    configuration.push({ path: relative(o.cwd, file), sha256: sha256(text) });
  }
  const statement = run
    ? reporter.testResultStatement(run, { ...(runRef ? { runRef } : {}), configuration })
    : { _type: "https://in-toto.io/Statement/v1", subject: [], predicateType: "none", predicate: {} };
  const statementText = `${JSON.stringify(statement, null, 2)}\n`;
  const statementPath = join(reportDir, "attestation.intoto.json");
  await writeAtomic(statementPath, statementText);
  const stages: PipelineReport["stages"] = {};
  for (const s of view.records()) {
    if (s.name === "reporting") continue;
    const status: StageStatus = s.status === "pending" || s.status === "running" ? "skipped" : s.status;
    stages[s.name] = {
      durationMs: Math.round(s.durationMs ?? 0),
      status,
      ...(s.startedAtMs !== undefined && status !== "skipped"
        ? { startedAtMs: Math.round(s.startedAtMs) }
        : {}),
      ...(s.message ? { message: s.message.split("\n")[0]! } : {}),
    };
  }
  const reportingStart = view.elapsedMs();
  const report: PipelineReport = {
    kind: "pipeline-report/v1",
    sessionId,
    name: o.name,
    ...(o.version ? { version: o.version } : {}),
    environment: o.env,
    ...(backend ? { backend: backend.name } : {}),
    startedAt: startedAt.toISOString(),
    totalDurationMs: 0,
    stages,
    metrics: {
      testsExecuted: run?.summary.total ?? 0,
      testsPassed: run?.summary.passed ?? 0,
      testsFailed: (run?.summary.failed ?? 0) + (run?.summary.errored ?? 0) + (run?.summary.timedOut ?? 0),
      ...(run?.summary.coveragePercent !== undefined
        ? { coveragePercentage: run.summary.coveragePercent }
        : {}),
      lintWarnings: validation.findings?.filter((f) => f.severity === "warning").length ?? 0,
      filesGenerated,
    },
    validation,
    attestation: {
      hermeticExecution: run ? run.environment.isolation.filesystem : false,
      deterministic: true,
      reproducible: run !== undefined,
      digest: `sha256:${sha256(statementText)}`,
      statementPath: relative(dirname(reportPath), statementPath),
      signed: false,
    },
    deploymentStatus,
    ...(deployment ? { deployment } : {}),
    recommendation:
      exitCode === 0
        ? `Ready: every stage passed and ${url ?? "the service"} answers its health check.`
        : rolledBack
          ? "Not ready: the new release failed verification and the previous release was restored."
          : `Not ready: ${failure instanceof Error ? failure.message : String(failure)}`,
    references: {
      ...(manifestRef ? { manifest: manifestRef } : {}),
      ...(runRef ? { run: runRef } : {}),
      ...(metricsRef ? { metrics: metricsRef } : {}),
    },
  };
  view.end("reporting", "success");
  report.stages.reporting = {
    durationMs: Math.round(view.elapsedMs() - reportingStart),
    status: "success",
    startedAtMs: Math.round(reportingStart),
  };
  report.totalDurationMs = Math.round(view.elapsedMs());
  assertValid("pipeline-report/v1", report);
  await writeAtomic(reportPath, `${JSON.stringify(report, null, 2)}\n`);
  // Unexpected errors, and usage errors (a bad pack name, say), are the caller's to print and exit on.
  if (failure && !timedOut && (!(failure instanceof GgenError) || failure.kind === "usage")) throw failure;
  const reportRel = relative(o.cwd, reportPath) || reportPath;
  const error =
    exitCode === 0
      ? undefined
      : rolledBack
        ? `verify failed and the deployment was rolled back${deployment?.rolledBackTo ? ` to ${deployment.rolledBackTo}` : ""} (details: ${reportRel})`
        : `${(failure instanceof Error ? failure.message : String(failure)).split("\n")[0]} (details: ${reportRel})`;
  return {
    report,
    reportPath,
    exitCode,
    ...(error ? { error } : {}),
    ...(rolledBack ? { rolledBack } : {}),
    ...(url ? { url } : {}),
    ...(servicePid ? { pid: servicePid } : {}),
    ...(releasesDir ? { releasesDir } : {}),
    ...(o.keepRunning && exitCode === 0
      ? {
          stopHint: `ggen --cwd ${outDir} lifecycle stop --env ${o.env} && cleanroom --cwd ${o.cwd} environment delete --name ${envName} --force`,
          ...(envName ? { environment: envName } : {}),
        }
      : {}),
  };
}
