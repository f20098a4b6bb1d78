// The table parse (`quickParse`, which runs a plain command line without loading yargs) gives a handler
// the argv yargs gives it, for both programs: every example in every command table, and every command
// with each of its options in turn. A line the table parse declines goes to yargs, so only agreement
// is checked here — and that it reads most of these lines.
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";

const repo = join(import.meta.dirname, "..", "..");

interface Spec {
  describe: string | null;
  type?: string;
  array?: boolean;
  choices?: readonly (string | number)[];
  required?: boolean;
  alias?: string;
}
interface Table {
  command: string;
  examples?: readonly (readonly [string, string])[];
  subcommands?: readonly Table[];
  options?: Record<string, Spec>;
  positionals?: Record<string, Spec | null>;
  handler?: (argv: unknown) => unknown;
}

/** Shell words, as an example line would be split ('…' and "…" quoting). */
const words = (line: string) =>
  [...line.matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3]!);

function sample(spec: Spec | null | undefined): string[] {
  if (spec?.choices) return [String(spec.choices[0])];
  if (spec?.type === "number") return ["3"];
  return spec?.array ? ["a", "b"] : ["x"];
}

/** Every command line to try: the examples, and each command with each of its options. */
function lines(name: string, tables: readonly Table[], path: string[] = []): string[][] {
  return tables.flatMap((t) => {
    const here = [...path, t.command.split(" ")[0]!];
    const own = (t.examples ?? []).map(([l]) => words(l).slice(1));
    if (t.subcommands?.length) return [...own, ...lines(name, t.subcommands, here)];
    const required = [...t.command.matchAll(/<([^>]+)>/g)].flatMap(([, p]) =>
      sample(t.positionals?.[p!.replace(/\.\.$/, "")] ?? { describe: null, type: "string" }),
    );
    const base = [...here, ...required];
    for (const [flag, spec] of Object.entries(t.options ?? {}))
      if (spec.required) base.push(`--${flag}`, ...sample(spec));
    const each = Object.entries(t.options ?? {}).map(([flag, spec]) =>
      spec.type === "boolean" ? [...base, `--${flag}`] : [...base, `--${flag}`, ...sample(spec)],
    );
    // One-letter aliases too (`-o dir`), and the globals' (`-v`, `-q`).
    const short = Object.values(t.options ?? {})
      .filter((spec) => spec.alias?.length === 1)
      .map((spec) =>
        spec.type === "boolean" ? [...base, `-${spec.alias}`] : [...base, `-${spec.alias}`, ...sample(spec)],
      );
    return [
      ...own,
      base,
      [...base, "--json", "--verbose", "--debug", "--color"],
      [...base, "-v", "-q"],
      ...each,
      ...short,
    ];
  });
}

describe.each(["ggen", "cleanroom"])("%s: the table parse and yargs agree", (name) => {
  it("on every example and every option", async () => {
    const app = await import(pathToFileURL(join(repo, "apps", name, "dist", "index.mjs")).href);
    let seen: unknown;
    const capture = (t: Table): Table => ({
      ...t,
      ...(t.handler
        ? {
            handler: (a: unknown) => {
              seen = a;
            },
          }
        : {}),
      ...(t.subcommands ? { subcommands: t.subcommands.map(capture) } : {}),
    });
    const spec = { ...app.program, commands: app.program.commands.map(capture) };
    const quiet = { write: () => true };
    let read = 0;
    const all = lines(name, app.program.commands);
    for (const argv of all) {
      const quick = app.quickParse(name, spec.commands, argv);
      if (!quick) continue;
      read++;
      seen = undefined;
      const code = await app.runProgram(spec, argv, { quick: false, stdout: quiet, stderr: quiet });
      expect({ argv, code }).toEqual({ argv, code: 0 });
      expect({ argv, parsed: quick.argv }).toEqual({ argv, parsed: seen });
    }
    expect(read).toBeGreaterThan(all.length / 2);
  });
});
