// Splitting a template into its YAML frontmatter and Handlebars body, and parsing YAML with
// file:line:column errors (line numbers are those of the template file, not of the snippet).
import type { Document } from "yaml";
import { at, fail } from "./errors.js";
import type { Compiled } from "./hbs.js";
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

// Placeholders that stand for Handlebars expressions while a template's frontmatter is parsed (private-use
// characters: a frontmatter containing them is refused), and the mark of a plain scalar.
const OPEN = "\uE000";
const CLOSE = "\uE001";
const PLAIN = "\uE002";
const RESERVED = /[\uE000-\uE002]/;

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
    value[m[1]!] =
      typeof sc.value === "string" && sc.value.includes(OPEN) && !/^["']/.test(m[2].trim())
        ? PLAIN + sc.value
        : sc.value;
    lines.set(m[1]!, i + firstLine);
  }
  return { value, lineOf: (p) => lines.get(p), valueLineOf: (p) => lines.get(p) };
}

export function parseYaml(text: string, file: string, firstLine = 1): ParsedYaml {
  return parseSimpleYaml(text, firstLine) ?? parseFull(text, file, firstLine);
}

function parseFull(text: string, file: string, firstLine: number): ParsedYaml {
  const { isMap, isScalar, LineCounter, parseDocument, visit } = yaml();
  const lc = new LineCounter();
  const doc: Document = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  if (text.includes(OPEN)) {
    // A plain (unquoted) scalar holding Handlebars is typed after rendering, like YAML would (see Slot).
    visit(doc, {
      Scalar(_key, node) {
        if (node.type === "PLAIN" && typeof node.value === "string" && node.value.includes(OPEN))
          node.value = PLAIN + node.value;
      },
    });
  }
  const err = doc.errors[0];
  if (err) {
    const pos = lc.linePos(err.pos[0]);
    const msg = err.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?.*$/, "");
    fail("YAML_SYNTAX", `invalid YAML: ${msg}`, at(file, pos.line + firstLine - 1, pos.col), {
      kind: "usage",
    });
  }
  // Each path located once: a template's outputs ask for the same few lines (`to`, `chmod`, …) per row.
  const located = new Map<string, number | undefined>();
  const once = (path: string, value: boolean) => {
    const key = `${value ? "v" : "k"}${path}`;
    if (!located.has(key)) located.set(key, locate(path, value));
    return located.get(key);
  };
  return {
    value: doc.toJS({ maxAliasCount: 1000 }),
    lineOf(path: string) {
      return once(path, false);
    },
    valueLineOf(path: string) {
      return once(path, true);
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

/**
 * A value of a template's frontmatter that holds Handlebars: rendered on its own, its result is data —
 * a string, or (when the scalar was plain) a YAML core-schema scalar — never YAML structure. So a var's
 * value cannot add keys to a frontmatter, whatever it contains.
 */
export class Slot {
  /** Set when the template is loaded (see resolve.ts). */
  compiled: Compiled | undefined;
  constructor(
    /** The value's Handlebars text. */
    readonly source: string,
    /** Written without quotes: the rendered text is typed (number, boolean, null) like a plain scalar. */
    readonly plain: boolean,
    /** Template line of the source's first line. */
    readonly line: number,
    /** The top-level key it belongs to. */
    readonly key: string,
  ) {}
}

const MUSTACHE = /\{\{!--[\s\S]*?--\}\}|\{\{\{[\s\S]*?\}\}\}|\{\{[\s\S]*?\}\}/g;

/**
 * Parses a template's frontmatter once, before any var is known: every Handlebars expression stands in as
 * a placeholder while the YAML is read, so the template's author alone decides its structure; each value
 * holding one becomes a {@link Slot}. A key holding Handlebars, or an expression spanning lines, is refused.
 */
export function parseTemplateFront(text: string, file: string, firstLine: number): ParsedYaml {
  const reserved = RESERVED.exec(text);
  if (reserved) {
    const line = firstLine + text.slice(0, reserved.index).split("\n").length - 1;
    fail("TEMPLATE_FRONTMATTER", "frontmatter holds reserved characters (U+E000–U+E002)", at(file, line), {
      kind: "usage",
    });
  }
  const exprs: string[] = [];
  const lines: number[] = [];
  const lineAt = (index: number) => firstLine + text.slice(0, index).split("\n").length - 1;
  const protectedText = text.replace(MUSTACHE, (m, index: number) => {
    if (m.includes("\n"))
      fail(
        "TEMPLATE_FRONTMATTER",
        "a Handlebars expression in the frontmatter spans lines",
        at(file, lineAt(index)),
        {
          kind: "usage",
          hint: "write it on one line",
        },
      );
    exprs.push(m);
    lines.push(lineAt(index));
    return `${OPEN}${exprs.length - 1}${CLOSE}`;
  });
  const parsed = parseYaml(protectedText, file, firstLine);
  const slotted = (v: unknown, key: string, path: string): unknown => {
    if (typeof v === "string") {
      if (!v.includes(OPEN)) return v;
      const plain = v.startsWith(PLAIN);
      const raw = plain ? v.slice(1) : v;
      let first: number | undefined;
      let before = "";
      const source = raw.replace(/\uE000(\d+)\uE001/g, (_m, i: string, at: number) => {
        if (first === undefined) {
          first = lines[Number(i)];
          before = raw.slice(0, at);
        }
        return exprs[Number(i)]!;
      });
      const line = (first ?? parsed.valueLineOf(path) ?? firstLine) - (before.split("\n").length - 1);
      return new Slot(source, plain, line, key);
    }
    if (Array.isArray(v)) return v.map((x, i) => slotted(x, key, `${path}.${i}`));
    if (v !== null && typeof v === "object") {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) {
        if (k.includes(OPEN))
          fail(
            "TEMPLATE_FRONTMATTER",
            "a frontmatter key cannot hold Handlebars",
            at(file, parsed.lineOf(path ? `${path}.${k}` : k) ?? firstLine),
            {
              kind: "usage",
              hint: "keys are the template's structure; put Handlebars in values",
            },
          );
        out[k] = slotted(x, key || k, path ? `${path}.${k}` : k);
      }
      return out;
    }
    return v;
  };
  return { ...parsed, value: slotted(parsed.value, "", "") };
}

/** Every slot of a parsed frontmatter value, in document order. */
export function slotsOf(v: unknown, out: Slot[] = []): Slot[] {
  if (v instanceof Slot) out.push(v);
  else if (Array.isArray(v)) for (const x of v) slotsOf(x, out);
  else if (v !== null && typeof v === "object") for (const x of Object.values(v)) slotsOf(x, out);
  return out;
}

/** A rendered plain scalar, typed as YAML 1.2's core schema types a plain scalar: only ever a scalar. */
export function plainScalar(text: string): unknown {
  const t = text.trim();
  if (/^(?:~|null|Null|NULL)?$/.test(t)) return null;
  if (/^(?:true|True|TRUE)$/.test(t)) return true;
  if (/^(?:false|False|FALSE)$/.test(t)) return false;
  if (/^[-+]?[0-9]+$/.test(t)) return Number(t);
  if (/^0o[0-7]+$/.test(t)) return Number.parseInt(t.slice(2), 8);
  if (/^0x[0-9a-fA-F]+$/.test(t)) return Number.parseInt(t.slice(2), 16);
  if (/^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$/.test(t)) return Number(t);
  if (/^[-+]?\.(?:inf|Inf|INF)$/.test(t)) return t.startsWith("-") ? -Infinity : Infinity;
  if (/^\.(?:nan|NaN|NAN)$/.test(t)) return Number.NaN;
  return t;
}
