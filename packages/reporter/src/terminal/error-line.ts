// The one line a failed command leaves on stderr. What it echoes may come from the input (a pack id, a
// file's bytes, a registry's text), so control bytes are escaped before they reach a terminal (ESC could
// repaint it, NUL or a gzip header garble it), the line is bounded, and Node's internal messages
// (EISDIR, ENOENT…) are put in words.

import { isGgenError } from "@ggen/contract";

/** C0 controls but tab, DEL, C1 controls, line/paragraph separators and bidi overrides. */
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

const NAMED: Record<string, string> = { "\n": "\\n", "\r": "\\r" };

const HAS_CONTROL = new RegExp(CONTROL.source);

/** `text` with every control character written as an escape (`\x1b`, `\n`, `\u{202e}`). */
export function escapeControl(text: string): string {
  if (!HAS_CONTROL.test(text)) return text; // the common case, without building a copy
  return text.replace(CONTROL, (c) => {
    const named = NAMED[c];
    if (named) return named;
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u{${code.toString(16)}}`;
  });
}

/** An error line is cut here: a 64 MiB value quoted in a message must not become a 64 MiB line. */
export const MAX_ERROR_LINE = 2000;

function bounded(text: string, max = MAX_ERROR_LINE): string {
  if (text.length <= max) return text;
  return `${text.slice(0, max)}… (${text.length - max} more characters)`;
}

// What Node's system errors mean, said for a person (the code stays available under --debug).
const SYSTEM: Record<string, string> = {
  ENOENT: "no such file or directory",
  EISDIR: "is a directory, expected a file",
  ENOTDIR: "not a directory",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EEXIST: "already exists",
  ENOTEMPTY: "directory not empty",
  ELOOP: "too many levels of symbolic links",
  ENAMETOOLONG: "file name too long",
  ENOSPC: "no space left on device",
  EDQUOT: "disk quota exceeded",
  EROFS: "read-only file system",
  EMFILE: "too many open files",
  ENFILE: "too many open files",
  EXDEV: "cannot move across file systems",
  EBUSY: "resource busy",
  EINVAL: "invalid argument",
  EFBIG: "file too large",
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset by the other side",
  ETIMEDOUT: "timed out",
  ENOTFOUND: "host not found",
  EAI_AGAIN: "host name lookup failed",
  EPIPE: "broken pipe",
  EADDRINUSE: "address already in use",
};

// Limits the JavaScript engine hits on hostile input, with the input named as the cause.
const ENGINE: [RegExp, string][] = [
  [/^Maximum call stack size exceeded/, "input nested too deeply (maximum call stack size exceeded)"],
  [/^Invalid string length|^Cannot create a string longer than/, "input too large to hold as text"],
  [/^Array buffer allocation failed|^Invalid array length/, "input too large to hold in memory"],
];

interface NodeError extends Error {
  code?: string;
  syscall?: string;
  path?: string;
  dest?: string;
}

/** A system error (one with a known errno code) as `path: what it means`. */
function systemLine(e: NodeError): string | undefined {
  const text = e.code ? SYSTEM[e.code] : undefined;
  if (!text) return undefined;
  if (e.path) return `${e.path}: ${text}${e.dest ? ` (to ${e.dest})` : ""}`;
  return e.syscall ? `${text} (${e.syscall})` : text;
}

export interface ErrorLine {
  /** The line after `<program>: error: `: escaped, bounded, one line. */
  line: string;
  /** 2 for a usage error, 1 otherwise. */
  exitCode: 1 | 2;
}

/**
 * The one line for `error`. `usage` marks a usage error raised by the shell itself (a bad flag).
 * A GgenError speaks for itself; a system error is put in words; an engine limit names the input; a
 * programming error says so, rather than passing for a message about the input.
 */
export function errorLine(error: unknown, usage = false): ErrorLine {
  let line: string;
  let exitCode: 1 | 2 = usage ? 2 : 1;
  if (isGgenError(error)) {
    line = error.toLine();
    exitCode = error.exitCode;
  } else if (error instanceof Error) {
    const e = error as NodeError;
    const engine = ENGINE.find(([re]) => re.test(e.message));
    line =
      systemLine(e) ??
      (engine
        ? engine[1]
        : usage
          ? e.message
          : e instanceof TypeError || e instanceof ReferenceError
            ? `internal error: ${e.message} (--debug shows where)`
            : e.code && !e.message.includes(e.code)
              ? `${e.code}: ${e.message}`
              : e.message);
  } else line = String(error);
  return { line: escapeControl(bounded(line.replace(/\s+$/, ""))), exitCode };
}
