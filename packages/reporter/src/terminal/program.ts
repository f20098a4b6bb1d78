// The shell both programs share: global options, --help with examples, completion, one error boundary
// (a single line, the stack only with --debug), exit codes 0 ok / 1 failure / 2 usage, and
// "did you mean" for unknown commands and flags.

import { isGgenError } from "@ggen/contract";
import { closest } from "@ggen/support";
import type { Argv, CommandModule } from "yargs";
import { type Command, isYargsModule, toYargsCommand } from "./command.js";
import { type GlobalOptions, Output, type Writer } from "./output.js";

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
}

const GLOBAL_FLAGS = ["json", "verbose", "quiet", "debug", "cwd", "color", "no-color", "help", "version"];

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

/** Names of the commands at the level yargs was parsing when it failed (subcommands included). */
function levelCommands(parser: Argv | undefined): string[] {
  try {
    const internal = (
      parser as unknown as {
        getInternalMethods?: () => { getCommandInstance(): { getCommands(): string[] } };
      }
    )?.getInternalMethods?.();
    return internal?.getCommandInstance().getCommands() ?? [];
  } catch {
    return [];
  }
}

function commandNames(commands: ProgramSpec["commands"]): string[] {
  const names: string[] = [];
  for (const c of commands) {
    const all = [c.command, c.aliases].flat().filter((x): x is string => typeof x === "string");
    for (const a of all) names.push(a.split(" ")[0]!);
  }
  return names;
}

function explainUsage(
  msg: string,
  y: Argv | undefined,
  spec: ProgramSpec,
  argv: readonly string[],
  parser?: Argv,
): string {
  const unknownArg = /^Unknown arguments?: (.+)$/.exec(msg);
  if (unknownArg) {
    const words = unknownArg[1]!.split(", ");
    const isFlag = (w: string) =>
      argv.some((a) => a.startsWith("-") && a.replace(/^-+/, "").split("=")[0] === w);
    // An unknown command is named before any complaint about the options given to it.
    const first = words.find((w) => !isFlag(w)) ?? words[0]!;
    const flagLike = isFlag(first);
    if (!flagLike) {
      const here = levelCommands(parser);
      const hint = closest(first, here.length > 0 ? here : commandNames(spec.commands));
      return `unknown command '${first}'${hint ? ` (did you mean '${hint}'?)` : ""}; see '${spec.name} --help'`;
    }
    const getOptions = (y as unknown as { getOptions?: () => { key?: Record<string, unknown> } } | undefined)
      ?.getOptions;
    const known = typeof getOptions === "function" ? Object.keys(getOptions.call(y).key ?? {}) : [];
    const options = [...new Set([...known, ...GLOBAL_FLAGS])];
    if (first === "version")
      return `unknown option '--version' here ('${spec.name} --version' is the program's version)`;
    const hint = closest(first, options);
    return `unknown option '--${first}'${hint ? ` (did you mean '--${hint}'?)` : ""}`;
  }
  // A parent command that demands a subcommand took the misspelt word as its positional: name that word.
  const here = levelCommands(parser);
  if (here.length > 0) {
    const words = argv.filter((a, i) => !a.startsWith("-") && argv[i - 1] !== "--cwd");
    const known = new Set([...here, ...commandNames(spec.commands)]);
    let last = -1;
    words.forEach((w, i) => {
      if (known.has(w)) last = i;
    });
    const candidate = words[last + 1];
    if (last >= 0 && candidate !== undefined && !here.includes(candidate)) {
      const hint = closest(candidate, here);
      return `unknown command '${candidate}'${hint ? ` (did you mean '${hint}'?)` : ""}; see '${spec.name} ${words
        .slice(0, last + 1)
        .join(" ")} --help'`;
    }
  }
  if (/^Not enough non-option arguments/.test(msg)) {
    // The command path: the words on the line, less flags and --cwd's value.
    const words = argv.filter((a, i) => !a.startsWith("-") && argv[i - 1] !== "--cwd");
    const what = here.length > 0 ? `a command (${here.join(", ")})` : "an argument";
    return `'${[spec.name, ...words].join(" ")}' needs ${what}; see '${[spec.name, ...words].join(" ")} --help'`;
  }
  const unknownCmd = /^Unknown command: (.+)$/.exec(msg);
  if (unknownCmd) {
    const hint = closest(unknownCmd[1]!, commandNames(spec.commands));
    return `unknown command '${unknownCmd[1]}'${hint ? ` (did you mean '${hint}'?)` : ""}`;
  }
  // yargs: "Invalid values:\n  Argument: backend, Given: "nope", Choices: "auto", "local"" (one line per flag).
  if (/^Invalid values:/.test(msg)) {
    const bad = [...msg.matchAll(/Argument: ([^,]+), Given: (.+?), Choices: (.+)$/gm)].map(
      ([, flag, given, choices]) => `--${flag} ${given}: expected one of ${choices!.replace(/"/g, "")}`,
    );
    if (bad.length > 0) return bad.join("; ");
  }
  return msg.replace(/\n+/g, "; ");
}

/**
 * Ctrl-C: the running command's own cleanup (finally blocks, its signal handlers) runs, then the program
 * exits 130; a second Ctrl-C exits at once. The listener stays registered throughout: signal-exit (under
 * proper-lockfile, while a lock is held) re-raises a signal it finds no other listener for, which would
 * kill the program before any cleanup ran — a `once` listener is gone by then.
 */
export function exitOnInterrupt(graceMs = 5000): void {
  let interrupted = false;
  process.on("SIGINT", () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    process.exitCode = 130;
    setTimeout(() => process.exit(130), graceMs).unref();
  });
}

export async function runProgram(
  spec: ProgramSpec,
  argv: readonly string[],
  io: RunOptions = {},
): Promise<number> {
  const stderr = io.stderr ?? process.stderr;
  const stdout = io.stdout ?? process.stdout;
  const debug = argv.includes("--debug");
  const { default: yargs } = await import("yargs");
  let failure: { message: string; error?: unknown; usage: boolean } | undefined;

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
    .middleware((a) => {
      if (typeof a.cwd === "string" && a.cwd) {
        try {
          process.chdir(a.cwd);
        } catch {
          throw new UsageError(`--cwd ${a.cwd}: no such directory`);
        }
      }
      if (a.color === false) process.env.NO_COLOR = "1";
    })
    .command(spec.commands.map((c) => (isYargsModule(c) ? c : toYargsCommand(c))))
    .completion(
      "completion",
      "Print a shell completion script (bash/zsh): source <(" + spec.name + " completion)",
    )
    .demandCommand(1, `no command given; see '${spec.name} --help'`)
    .strict()
    .help()
    .alias("help", "h")
    .version(spec.version)
    // GGEN_HELP_WRAP=none: no wrapping (the README command reference is built from --help).
    .wrap(process.env.GGEN_HELP_WRAP === "none" ? null : Math.min(120, process.stdout.columns ?? 120))
    .exitProcess(false)
    .showHelpOnFail(false)
    .fail((msg, err, y) => {
      if (err) throw err;
      // Throwing stops yargs before it runs a handler with arguments it did not understand.
      throw new UsageError(explainUsage(msg, y, spec, argv, parser));
    });
  for (const [cmd, desc] of spec.examples) parser.example(cmd, desc);
  if (spec.epilogue) parser.epilogue(spec.epilogue);

  // yargs writes help/version through console.log; route it to our stdout.
  const origLog = console.log;
  const origErr = console.error;
  console.log = (...a: unknown[]) => stdout.write(`${a.join(" ")}\n`);
  console.error = (...a: unknown[]) => stderr.write(`${a.join(" ")}\n`);
  try {
    await parser.parseAsync();
  } catch (e) {
    failure = {
      message: e instanceof Error ? e.message : String(e),
      error: e,
      usage: e instanceof UsageError,
    };
  } finally {
    console.log = origLog;
    console.error = origErr;
  }
  if (!failure) return typeof process.exitCode === "number" ? process.exitCode : 0;

  const e = failure.error;
  let line = failure.message;
  let code = failure.usage ? 2 : 1;
  if (isGgenError(e)) {
    line = e.toLine();
    code = e.exitCode;
  } else if (e instanceof Error && !failure.usage && !debug) {
    // An unexpected error: still one line, with its code when Node gave one (ENOENT, EACCES…).
    const c = (e as NodeJS.ErrnoException).code;
    line = c && !e.message.includes(c) ? `${c}: ${e.message}` : e.message;
  }
  // What came from the input (a file name, a value) may hold control bytes: shown escaped, never raw.
  const safe = (line.split("\n")[0] ?? "").replace(
    /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g,
    (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`,
  );
  stderr.write(`${spec.name}: error: ${safe}\n`);
  if (debug) {
    const stack = e instanceof Error && e.stack ? e.stack : new Error(line).stack;
    stderr.write(`${stack}\n`);
  }
  return code;
}
