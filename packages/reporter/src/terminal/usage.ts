// What a usage error says, decided from the command tables rather than from whichever complaint yargs
// raised first: an unknown command (with a suggestion) before an unknown option, an unknown option
// before a missing argument. (`ggen template generat --optimize speed` is about 'generat'; yargs would
// say the template argument is missing.)

import { closest } from "@ggen/support";
import type { ArgSpec, Command } from "./command.js";

/** The shell's own flags, on every command; `takesValue` for those that read the next word. */
export const GLOBAL_FLAGS: Readonly<Record<string, { takesValue: boolean; alias?: string }>> = {
  json: { takesValue: false },
  verbose: { takesValue: false, alias: "v" },
  quiet: { takesValue: false, alias: "q" },
  debug: { takesValue: false },
  cwd: { takesValue: true },
  color: { takesValue: false },
  help: { takesValue: false, alias: "h" },
};

/** A level's commands, as the walk sees them: tables, or opaque entries (a yargs module) that end it. */
export interface CommandEntry {
  names: string[];
  table?: Command;
}

export interface Diagnosis {
  /** The command words recognised, from the top (`["template", "generate"]`). */
  path: string[];
  /** The commands at the level where the walk stopped (for "needs a command (…)" messages). */
  here: string[];
  unknownCommand?: { word: string; suggestion?: string };
  unknownOption?: { flag: string; suggestion?: string };
}

const camel = (s: string) => s.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

function namesOf(c: Command): string[] {
  return [c.command, ...(c.aliases ?? [])].map((a) => a.split(" ")[0]!).filter((n) => n && n !== "$0");
}

/** The value a flag needs: string and number flags read the next word; arrays read every following word. */
function arity(spec: ArgSpec | undefined): "none" | "one" | "many" {
  if (!spec || spec.type === "boolean") return "none";
  return spec.array ? "many" : "one";
}

/**
 * Walks `argv` through the command tables: follows command words down the tree, checks each flag
 * against what the commands on the way (and the shell) declare, and skips flag values as yargs reads
 * them. Stops at the first word that is not a command where only a command may stand.
 */
export function diagnose(
  top: readonly CommandEntry[],
  argv: readonly string[],
  opts: { topLevelFlags?: readonly string[] } = {},
): Diagnosis {
  const known = new Map<string, ArgSpec | undefined>();
  const learn = (name: string, spec: ArgSpec | undefined) => {
    known.set(name, spec);
    known.set(camel(name), spec);
    if (spec?.alias) known.set(spec.alias, spec);
  };
  for (const [name, g] of Object.entries(GLOBAL_FLAGS)) {
    const spec: ArgSpec = { describe: null, type: g.takesValue ? "string" : "boolean" };
    learn(name, spec);
    if (g.alias) known.set(g.alias, spec);
  }
  for (const f of opts.topLevelFlags ?? []) learn(f, { describe: null, type: "boolean" });
  const d: Diagnosis = { path: [], here: top.flatMap((c) => c.names) };
  let level: readonly CommandEntry[] = top;
  let current: CommandEntry | undefined;
  let topFlagsDropped = false;
  const flagProblem = (flag: string) => {
    if (d.unknownOption) return;
    const candidates = [...known.keys()].filter((k) => k.length > 1 && !/[A-Z]/.test(k));
    const hint = closest(flag, candidates);
    d.unknownOption = {
      flag: flag.length === 1 ? `-${flag}` : `--${flag}`,
      ...(hint ? { suggestion: `--${hint}` } : {}),
    };
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") break;
    if (a.startsWith("-") && a !== "-" && !/^-\d/.test(a)) {
      const [raw, inline] = a.replace(/^-{1,2}/, "").split(/=(.*)/s) as [string, string | undefined];
      const short = !a.startsWith("--");
      const names = short && raw.length > 1 ? [...raw] : [raw];
      let spec: ArgSpec | undefined;
      let unknown = false;
      for (const n of names) {
        const bare = n.startsWith("no-") && known.get(n.slice(3))?.type === "boolean" ? n.slice(3) : n;
        if (!known.has(bare)) {
          unknown = true;
          flagProblem(n);
        } else spec = known.get(bare);
      }
      if (inline !== undefined) continue;
      // An unknown flag may take the next word as its value, as yargs reads it — unless that word is a
      // command here (`--verbos market list` is about --verbos, not about 'list').
      const next = argv[i + 1];
      const need = unknown
        ? next !== undefined && level.some((c) => c.names.includes(next))
          ? "none"
          : "one"
        : arity(spec);
      if (need === "one" && next !== undefined && !next.startsWith("-")) i++;
      else if (need === "many") while (argv[i + 1] !== undefined && !argv[i + 1]!.startsWith("-")) i++;
      continue;
    }
    const table = current?.table;
    const groupsCommands = current === undefined || (table?.subcommands?.length ?? 0) > 0;
    if (!groupsCommands) continue; // a positional of a leaf command
    const next = level.find((c) => c.names.includes(a));
    if (next) {
      current = next;
      d.path.push(a);
      if (!topFlagsDropped) {
        topFlagsDropped = true;
        for (const f of opts.topLevelFlags ?? []) if (!GLOBAL_FLAGS[f]) known.delete(f);
      }
      if (!next.table) break; // not a table: its flags are its own business
      for (const [name, spec] of Object.entries(next.table.options ?? {})) learn(name, spec);
      for (const [name, spec] of Object.entries(next.table.positionals ?? {})) learn(name, spec ?? undefined);
      level = (next.table.subcommands ?? []).map((c) => ({ names: namesOf(c), table: c }));
      d.here = level.flatMap((c) => c.names);
      continue;
    }
    // A group whose positionals are its own (none declared) takes only commands here.
    if (table?.positionals && Object.keys(table.positionals).length > 0) continue;
    const suggestion = closest(a, d.here);
    d.unknownCommand = { word: a, ...(suggestion ? { suggestion } : {}) };
    break;
  }
  return d;
}

/** The message for a diagnosis that found something unknown, or undefined. */
export function unknownMessage(d: Diagnosis, program: string): string | undefined {
  if (d.unknownCommand) {
    const { word, suggestion } = d.unknownCommand;
    const where = [program, ...d.path].join(" ");
    return `unknown command '${word}'${suggestion ? ` (did you mean '${suggestion}'?)` : ""}; see '${where} --help'`;
  }
  if (d.unknownOption) {
    const { flag, suggestion } = d.unknownOption;
    if (flag === "--version")
      return `unknown option '--version' here ('${program} --version' is the program's version)`;
    return `unknown option '${flag}'${suggestion ? ` (did you mean '${suggestion}'?)` : ""}`;
  }
  return undefined;
}

export { namesOf };
