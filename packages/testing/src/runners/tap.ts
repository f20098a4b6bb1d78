// TAP 13/14 as node's test runner writes it (`--test-reporter=tap`): nested subtests by indentation,
// a YAML diagnostic block after each test point. Leaves become tests; suites name their children.

import type { TestResult } from "@ggen/contract";
import { parse as parseYaml } from "yaml";

export interface ParsedTest {
  name: string;
  suite?: string;
  status: TestResult["status"];
  durationMs: number;
  failureMessage?: string;
  outputTail?: string;
  /** node's `location: '<file>:<line>:<col>'`: the file and line the test is declared at. */
  location?: { file: string; line: number };
}

const POINT = /^(\s*)(not ok|ok)\b\s*(\d+)?\s*(?:-\s*)?(.*?)(?:\s+#\s*(SKIP|TODO)\b(.*))?$/i;

interface Point {
  indent: number;
  ok: boolean;
  name: string;
  directive?: string;
  diag: Record<string, unknown>;
  children: ParsedTest[];
}

function message(diag: Record<string, unknown>): string | undefined {
  const e = diag.error ?? diag.message;
  if (e === undefined) return undefined;
  const text = typeof e === "string" ? e : JSON.stringify(e);
  const extra =
    diag.expected !== undefined || diag.actual !== undefined
      ? ` (expected ${JSON.stringify(diag.expected)}, actual ${JSON.stringify(diag.actual)})`
      : "";
  return `${text}${extra}`;
}

const SUBTEST = /^(\s*)# Subtest: (.*)$/;

export interface TapOptions {
  /**
   * node's reporter: what a test file prints shares stdout with the TAP stream (the file runs in the
   * reporting process), so a line only counts from `TAP version` on, and a test point only when node
   * announced it at that depth (`# Subtest: <name>`) — a printed "ok 5 - fake" is no test.
   */
  node?: boolean;
}

/** Tests from TAP text; empty when there is no TAP in it. */
export function parseTap(text: string, options: TapOptions = {}): ParsedTest[] {
  let lines = text.split(/\r?\n/);
  const announced = new Map<number, Set<string>>();
  if (options.node) {
    const start = lines.findIndex((l) => /^TAP version \d+\s*$/.test(l));
    lines = start < 0 ? [] : lines.slice(start + 1);
  }
  const pending = new Map<number, ParsedTest[]>();
  const take = (indent: number) => {
    const l = pending.get(indent) ?? [];
    pending.delete(indent);
    return l;
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (options.node) {
      const sub = SUBTEST.exec(line);
      if (sub) {
        const names = announced.get(sub[1]!.length) ?? new Set<string>();
        announced.set(sub[1]!.length, names.add(sub[2]!.trim()));
        continue;
      }
    }
    const m = POINT.exec(line);
    if (!m) continue;
    const indent = m[1]!.length;
    if (options.node && !announced.get(indent)?.delete((m[4] ?? "").trim())) continue;
    const point: Point = {
      indent,
      ok: m[2]!.toLowerCase() === "ok",
      name: (m[4] ?? "").trim().replace(/\\#/g, "#") || `test ${m[3] ?? i}`,
      diag: {},
      children: [],
    };
    if (m[5]) point.directive = m[5].toUpperCase();
    // The YAML block: "---" one level deeper, up to "...".
    const next = lines[i + 1];
    if (next !== undefined && next.trim() === "---" && next.length - next.trimStart().length > indent) {
      const pad = next.length - next.trimStart().length;
      const body: string[] = [];
      let j = i + 2;
      for (; j < lines.length; j++) {
        const l = lines[j]!;
        if (l.trim() === "..." && l.length - l.trimStart().length === pad) break;
        body.push(l.slice(pad));
      }
      i = j;
      try {
        const d = parseYaml(body.join("\n"));
        if (d && typeof d === "object") point.diag = d as Record<string, unknown>;
      } catch {
        // a diagnostic we cannot read still leaves the test point
      }
    }
    // Children reported before this point, one level deeper.
    const deeper = [...pending.keys()].filter((k) => k > indent);
    for (const k of deeper) point.children.push(...take(k));
    const bucket = pending.get(indent) ?? [];
    pending.set(indent, bucket);
    const isSuite = point.children.length > 0 || point.diag.type === "suite";
    if (isSuite) {
      for (const child of point.children) {
        bucket.push({ ...child, suite: child.suite ? `${point.name} > ${child.suite}` : point.name });
      }
      // A suite that failed on its own (a hook, a throw in describe) is a failure of its own.
      const childFailed = point.children.some((c) => c.status === "failed" || c.status === "errored");
      if (!point.ok && !childFailed) {
        const t: ParsedTest = {
          name: point.name,
          status: "errored",
          durationMs: num(point.diag.duration_ms),
        };
        const msg = message(point.diag);
        if (msg) t.failureMessage = msg;
        bucket.push(t);
      }
      continue;
    }
    const t: ParsedTest = {
      name: point.name,
      status: point.directive ? "skipped" : point.ok ? "passed" : "failed",
      durationMs: num(point.diag.duration_ms),
    };
    const at = typeof point.diag.location === "string" ? /^(.*):(\d+):\d+$/.exec(point.diag.location) : null;
    if (at) t.location = { file: at[1]!, line: Number(at[2]) };
    const failureType = point.diag.failureType;
    if (!point.ok && !point.directive) {
      if (failureType === "cancelledByParent" || failureType === "hookFailed") t.status = "errored";
      if (typeof point.diag.error === "string" && /timed out/i.test(point.diag.error)) t.status = "timed-out";
      const msg = message(point.diag);
      if (msg) t.failureMessage = msg;
      if (typeof point.diag.stack === "string") t.outputTail = point.diag.stack;
    }
    if (point.directive) t.failureMessage = `${point.directive}${m[6] ? `:${m[6]}` : ""}`.trim();
    bucket.push(t);
  }
  const out: ParsedTest[] = [];
  for (const k of [...pending.keys()].sort((a, b) => a - b)) out.push(...(pending.get(k) ?? []));
  return out;
}

function num(v: unknown): number {
  const n = typeof v === "number" ? v : Number(v);
  return Number.isFinite(n) && n >= 0 ? n : 0;
}
