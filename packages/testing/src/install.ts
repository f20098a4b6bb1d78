// Installing generated output's dependencies before its tests, offline from a mounted package cache:
// a Node project with dependencies and no node_modules gets `npm ci` (with a lockfile) or
// `npm install`, both --offline. A failed install is one errored result; the tests then do not run.

import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { TestResult } from "@ggen/contract";
import { type ExecFn, tail } from "./exec.js";
import type { TimelineEntry } from "./result.js";

/** The install command a project needs, or undefined when it needs none. */
export function installCommand(root: string): string[] | undefined {
  const pkgFile = join(root, "package.json");
  if (!existsSync(pkgFile) || existsSync(join(root, "node_modules"))) return undefined;
  try {
    const pkg = JSON.parse(readFileSync(pkgFile, "utf8")) as Record<
      string,
      Record<string, string> | undefined
    >;
    const deps = Object.keys({ ...pkg.dependencies, ...pkg.devDependencies });
    if (deps.length === 0) return undefined;
  } catch {
    return undefined;
  }
  const ci = existsSync(join(root, "package-lock.json"));
  const base = ["--offline", "--no-audit", "--no-fund", "--ignore-scripts"];
  // Without a lockfile, leave none behind in the generated output.
  return ci ? ["npm", "ci", ...base] : ["npm", "install", ...base, "--no-package-lock"];
}

export async function installDependencies(
  root: string,
  exec: ExecFn,
  cwd: string,
  options: { timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<{ ok: boolean; timeline: TimelineEntry[]; tests: TestResult[] }> {
  const argv = installCommand(root);
  if (!argv) return { ok: true, timeline: [], tests: [] };
  const r = await exec(argv, {
    cwd,
    timeoutMs: options.timeoutMs ?? 300_000,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const ok = r.exitCode === 0 && !r.timedOut;
  const name = argv.slice(0, 2).join(" ");
  const timeline: TimelineEntry[] = [
    {
      name,
      lane: "step",
      startMs: 0,
      durationMs: Math.round(r.durationMs),
      status: ok ? "passed" : "errored",
    },
  ];
  if (ok) return { ok, timeline, tests: [] };
  return {
    ok,
    timeline,
    tests: [
      {
        id: `package.json#${name}`,
        file: "package.json",
        name,
        status: r.timedOut ? "timed-out" : "errored",
        durationMs: Math.round(r.durationMs),
        failureMessage: `${argv.join(" ")} failed (exit ${r.exitCode ?? r.signal}); the tests did not run`,
        outputTail: tail(`${r.stdout}\n${r.stderr}`),
      },
    ],
  };
}
