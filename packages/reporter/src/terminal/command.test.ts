import { describe, expect, it } from "vitest";
import { defineCommand } from "./command.js";
import { type ProgramSpec, runProgram } from "./program.js";

interface PackFlags {
  pack: string;
  tags?: string[];
  limit: number;
  format: "text" | "json";
  force: boolean;
}

const seen: unknown[] = [];

const add = defineCommand<PackFlags>()({
  command: "add <pack>",
  describe: "Add a pack",
  positionals: { pack: { type: "string", describe: "Pack id" } },
  options: {
    tags: { type: "string", array: true, describe: "Tags (repeatable)" },
    limit: { alias: "l", type: "number", default: 5, describe: "At most" },
    format: { choices: ["text", "json"], default: "text", describe: "Output format" },
    force: { type: "boolean", default: false, describe: "Again" },
  },
  examples: [["demo add x --limit 2", "Add x"]],
  handler: (argv) => {
    // Typed: a string, a string[] | undefined, a number, a literal union.
    const pack: string = argv.pack;
    const tags: string[] | undefined = argv.tags;
    const limit: number = argv.limit;
    const format: "text" | "json" = argv.format;
    seen.push({ pack, tags, limit, format, force: argv.force, json: argv.json });
  },
});

const group = defineCommand()({
  command: "packs",
  describe: "Manage packs",
  subcommands: [add],
  requireSubcommand: "name a packs command",
});

const program: ProgramSpec = {
  name: "demo",
  version: "1.0.0",
  description: "a demo",
  commands: [group],
  examples: [],
};

async function run(...argv: string[]) {
  let out = "";
  let err = "";
  const code = await runProgram(program, argv, {
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s) },
  });
  return { code, out, err };
}

describe("defineCommand", () => {
  it("renders the table to a command whose handler gets typed argv", async () => {
    seen.length = 0;
    const r = await run("packs", "add", "io.x", "--tags", "a", "b", "-l", "2", "--json");
    expect(r).toMatchObject({ code: 0, err: "" });
    expect(seen).toEqual([
      { pack: "io.x", tags: ["a", "b"], limit: 2, format: "text", force: false, json: true },
    ]);
  });

  it("--help shows every entry: description, type, alias, choices, default, examples", async () => {
    const r = await run("packs", "add", "--help");
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/pack\s+Pack id\s+\[string\]/);
    expect(r.out).toMatch(/-l, --limit\s+At most\s+\[number\] \[default: 5\]/);
    expect(r.out).toMatch(/--format\s+Output format\s+\[choices: "text", "json"\] \[default: "text"\]/);
    expect(r.out).toMatch(/--tags\s+Tags \(repeatable\)\s+\[array\]/);
    expect(r.out).toMatch(/demo add x --limit 2\s+Add x/);
  });

  it("checks choices and the required subcommand as usage errors (exit 2)", async () => {
    expect(await run("packs", "add", "x", "--format", "xml")).toMatchObject({
      code: 2,
      err: 'demo: error: --format "xml": expected one of text, json\n',
    });
    expect(await run("packs")).toMatchObject({ code: 2, err: "demo: error: name a packs command\n" });
  });

  it("keeps the words after -- for a passthrough command", async () => {
    seen.length = 0;
    const exec = defineCommand()({
      command: "exec",
      describe: "Run",
      passthrough: true,
      handler: (argv) => {
        seen.push(argv["--"]);
      },
    });
    const r = await runProgram({ ...program, commands: [exec] }, ["exec", "--", "echo", "--flag"]);
    expect(r).toBe(0);
    expect(seen).toEqual([["echo", "--flag"]]);
  });

  it("types the table from the options type", () => {
    // Compile-time checks (tsc runs over tests): each line below must be an error.
    defineCommand<{ name: string }>()({
      command: "a",
      describe: "a",
      // @ts-expect-error an option that is always there needs a default or required
      options: { name: { type: "string", describe: "Name" } },
    });
    defineCommand<{ count?: number }>()({
      command: "b",
      describe: "b",
      // @ts-expect-error the type follows the value: a number is type "number"
      options: { count: { type: "string", describe: "Count" } },
    });
    defineCommand<{ files?: string[] }>()({
      command: "c",
      describe: "c",
      // @ts-expect-error a list is array: true
      options: { files: { type: "string", describe: "Files" } },
    });
    defineCommand<{ mode?: "a" | "b" }>()({
      command: "d",
      describe: "d",
      // @ts-expect-error a literal union needs its choices
      options: { mode: { type: "string", describe: "Mode" } },
    });
    defineCommand<{ x?: string; y?: string }>()({
      command: "e",
      describe: "e",
      // @ts-expect-error every key of the options type has an entry
      options: { x: { type: "string", describe: "X" } },
    });
    defineCommand<{ x?: string }>()({
      command: "f",
      describe: "f",
      // @ts-expect-error no entry for a flag the options type does not have
      options: { x: { type: "string", describe: "X" }, z: { type: "string", describe: "Z" } },
    });
    expect(true).toBe(true);
  });
});
