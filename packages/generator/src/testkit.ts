// Shared by the package's tests (not exported from index.ts): a render state with a fixed seed, and temp
// projects.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { type RenderState, seededNow } from "./helpers.js";

export function renderState(over: Partial<RenderState> = {}): RenderState {
  return {
    file: "t.tmpl",
    lineOffset: 0,
    seed: "s",
    now: seededNow("s"),
    graph: undefined,
    rdf: undefined,
    queryCache: new Map(),
    uuidCounter: 0,
    ...over,
  };
}

const made: string[] = [];

/** `text` at `rel` under `dir`, its directories made. */
export function writeIn(dir: string, rel: string, text: string): void {
  mkdirSync(dirname(join(dir, rel)), { recursive: true });
  writeFileSync(join(dir, rel), text);
}

/** A temp project holding `files`; removed by `removeProjects()` (call it in afterEach). */
export function project(files: Record<string, string>): string {
  const d = mkdtempSync(join(tmpdir(), "ggen-gen-"));
  made.push(d);
  for (const [p, text] of Object.entries(files)) writeIn(d, p, text);
  return d;
}

export function removeProjects(): void {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
}
