// .ggen/production-requirements.yaml: what "ready for production" means for this project, and how to
// check each requirement automatically (a command, a file that must exist, a pattern in the sources).
import { promises as fs } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { compilePattern, GgenError } from "@ggen/contract";
import { closest, parseDuration } from "@ggen/support";
import type * as Yaml from "yaml";
import { asConfig, type ConfigSource, type LifecycleConfig } from "./config.js";
import { execCommand } from "./exec.js";
import { exists, globFiles, insideRoot } from "./fsutil.js";
import { loadState, type RequirementStatus, updateState } from "./state.js";

export type RequirementCheck =
  | { command: string /** Default 60 s. */; timeoutMs?: number }
  | { file: string }
  | { pattern: string; files: string[]; absent: boolean };

export interface Requirement {
  id: string;
  name: string;
  required: boolean;
  category: string;
  description?: string;
  check?: RequirementCheck;
  line: number;
}

export interface RequirementsFile {
  file: string;
  requirements: Requirement[];
}

const ID = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

// The YAML library is loaded when a requirements file is first parsed: every lifecycle command imports
// this module, and most read no requirements (loading it cost a `lifecycle run` ≈ 25 ms of its start).
let yamlLib: typeof Yaml | undefined;
const yaml = (): typeof Yaml => (yamlLib ??= createRequire(import.meta.url)("yaml") as typeof Yaml);

export function parseRequirements(text: string, file: string): RequirementsFile {
  const { isMap, isSeq, LineCounter, parseDocument } = yaml();
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false });
  const fail: (message: string, line?: number, column?: number, hint?: string) => never = (
    message,
    line,
    column,
    hint,
  ) => {
    throw new GgenError("LIFECYCLE_REQUIREMENTS", message, {
      kind: "usage",
      location: { file, ...(line ? { line, column: column ?? 1 } : {}) },
      ...(hint ? { hint } : {}),
    });
  };
  const firstErr = doc.errors[0];
  if (firstErr) {
    const pos = firstErr.linePos?.[0] ?? lc.linePos(firstErr.pos[0]);
    fail(
      `invalid YAML: ${firstErr.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "")}`,
      pos?.line,
      pos?.col,
    );
  }
  const posOf = (node: unknown) => {
    const range = (node as { range?: [number, number] } | null)?.range;
    return range ? lc.linePos(range[0]) : { line: 1, col: 1 };
  };
  const root = doc.contents;
  if (!isMap(root)) fail("the requirements file must be a mapping with a 'requirements' list", 1);
  const list = root.get("requirements", true);
  if (!isSeq(list)) fail("'requirements' must be a list", posOf(list ?? root).line);
  const out: Requirement[] = [];
  const seen = new Set<string>();
  for (const item of list.items) {
    const pos = posOf(item);
    if (!isMap(item))
      fail("each requirement must be a mapping (id, name, required, category, check)", pos.line, pos.col);
    const v = item.toJSON() as Record<string, unknown>;
    const allowed = ["id", "name", "required", "category", "description", "check"];
    for (const k of Object.keys(v)) {
      if (!allowed.includes(k)) {
        const kp = posOf(item.items.find((p) => (p.key as { value?: unknown })?.value === k)?.key);
        fail(`unknown key '${k}' in a requirement`, kp.line, kp.col, `known keys: ${allowed.join(", ")}`);
      }
    }
    if (typeof v.id !== "string" || !ID.test(v.id))
      fail("requirement 'id' must be a word (letters, digits, . _ -)", pos.line, pos.col);
    if (seen.has(v.id)) fail(`duplicate requirement id '${v.id}'`, pos.line, pos.col);
    seen.add(v.id);
    if (v.required !== undefined && typeof v.required !== "boolean")
      fail(`requirement '${v.id}': required must be true or false`, pos.line);
    const r: Requirement = {
      id: v.id,
      name: typeof v.name === "string" ? v.name : v.id,
      required: v.required !== false,
      category: typeof v.category === "string" ? v.category : "general",
      line: pos.line,
    };
    if (typeof v.description === "string") r.description = v.description;
    if (v.check !== undefined) {
      const c = v.check as Record<string, unknown>;
      if (typeof c !== "object" || c === null)
        fail(`requirement '${v.id}': check must be a mapping`, pos.line);
      if (typeof c.command === "string") {
        let timeoutMs: number | undefined;
        if (c.timeout !== undefined) {
          if (typeof c.timeout !== "number" && typeof c.timeout !== "string")
            fail(`requirement '${v.id}': check.timeout must be a duration such as 60s or 2m`, pos.line);
          try {
            timeoutMs = parseDuration(c.timeout, { flag: `requirement '${v.id}' check.timeout` });
          } catch (e) {
            fail((e as Error).message, pos.line);
          }
        }
        r.check = { command: c.command, ...(timeoutMs !== undefined ? { timeoutMs } : {}) };
      } else if (typeof c.file === "string") r.check = { file: c.file };
      else if (typeof c.pattern === "string") {
        // Checked here (RE2: no backtracking), so a bad one is refused at its line before anything runs.
        compilePattern(c.pattern, {
          flags: "m",
          what: `requirement '${v.id}' pattern`,
          location: { file, line: pos.line, column: pos.col },
        });
        const files =
          typeof c.files === "string" ? [c.files] : Array.isArray(c.files) ? c.files.map(String) : ["**/*"];
        r.check = { pattern: c.pattern, files, absent: c.absent === true };
      } else {
        fail(`requirement '${v.id}': check needs one of command, file or pattern`, pos.line);
      }
    }
    out.push(r);
  }
  return { file, requirements: out };
}

export async function loadRequirements(config: LifecycleConfig, file?: string): Promise<RequirementsFile> {
  const rel = file ?? config.requirementsFile;
  const abs = await insideRoot(config.root, rel, "requirements file");
  let text: string;
  try {
    text = await fs.readFile(abs, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") {
      throw new GgenError("LIFECYCLE_NO_REQUIREMENTS", `no requirements file ${rel}`, {
        kind: "usage",
        location: { file: rel },
        hint: "run 'ggen lifecycle init' or write the file (see the lifecycle README)",
      });
    }
    throw e;
  }
  return parseRequirements(text, rel);
}

export interface RequirementResult {
  id: string;
  name: string;
  category: string;
  required: boolean;
  status: RequirementStatus;
  /** Where the status came from. */
  source: "check" | "manual" | "default";
  detail?: string;
  line: number;
}

/** Runs a requirement's automatic check: met or not, with a reason. */
export async function runRequirementCheck(
  config: LifecycleConfig,
  c: RequirementCheck,
): Promise<{ met: boolean; detail: string }> {
  if ("command" in c) {
    const r = await execCommand(c.command, {
      cwd: config.root,
      env: process.env as Record<string, string>,
      timeoutMs: c.timeoutMs ?? 60_000,
    });
    return r.exitCode === 0
      ? { met: true, detail: `'${c.command}' passed` }
      : {
          met: false,
          detail: r.timedOut
            ? `'${c.command}' timed out`
            : `'${c.command}' exited with ${r.exitCode ?? r.signal}`,
        };
  }
  if ("file" in c) {
    const ok = await exists(await insideRoot(config.root, c.file, "requirement file"));
    return { met: ok, detail: ok ? `${c.file} exists` : `${c.file} is missing` };
  }
  const re = compilePattern(c.pattern, { flags: "m", what: "requirement pattern" });
  const files = await globFiles(config.root, c.files);
  for (const f of files) {
    let text: string;
    try {
      text = await fs.readFile(join(config.root, f), "utf8");
    } catch {
      continue;
    }
    const m = re.exec(text);
    if (m) {
      const line = text.slice(0, m.index).split("\n").length;
      return c.absent
        ? { met: false, detail: `/${c.pattern}/ found in ${f}:${line}` }
        : { met: true, detail: `/${c.pattern}/ found in ${f}:${line}` };
    }
  }
  return c.absent
    ? { met: true, detail: `/${c.pattern}/ appears nowhere` }
    : { met: false, detail: `/${c.pattern}/ not found in ${c.files.join(", ")}` };
}

/** Every requirement with its effective status: not-applicable (manual) wins, then a check, then manual. */
export async function evaluateRequirements(
  config: LifecycleConfig,
  reqs: RequirementsFile,
): Promise<RequirementResult[]> {
  const state = await loadState(config.root);
  const out: RequirementResult[] = [];
  for (const r of reqs.requirements) {
    const manual = state.requirements[r.id];
    const base = { id: r.id, name: r.name, category: r.category, required: r.required, line: r.line };
    if (manual === "not-applicable") out.push({ ...base, status: manual, source: "manual" });
    else if (r.check) {
      const c = await runRequirementCheck(config, r.check);
      out.push({ ...base, status: c.met ? "complete" : "incomplete", source: "check", detail: c.detail });
    } else if (manual) out.push({ ...base, status: manual, source: "manual" });
    else out.push({ ...base, status: "incomplete", source: "default" });
  }
  return out;
}

export interface Readiness {
  /** 0–100: weighted share of met requirements (required count twice). */
  score: number;
  ready: boolean;
  requirements: RequirementResult[];
  categories: { category: string; met: number; total: number; score: number }[];
  unmetRequired: string[];
}

const met = (r: RequirementResult) => r.status === "complete" || r.status === "not-applicable";

export function scoreReadiness(results: readonly RequirementResult[]): Readiness {
  const weight = (r: RequirementResult) => (r.required ? 2 : 1);
  const total = results.reduce((a, r) => a + weight(r), 0);
  const got = results.filter(met).reduce((a, r) => a + weight(r), 0);
  const cats = new Map<string, { met: number; total: number }>();
  for (const r of results) {
    const c = cats.get(r.category) ?? { met: 0, total: 0 };
    c.total++;
    if (met(r)) c.met++;
    cats.set(r.category, c);
  }
  const unmetRequired = results.filter((r) => r.required && !met(r)).map((r) => r.id);
  return {
    score: total ? Math.round((got / total) * 100) : 100,
    ready: unmetRequired.length === 0,
    requirements: [...results],
    categories: [...cats.entries()].map(([category, c]) => ({
      category,
      ...c,
      score: Math.round((c.met / c.total) * 100),
    })),
    unmetRequired,
  };
}

/** `readiness`: evaluates and scores the requirements file. */
export async function readiness(source: ConfigSource, file?: string): Promise<Readiness> {
  const config = await asConfig(source);
  return scoreReadiness(await evaluateRequirements(config, await loadRequirements(config, file)));
}

/** `readiness-update`: records a person's status for a requirement in the state. */
export async function updateRequirement(
  source: ConfigSource,
  id: string,
  status: RequirementStatus,
  file?: string,
): Promise<{ id: string; status: RequirementStatus; previous?: RequirementStatus }> {
  const config = await asConfig(source);
  const reqs = await loadRequirements(config, file);
  if (!reqs.requirements.some((r) => r.id === id)) {
    const near = closest(
      id,
      reqs.requirements.map((r) => r.id),
    );
    throw new GgenError("LIFECYCLE_UNKNOWN_REQUIREMENT", `unknown requirement '${id}'`, {
      kind: "usage",
      location: { file: reqs.file },
      hint:
        near !== undefined
          ? `did you mean '${near}'?`
          : `requirements: ${reqs.requirements.map((r) => r.id).join(", ")}`,
    });
  }
  let previous: RequirementStatus | undefined;
  await updateState(
    config.root,
    (s) => {
      previous = s.requirements[id];
      s.requirements[id] = status;
    },
    config.stateBackups,
  );
  return { id, status, ...(previous ? { previous } : {}) };
}
