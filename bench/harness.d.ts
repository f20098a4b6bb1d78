export interface BenchResult {
  name: string;
  median: number;
  p95: number;
  min: number;
  runs: number;
  unit: "ms";
  baseline?: { name: string; median: number; p95: number; runs: number };
  ratio?: number | null;
  target?: number;
  targetMs?: number;
  meetsTarget?: boolean;
  [extra: string]: unknown;
}
export interface ProcessOptions {
  runs?: number;
  warmup?: number;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  expectStatus?: number | null;
}
export interface ProcessSpec {
  name: string;
  command: string;
  args: string[];
  opts?: ProcessOptions;
}
export const benchDir: string;
export const repoRoot: string;
export const resultsDir: string;
export function summarize(name: string, samples: number[]): BenchResult;
export function measure(
  name: string,
  fn: () => unknown,
  opts?: { runs?: number; warmup?: number },
): Promise<BenchResult>;
export function compare(
  subject: { name: string; fn: () => unknown },
  baseline: { name: string; fn: () => unknown },
  opts?: { runs?: number; warmup?: number; target?: number },
): Promise<BenchResult>;
export function measureProcess(
  name: string,
  command: string,
  args?: string[],
  opts?: ProcessOptions,
): BenchResult;
export function compareProcesses(
  subject: ProcessSpec,
  baseline: ProcessSpec,
  opts?: ProcessOptions & { target?: number },
): BenchResult;
export function ratio(subject: BenchResult, baseline: BenchResult, target?: number): BenchResult;
export function withTarget(result: BenchResult, targetMs: number): BenchResult;
export function record(suite: string, results: BenchResult[]): string;
export function readJson(file: string): unknown;
export function cleanResults(): void;
