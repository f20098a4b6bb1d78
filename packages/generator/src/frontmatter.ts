// Splitting a template into its YAML frontmatter and Handlebars body, and parsing YAML with
// file:line:column errors (line numbers are those of the template file, not of the snippet).
import type { Document } from "yaml";
import { at, fail } from "./errors.js";
import { yaml } from "./lazy.js";

export interface SplitTemplate {
  /** Frontmatter text (without the --- lines), or undefined when the template has none. */
  front: string | undefined;
  /** 1-based line of the template file where the frontmatter text starts. */
  frontLine: number;
  body: string;
  /** 1-based line of the template file where the body starts. */
  bodyLine: number;
}

export function splitTemplate(text: string, file: string): SplitTemplate {
  const src = text.startsWith("\uFEFF") ? text.slice(1) : text;
  if (!/^---[ \t]*\r?\n/.test(src)) return { front: undefined, frontLine: 1, body: src, bodyLine: 1 };
  const lines = src.split("\n");
  for (let i = 1; i < lines.length; i++) {
    if (/^---[ \t]*\r?$/.test(lines[i]!)) {
      return {
        front: lines.slice(1, i).join("\n"),
        frontLine: 2,
        body: lines.slice(i + 1).join("\n"),
        bodyLine: i + 2,
      };
    }
  }
  fail("TEMPLATE_FRONTMATTER", "frontmatter opened with '---' is never closed", at(file, 1, 1), {
    kind: "usage",
    hint: "end the frontmatter with a line containing only '---'",
  });
}

export interface ParsedYaml {
  value: unknown;
  /** 1-based template line of a top-level key, or of a key under a top-level map (`vars.name`). */
  lineOf(path: string): number | undefined;
  /** 1-based template line where the value of `path` starts (the line after `|` for block scalars). */
  valueLineOf(path: string): number | undefined;
}

const PLAIN_KEY = /^([A-Za-z_][\w-]*):(?:[ \t]+(.*))?$/;

/** A plain scalar in YAML 1.2's core schema, or undefined when it is anything this fast path does not handle. */
function simpleScalar(raw: string): { value: unknown } | undefined {
  const v = raw.trim();
  if (v === "") return undefined;
  if (v.startsWith('"')) return /^"[^"\\]*"$/.test(v) ? { value: v.slice(1, -1) } : undefined;
  if (v.startsWith("'")) return /^'[^']*'$/.test(v) ? { value: v.slice(1, -1) } : undefined;
  if (/^[[\]{}&*!|>%@`#,?:-]/.test(v) || v.includes(": ") || v.includes(" #") || v.endsWith(":"))
    return undefined;
  if (v === "true" || v === "false") return { value: v === "true" };
  if (v === "null" || v === "~") return { value: null };
  if (/^-?(0|[1-9]\d*)$/.test(v)) return { value: Number(v) };
  if (/^[-+.\d]/.test(v) || /^(true|false|null|yes|no|on|off)$/i.test(v) || /^\.(inf|nan)$/i.test(v))
    return undefined;
  return { value: v };
}

/**
 * Frontmatter made only of `key: scalar` lines (the common case: `to: src/{{name}}.ts`) is read here
 * without loading the YAML library; anything else (or anything doubtful) returns undefined.
 */
export function parseSimpleYaml(text: string, firstLine = 1): ParsedYaml | undefined {
  const value: Record<string, unknown> = {};
  const lines = new Map<string, number>();
  const all = text.split("\n");
  for (let i = 0; i < all.length; i++) {
    const line = all[i]!.replace(/\r$/, "");
    if (line.trim() === "" || /^#/.test(line)) continue;
    const m = PLAIN_KEY.exec(line);
    if (!m || m[2] === undefined || lines.has(m[1]!)) return undefined;
    const sc = simpleScalar(m[2]);
    if (!sc) return undefined;
    value[m[1]!] = sc.value;
    lines.set(m[1]!, i + firstLine);
  }
  return { value, lineOf: (p) => lines.get(p), valueLineOf: (p) => lines.get(p) };
}

const blockCache = new Map<string, ParsedYaml>();

/**
 * A frontmatter rendered once per row (for_each) differs from row to row in a line or two: parse it as
 * independent top-level blocks (a `key:` line at column 0 and its indented continuation) and reuse the
 * parse of every block seen before. Anything unusual, or any error, goes to the whole-document parse.
 */
function parseByBlocks(text: string, file: string, firstLine: number): ParsedYaml | undefined {
  const lines = text.split("\n");
  const blocks: { key: string; start: number; text: string }[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (/^[A-Za-z_][\w-]*:/.test(line)) {
      blocks.push({ key: line.slice(0, line.indexOf(":")), start: i, text: line });
    } else if (line.trim() === "" || /^\s/.test(line) || line.startsWith("#")) {
      const b = blocks[blocks.length - 1];
      if (b) b.text += `\n${line}`;
      else if (line.trim() !== "" && !line.startsWith("#")) return undefined;
    } else {
      return undefined;
    }
  }
  const value: Record<string, unknown> = {};
  const parts = new Map<string, { parsed: ParsedYaml; offset: number }>();
  for (const b of blocks) {
    if (parts.has(b.key)) return undefined;
    let parsed = blockCache.get(b.text);
    if (!parsed) {
      try {
        parsed = parseSimpleYaml(b.text, 1) ?? parseFull(b.text, file, 1);
      } catch {
        return undefined;
      }
      const v = parsed.value as Record<string, unknown> | null;
      if (!v || typeof v !== "object" || Object.keys(v).length !== 1 || !Object.hasOwn(v, b.key))
        return undefined;
      if (blockCache.size > 5000) blockCache.clear();
      blockCache.set(b.text, parsed);
    }
    value[b.key] = (parsed.value as Record<string, unknown>)[b.key];
    parts.set(b.key, { parsed, offset: firstLine + b.start - 1 });
  }
  const find = (path: string, f: (p: ParsedYaml, path: string) => number | undefined) => {
    const part = parts.get(path.split(".")[0]!);
    if (!part) return undefined;
    const line = f(part.parsed, path);
    return line === undefined ? undefined : line + part.offset;
  };
  return {
    value,
    lineOf: (p) => find(p, (y, q) => y.lineOf(q)),
    valueLineOf: (p) => find(p, (y, q) => y.valueLineOf(q)),
  };
}

export function parseYaml(text: string, file: string, firstLine = 1): ParsedYaml {
  const simple = parseSimpleYaml(text, firstLine);
  if (simple) return simple;
  return parseByBlocks(text, file, firstLine) ?? parseFull(text, file, firstLine);
}

function parseFull(text: string, file: string, firstLine: number): ParsedYaml {
  const { isMap, isScalar, LineCounter, parseDocument } = yaml();
  const lc = new LineCounter();
  const doc: Document = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  const err = doc.errors[0];
  if (err) {
    const pos = lc.linePos(err.pos[0]);
    const msg = err.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?.*$/, "");
    fail("YAML_SYNTAX", `invalid YAML: ${msg}`, at(file, pos.line + firstLine - 1, pos.col), {
      kind: "usage",
    });
  }
  return {
    value: doc.toJS({ maxAliasCount: 1000 }),
    lineOf(path: string) {
      return locate(path, false);
    },
    valueLineOf(path: string) {
      return locate(path, true);
    },
  };

  function locate(path: string, value: boolean): number | undefined {
    let node: unknown = doc.contents;
    let line: number | undefined;
    for (const part of path.split(".")) {
      if (!isMap(node)) return line;
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === part);
      if (!pair) return line;
      const key = pair.key as { range?: [number, number, number] };
      if (key.range) line = lc.linePos(key.range[0]).line + firstLine - 1;
      node = pair.value;
    }
    if (value && isScalar(node) && node.range) {
      const block = node.type === "BLOCK_LITERAL" || node.type === "BLOCK_FOLDED";
      line = lc.linePos(node.range[0]).line + firstLine - 1 + (block ? 1 : 0);
    }
    return line;
  }
}
