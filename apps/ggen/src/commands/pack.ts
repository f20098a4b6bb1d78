// `ggen pack test [dir]`: a pack's golden tests (tests/<case>/: vars, graph files, expected/ or
// error.txt) rendered and compared; `--update` rewrites the expectations. Exit 1 when a case fails.
import { defineCommand } from "@ggen/reporter";
import { output } from "../context.js";

interface PackTestFlags {
  dir?: string;
  update: boolean;
  case?: string;
  "packs-dir"?: string;
}

const testCmd = defineCommand<PackTestFlags>()({
  command: "test [dir]",
  describe: "Run a pack's golden tests (tests/<case>/: vars, graph, expected/); exit 1 when any case differs",
  positionals: { dir: { type: "string", describe: "The pack directory (default: .)" } },
  options: {
    update: {
      type: "boolean",
      default: false,
      describe: "Rewrite each case's expected/ (or error.txt) from what the pack generates now",
    },
    case: { type: "string", describe: "Run only this case (repeatable)" },
    "packs-dir": {
      type: "string",
      describe: "Where the pack's dependencies are found (default .ggen/packages)",
    },
  },
  examples: [
    ["ggen pack test fixtures/registry/packs/io.ggen.node-cli", "Render every case and compare"],
    ["ggen pack test --update", "Accept what the pack in . generates now"],
    ["ggen pack test --case bad-vars --json", "One case, as JSON (exit 1 on failure too)"],
  ],
  handler: async (argv) => {
    const out = output(argv);
    const { describeCase, testPack } = await import("@ggen/generator");
    const cases = ([] as unknown[]).concat(argv.case ?? []).map(String);
    const r = await testPack(String(argv.dir ?? "."), {
      update: argv.update === true,
      ...(cases.length ? { cases } : {}),
      ...(typeof argv["packs-dir"] === "string" ? { packsDir: argv["packs-dir"] } : {}),
    });
    out.data(r, () => {
      const lines: string[] = [];
      for (const c of r.cases) {
        const verb = c.updated ? "updated" : c.ok ? "ok" : "FAIL";
        const what =
          c.error !== undefined
            ? ` (error.txt: ${c.error.split("\n").join("; ")})`
            : c.files
              ? ` (${c.files} file${c.files === 1 ? "" : "s"})`
              : "";
        lines.push(`${verb.padEnd(7)} ${c.name}${what}`);
        if (!c.ok) lines.push(...describeCase(c));
      }
      const failed = r.cases.filter((c) => !c.ok).length;
      lines.push(
        failed
          ? `${failed} of ${r.cases.length} case(s) failed`
          : `${r.cases.length} case(s) ${argv.update ? "updated" : "passed"}`,
      );
      return lines.join("\n");
    });
    if (!r.ok) process.exitCode = 1;
  },
});

export const packCommand = defineCommand()({
  command: "pack <command>",
  describe: "Work on a template pack: test",
  subcommands: [testCmd],
  requireSubcommand: "pack needs a subcommand: test",
  examples: [["ggen pack test", "Run the golden tests of the pack in ."]],
});
