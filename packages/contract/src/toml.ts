// TOML inputs (ggen.toml, vars files) parsed with the place of a problem, as parseJson does for JSON:
// a syntax error at file:line:col, and the line and column of any key a later check complains about.
import { createRequire } from "node:module";
import { GgenError } from "./errors.js";

// smol-toml is loaded on first use: most runs read no TOML at all.
const require = createRequire(import.meta.url);
let tomlLib: typeof import("smol-toml") | undefined;

/** TOML text to data; a syntax error becomes a GgenError at file:line:col. */
export function parseToml(
  text: string,
  file: string,
  code: string,
  kind: "usage" | "failure",
): Record<string, unknown> {
  tomlLib ??= require("smol-toml") as typeof import("smol-toml");
  try {
    return tomlLib.parse(text) as Record<string, unknown>;
  } catch (e) {
    const te = e as { message?: string; line?: number; column?: number };
    const first = String(te.message ?? e)
      .split("\n")[0]!
      .replace(/^Invalid TOML document: /, "");
    throw new GgenError(code, `invalid TOML: ${first}`, {
      kind,
      location: {
        file,
        ...(te.line ? { line: te.line } : {}),
        ...(te.line && te.column ? { column: te.column } : {}),
      },
    });
  }
}

/** `key`, `"quoted key"` or `'literal key'` at the start of `s`, and where it ends. */
function readKey(s: string, from: number): { key: string; end: number } | undefined {
  const q = s[from];
  if (q === '"' || q === "'") {
    const close = s.indexOf(q, from + 1);
    return close < 0 ? undefined : { key: s.slice(from + 1, close), end: close + 1 };
  }
  const m = /^[A-Za-z0-9_-]+/.exec(s.slice(from));
  return m ? { key: m[0], end: from + m[0].length } : undefined;
}

/** A dotted key (`a."b.c".d`) split into its parts. */
function readDotted(s: string): string[] | undefined {
  const parts: string[] = [];
  let i = 0;
  for (;;) {
    while (s[i] === " " || s[i] === "\t") i++;
    const k = readKey(s, i);
    if (!k) return undefined;
    parts.push(k.key);
    i = k.end;
    while (s[i] === " " || s[i] === "\t") i++;
    if (s[i] !== ".") return i === s.length ? parts : undefined;
    i++;
  }
}

/**
 * Line and column of the key at `path` (e.g. ["templates", 1, "path"], ["dependencies", "io.x"]) in a
 * TOML text — or of its deepest ancestor written there ([templates] #2's header, the [pack] table), so
 * a missing key points at the table it belongs in. Best effort: keys inside inline tables and
 * multi-line values point at their enclosing key.
 */
export function tomlKeyLocation(
  text: string,
  path: readonly (string | number)[],
): { line: number; column: number } | undefined {
  const want = path.map(String);
  const arrays = new Map<string, number>();
  let table: string[] = [];
  let best: { depth: number; line: number; column: number } | undefined;
  const consider = (keyPath: string[], line: number, column: number) => {
    let depth = 0;
    while (depth < keyPath.length && depth < want.length && keyPath[depth] === want[depth]) depth++;
    if (depth === keyPath.length && depth > 0 && (!best || depth > best.depth))
      best = { depth, line, column };
  };
  const lines = text.split("\n");
  for (let n = 0; n < lines.length; n++) {
    const raw = lines[n]!;
    const start = raw.length - raw.trimStart().length;
    const s = raw.trim();
    if (s === "" || s.startsWith("#")) continue;
    const header = /^\[\[(.+?)\]\]|^\[(.+?)\]/.exec(s);
    if (header) {
      const names = readDotted((header[1] ?? header[2])!.trim());
      if (!names) continue;
      if (header[1] !== undefined) {
        const name = names.join(".");
        const i = arrays.get(name) ?? 0;
        arrays.set(name, i + 1);
        table = [...names, String(i)];
      } else {
        table = names;
      }
      consider(table, n + 1, start + 1);
      continue;
    }
    const eq = s.indexOf("=");
    const keys = eq > 0 ? readDotted(s.slice(0, eq).trimEnd()) : undefined;
    if (keys) consider([...table, ...keys], n + 1, start + 1);
  }
  return best && { line: best.line, column: best.column };
}
