// Splitting a template into its YAML frontmatter and Handlebars body, and parsing YAML with
// file:line:column errors (line numbers are those of the template file, not of the snippet).
import { type Document, isMap, isScalar, LineCounter, parseDocument } from "yaml";
import { at, fail } from "./errors.js";

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

export function parseYaml(text: string, file: string, firstLine = 1): ParsedYaml {
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
