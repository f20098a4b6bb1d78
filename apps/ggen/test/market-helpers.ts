// Shared by the market CLI tests: run the built ggen in a temp project with its own GGEN_HOME.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const bin = join(import.meta.dirname, "..", "dist", "bin.js");
export const repoRoot = join(import.meta.dirname, "..", "..", "..");
export const fixtureRegistry = join(repoRoot, "fixtures", "registry");

export interface Sandbox {
  dir: string;
  project: string;
  home: string;
  run: (...args: string[]) => { status: number | null; stdout: string; stderr: string };
  runAsync: (...args: string[]) => Promise<{ status: number | null; stdout: string; stderr: string }>;
  cleanup: () => void;
}

export function sandbox(extraEnv: Record<string, string> = {}): Sandbox {
  const dir = mkdtempSync(join(tmpdir(), "ggen-market-cli-"));
  const project = join(dir, "project");
  const home = join(dir, "home");
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: "1", GGEN_HOME: home, ...extraEnv };
  delete env.GGEN_REGISTRY;
  if (extraEnv.GGEN_REGISTRY) env.GGEN_REGISTRY = extraEnv.GGEN_REGISTRY;
  const args = (a: string[]) => [bin, "--cwd", project, ...a];
  spawnSync("mkdir", ["-p", project]);
  return {
    dir,
    project,
    home,
    run: (...a) => {
      const r = spawnSync(process.execPath, args(a), { encoding: "utf8", env, timeout: 120_000 });
      return { status: r.status, stdout: r.stdout, stderr: r.stderr };
    },
    runAsync: (...a) =>
      new Promise((resolve) => {
        const child = spawn(process.execPath, args(a), { env });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d) => {
          stdout += d;
        });
        child.stderr.on("data", (d) => {
          stderr += d;
        });
        child.on("close", (status) => resolve({ status, stdout, stderr }));
      }),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** One line on stderr, starting with "ggen: error:", and no stack trace. */
export function oneLine(stderr: string): string {
  const lines = stderr.trim().split("\n");
  if (lines.length !== 1 || !lines[0]!.startsWith("ggen: error: ") || /\bat \S+:\d+:\d+/.test(stderr))
    throw new Error(`expected one error line, got:\n${stderr}`);
  return lines[0]!;
}
