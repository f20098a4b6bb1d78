// Structural injection: set (or add to a list) the value at a key path of a JSON, YAML or TOML file,
// as a minimal edit — the rest of the file keeps its bytes, comments and layout. JSON through
// jsonc-parser's `modify` (VS Code's editor for settings files), TOML through toml-patch (parse, change
// the value, patch the text back: comments and formatting kept), YAML as a text edit at the node's
// range from `yaml`'s parser (re-printing a `yaml` Document re-indents sequences and re-folds scalars,
// which would touch the user's formatting). Pure: text in, text out.

import { createRequire } from "node:module";
import { isDeepStrictEqual } from "node:util";
import { GgenError, type SourceLocation } from "@ggen/contract";
import { yaml } from "./lazy.js";

export type EditFormat = "json" | "yaml" | "toml";
export type KeyPath = (string | number)[];

export interface StructuredEdit {
  /** Keys (strings) and list indexes (numbers) from the document's root. */
  path: KeyPath;
  /** The value to set; when absent, the rendered body parsed as YAML (JSON is YAML) is the value. */
  value?: unknown;
  /** The path names a list: add the value unless the list already holds an equal one. */
  add?: boolean;
  format: EditFormat;
  /** Where the edit is declared (the template's `inject:` line), for errors. */
  where?: SourceLocation;
  /** The target as the user knows it (`package.json`), for errors. */
  target?: string;
}

export type EditResult = { changed: false } | { changed: true; content: string };

const require = createRequire(import.meta.url);
type Jsonc = typeof import("jsonc-parser");
type TomlPatch = typeof import("@decimalturn/toml-patch");
let jsoncLib: Jsonc | undefined;
let tomlLib: TomlPatch | undefined;
const jsonc = () => (jsoncLib ??= require("jsonc-parser") as Jsonc);
// toml-patch is ESM-only; it is imported by `loadStructured` before the first TOML edit.
const toml = () => tomlLib!;

/** Loads what an edit of `format` needs (TOML's library is an ES module). */
export async function loadStructured(format: EditFormat): Promise<void> {
  if (format === "toml") tomlLib ??= await import("@decimalturn/toml-patch");
}

/** The format an `inject:` edit of file `to` uses: json, yaml, toml — or undefined when unknown. */
export function formatOf(to: string): EditFormat | undefined {
  const m = /\.(json|jsonc|json5|ya?ml|toml)$/i.exec(to);
  if (!m) return undefined;
  const ext = m[1]!.toLowerCase();
  return ext.startsWith("json") ? "json" : ext === "toml" ? "toml" : "yaml";
}

/**
 * `dependencies.pg`, `dependencies."@types/node"`, `services.web.ports[0]`, `'a.b'.c` → the path.
 * Returns a reason string when the text is not a path.
 */
export function parseKeyPath(text: string): KeyPath | string {
  const out: KeyPath = [];
  let i = 0;
  const n = text.length;
  if (n === 0) return "is empty";
  while (i < n) {
    const c = text[i]!;
    if (c === '"' || c === "'") {
      const end = text.indexOf(c, i + 1);
      if (end < 0) return `has an unclosed ${c}`;
      out.push(text.slice(i + 1, end));
      i = end + 1;
    } else if (c === "[") {
      const end = text.indexOf("]", i);
      const idx = end < 0 ? "" : text.slice(i + 1, end);
      if (!/^\d+$/.test(idx)) return `has a bad list index [${idx}]`;
      out.push(Number(idx));
      i = end + 1;
      if (i < n && text[i] !== "." && text[i] !== "[") return `needs '.' after [${idx}]`;
      if (text[i] === ".") i++;
      continue;
    } else {
      let j = i;
      while (j < n && text[j] !== "." && text[j] !== "[") j++;
      const key = text.slice(i, j).trim();
      if (key === "") return "has an empty key";
      out.push(key);
      i = j;
    }
    if (i < n && text[i] === ".") {
      i++;
      if (i === n) return "ends with '.'";
    } else if (i < n && text[i] !== "[") return `has '${text[i]}' after a quoted key`;
  }
  return out;
}

const show = (p: KeyPath) =>
  p
    .map((s, i) =>
      typeof s === "number" ? `[${s}]` : `${i > 0 ? "." : ""}${/^[\w-]+$/.test(s) ? s : JSON.stringify(s)}`,
    )
    .join("");

function refuse(e: StructuredEdit, message: string): never {
  throw new GgenError("INJECT_STRUCTURED", `${e.target ? `${e.target}: ` : ""}${message}`, {
    kind: "failure",
    ...(e.where ? { location: e.where } : {}),
  });
}

/** The value an edit writes: `value:`, or the body parsed as YAML (so JSON too). */
export function editValue(body: string, e: StructuredEdit): unknown {
  if (e.value !== undefined) return e.value;
  const doc = yaml().parseDocument(body);
  if (doc.errors.length > 0)
    refuse(e, `the template body is not a YAML/JSON value: ${doc.errors[0]!.message.split("\n")[0]}`);
  let v: unknown;
  try {
    v = doc.toJS({ maxAliasCount: 1000 });
  } catch (err) {
    refuse(e, `the template body cannot be read: ${String((err as Error).message ?? err).split("\n")[0]}`);
  }
  if (v === null || v === undefined) refuse(e, "inject needs a value: give 'value:' or a body");
  return v;
}

/** Applies the edit to `text` (the target's content); `changed: false` when it holds already. */
export function editStructured(text: string, body: string, e: StructuredEdit): EditResult {
  const value = editValue(body, e);
  switch (e.format) {
    case "json":
      return editJson(text, value, e);
    case "toml":
      return editToml(text, value, e);
    case "yaml":
      return editYaml(text, value, e);
  }
}

/** The value at `path` of `root`, or undefined; `through` names a scalar the path would go through. */
function walk(root: unknown, path: KeyPath): { value: unknown; through?: number } {
  let v = root;
  for (let i = 0; i < path.length; i++) {
    if (v === undefined || v === null) return { value: undefined };
    if (typeof v !== "object") return { value: undefined, through: i };
    v = (v as Record<string | number, unknown>)[path[i]!];
  }
  return { value: v };
}

/** What the edit does to the current value: nothing, set the whole path, or append to the list. */
function plan(root: unknown, value: unknown, e: StructuredEdit): "same" | "set" | { append: number } {
  const at = walk(root, e.path);
  if (at.through !== undefined)
    refuse(
      e,
      `${show(e.path.slice(0, at.through))} is not a table or list, so ${show(e.path)} cannot be set`,
    );
  if (!e.add) return isDeepStrictEqual(at.value, value) ? "same" : "set";
  if (at.value === undefined) return "set";
  if (!Array.isArray(at.value)) refuse(e, `${show(e.path)} is not a list (add: true)`);
  return at.value.some((x) => isDeepStrictEqual(x, value)) ? "same" : { append: at.value.length };
}

function editJson(text: string, value: unknown, e: StructuredEdit): EditResult {
  const j = jsonc();
  const errors: import("jsonc-parser").ParseError[] = [];
  const root = j.parse(text, errors, { allowTrailingComma: true, disallowComments: false });
  if (errors.length > 0)
    refuse(e, `not valid JSON (${j.printParseErrorCode(errors[0]!.error)} at offset ${errors[0]!.offset})`);
  const p = plan(root, value, e);
  if (p === "same") return { changed: false };
  const indent = /\n([ \t]+)\S/.exec(text)?.[1] ?? "  ";
  const formattingOptions = {
    insertSpaces: !indent.startsWith("\t"),
    tabSize: indent.startsWith("\t") ? 1 : indent.length,
    eol: text.includes("\r\n") ? "\r\n" : "\n",
  };
  const path = p === "set" ? e.path : [...e.path, p.append];
  const edits = j.modify(text, path, p === "set" && e.add ? [value] : value, {
    formattingOptions,
    ...(p === "set" ? {} : { isArrayInsertion: true }),
  });
  return { changed: true, content: j.applyEdits(text, edits) };
}

function editToml(text: string, value: unknown, e: StructuredEdit): EditResult {
  const t = toml();
  let root: Record<string, unknown>;
  try {
    root = t.parse(text) as Record<string, unknown>;
  } catch (err) {
    refuse(e, `not valid TOML (${String((err as Error).message ?? err).split("\n")[0]})`);
  }
  if (e.path.some((s) => typeof s === "number") && e.path.length === 0) refuse(e, "empty path");
  const p = plan(root, value, e);
  if (p === "same") return { changed: false };
  let parent: Record<string | number, unknown> = root;
  for (const seg of e.path.slice(0, -1)) {
    const next = parent[seg];
    if (next === undefined || next === null) parent[seg] = {};
    parent = parent[seg] as Record<string | number, unknown>;
  }
  const last = e.path[e.path.length - 1]!;
  if (p === "set") parent[last] = e.add ? [value] : value;
  else (parent[last] as unknown[]).push(value);
  try {
    return { changed: true, content: t.patch(text, root) };
  } catch (err) {
    refuse(e, `cannot write ${show(e.path)}: ${String((err as Error).message ?? err).split("\n")[0]}`);
  }
}

// ---- YAML: minimal text edits at node ranges ----

type YNode = { range?: [number, number, number] | null; items?: YPair[] | YNode[]; flow?: boolean } | null;
type YPair = { key: YNode & { value?: unknown }; value: YNode };

function lineStart(text: string, pos: number): number {
  return text.lastIndexOf("\n", pos - 1) + 1;
}

/** The position just after the end of the line that holds `pos - 1` (where a new line goes). */
function nextLine(text: string, pos: number): { at: number; lead: string } {
  if (pos === 0 || text[pos - 1] === "\n") return { at: pos, lead: "" };
  const nl = text.indexOf("\n", pos);
  return nl < 0 ? { at: text.length, lead: "\n" } : { at: nl + 1, lead: "" };
}

function editYaml(text: string, value: unknown, e: StructuredEdit): EditResult {
  const Y = yaml();
  const doc = Y.parseDocument(text);
  if (doc.errors.length > 0) refuse(e, `not valid YAML (${doc.errors[0]!.message.split("\n")[0]})`);
  let root: unknown;
  try {
    // Aliases expand: a "billion laughs" file stops at the alias budget instead of filling memory.
    root = doc.toJS({ maxAliasCount: 1000 });
  } catch (err) {
    refuse(e, `cannot read it: ${String((err as Error).message ?? err).split("\n")[0]}`);
  }
  const p = plan(root, value, e);
  if (p === "same") return { changed: false };
  const eol = text.includes("\r\n") ? "\r\n" : "\n";
  const step = Number(/\n( +)\S/.exec(text)?.[1]?.length ?? 2) || 2;
  const block = (v: unknown, indent: string): string[] =>
    Y.stringify(v, { lineWidth: 0, indent: step })
      .replace(/\n$/, "")
      .split("\n")
      .map((l) => indent + l);
  const flow = (v: unknown): string => {
    const d = new Y.Document(v);
    const c = d.contents as { flow?: boolean } | null;
    if (c && typeof c === "object") c.flow = true;
    return d.toString({ lineWidth: 0 }).trim();
  };
  const isCollection = (v: unknown) =>
    typeof v === "object" && v !== null && (Array.isArray(v) ? v.length > 0 : Object.keys(v).length > 0);
  const splice = (from: number, to: number, insert: string): EditResult => ({
    changed: true,
    content: text.slice(0, from) + insert.split("\n").join(eol) + text.slice(to),
  });
  // The new value for the rest of the path, as JS: { rest0: { rest1: value } }.
  const nest = (rest: KeyPath, v: unknown): unknown =>
    rest.reduceRight<unknown>((acc, k) => ({ [String(k)]: acc }), v);
  const target = p === "set" && e.add ? [value] : value;

  let node = doc.contents as YNode;
  for (let i = 0; i <= e.path.length; i++) {
    const last = i === e.path.length;
    const seg = e.path[i];
    if (node === null || node === undefined) {
      // An empty document: the whole path as a block at the end.
      const lines = block(nest(e.path, target), "");
      const at = nextLine(text, text.length);
      return splice(at.at, at.at, `${at.lead}${lines.join("\n")}\n`);
    }
    const range = node.range!;
    if (last || (p !== "set" && i === e.path.length)) break;
    const { isMap, isSeq } = Y;
    if (isMap(node)) {
      const pairs = (node.items ?? []) as YPair[];
      const pair = pairs.find((x) => String((x.key as { value?: unknown })?.value) === String(seg));
      if (!pair) {
        const rest = e.path.slice(i);
        if (node.flow || pairs.length === 0) {
          const merged = {
            ...(walk(root, e.path.slice(0, i)).value as object),
            ...(nest(rest, target) as object),
          };
          return splice(range[0], range[1], flow(merged));
        }
        const indent = " ".repeat(pairs[0]!.key!.range![0] - lineStart(text, pairs[0]!.key!.range![0]));
        const end = pairs[pairs.length - 1]!;
        const endPos = end.value?.range?.[1] ?? end.key!.range![1];
        const at = nextLine(text, endPos);
        return splice(at.at, at.at, `${at.lead}${block(nest(rest, target), indent).join("\n")}\n`);
      }
      const isLast = i === e.path.length - 1;
      const v = pair.value;
      const keyIndent = pair.key!.range![0] - lineStart(text, pair.key!.range![0]);
      if (
        !v?.range ||
        v.range[1] === v.range[0] ||
        (Y.isScalar(v) && (v as { value?: unknown }).value === null)
      ) {
        // `key:` holding nothing: the rest of the path becomes its value, after the colon.
        const put = isLast && p === "set" ? target : nest(e.path.slice(i + 1), target);
        const colon = text.indexOf(":", pair.key!.range![1]);
        const to = v?.range && v.range[1] > v.range[0] ? v.range[1] : colon + 1;
        if (!isCollection(put)) return splice(colon + 1, to, ` ${flow(put)}`);
        return splice(colon + 1, to, `\n${block(put, " ".repeat(keyIndent + step)).join("\n")}`);
      }
      if (isLast && p === "set") {
        if (!isCollection(target) || (v as { flow?: boolean }).flow || !(Y.isMap(v) || Y.isSeq(v)))
          return splice(v.range[0], v.range[1], flow(target));
        // A block collection replaced by one: same column, block style.
        const col = v.range[0] - lineStart(text, v.range[0]);
        return splice(v.range[0], v.range[1], block(target, " ".repeat(col)).join("\n").slice(col));
      }
      node = v;
      continue;
    }
    if (isSeq(node)) {
      const items = (node.items ?? []) as YNode[];
      if (typeof seg !== "number") refuse(e, `${show(e.path.slice(0, i))} is a list: use an index like [0]`);
      if (seg >= items.length) refuse(e, `${show(e.path.slice(0, i + 1))} is past the end of the list`);
      const item = items[seg]!;
      if (i === e.path.length - 1 && p === "set") {
        if (item?.range && !isCollection(target)) return splice(item.range[0], item.range[1], flow(target));
        if (item?.range) return splice(item.range[0], item.range[1], flow(target));
      }
      node = item;
      continue;
    }
    refuse(e, `${show(e.path.slice(0, i))} is not a table or list, so ${show(e.path)} cannot be set`);
  }
  // add: append to the list at the path.
  const list = node as YNode;
  const items = (list?.items ?? []) as YNode[];
  if (!list || !Y.isSeq(list)) return refuse(e, `${show(e.path)} is not a list (add: true)`);
  const r = list.range!;
  if ((list as { flow?: boolean }).flow || items.length === 0) {
    const current = walk(root, e.path).value as unknown[];
    return splice(r[0], r[1], flow([...current, value]));
  }
  const first = items[0]!.range![0];
  const ls = lineStart(text, first);
  const dash = text.lastIndexOf("-", first - 1);
  const dashCol = dash >= ls ? dash - ls : first - ls - 2;
  const lastEnd = items[items.length - 1]!.range![1];
  const at = nextLine(text, lastEnd);
  const body = isCollection(value)
    ? block(value, " ".repeat(dashCol + 2))
        .join("\n")
        .replace(/^ */, `${" ".repeat(dashCol)}- `)
    : `${" ".repeat(dashCol)}- ${flow(value)}`;
  return splice(at.at, at.at, `${at.lead}${body}\n`);
}
