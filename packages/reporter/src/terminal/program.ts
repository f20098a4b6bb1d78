// The shell both programs share: global options, --help with examples, completion, one error boundary
// (a single line, the stack only with --debug), exit codes 0 ok / 1 failure / 2 usage, and
// "did you mean" for unknown commands and flags.

import { createRequire } from "node:module";
import { HELP_WIDTHS, type HelpTable, helpWidth, widthKey } from "@ggen/help-table";
import { writeFileAtomicSync } from "@ggen/support";
import type { Argv, CommandModule } from "yargs";
import { type Command, type CommandArgs, isYargsModule, toYargsCommand } from "./command.js";
import { COMPLETION_SHELLS, completionScript, defaultShell } from "./completion.js";
import { errorLine } from "./error-line.js";
import { type GlobalOptions, Output, stdio, type Writer } from "./output.js";
import { type QuickParse, quickParse } from "./quick-parse.js";
import { type CommandEntry, diagnose, namesOf, unknownMessage } from "./usage.js";

export interface ProgramSpec {
  name: string;
  version: string;
  description: string;
  // A yargs CommandModule is still accepted until the last commands are tables (defineCommand).
  // biome-ignore lint/suspicious/noExplicitAny: commands have their own argv types; yargs' variance needs any here.
  commands: readonly (Command | CommandModule<any, any>)[];
  examples: readonly [command: string, description: string][];
  epilogue?: string;
}

export interface RunOptions {
  stdout?: Writer;
  stderr?: Writer;
  env?: NodeJS.ProcessEnv;
  /** The width help wraps to (`null`: whole lines) instead of the terminal's (see `helpWidth`). */
  width?: number | null;
  /** false: always parse with yargs (the table parse, `quickParse`, is tried first otherwise); a
   * parse already made of this argv: used as is. */
  quick?: false | QuickParse;
}

export class UsageError extends Error {
  override name = "UsageError";
}

export type GlobalArgs = GlobalOptions & { _: (string | number)[]; $0: string };

/** Builds the Output for a command handler's argv. */
export function outputFor(argv: Partial<GlobalOptions>, io: RunOptions = {}): Output {
  return new Output(
    {
      json: argv.json === true,
      verbose: argv.verbose === true,
      quiet: argv.quiet === true,
      debug: argv.debug === true,
      color: argv.color !== false && !process.env.NO_COLOR,
      cwd: argv.cwd ?? process.cwd(),
    },
    io.stdout,
    io.stderr,
  );
}

/** The program's top level as the usage walk sees it: its tables, and the shell's own completion. */
function topLevel(spec: ProgramSpec): CommandEntry[] {
  const entries: CommandEntry[] = spec.commands.map((c) =>
    isYargsModule(c)
      ? {
          names: [c.command, c.aliases]
            .flat()
            .filter((x): x is string => typeof x === "string")
            .map((a) => a.split(" ")[0]!),
        }
      : { names: namesOf(c), table: c },
  );
  entries.push({ names: ["completion"] });
  return entries;
}

function explainUsage(msg: string, spec: ProgramSpec, argv: readonly string[]): string {
  const d = diagnose(topLevel(spec), argv, { topLevelFlags: ["version"] });
  const unknown = unknownMessage(d, spec.name);
  if (unknown) return unknown;
  const where = [spec.name, ...d.path].join(" ");
  if (/^Not enough non-option arguments/.test(msg)) {
    const hasSub = d.path.length === 0 || d.here.length > 0;
    const what = hasSub && d.here.length > 0 ? `a command (${d.here.join(", ")})` : "an argument";
    return `'${where}' needs ${what}; see '${where} --help'`;
  }
  // yargs: "Invalid values:\n  Argument: backend, Given: "nope", Choices: "auto", "local"" (one line per flag).
  if (/^Invalid values:/.test(msg)) {
    const bad = [...msg.matchAll(/Argument: ([^,]+), Given: (.+?), Choices: (.+)$/gm)].map(
      ([, flag, given, choices]) => `--${flag} ${given}: expected one of ${choices!.replace(/"/g, "")}`,
    );
    if (bad.length > 0) return bad.join("; ");
  }
  const unknownArg = /^Unknown arguments?: (.+)$/.exec(msg);
  if (unknownArg) return `unexpected argument '${unknownArg[1]!.split(", ")[0]}'; see '${where} --help'`;
  return msg.replace(/\n+/g, "; ");
}

/**
 * Ctrl-C: the running command's own cleanup (finally blocks, its signal handlers) runs, then the program
 * exits 130; a second Ctrl-C exits at once. The grace is long (30 s) because cleanup that is cut short
 * leaves containers, databases and locks behind — stopping a PostgreSQL that is still starting takes
 * seconds on a loaded machine; whoever cannot wait presses Ctrl-C again. The listener stays registered throughout: signal-exit (under
 * proper-lockfile, while a lock is held) re-raises a signal it finds no other listener for, which would
 * kill the program before any cleanup ran — a `once` listener is gone by then.
 */
export function exitOnInterrupt(graceMs = 30_000): void {
  let interrupted = false;
  process.on("SIGINT", () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    process.exitCode = 130;
    setTimeout(() => process.exit(130), graceMs).unref();
  });
}

/** What the global options do before any handler runs (whichever parser read them). */
function applyGlobals(a: Record<string, unknown>): void {
  if (typeof a.cwd === "string" && a.cwd) {
    try {
      process.chdir(a.cwd);
    } catch {
      throw new UsageError(`--cwd ${a.cwd}: no such directory`);
    }
  }
  if (a.color === false) process.env.NO_COLOR = "1";
}

export async function runProgram(
  spec: ProgramSpec,
  argv: readonly string[],
  io: RunOptions = {},
): Promise<number> {
  const stderr = io.stderr ?? stdio().stderr;
  const stdout = io.stdout ?? stdio().stdout;
  const env = io.env ?? process.env;
  const debug = argv.includes("--debug");
  let failure: { error: unknown; usage: boolean } | undefined;

  // A plain, well-formed line runs from the tables alone; anything else goes through yargs.
  const quick = io.quick === false ? undefined : (io.quick ?? quickParse(spec.name, spec.commands, argv));
  const yargsParser = () => {
    // yargs' ESM build wraps help every N characters, mid-word; its CommonJS build (cliui with wrap-ansi)
    // wraps at word boundaries. Same package, same version.
    const yargs = createRequire(import.meta.url)("yargs") as typeof import("yargs").default;
    const parser = yargs([...argv])
      .scriptName(spec.name)
      .usage(`${spec.name} — ${spec.description}\n\nUsage: ${spec.name} <command> [options]`)
      .option("json", { type: "boolean", default: false, describe: "Print data as JSON", global: true })
      .option("verbose", { alias: "v", type: "boolean", default: false, describe: "Say more", global: true })
      .option("quiet", {
        alias: "q",
        type: "boolean",
        default: false,
        describe: "Only data and errors",
        global: true,
      })
      .option("debug", {
        type: "boolean",
        default: false,
        describe: "Show stack traces on errors",
        global: true,
      })
      .option("cwd", { type: "string", describe: "Run as if started in this directory", global: true })
      .option("color", {
        type: "boolean",
        default: true,
        describe: "Colour output (--no-color to disable)",
        global: true,
      })
      .middleware(applyGlobals)
      .command(spec.commands.map((c) => (isYargsModule(c) ? c : toYargsCommand(c))))
      // yargs answers `--get-yargs-completions` from the tables; its own script command (which picks the
      // shell from $SHELL) is hidden under a name nobody types, and `completion [shell]` is ours.
      .completion("__yargs-completion-script", false)
      .command({
        command: "completion [shell]",
        describe: `Print a shell completion script (${COMPLETION_SHELLS.join(" or ")}): source <(${spec.name} completion)`,
        builder: (y: Argv) =>
          y.version(false).positional("shell", {
            type: "string",
            describe: `${COMPLETION_SHELLS.join(" or ")} (default: the login shell's, else bash)`,
          }),
        handler: (a) => {
          const shell = typeof a.shell === "string" ? a.shell : defaultShell(env);
          stdout.write(completionScript(spec.name, shell));
        },
      })
      .demandCommand(1, `no command given; see '${spec.name} --help'`)
      .strict()
      .help()
      .alias("help", "h")
      .version(spec.version)
      .wrap(io.width !== undefined ? io.width : helpWidth(env))
      .exitProcess(false)
      .showHelpOnFail(false)
      .fail((msg, err) => {
        if (err) throw err;
        // Throwing stops yargs before it runs a handler with arguments it did not understand.
        throw new UsageError(explainUsage(msg, spec, argv));
      });
    for (const [cmd, desc] of spec.examples) parser.example(cmd, desc);
    if (spec.epilogue) parser.epilogue(spec.epilogue);
    return parser;
  };

  // yargs writes help/version through console.log; route it to our stdout.
  const origLog = console.log;
  const origErr = console.error;
  console.log = (...a: unknown[]) => stdout.write(`${a.join(" ")}\n`);
  console.error = (...a: unknown[]) => stderr.write(`${a.join(" ")}\n`);
  try {
    if (quick) {
      applyGlobals(quick.argv);
      await quick.command.handler?.(quick.argv as unknown as CommandArgs<Record<string, unknown>>);
    } else await yargsParser().parseAsync();
  } catch (e) {
    failure = { error: e, usage: e instanceof UsageError };
  } finally {
    console.log = origLog;
    console.error = origErr;
  }
  if (!failure) return typeof process.exitCode === "number" ? process.exitCode : 0;

  const e = failure.error;
  const { line, exitCode } = errorLine(e, failure.usage);
  stderr.write(`${spec.name}: error: ${line}\n`);
  if (debug) {
    const stack = e instanceof Error && e.stack ? e.stack : new Error(line).stack;
    stderr.write(`${stack}\n`);
  }
  // A command that failed because Ctrl-C stopped it still exits 130 (set by exitOnInterrupt).
  return process.exitCode === 130 ? 130 : exitCode;
}

/** Renders the program's top-level --help at every width the table holds, and its --version. */
export async function renderHelpTable(spec: ProgramSpec): Promise<HelpTable> {
  const said = async (argv: string[], width: number | null) => {
    let text = "";
    const stdout = {
      write: (s: string) => {
        text += s;
        return true;
      },
    };
    const code = await runProgram(spec, argv, { stdout, width, env: {} });
    if (code !== 0) throw new Error(`${spec.name} ${argv.join(" ")} exited ${code}`);
    return text;
  };
  // The table is the English help (yargs translates from the locale it guesses from the environment).
  const locale = process.env.LC_ALL;
  process.env.LC_ALL = "en_US";
  try {
    const help: Record<string, string> = {};
    for (const width of HELP_WIDTHS) help[widthKey(width)] = await said(["--help"], width);
    const version = (await said(["--version"], null)).replace(/\n$/, "");
    return { version, help };
  } finally {
    if (locale === undefined) delete process.env.LC_ALL;
    else process.env.LC_ALL = locale;
  }
}

/** Writes the table a program's bin answers --help and --version from (`answerFromTable`); run by the build. */
export async function writeHelpTable(spec: ProgramSpec, file: string): Promise<void> {
  writeFileAtomicSync(file, `${JSON.stringify(await renderHelpTable(spec))}\n`, { fsync: false });
}

/**
 * A one-command bundle's run (see the apps' bin.ts): runs `argv` with `spec` when the table parse reads
 * it exactly and returns true; otherwise does nothing and returns false, leaving the line (help, a bad
 * flag) to the full program, which says what is wrong the way it always does.
 */
export async function runPlainLine(spec: ProgramSpec, argv: readonly string[]): Promise<boolean> {
  const quick = quickParse(spec.name, spec.commands, argv);
  if (!quick) return false;
  exitOnInterrupt();
  process.exitCode = await runProgram(spec, argv, { quick });
  return true;
}
