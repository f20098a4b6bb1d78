// JSON.parse with the place of a syntax error: every program's JSON inputs (manifests, lockfiles, run
// records, indexes) point at file:line:col, as YAML and TOML inputs do.
import { GgenError, type SourceLocation } from "./errors.js";

/** 1-based line and column of a character offset. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let last = -1;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      last = i;
    }
  }
  return { line, column: offset - last };
}

/** JSON.parse, but a syntax error becomes a GgenError pointing at file:line:col. */
export function parseJson(text: string, file: string, code: string, kind: "usage" | "failure"): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    const pos = /position (\d+)/.exec(msg);
    const at = pos ? Number(pos[1]) : jsonErrorOffset(text);
    const location: SourceLocation = { file, ...lineColumn(text, at) };
    const found = at >= text.length ? "unexpected end of input" : `unexpected ${JSON.stringify(text[at])}`;
    throw new GgenError(code, `not valid JSON: ${found}`, { kind, location });
  }
}

/** Offset of the first syntax error in `text` (V8's messages do not always carry a position). */
export function jsonErrorOffset(text: string): number {
  let i = 0;
  const ws = () => {
    while (i < text.length && " \t\n\r".includes(text[i]!)) i++;
  };
  class Stop extends Error {}
  const stop = (): never => {
    throw new Stop();
  };
  const lit = (word: string) => {
    if (text.startsWith(word, i)) i += word.length;
    else stop();
  };
  const str = () => {
    if (text[i] !== '"') stop();
    i++;
    while (i < text.length && text[i] !== '"') {
      if (text.charCodeAt(i) < 0x20) stop();
      i += text[i] === "\\" ? 2 : 1;
    }
    if (i >= text.length) stop();
    i++;
  };
  const num = () => {
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (!m) stop();
    i += m![0].length;
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === "{") {
      i++;
      ws();
      if (text[i] === "}") {
        i++;
        return;
      }
      for (;;) {
        ws();
        str();
        ws();
        if (text[i] !== ":") stop();
        i++;
        value();
        ws();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "}") {
          i++;
          return;
        }
        stop();
      }
    } else if (c === "[") {
      i++;
      ws();
      if (text[i] === "]") {
        i++;
        return;
      }
      for (;;) {
        value();
        ws();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "]") {
          i++;
          return;
        }
        stop();
      }
    } else if (c === '"') str();
    else if (c === "t") lit("true");
    else if (c === "f") lit("false");
    else if (c === "n") lit("null");
    else num();
  };
  try {
    value();
    ws();
    return i;
  } catch (e) {
    if (e instanceof Stop) return i;
    throw e;
  }
}
