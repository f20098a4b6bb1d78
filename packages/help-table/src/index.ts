// A program's `--help` and `--version`, rendered once at build time for every width help can wrap to, and
// answered at startup from that table: the commonest calls then load neither the parser nor a command.
// This module imports only node:fs, so the answer costs little more than starting Node.

import { readFileSync } from "node:fs";

/** What the build renders: the version line and the top-level help, by width (`"none"`: not wrapped). */
export interface HelpTable {
  version: string;
  help: Record<string, string>;
}

/** The widths the table holds: `helpWidth`'s range when piped (a narrower terminal takes the long way). */
export const HELP_WIDTHS: readonly (number | null)[] = [
  null,
  ...Array.from({ length: 81 }, (_, i) => 40 + i),
];

export const widthKey = (width: number | null): string => (width === null ? "none" : String(width));

interface Stdout {
  isTTY?: boolean;
  columns?: number;
}

/** Help is wrapped to the terminal (at most 120 columns), to $COLUMNS or 80 when piped; GGEN_HELP_WRAP=none
 * leaves lines whole (the README command reference is built from --help). */
export function helpWidth(env: NodeJS.ProcessEnv, stdout: Stdout = process.stdout): number | null {
  if (env.GGEN_HELP_WRAP === "none") return null;
  if (stdout.isTTY && stdout.columns) return Math.min(120, stdout.columns);
  const cols = Number(env.COLUMNS);
  return Number.isInteger(cols) && cols >= 40 ? Math.min(120, cols) : 80;
}

/** The table is rendered in English; the parser translates its help for other locales, so those take the
 * long way (the locale as yargs guesses it). */
export function englishLocale(env: NodeJS.ProcessEnv): boolean {
  const locale = (env.LC_ALL || env.LC_MESSAGES || env.LANG || env.LANGUAGE || "en_US").replace(/[.:].*/, "");
  return /^(en([_-].*)?|C|POSIX)$/.test(locale);
}

/** The table's answer to `argv` when it is exactly `--help`, `-h` or `--version`, else undefined. */
export function tableAnswer(
  table: HelpTable,
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  stdout: Stdout = process.stdout,
): string | undefined {
  if (argv.length !== 1 || !englishLocale(env)) return undefined;
  if (argv[0] === "--version") return `${table.version}\n`;
  // A width the table lacks (a terminal under 40 columns) is left to the parser.
  if (argv[0] === "--help" || argv[0] === "-h") return table.help[widthKey(helpWidth(env, stdout))];
  return undefined;
}

/**
 * Writes the answer from the table file next to the program and returns true, or returns false (the
 * program runs as usual) when the call is not one the table answers or the table is missing.
 */
export function answerFromTable(
  tableFile: URL | string,
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): boolean {
  if (argv.length !== 1) return false;
  let table: HelpTable;
  try {
    table = JSON.parse(readFileSync(tableFile, "utf8")) as HelpTable;
  } catch {
    return false; // not built yet (a source checkout mid-build): the parser renders it
  }
  const answer = tableAnswer(table, argv, env);
  if (answer === undefined) return false;
  process.stdout.write(answer);
  return true;
}
