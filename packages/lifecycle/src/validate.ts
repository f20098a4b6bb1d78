// `validate`: requirements, tests (a cleanroom-run/v1 for the current sources), security (secrets by
// pattern and entropy, forbidden patterns per language, an offline dependency audit) and the errors
// and warnings of the last build. Every finding has a file, a line where there is one, and a severity.
import { promises as fs } from "node:fs";
import { basename, extname, join } from "node:path";
import {
  type CleanroomRun,
  type Finding,
  GgenError,
  parseJson,
  validate as validateContract,
} from "@ggen/contract";
import { sha256File } from "@ggen/support";
import { ADVISORIES, type Advisory, inRange } from "./advisories.js";
import { asConfig, type ConfigSource, type LifecycleConfig } from "./config.js";
import { exists, globFiles, globPattern, insideRoot, walkFiles } from "./fsutil.js";
import { evaluateRequirements, loadRequirements } from "./requirements.js";
import { loadState } from "./state.js";

export const CHECKS = ["requirements", "tests", "security", "errors", "warnings"] as const;
export type CheckName = (typeof CHECKS)[number];

export interface ValidateOptions {
  checks?: readonly CheckName[];
  env?: string;
  /** Requirements file (relative to the project); default the config's. */
  requirements?: string;
  failOnWarning?: boolean;
}

export interface ValidationReport {
  environment?: string;
  checks: CheckName[];
  findings: Finding[];
  errors: number;
  warnings: number;
  passed: boolean;
}

const finding = (
  check: string,
  severity: Finding["severity"],
  message: string,
  file?: string,
  line?: number,
): Finding => ({
  check,
  severity,
  message,
  ...(file ? { file } : {}),
  ...(line ? { line } : {}),
});

/** Runs the checks (default: all) for a project: its directory or its loaded config. */
export async function validate(source: ConfigSource, opts: ValidateOptions = {}): Promise<ValidationReport> {
  const config = await asConfig(source);
  const checks = opts.checks?.length ? [...new Set(opts.checks)] : [...CHECKS];
  for (const c of checks) {
    if (!CHECKS.includes(c)) {
      throw new GgenError("LIFECYCLE_UNKNOWN_CHECK", `unknown check '${c}'`, {
        kind: "usage",
        hint: `checks: ${CHECKS.join(", ")}`,
      });
    }
  }
  const findings: Finding[] = [];
  for (const c of checks) {
    if (c === "requirements") findings.push(...(await checkRequirements(config, opts.requirements)));
    else if (c === "tests") findings.push(...(await checkTests(config)));
    else if (c === "security") findings.push(...(await checkSecurity(config)));
    else findings.push(...(await checkBuild(config, c)));
  }
  const errors = findings.filter((f) => f.severity === "error").length;
  const warnings = findings.filter((f) => f.severity === "warning").length;
  return {
    ...(opts.env ? { environment: opts.env } : {}),
    checks,
    findings,
    errors,
    warnings,
    passed: errors === 0 && (!opts.failOnWarning || warnings === 0),
  };
}

// ---- requirements --------------------------------------------------------------------------------

async function checkRequirements(config: LifecycleConfig, file: string | undefined): Promise<Finding[]> {
  if (file === undefined && !(await exists(join(config.root, config.requirementsFile)))) {
    return [
      finding("requirements", "info", "no requirements file; nothing to check", config.requirementsFile),
    ];
  }
  const reqs = await loadRequirements(config, file);
  const results = await evaluateRequirements(config, reqs);
  const out: Finding[] = [];
  for (const r of results) {
    if (r.status === "complete" || r.status === "not-applicable") continue;
    out.push(
      finding(
        "requirements",
        r.required ? "error" : "warning",
        `${r.required ? "required" : "optional"} requirement '${r.id}' (${r.name}) is not met${r.detail ? `: ${r.detail}` : ""}`,
        reqs.file,
        r.line,
      ),
    );
  }
  return out;
}

// ---- tests ---------------------------------------------------------------------------------------

/** The first tests report found (validated as cleanroom-run/v1), or undefined when there is none. */
export async function readTestsReport(
  config: LifecycleConfig,
): Promise<{ file: string; run: CleanroomRun } | undefined> {
  const candidates = [...config.validation.testsReport];
  // cleanroom's own store: .cleanroom/runs/<runId>.json, named by .cleanroom/runs/last.
  const last = await fs.readFile(join(config.root, ".cleanroom/runs/last"), "utf8").catch(() => undefined);
  if (last?.trim() && /^[\w.-]+$/.test(last.trim())) candidates.push(`.cleanroom/runs/${last.trim()}.json`);
  for (const rel of candidates) {
    const abs = await insideRoot(config.root, rel, "tests report");
    let text: string;
    try {
      text = await fs.readFile(abs, "utf8");
    } catch {
      continue;
    }
    const value = parseJson(text, rel, "LIFECYCLE_TESTS_REPORT", "failure");
    const r = validateContract("cleanroom-run/v1", value);
    if (!r.ok) {
      throw new GgenError(
        "LIFECYCLE_TESTS_REPORT",
        `${rel} is not a valid cleanroom-run/v1: ${r.errors.map((e) => `${e.path} ${e.message}`).join("; ")}`,
        { location: { file: rel } },
      );
    }
    return { file: rel, run: r.value };
  }
  return undefined;
}

async function checkTests(config: LifecycleConfig): Promise<Finding[]> {
  let report: { file: string; run: CleanroomRun } | undefined;
  try {
    report = await readTestsReport(config);
  } catch (e) {
    const g = e as GgenError;
    return [finding("tests", "error", g.message, g.location?.file)];
  }
  if (!report) {
    return [
      finding(
        "tests",
        "error",
        `no cleanroom-run/v1 report (looked for ${config.validation.testsReport.join(", ")} and .cleanroom/runs/last)`,
        config.validation.testsReport[0],
      ),
    ];
  }
  const { file, run } = report;
  const out: Finding[] = [];
  for (const t of run.tests) {
    if (t.status === "failed" || t.status === "errored" || t.status === "timed-out") {
      out.push(
        finding(
          "tests",
          "error",
          `test '${t.name}' ${t.status}${t.failureMessage ? `: ${t.failureMessage}` : ""}`,
          t.file,
        ),
      );
    }
  }
  const s = run.summary;
  const bad = s.failed + s.errored + s.timedOut;
  if (bad > 0 && out.length === 0)
    out.push(finding("tests", "error", `${bad} test(s) did not pass (run ${run.runId})`, file));
  if (s.total === 0) out.push(finding("tests", "warning", `run ${run.runId} ran no tests`, file));
  if (!run.sources || run.sources.length === 0) {
    out.push(
      finding(
        "tests",
        "warning",
        `run ${run.runId} lists no sources; cannot tell whether it tested the current code`,
        file,
      ),
    );
  } else {
    for (const src of run.sources) {
      let abs: string;
      try {
        abs = await insideRoot(config.root, src.path, "tested source");
      } catch {
        out.push(
          finding("tests", "error", `run ${run.runId} names a source outside the project: ${src.path}`, file),
        );
        continue;
      }
      if (!(await exists(abs))) {
        out.push(
          finding("tests", "error", `tested source ${src.path} no longer exists; re-run the tests`, src.path),
        );
      } else if ((await sha256File(abs)) !== src.sha256) {
        out.push(
          finding(
            "tests",
            "error",
            `${src.path} changed since test run ${run.runId}; re-run the tests`,
            src.path,
            1,
          ),
        );
      }
    }
  }
  const threshold = config.validation.coverageThreshold;
  if (threshold !== undefined) {
    if (s.coveragePercent === undefined)
      out.push(finding("tests", "info", `run ${run.runId} reports no coverage`, file));
    else if (s.coveragePercent < threshold) {
      out.push(
        finding(
          "tests",
          "error",
          `coverage ${s.coveragePercent}% is below the threshold ${threshold}%`,
          file,
        ),
      );
    }
  }
  return out;
}

// ---- security ------------------------------------------------------------------------------------

const LOCKFILES = new Set([
  "package-lock.json",
  "pnpm-lock.yaml",
  "yarn.lock",
  "Cargo.lock",
  "npm-shrinkwrap.json",
]);

const SECRET_PATTERNS: { name: string; re: RegExp }[] = [
  { name: "AWS access key id", re: /\b(AKIA|ASIA)[0-9A-Z]{16}\b/ },
  { name: "private key", re: /-----BEGIN (?:RSA |EC |DSA |OPENSSH |ENCRYPTED )?PRIVATE KEY-----/ },
  { name: "GitHub token", re: /\bgh[pousr]_[A-Za-z0-9]{36,}\b/ },
  { name: "Slack token", re: /\bxox[abprs]-[A-Za-z0-9-]{10,}/ },
  { name: "Stripe secret key", re: /\bsk_live_[A-Za-z0-9]{16,}\b/ },
  { name: "Google API key", re: /\bAIza[0-9A-Za-z_-]{35}\b/ },
];
const ASSIGNED_SECRET =
  /\b([A-Za-z_]*(?:password|passwd|secret|api[_-]?key|apikey|access[_-]?key|auth[_-]?token|private[_-]?key|token))\b["']?\s*[:=]\s*["']([^"'\s]{6,})["']/i;
const PLACEHOLDER =
  /^(?:\$\{.*\}|<.*>|\*+|x+|changeme|example|dummy|placeholder|your[_-].*|test|redacted|none|null|undefined)$/i;

/** Shannon entropy in bits per character. */
export function entropy(s: string): number {
  const counts = new Map<string, number>();
  for (const c of s) counts.set(c, (counts.get(c) ?? 0) + 1);
  let h = 0;
  for (const n of counts.values()) {
    const p = n / s.length;
    h -= p * Math.log2(p);
  }
  return h;
}

interface ForbiddenRule {
  re: RegExp;
  label: string;
  severity: "error" | "warning";
}

const lit = (s: string) => new RegExp(s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
const JS_RULES: ForbiddenRule[] = [
  { re: /(?<![\w.$])eval\s*\(/, label: "eval(", severity: "error" },
  { re: /\bnew\s+Function\s*\(/, label: "new Function(", severity: "error" },
];
const DEFAULT_FORBIDDEN: Record<string, ForbiddenRule[]> = {
  rs: [
    { re: /\.unwrap\(\)/, label: ".unwrap()", severity: "error" },
    { re: /\.expect\(/, label: ".expect(", severity: "error" },
    { re: /\bpanic!\(/, label: "panic!(", severity: "warning" },
  ],
  js: JS_RULES,
  mjs: JS_RULES,
  cjs: JS_RULES,
  jsx: JS_RULES,
  ts: JS_RULES,
  tsx: JS_RULES,
  mts: JS_RULES,
  py: [
    { re: /(?<![\w.])eval\s*\(/, label: "eval(", severity: "error" },
    { re: /(?<![\w.])exec\s*\(/, label: "exec(", severity: "error" },
    { re: /\bpickle\.loads?\(/, label: "pickle.load(", severity: "warning" },
  ],
  go: [{ re: /\bpanic\(/, label: "panic(", severity: "warning" }],
};

const STRINGS = /"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`(?:[^`\\]|\\.)*`/g;
const RUST_STRINGS = /"(?:[^"\\]|\\.)*"/g;

const TEST_PATH = /(?:^|\/)(?:tests?|__tests__|benches|spec)\/|\.(?:test|spec)\.[a-z]+$|_test\.(?:go|py)$/;

async function sourceFiles(config: LifecycleConfig): Promise<string[]> {
  const files = config.validation.sources.length
    ? await globFiles(config.root, config.validation.sources)
    : await walkFiles(config.root);
  const allow = config.validation.allowSecrets.map(globPattern);
  return files.filter((f) => !allow.some((r) => r.test(f)));
}

async function checkSecurity(config: LifecycleConfig): Promise<Finding[]> {
  const out: Finding[] = [];
  const files = await sourceFiles(config);
  for (const f of files) {
    const name = basename(f);
    if (LOCKFILES.has(name) || /\.(?:min\.js|map|png|jpe?g|gif|ico|woff2?|lock)$/.test(name)) continue;
    const abs = join(config.root, f);
    const stat = await fs.stat(abs);
    if (stat.size > 1_000_000) continue;
    const buf = await fs.readFile(abs);
    if (buf.includes(0)) continue;
    const lines = buf.toString("utf8").split("\n");
    const ext = extname(f).slice(1);
    const rules = [
      ...(DEFAULT_FORBIDDEN[ext] ?? []),
      ...(config.validation.forbidden[ext] ?? []).map((p) => ({
        re: lit(p),
        label: p,
        severity: "error" as const,
      })),
    ];
    const isTest = TEST_PATH.test(f);
    let inRustTests = false;
    lines.forEach((line, i) => {
      if (line.includes("ggen:allow")) return;
      for (const p of SECRET_PATTERNS) {
        if (p.re.test(line)) out.push(finding("security", "error", `hard-coded ${p.name}`, f, i + 1));
      }
      const m = ASSIGNED_SECRET.exec(line);
      if (m && !PLACEHOLDER.test(m[2]!) && !SECRET_PATTERNS.some((p) => p.re.test(line))) {
        out.push(finding("security", "error", `hard-coded secret in '${m[1]}'`, f, i + 1));
      } else {
        for (const s of line.matchAll(/["'`]([A-Za-z0-9+/=_-]{24,})["'`]/g)) {
          const v = s[1]!;
          const hex = /^[0-9a-f]+$/i.test(v);
          const h = entropy(v);
          if ((hex && v.length >= 40 && h > 3.5) || (!hex && h > 4.5)) {
            out.push(
              finding(
                "security",
                "warning",
                `high-entropy string (${h.toFixed(1)} bits/char): possible secret`,
                f,
                i + 1,
              ),
            );
          }
        }
      }
      if (ext === "rs" && /#\[cfg\(test\)\]/.test(line)) inRustTests = true;
      if (isTest || inRustTests) return;
      // Patterns inside string literals and comments are not code (Rust's 'a lifetimes are not strings).
      const strings = ext === "rs" ? RUST_STRINGS : STRINGS;
      const code = line.replace(strings, '""').replace(ext === "py" ? /#.*$/ : /\/\/.*$/, "");
      for (const r of rules) {
        if (r.re.test(code))
          out.push(finding("security", r.severity, `forbidden '${r.label}' in .${ext} source`, f, i + 1));
      }
    });
  }
  out.push(...(await auditDependencies(config)));
  return out;
}

/** name@version with the line where each appears, from the lockfiles at the project root. */
export async function lockedPackages(
  root: string,
): Promise<{ file: string; ecosystem: "npm" | "crates"; name: string; version: string; line: number }[]> {
  const out: { file: string; ecosystem: "npm" | "crates"; name: string; version: string; line: number }[] =
    [];
  const read = async (f: string) => fs.readFile(join(root, f), "utf8").catch(() => undefined);
  const pkgLock = await read("package-lock.json");
  if (pkgLock !== undefined) {
    const lines = pkgLock.split("\n");
    try {
      const j = JSON.parse(pkgLock) as {
        packages?: Record<string, { version?: string }>;
        dependencies?: Record<string, { version?: string }>;
      };
      const entries = j.packages
        ? Object.entries(j.packages)
            .filter(([k]) => k.includes("node_modules/"))
            .map(([k, v]) => [k.split("node_modules/").pop()!, v.version] as const)
        : Object.entries(j.dependencies ?? {}).map(([k, v]) => [k, v.version] as const);
      for (const [name, version] of entries) {
        if (!version) continue;
        const idx = lines.findIndex((l) => l.includes(`node_modules/${name}"`) || l.includes(`"${name}": {`));
        out.push({ file: "package-lock.json", ecosystem: "npm", name, version, line: idx + 1 || 1 });
      }
    } catch {
      // A broken lockfile is the package manager's problem; the audit just has nothing to read.
    }
  }
  const pnpm = await read("pnpm-lock.yaml");
  if (pnpm !== undefined) {
    pnpm.split("\n").forEach((l, i) => {
      const m = /^ {2}'?\/?((?:@[^/@\s]+\/)?[^@\s/']+)[@/](\d[^:('\s]*)/.exec(l);
      if (m) out.push({ file: "pnpm-lock.yaml", ecosystem: "npm", name: m[1]!, version: m[2]!, line: i + 1 });
    });
  }
  const yarn = await read("yarn.lock");
  if (yarn !== undefined) {
    const lines = yarn.split("\n");
    lines.forEach((l, i) => {
      const m = /^"?((?:@[^/@\s]+\/)?[^@\s"]+)@/.exec(l);
      const v = lines[i + 1] && /^\s+version:?\s+"?([^"\s]+)"?/.exec(lines[i + 1]!);
      if (m && v) out.push({ file: "yarn.lock", ecosystem: "npm", name: m[1]!, version: v[1]!, line: i + 1 });
    });
  }
  const cargo = await read("Cargo.lock");
  if (cargo !== undefined) {
    const lines = cargo.split("\n");
    lines.forEach((l, i) => {
      const m = /^name = "([^"]+)"/.exec(l);
      const v = lines[i + 1] && /^version = "([^"]+)"/.exec(lines[i + 1]!);
      if (m && v)
        out.push({ file: "Cargo.lock", ecosystem: "crates", name: m[1]!, version: v[1]!, line: i + 1 });
    });
  }
  return out;
}

async function loadAdvisories(config: LifecycleConfig): Promise<Advisory[]> {
  const list = [...ADVISORIES];
  const extra = config.validation.advisories;
  if (!extra) return list;
  const abs = await insideRoot(config.root, extra, "advisories file");
  let text: string;
  try {
    text = await fs.readFile(abs, "utf8");
  } catch (e) {
    throw new GgenError("LIFECYCLE_ADVISORIES", `cannot read advisories ${extra}: ${(e as Error).message}`, {
      kind: "usage",
      location: { file: extra },
    });
  }
  const value = parseJson(text, extra, "LIFECYCLE_ADVISORIES", "usage");
  if (!Array.isArray(value)) {
    throw new GgenError("LIFECYCLE_ADVISORIES", `${extra} must be a JSON array of advisories`, {
      kind: "usage",
      location: { file: extra },
    });
  }
  for (const a of value as Partial<Advisory>[]) {
    if (typeof a.package === "string" && typeof a.vulnerable === "string") {
      list.push({
        id: a.id ?? "local",
        ecosystem: a.ecosystem === "crates" ? "crates" : "npm",
        package: a.package,
        vulnerable: a.vulnerable,
        severity: a.severity === "warning" ? "warning" : "error",
        title: a.title ?? "advisory",
      });
    }
  }
  return list;
}

async function auditDependencies(config: LifecycleConfig): Promise<Finding[]> {
  const pkgs = await lockedPackages(config.root);
  if (pkgs.length === 0) return [];
  const advisories = await loadAdvisories(config);
  const out: Finding[] = [];
  const seen = new Set<string>();
  for (const p of pkgs) {
    for (const a of advisories) {
      if (a.ecosystem !== p.ecosystem || a.package !== p.name || !inRange(p.version, a.vulnerable)) continue;
      const key = `${a.id}:${p.name}@${p.version}:${p.file}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(
        finding(
          "security",
          a.severity,
          `${p.name}@${p.version}: ${a.id} ${a.title} (affected ${a.vulnerable})`,
          p.file,
          p.line,
        ),
      );
    }
  }
  return out;
}

// ---- errors and warnings of the last build --------------------------------------------------------

export interface Diagnostic {
  severity: "error" | "warning";
  message: string;
  file?: string;
  line?: number;
  logLine: number;
}

/** Compiler-style diagnostics in a build log (gcc/clang/tsc/rustc/eslint-unix shapes). */
export function parseDiagnostics(log: string): Diagnostic[] {
  const lines = log.split("\n");
  const out: Diagnostic[] = [];
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!.replace(/\x1b\[[0-9;]*m/g, "");
    let m = /^(\S.*?):(\d+)(?::\d+)?:?\s+-?\s*(?:fatal\s+)?(error|warning)\b[:\s]*(.*)$/i.exec(l);
    if (m) {
      out.push({
        severity: m[3]!.toLowerCase() as "error" | "warning",
        message: m[4]!.trim(),
        file: m[1]!,
        line: Number(m[2]),
        logLine: i + 1,
      });
      continue;
    }
    m = /^(\S.*?)\((\d+),\d+\):\s*(error|warning)\b\s*(.*)$/i.exec(l);
    if (m) {
      out.push({
        severity: m[3]!.toLowerCase() as "error" | "warning",
        message: m[4]!.trim(),
        file: m[1]!,
        line: Number(m[2]),
        logLine: i + 1,
      });
      continue;
    }
    m = /^(error|warning)(?:\[\w+\])?:\s*(.*)$/i.exec(l);
    if (m) {
      const d: Diagnostic = {
        severity: m[1]!.toLowerCase() as "error" | "warning",
        message: m[2]!.trim(),
        logLine: i + 1,
      };
      for (let j = i + 1; j < Math.min(lines.length, i + 4); j++) {
        const at = /^\s*-->\s*(.+?):(\d+)(?::\d+)?/.exec(lines[j]!);
        if (at) {
          d.file = at[1]!;
          d.line = Number(at[2]);
          break;
        }
      }
      // rustc's closing summary ("warning: `x` generated 2 warnings") is not a diagnostic of its own.
      if (/generated \d+ warnings?|aborting due to|could not compile/.test(d.message)) continue;
      out.push(d);
    }
  }
  return out;
}

async function checkBuild(config: LifecycleConfig, which: "errors" | "warnings"): Promise<Finding[]> {
  const phase = config.validation.buildPhase;
  const state = await loadState(config.root);
  const last = state.phases[phase];
  const logRel = `.ggen/logs/${phase}.log`;
  if (!last) {
    return which === "errors"
      ? [finding("errors", "warning", `phase '${phase}' has not run; no build to check`, config.file)]
      : [];
  }
  const out: Finding[] = [];
  if (which === "errors" && (last.status === "failed" || last.status === "timed-out")) {
    out.push(
      finding(
        "errors",
        "error",
        `the last '${phase}' ${last.status}${last.exitCode !== null ? ` (exit ${last.exitCode})` : ""}${last.message ? `: ${last.message}` : ""}`,
        logRel,
        1,
      ),
    );
  }
  const log = await fs.readFile(join(config.root, logRel), "utf8").catch(() => "");
  for (const d of parseDiagnostics(log)) {
    if ((which === "errors") !== (d.severity === "error")) continue;
    out.push(finding(which, d.severity, d.message || d.severity, d.file ?? logRel, d.line ?? d.logLine));
  }
  return out;
}
