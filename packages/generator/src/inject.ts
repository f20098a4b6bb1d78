// Injection into an existing file: pure string → string, so it is tested without a disk.
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
}

export type InjectResult = { ok: true; content: string } | { ok: false; reason: string };

/** `/re/flags` is a regular expression; anything else matches literally. */
export function toMatcher(pattern: string): RegExp {
  const m = /^\/(.+)\/([gimsuy]*)$/s.exec(pattern);
  if (m) return new RegExp(m[1]!, m[2]!.replace("g", ""));
  return new RegExp(pattern.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
}

export function inject(existing: string, snippet: string, o: InjectOptions): InjectResult {
  if (o.skip_if !== undefined && toMatcher(o.skip_if).test(existing))
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
  const re = toMatcher(pattern);
  const i = lines.findIndex((l) => re.test(l));
  if (i < 0) return { ok: false, reason: `pattern ${pattern} not found` };
  const at = o.before !== undefined ? i : i + 1;
  const head = lines.slice(0, at).join("\n");
  const tail = lines.slice(at).join("\n");
  return { ok: true, content: (at > 0 ? `${head}\n` : "") + lineBody + tail };
}
