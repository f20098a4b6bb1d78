// What a command prints: data as JSON with --json, text otherwise; notes go to stderr so stdout stays
// parseable; --quiet silences notes, never data or errors.

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

export class Output {
  readonly options: GlobalOptions;
  readonly stdout: Writer;
  readonly stderr: Writer;

  constructor(options: GlobalOptions, stdout: Writer = process.stdout, stderr: Writer = process.stderr) {
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
