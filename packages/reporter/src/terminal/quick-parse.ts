// The parse of a plain, well-formed command line straight from the command tables, without loading
// yargs (its load and parse are most of a short command's startup). It answers only the lines it reads
// exactly as yargs would — command words first, then `--long` flags (or their one-letter aliases) and
// positionals the tables declare — and declines (undefined) anything else: help, clustered or unknown
// short flags, negated flags, `--`, repeats, a value it would have to coerce, a missing or unknown
// argument. yargs then parses the line and says what is wrong.
// `quick-parse.test.ts` holds the two parsers to the same argv.

import type { ArgSpec, Command } from "./command.js";

export interface QuickParse {
  command: Command;
  argv: Record<string, unknown> & { _: (string | number)[]; $0: string };
}

const camel = (s: string) => s.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
const NUMBER = /^-?(0|[1-9]\d{0,14})(\.\d+)?$/;

/** The shell's own flags as table entries, with the defaults runProgram gives them. */
const GLOBALS: Record<string, ArgSpec> = {
  json: { describe: null, type: "boolean", default: false },
  verbose: { describe: null, type: "boolean", default: false, alias: "v" },
  quiet: { describe: null, type: "boolean", default: false, alias: "q" },
  debug: { describe: null, type: "boolean", default: false },
  cwd: { describe: null, type: "string" },
  color: { describe: null, type: "boolean", default: true },
};

function set(out: Record<string, unknown>, name: string, spec: ArgSpec | null, value: unknown): void {
  out[name] = value;
  out[camel(name)] = value;
  if (spec?.alias) {
    out[spec.alias] = value;
    out[camel(spec.alias)] = value;
  }
}

/** `name <a> [b] [rest..]` → the positionals in order. */
function syntax(command: string): { name: string; required: boolean; variadic: boolean }[] {
  return [...command.matchAll(/([<[])([^\]>]+)[\]>]/g)].map(([, open, inner]) => ({
    name: inner!.replace(/\.\.$/, ""),
    required: open === "<",
    variadic: inner!.endsWith(".."),
  }));
}

export function quickParse(
  name: string,
  commands: readonly (Command | object)[],
  argv: readonly string[],
): QuickParse | undefined {
  // Command words first, down to a command that runs (a table with a handler and no subcommands).
  const chain: Command[] = [];
  let level = commands;
  let i = 0;
  for (; i < argv.length; i++) {
    const word = argv[i]!;
    const next = level.find(
      (c): c is Command =>
        !("builder" in c) &&
        "command" in c &&
        [c.command, ...(c.aliases ?? [])].some((a) => a.split(" ")[0] === word && word !== "$0"),
    );
    if (!next) break;
    chain.push(next);
    if (!next.subcommands?.length) {
      i++;
      break;
    }
    level = next.subcommands;
  }
  const leaf = chain.at(-1);
  if (!leaf?.handler || leaf.subcommands?.length || leaf.passthrough) return undefined;

  const known = new Map<string, ArgSpec>(Object.entries(GLOBALS));
  for (const c of chain) for (const [k, s] of Object.entries(c.options ?? {})) known.set(k, s);
  const out: Record<string, unknown> = {};
  const given = new Set<string>();
  const words: string[] = [];
  // A one-letter alias (`-o dir`) reads as its long flag, as yargs reads it; clusters (`-vq`) decline.
  const short = new Map<string, string>();
  for (const [k, s] of known) if (s.alias?.length === 1) short.set(s.alias, k);
  for (; i < argv.length; i++) {
    let a = argv[i]!;
    if (!a.startsWith("-")) {
      words.push(a);
      continue;
    }
    if (/^-[A-Za-z]$/.test(a)) {
      const long = short.get(a[1]!);
      if (long === undefined) return undefined;
      a = `--${long}`;
    }
    if (!a.startsWith("--") || a === "--" || a.startsWith("--no-")) return undefined;
    const [flag, inline] = a.slice(2).split(/=(.*)/s) as [string, string | undefined];
    const spec = known.get(flag);
    if (!spec || given.has(flag) || spec.choices?.some((c) => typeof c === "number")) return undefined;
    given.add(flag);
    if (spec.type === "boolean") {
      const after = argv[i + 1];
      if (inline !== undefined || after === "true" || after === "false") return undefined;
      set(out, flag, spec, true);
      continue;
    }
    if (spec.type !== "string" && spec.type !== "number") return undefined;
    const values: string[] = [];
    if (inline !== undefined) {
      if (spec.array) return undefined;
      values.push(inline);
    } else
      while (argv[i + 1] !== undefined && !argv[i + 1]!.startsWith("-")) {
        values.push(argv[++i]!);
        if (!spec.array) break;
      }
    if (values.length === 0) return undefined;
    if (spec.type === "number" && !values.every((v) => NUMBER.test(v))) return undefined;
    const typed = values.map((v) => (spec.type === "number" ? Number(v) : v));
    if (spec.choices && !typed.every((v) => spec.choices!.includes(v))) return undefined;
    set(out, flag, spec, spec.array ? typed : typed[0]);
  }
  for (const [flag, spec] of known) {
    if (given.has(flag)) continue;
    if (spec.required) return undefined;
    if (spec.default !== undefined) set(out, flag, spec, spec.default);
  }

  for (const p of syntax(leaf.command)) {
    const spec = leaf.positionals?.[p.name] ?? null;
    const take = p.variadic ? words.splice(0) : words.splice(0, 1);
    if (take.length === 0) {
      if (p.required) return undefined;
      if (p.variadic) set(out, p.name, spec, []);
      continue;
    }
    // yargs reads an untyped or numeric positional as a number when it looks like one.
    if (spec?.type !== "string" && take.some((w) => !Number.isNaN(Number(w)))) return undefined;
    if (spec?.choices && !take.every((v) => spec.choices!.includes(v))) return undefined;
    set(out, p.name, spec, p.variadic ? take : take[0]);
  }
  if (words.length > 0) return undefined;
  const path = argv.slice(0, chain.length);
  return { command: leaf, argv: { _: [...path], ...out, $0: name } };
}
