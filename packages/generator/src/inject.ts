// Injection into an existing file: pure string → string, so it is tested without a disk. Text
// injection places the body at a line (anchors are literal strings or `/regex/flags`, run on RE2 through
// @ggen/contract's compilePattern: linear time, whatever the pattern); structural injection sets a key
// of a JSON/YAML/TOML file (structured.ts).
import { compilePattern, type SafePattern, type SourceLocation } from "@ggen/contract";
import { editStructured, type StructuredEdit } from "./structured.js";

export interface InjectOptions {
  before?: string;
  after?: string;
  prepend?: boolean;
  append?: boolean;
  /** 1-based: the snippet becomes line n (1 = first line). */
  at_line?: number;
  skip_if?: string;
  /** true: the file ends with a newline after the injection; false: the snippet's trailing newline is dropped. */
  eof_last?: boolean;
  /** `inject: { path, value, add }`: a structural edit instead of a text insertion. */
  structured?: StructuredEdit;
  /** The template line declaring the injection, for pattern errors. */
  where?: SourceLocation;
}

/** Why an injection changed nothing because what it adds is there already (re-runs are idempotent). */
export const ALREADY_PRESENT = "already present";

export type InjectResult = { ok: true; content: string } | { ok: false; reason: string };

const compiled = new Map<string, SafePattern>();

/** `/re/flags` is a regular expression (RE2); anything else matches literally. */
export function toMatcher(pattern: string, where?: SourceLocation): SafePattern {
  let c = compiled.get(pattern);
  if (c) return c;
  const m = /^\/(.+)\/([a-z]*)$/s.exec(pattern);
  c = m
    ? compilePattern(m[1]!, { flags: m[2]!, what: "inject anchor", ...(where ? { location: where } : {}) })
    : compilePattern(pattern.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"), { what: "inject anchor" });
  if (compiled.size > 1000) compiled.clear();
  compiled.set(pattern, c);
  return c;
}

export function inject(existing: string, snippet: string, o: InjectOptions): InjectResult {
  if (o.structured) {
    const r = editStructured(existing, snippet, o.structured);
    return r.changed ? { ok: true, content: r.content } : { ok: false, reason: ALREADY_PRESENT };
  }
  if (o.skip_if !== undefined && toMatcher(o.skip_if, o.where).test(existing))
    return { ok: false, reason: "skip_if matched" };
  let body = snippet;
  if (o.eof_last === false) body = body.replace(/\r?\n$/, "");
  const lineBody = body.endsWith("\n") || body === "" ? body : `${body}\n`;
  if (o.prepend) return { ok: true, content: lineBody + existing };
  if (o.append) {
    const base = existing === "" || existing.endsWith("\n") ? existing : `${existing}\n`;
    let content = base + body;
    if (o.eof_last === true && !content.endsWith("\n")) content += "\n";
    return { ok: true, content };
  }
  const lines = existing.split("\n");
  if (o.at_line !== undefined) {
    const idx = Math.max(0, Math.min(lines.length, o.at_line - 1));
    const before = lines.slice(0, idx).join("\n");
    const after = lines.slice(idx).join("\n");
    return { ok: true, content: (idx > 0 ? `${before}\n` : "") + lineBody + after };
  }
  const pattern = o.before ?? o.after;
  if (pattern === undefined)
    return { ok: false, reason: "inject needs one of before, after, prepend, append, at_line" };
  const re = toMatcher(pattern, o.where);
  const i = lines.findIndex((l) => re.test(l));
  if (i < 0) return { ok: false, reason: `pattern ${pattern} not found` };
  const at = o.before !== undefined ? i : i + 1;
  const head = lines.slice(0, at).join("\n");
  const tail = lines.slice(at).join("\n");
  return { ok: true, content: (at > 0 ? `${head}\n` : "") + lineBody + tail };
}
