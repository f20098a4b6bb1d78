// What a command prints: data as JSON with --json, text otherwise; notes go to stderr so stdout stays
// parseable; --quiet silences notes, never data or errors.

import { type BigIntStats, fstatSync, writeSync } from "node:fs";
import { isatty } from "node:tty";
import { escapeControl } from "./error-line.js";

export interface GlobalOptions {
  json: boolean;
  verbose: boolean;
  quiet: boolean;
  debug: boolean;
  color: boolean;
  cwd: string;
}

export interface Writer {
  write(chunk: string): unknown;
  isTTY?: boolean;
}

/**
 * The process's stdout (1) or stderr (2). Not a TTY (a file, a pipe): written with `writeSync`, which is
 * what Node's own stream does there on Linux — synchronously — without building that stream, whose
 * modules cost a short command several milliseconds. A TTY, or a write the fd refuses (a non-blocking
 * pipe's EAGAIN, a closed reader's EPIPE): `process.stdout`/`stderr` itself from then on, so those
 * behave exactly as before.
 */
/**
 * Whether `fd` is a terminal. Asked of node:tty (which loads Node's net and stream modules) only when it
 * may be one: a file, a pipe or a socket never is, nor, on Linux, a memory device (major 1: /dev/null,
 * /dev/zero), where a program run with its output discarded writes.
 */
function isTerminal(fd: number): boolean {
  let s: BigIntStats;
  try {
    // As bigints: Node 20's realpathSync reads the last plain stat's result back for a path it has
    // cached, and a pipe's there cuts its walk short — module resolution then stops following links.
    s = fstatSync(fd, { bigint: true });
  } catch {
    return false; // closed: not a terminal either for isatty
  }
  if (!s.isCharacterDevice()) return false;
  if (process.platform === "linux" && Number((s.rdev >> 8n) & 0xfffn) === 1) return false;
  return isatty(fd);
}

export class StdioWriter implements Writer {
  private direct: boolean;

  constructor(readonly fd: 1 | 2) {
    this.direct = !isTerminal(fd);
  }

  private get stream(): NodeJS.WriteStream {
    return this.fd === 1 ? process.stdout : process.stderr;
  }

  get isTTY(): boolean {
    return !this.direct && this.stream.isTTY === true;
  }

  write(chunk: string): boolean {
    if (!this.direct) return this.stream.write(chunk);
    let bytes = Buffer.from(chunk);
    try {
      while (bytes.length > 0) bytes = bytes.subarray(writeSync(this.fd, bytes));
      return true;
    } catch {
      this.direct = false;
      return this.stream.write(bytes);
    }
  }
}

let standard: { stdout: StdioWriter; stderr: StdioWriter } | undefined;
/** The one StdioWriter of each of fd 1 and 2 (so a fall-back to the stream holds for every writer). */
export function stdio(): { stdout: StdioWriter; stderr: StdioWriter } {
  standard ??= { stdout: new StdioWriter(1), stderr: new StdioWriter(2) };
  return standard;
}

export class Output {
  readonly options: GlobalOptions;
  readonly stdout: Writer;
  readonly stderr: Writer;

  constructor(options: GlobalOptions, stdout: Writer = stdio().stdout, stderr: Writer = stdio().stderr) {
    this.options = options;
    this.stdout = stdout;
    this.stderr = stderr;
  }

  get json(): boolean {
    return this.options.json;
  }

  /** Prints data: `value` as JSON with --json, otherwise `text()` (lazy so JSON runs skip formatting). */
  data(value: unknown, text: () => string): void {
    if (this.options.json) this.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
    else {
      const t = text();
      if (t) this.stdout.write(t.endsWith("\n") ? t : `${t}\n`);
    }
  }

  /** A line of text on stdout (not in --json mode). */
  line(text: string): void {
    if (!this.options.json) this.stdout.write(`${text}\n`);
  }

  info(text: string): void {
    if (!this.options.quiet) this.stderr.write(`${text}\n`);
  }

  verbose(text: string): void {
    if (this.options.verbose && !this.options.quiet) this.stderr.write(`${text}\n`);
  }

  warn(text: string): void {
    // A warning echoes input (a registry's name, a file's text) like an error line: escaped the same way.
    this.stderr.write(`${this.paint("warning:", 33)} ${escapeControl(text)}\n`);
  }

  paint(text: string, code: number): string {
    return this.options.color && this.stderr.isTTY ? `\x1b[${code}m${text}\x1b[0m` : text;
  }
}
