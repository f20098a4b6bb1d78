// `cargo clippy --message-format=json`: one JSON object per line; the compiler's diagnostics are the
// "compiler-message" ones. A lint (clippy's or rustc's) has a code that is not an E-number; with
// `-D warnings` its level is "error" but it is still a lint, so it counts as a warning here — the
// figure seed 001 gates on is "clippy warnings", however they were configured. Pure.

export interface ClippyDiagnostic {
  level: string;
  /** "clippy::needless_return", "unused_variables", or an error code ("E0308"). */
  code?: string;
  message: string;
  file?: string;
  line?: number;
  column?: number;
  /** Target the diagnostic came from: "my_service (lib)". */
  target: string;
  rendered?: string;
}

export interface ClippyResult {
  /** Lint diagnostics, each span counted once (the lib and its test build report the same one twice). */
  warnings: number;
  /** Hard errors: the code does not compile. */
  errors: number;
  lints: ClippyDiagnostic[];
  errorList: ClippyDiagnostic[];
  /** Lint name → count. */
  byLint: Record<string, number>;
  /** From cargo's "build-finished" message; undefined when the output has none (cargo did not finish). */
  success?: boolean;
}

interface Span {
  file_name: string;
  line_start: number;
  column_start: number;
  is_primary: boolean;
}

interface CompilerMessage {
  reason: string;
  success?: boolean;
  target?: { name: string; kind: string[] };
  message?: {
    level: string;
    message: string;
    code: { code: string } | null;
    spans: Span[];
    rendered?: string | null;
  };
}

const isLint = (code: string | undefined) => code !== undefined && !/^E\d{4}$/.test(code);

/** Counts clippy's lints and the compiler's errors in `cargo clippy --message-format=json` stdout. */
export function parseClippyJson(stdout: string): ClippyResult {
  const lints: ClippyDiagnostic[] = [];
  const errorList: ClippyDiagnostic[] = [];
  const seen = new Set<string>();
  let success: boolean | undefined;
  for (const line of stdout.split("\n")) {
    if (!line.startsWith("{")) continue;
    let msg: CompilerMessage;
    try {
      msg = JSON.parse(line) as CompilerMessage;
    } catch {
      continue; // a test binary's or build script's own output line
    }
    if (msg.reason === "build-finished") success = msg.success === true;
    if (msg.reason !== "compiler-message" || !msg.message) continue;
    const m = msg.message;
    const code = m.code?.code;
    // Summaries ("2 warnings emitted", "aborting due to …") carry no code and no span.
    if (code === undefined && m.spans.length === 0 && /emitted|aborting|generated/.test(m.message)) continue;
    if (m.level !== "warning" && m.level !== "error") continue;
    const span = m.spans.find((s) => s.is_primary) ?? m.spans[0];
    const d: ClippyDiagnostic = {
      level: m.level,
      message: m.message,
      target: msg.target ? `${msg.target.name} (${msg.target.kind.join(", ")})` : "",
    };
    if (code !== undefined) d.code = code;
    if (span) {
      d.file = span.file_name;
      d.line = span.line_start;
      d.column = span.column_start;
    }
    if (m.rendered) d.rendered = m.rendered;
    const id = `${code ?? ""}|${d.file ?? ""}:${d.line ?? 0}:${d.column ?? 0}|${m.message}`;
    if (seen.has(id)) continue;
    seen.add(id);
    if (isLint(code)) lints.push(d);
    else if (m.level === "error") errorList.push(d);
    else lints.push(d); // a code-less warning (e.g. from a build script) still needs fixing
  }
  const byLint: Record<string, number> = {};
  for (const l of lints) byLint[l.code ?? "warning"] = (byLint[l.code ?? "warning"] ?? 0) + 1;
  const out: ClippyResult = { warnings: lints.length, errors: errorList.length, lints, errorList, byLint };
  if (success !== undefined) out.success = success;
  return out;
}
