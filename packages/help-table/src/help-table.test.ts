import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { answerFromTable, englishLocale, type HelpTable, helpWidth, tableAnswer } from "./index.js";

const table: HelpTable = { version: "1.2.3", help: { none: "whole\n", "80": "at 80\n", "100": "at 100\n" } };
const piped = { isTTY: false };

describe("tableAnswer", () => {
  it("answers exactly --help, -h and --version", () => {
    expect(tableAnswer(table, ["--version"], {}, piped)).toBe("1.2.3\n");
    expect(tableAnswer(table, ["--help"], {}, piped)).toBe("at 80\n");
    expect(tableAnswer(table, ["-h"], { COLUMNS: "100" }, piped)).toBe("at 100\n");
    expect(tableAnswer(table, ["--help"], { GGEN_HELP_WRAP: "none" }, piped)).toBe("whole\n");
    for (const argv of [[], ["--help", "--json"], ["market", "--help"], ["--versions"]])
      expect(tableAnswer(table, argv, {}, piped)).toBeUndefined();
  });

  it("leaves a width it lacks and other locales to the parser", () => {
    expect(tableAnswer(table, ["--help"], {}, { isTTY: true, columns: 30 })).toBeUndefined();
    expect(tableAnswer(table, ["--help"], { LANG: "de_DE.UTF-8" }, piped)).toBeUndefined();
    expect(tableAnswer(table, ["--version"], { LC_ALL: "fr_FR" }, piped)).toBeUndefined();
  });
});

describe("helpWidth and englishLocale", () => {
  it("wraps to the terminal up to 120, else $COLUMNS or 80", () => {
    expect(helpWidth({}, { isTTY: true, columns: 200 })).toBe(120);
    expect(helpWidth({ COLUMNS: "60" }, piped)).toBe(60);
    expect(helpWidth({ COLUMNS: "20" }, piped)).toBe(80);
    expect(helpWidth({ GGEN_HELP_WRAP: "none" }, { isTTY: true, columns: 90 })).toBeNull();
  });

  it("guesses the locale as yargs does", () => {
    expect(englishLocale({})).toBe(true);
    expect(englishLocale({ LANG: "C.UTF-8" })).toBe(true);
    expect(englishLocale({ LANG: "en_GB.UTF-8" })).toBe(true);
    expect(englishLocale({ LC_ALL: "de_DE", LANG: "en_US" })).toBe(false);
  });
});

describe("answerFromTable", () => {
  const dir = mkdtempSync(join(tmpdir(), "help-table-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("declines without a table, or when the table is not JSON", () => {
    expect(answerFromTable(join(dir, "missing.json"), ["--version"], {})).toBe(false);
    writeFileSync(join(dir, "broken.json"), "{");
    expect(answerFromTable(join(dir, "broken.json"), ["--version"], {})).toBe(false);
    writeFileSync(join(dir, "table.json"), JSON.stringify(table));
    expect(answerFromTable(join(dir, "table.json"), ["market", "search"], {})).toBe(false);
  });
});
