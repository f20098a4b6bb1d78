// One error type for every package: a stable code a program can switch on, a message a person can
// act on, and where the problem is (file:line:column) when there is a place to point at.

export interface SourceLocation {
  file: string;
  line?: number;
  column?: number;
}

export type ErrorKind = "usage" | "failure";

export interface GgenErrorOptions {
  location?: SourceLocation;
  /** "usage" exits 2 (bad arguments or input shape), "failure" exits 1. */
  kind?: ErrorKind;
  hint?: string;
  cause?: unknown;
}

export class GgenError extends Error {
  readonly code: string;
  readonly location: SourceLocation | undefined;
  readonly kind: ErrorKind;
  readonly hint: string | undefined;

  constructor(code: string, message: string, options: GgenErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "GgenError";
    this.code = code;
    this.location = options.location;
    this.kind = options.kind ?? "failure";
    this.hint = options.hint;
  }

  get exitCode(): 1 | 2 {
    return this.kind === "usage" ? 2 : 1;
  }

  /** The single line shown to a user: `file:line:col: message (hint)`. */
  toLine(): string {
    const where = formatLocation(this.location);
    const hint = this.hint ? ` (${this.hint})` : "";
    return `${where ? `${where}: ` : ""}${this.message}${hint}`;
  }
}

export function formatLocation(loc: SourceLocation | undefined): string {
  if (!loc) return "";
  let s = loc.file;
  if (loc.line !== undefined) {
    s += `:${loc.line}`;
    if (loc.column !== undefined) s += `:${loc.column}`;
  }
  return s;
}

export function isGgenError(e: unknown): e is GgenError {
  return (
    e instanceof Error &&
    (e as { name?: string }).name === "GgenError" &&
    typeof (e as GgenError).code === "string"
  );
}
