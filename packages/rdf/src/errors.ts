// Turning oxigraph's and n3's error messages into GgenErrors that point at file:line:column.
import { GgenError, type SourceLocation } from "@ggen/support";

export interface Position {
  line: number;
  column: number;
}

/** Where a parser error message says the problem is (1-based), if it says. */
export function positionIn(message: string): Position | undefined {
  let m = /\bline (\d+) (?:column|between columns) (\d+)/.exec(message);
  if (m) return { line: Number(m[1]), column: Number(m[2]) };
  m = /between line (\d+) column (\d+)/.exec(message);
  if (m) return { line: Number(m[1]), column: Number(m[2]) };
  m = /\berror at (\d+):(\d+)/.exec(message);
  if (m) return { line: Number(m[1]), column: Number(m[2]) };
  m = /\bon line (\d+)/.exec(message); // n3.js
  if (m) return { line: Number(m[1]), column: 1 };
  return undefined;
}

/** The message without the position prefix oxigraph puts in front of it. */
export function cleanMessage(message: string): string {
  return message
    .replace(
      /^Parser error (?:at|between) line \d+ (?:column \d+|between columns \d+ and \d+|column \d+ and line \d+ column \d+):\s*/,
      "",
    )
    .replace(/^error at \d+:\d+:\s*/, "")
    .replace(/\s+on line \d+\.?$/, "")
    .trim();
}

/** Where a text starts inside a bigger file (a query in a template's frontmatter, say). */
export interface Origin {
  name?: string;
  line?: number;
  column?: number;
}

export function locate(origin: Origin, pos: Position | undefined): SourceLocation | undefined {
  if (origin.name === undefined) return undefined;
  if (!pos) {
    const loc: SourceLocation = { file: origin.name };
    if (origin.line !== undefined) loc.line = origin.line;
    if (origin.column !== undefined) loc.column = origin.column;
    return loc;
  }
  const lineOffset = (origin.line ?? 1) - 1;
  const column = pos.line === 1 && origin.column !== undefined ? origin.column - 1 + pos.column : pos.column;
  return { file: origin.name, line: lineOffset + pos.line, column };
}

export function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}

/**
 * A parser that fails at the end of the input reports a place after the last line; point just after
 * the last non-blank character instead, where the reader looks for what is missing.
 */
export function clampToContent(pos: Position | undefined, text: string | undefined): Position | undefined {
  if (!pos || text === undefined) return pos;
  const lines = text.replace(/\s+$/, "").split(/\r?\n/);
  const last = lines.length;
  const lastLine = lines[last - 1] ?? "";
  if (pos.line > last || (pos.line === last && pos.column > lastLine.length + 1)) {
    return { line: last, column: lastLine.length + 1 };
  }
  return pos;
}

/** One readable line: peg's character-class lists are dropped, an unknown prefix is named. */
export function simplify(message: string, text?: string, pos?: Position): string {
  let m = message.replace(/\s+/g, " ").trim();
  if (/Prefix not found/.test(m)) {
    let name = "";
    if (text !== undefined && pos) {
      const line = text.split(/\r?\n/)[pos.line - 1] ?? "";
      const before = line.slice(0, pos.column - 1);
      name = /([A-Za-z][\w.-]*)?:[\w.-]*$/.exec(before)?.[1] ?? "";
    }
    return `unknown prefix '${name}:' (declare it with PREFIX ${name}: <…>)`;
  }
  m = m
    .replace(/\[(?:[^[\]']|'[^']*')*\]/g, "")
    .replace(/(, )+/g, ", ")
    .replace(/one of ,\s*/, "one of ");
  m = m.replace(/,\s*$/, "").replace(/one of ([^,]+)$/, "$1");
  return m.length > 160 ? `${m.slice(0, 157)}…` : m;
}

export function syntaxError(
  code: "RDF_SYNTAX" | "SPARQL_SYNTAX",
  e: unknown,
  origin: Origin,
  kind: "usage" | "failure",
  text?: string,
): GgenError {
  const raw = errorMessage(e);
  const pos = clampToContent(positionIn(raw), text);
  const loc = locate(origin, pos);
  const what = code === "RDF_SYNTAX" ? "RDF syntax error" : "SPARQL syntax error";
  const options: ConstructorParameters<typeof GgenError>[2] = { kind, cause: e };
  if (loc) options.location = loc;
  return new GgenError(code, `${what}: ${simplify(cleanMessage(raw), text, pos)}`, options);
}

/**
 * oxigraph panicked (a Rust panic is a WebAssembly trap): the WASM instance may be half-way through an
 * operation and is never used again — the host that runs it is replaced (see client.ts).
 */
export class EngineFailure extends Error {
  constructor(readonly summary: string) {
    super(summary);
    this.name = "EngineFailure";
  }
}

export function isTrap(e: unknown): boolean {
  // WebAssembly.RuntimeError: what a Rust panic (an `unreachable` trap) surfaces as; a stack overflow
  // inside the engine (a query nested 100,000 deep) leaves it just as unknown.
  return (
    e instanceof EngineFailure ||
    (e instanceof Error && e.name === "RuntimeError") ||
    (e instanceof RangeError && /call stack/i.test(e.message))
  );
}
