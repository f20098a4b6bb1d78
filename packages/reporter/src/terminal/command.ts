// Commands as declarative tables: name, description, positionals, options, examples, subcommands and a
// handler. The table is plain data (only the handler is code), typed from the command's options type the
// way vitest types its CLI table from its config: every key of the options type has an entry, an entry's
// shape follows its value's type (a string[] is `array: true`, a literal union needs `choices`, a value
// that is always there needs a `default` or `required`), and the handler gets that type back as argv.
// `runProgram` renders tables to yargs; nothing here loads yargs, so a table can also be read without it.

import type { Argv, CommandModule, Options, PositionalOptions } from "yargs";
import type { GlobalOptions } from "./output.js";

// `false` in a value's type is its `--no-<flag>` form (yargs negates any flag), so it adds no entry.
type Element<V> = Exclude<NonNullable<V> extends readonly (infer E)[] ? E : NonNullable<V>, false>;

/** The value part of an entry: its type (or choices, for a literal union) and whether it repeats. */
type ValueSpec<V> = ([Element<V>] extends [string]
  ? string extends Element<V>
    ? { type: "string"; choices?: readonly string[] }
    : { type?: "string"; choices: readonly Element<V>[] }
  : [Element<V>] extends [number]
    ? { type: "number"; choices?: readonly number[] }
    : [Element<V>] extends [boolean]
      ? { type: "boolean" }
      : never) &
  (NonNullable<V> extends readonly unknown[] ? { array: true } : { array?: never });

/** A value the options type says is always there comes from a default or is required on the line. */
type Presence<V> = undefined extends V
  ? { default?: never; required?: never }
  : { default: V; required?: never } | { required: true; default?: never };

/**
 * What --help says about a flag or positional. `null` leaves it undescribed — only to keep an existing
 * --help unchanged; describe every new one.
 */
type Described = { describe: string | null };

export type OptionSpec<V> = Described & { alias?: string } & ValueSpec<V> & Presence<V>;

export type PositionalSpec<V> = Described & { required?: true } & ValueSpec<V>;

/** Every option of `O` described: a shared set of flags is typed with this and spread into tables. */
export type OptionTable<O> = { [K in keyof O]-?: OptionSpec<O[K]> };

/** The argv a handler gets: its options, what a parent command declares, and the global options. */
export type CommandArgs<O> = O &
  GlobalOptions & {
    _: (string | number)[];
    $0: string;
    /** The words after `--` (commands with `passthrough`). */
    "--"?: string[];
  };

interface Table<A> {
  /** yargs syntax: `name`, `name <required>`, `name [optional]`, `name <many..>`; `$0` is the default. */
  command: string;
  aliases?: readonly string[];
  describe: string;
  examples?: readonly (readonly [command: string, description: string])[];
  subcommands?: readonly Command[];
  /** The usage error when a subcommand is needed and none is given. */
  requireSubcommand?: string;
  /** Keep the words after `--` for the handler (`argv["--"]`) instead of parsing them. */
  passthrough?: true;
  /** Omitted for a command that only groups subcommands. */
  handler?: (argv: A) => void | Promise<void>;
}

/**
 * A command table for options `O`. The positionals named in `command` that the handler reads are keys of
 * `O` and go in `positionals` (`null`: parsed from the syntax, not listed in --help); every other key of
 * `O` goes in `options`. `Inherited` is what a parent command's options add to argv.
 */
export type CommandSpec<O, P extends keyof O, Inherited = unknown> = Table<CommandArgs<O & Inherited>> & {
  positionals?: { [K in P]-?: PositionalSpec<O[K]> | null };
} & ([Exclude<keyof O, P>] extends [never]
    ? { options?: Record<never, never> }
    : { options: { [K in Exclude<keyof O, P>]-?: OptionSpec<O[K]> } });

/** Any entry of any table, as the renderer reads it. */
export interface ArgSpec {
  describe: string | null;
  type?: "string" | "number" | "boolean";
  array?: boolean;
  alias?: string;
  choices?: readonly (string | number)[];
  default?: unknown;
  required?: boolean;
}

/** A command table with its options type erased, as programs and parent commands hold it. */
export interface Command extends Omit<Table<never>, "handler"> {
  positionals?: Readonly<Record<string, ArgSpec | null>>;
  options?: Readonly<Record<string, ArgSpec>>;
  // A method, so a handler typed for its own options fits here.
  handler?(argv: CommandArgs<Record<string, unknown>>): void | Promise<void>;
}

/**
 * `defineCommand<Options>()({ … })`: a command whose table is checked against `Options` and whose
 * handler receives them typed. (Two calls, so `Options` is given and the positionals are inferred.)
 */
export function defineCommand<O extends object = Record<never, never>, Inherited = unknown>() {
  return <const P extends keyof O = never>(spec: CommandSpec<O, P, Inherited>): Command =>
    // The table is checked above; what remains is the same data with the options type erased.
    spec as unknown as Command;
}

function argOptions(spec: ArgSpec): Options & PositionalOptions {
  const o: Options & PositionalOptions = {};
  if (spec.alias !== undefined) o.alias = spec.alias;
  if (spec.type !== undefined) o.type = spec.type;
  if (spec.array) o.array = true;
  if (spec.choices !== undefined) o.choices = [...spec.choices];
  if (spec.default !== undefined) o.default = spec.default;
  if (spec.required) o.demandOption = true;
  if (spec.describe !== null) o.describe = spec.describe;
  return o;
}

/** A yargs module given as it is (not a table): it has a builder. */
// biome-ignore lint/suspicious/noExplicitAny: yargs' own argv types vary by command.
export function isYargsModule(c: Command | CommandModule<any, any>): c is CommandModule<any, any> {
  return "builder" in c;
}

/** The table as a yargs command module (yargs itself is loaded by runProgram, never here). */
export function toYargsCommand(c: Command): CommandModule {
  return {
    command: c.command,
    ...(c.aliases ? { aliases: [...c.aliases] } : {}),
    describe: c.describe,
    builder: (y: Argv) => {
      let b = c.passthrough ? y.parserConfiguration({ "populate--": true }) : y;
      // --version is the program's only at the top level: under a command it is that command's own
      // option (a release's, a pack's) or an unknown option, never the program's version.
      b = b.version(false);
      for (const [name, spec] of Object.entries(c.positionals ?? {})) {
        if (spec) b = b.positional(name, argOptions(spec));
      }
      for (const [name, spec] of Object.entries(c.options ?? {})) b = b.option(name, argOptions(spec));
      for (const sub of c.subcommands ?? []) b = b.command(toYargsCommand(sub));
      if (c.requireSubcommand !== undefined) b = b.demandCommand(1, c.requireSubcommand);
      for (const [example, description] of c.examples ?? []) b = b.example(example, description);
      return b;
    },
    handler: async (argv) => {
      await c.handler?.(argv as unknown as CommandArgs<Record<string, unknown>>);
    },
  };
}
