import { describe, expect, it } from "vitest";
import { defineCommand } from "./command.js";
import { quickParse } from "./quick-parse.js";

interface SearchOptions {
  query?: string[];
  limit: number;
  tags?: string;
  format?: "text" | "json";
}
const search = defineCommand<SearchOptions>()({
  command: "search [query..]",
  describe: "Search",
  positionals: { query: { type: "string", array: true, describe: "Words" } },
  options: {
    limit: { type: "number", alias: "l", default: 20, describe: "At most" },
    tags: { type: "string", alias: "tag-list", describe: "Tags" },
    format: { choices: ["text", "json"], describe: "Format" },
  },
  handler: () => {},
});
const show = defineCommand<{ id: string }>()({
  command: "show <id>",
  describe: "Show",
  positionals: { id: null },
  handler: () => {},
});
const market = defineCommand()({ command: "market", describe: "Packs", subcommands: [search, show] });
const parse = (...argv: string[]) => quickParse("ggen", [market], argv)?.argv;

describe("quickParse", () => {
  it("reads command words, --long flags and positionals as yargs gives them to the handler", () => {
    expect(parse("market", "search", "rust", "cli", "--limit", "5", "--tags", "a,b", "--json")).toEqual({
      _: ["market", "search"],
      $0: "ggen",
      query: ["rust", "cli"],
      limit: 5,
      l: 5,
      tags: "a,b",
      "tag-list": "a,b",
      tagList: "a,b",
      json: true,
      verbose: false,
      v: false,
      quiet: false,
      q: false,
      debug: false,
      color: true,
    });
    expect(parse("market", "search")).toMatchObject({ query: [], limit: 20 });
    expect(parse("market", "show", "io.ggen.x")).toMatchObject({ id: "io.ggen.x" });
  });

  it("reads a one-letter alias as its long flag", () => {
    expect(parse("market", "search", "-q", "-l", "3")).toMatchObject({
      quiet: true,
      q: true,
      limit: 3,
      l: 3,
    });
    expect(parse("market", "search", "-l", "3", "--limit", "4")).toBeUndefined(); // a repeat
  });

  it("declines what it would have to guess at, leaving it to yargs", () => {
    for (const argv of [
      ["market"], // a group: yargs says a command is needed
      ["market", "serch"], // unknown command
      ["market", "search", "--help"],
      ["market", "search", "-vq"], // clustered short flags
      ["market", "search", "-x"], // a short flag nothing declares
      ["market", "search", "--no-color"],
      ["market", "search", "--", "x"],
      ["market", "search", "--limit", "5", "--limit", "6"], // repeats become arrays in yargs
      ["market", "search", "--limit", "5x"], // yargs' NaN, said by the handler
      ["market", "search", "--limit"],
      ["market", "search", "--format", "xml"], // not a choice: yargs' error
      ["market", "search", "--nope"],
      ["market", "show"], // a required positional missing
      ["market", "show", "42"], // yargs reads an untyped positional as a number
      ["market", "show", "a", "b"], // one too many
      ["--json", "market", "search"], // flags before the command words
    ])
      expect({ argv, parsed: parse(...argv) }).toEqual({ argv, parsed: undefined });
  });
});
