// The program shell on hostile and mistaken input: one escaped line, the right complaint first, --version
// only at the top, help wrapped at word boundaries, completion for the shells it names.
import { GgenError } from "@ggen/contract";
import { describe, expect, it } from "vitest";
import { defineCommand } from "./command.js";
import { completionScript } from "./completion.js";
import { errorLine, escapeControl, MAX_ERROR_LINE } from "./error-line.js";
import { type ProgramSpec, runProgram } from "./program.js";
import { table } from "./table.js";

const seen: unknown[] = [];

const generate = defineCommand<{ template: string; output?: string; version?: string }>()({
  command: "generate <template>",
  describe:
    "Render a template into files, with a description long enough that it has to wrap at eighty columns",
  positionals: { template: { type: "string", describe: "The template" } },
  options: {
    output: { type: "string", describe: "Where to write" },
    version: { type: "string", describe: "The template's version" },
  },
  examples: [
    ["demo template generate io.example.domain-service:model --output somewhere/else", "Render one"],
  ],
  handler: (argv) => {
    seen.push({ template: argv.template, version: argv.version });
  },
});
const list = defineCommand()({ command: "list", describe: "List", handler: () => undefined });
const template = defineCommand()({
  command: "template <command>",
  describe: "Templates",
  subcommands: [generate, list],
  requireSubcommand: "name a template command",
});
const fail = defineCommand<{ what: string }>()({
  command: "fail <what>",
  describe: "Fail",
  positionals: { what: { type: "string", describe: "How" } },
  handler: (argv) => {
    if (argv.what === "eisdir")
      throw Object.assign(new Error("EISDIR: illegal operation on a directory, read"), {
        code: "EISDIR",
        syscall: "read",
      });
    if (argv.what === "enoent")
      throw Object.assign(new Error("ENOENT: no such file or directory, open 'x/y.ttl'"), {
        code: "ENOENT",
        syscall: "open",
        path: "x/y.ttl",
      });
    throw new GgenError("BAD", `bad pack '\u001b[31mred\u0000\u001f\x8b'`, { kind: "usage" });
  },
});

const program: ProgramSpec = {
  name: "demo",
  version: "9.9.9",
  description: "a demo",
  commands: [template, fail],
  examples: [],
};

async function run(argv: string[], env: NodeJS.ProcessEnv = {}) {
  let out = "";
  let err = "";
  const code = await runProgram(program, argv, {
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s) },
    env,
  });
  return { code, out, err };
}

describe("error lines", () => {
  it("escape control bytes from the input, in the one renderer", async () => {
    const r = await run(["fail", "ggen"]);
    expect(r.code).toBe(2);
    expect(r.err).toBe("demo: error: bad pack '\\x1b[31mred\\x00\\x1f\\x8b'\n");
    expect(escapeControl("a\nb\r\u202ec\td")).toBe("a\\nb\\r\\u{202e}c\td");
  });

  it("put Node's system errors in words (exit 1)", async () => {
    expect(await run(["fail", "eisdir"])).toMatchObject({
      code: 1,
      err: "demo: error: is a directory, expected a file (read)\n",
    });
    expect((await run(["fail", "enoent"])).err).toBe("demo: error: x/y.ttl: no such file or directory\n");
  });

  it("are bounded, and say when an error is the program's own", () => {
    const { line } = errorLine(new GgenError("BIG", `value ${"x".repeat(5_000_000)}`));
    expect(line.length).toBeLessThan(MAX_ERROR_LINE + 100);
    expect(line).toMatch(/… \(\d+ more characters\)$/);
    expect(errorLine(new TypeError("Cannot create property 'e2' on number '5'")).line).toBe(
      "internal error: Cannot create property 'e2' on number '5' (--debug shows where)",
    );
    expect(errorLine(new RangeError("Maximum call stack size exceeded")).line).toMatch(/nested too deeply/);
  });
});

describe("usage errors name the first real problem", () => {
  it("an unknown command before any complaint about its options", async () => {
    expect((await run(["template", "generat", "--optimize", "speed"])).err).toBe(
      "demo: error: unknown command 'generat' (did you mean 'generate'?); see 'demo template --help'\n",
    );
    expect((await run(["frobnicate", "--optimize", "speed"])).err).toBe(
      "demo: error: unknown command 'frobnicate'; see 'demo --help'\n",
    );
  });

  it("an unknown option before a missing argument, with a suggestion", async () => {
    expect(await run(["template", "generate", "--optimize", "speed"])).toMatchObject({
      code: 2,
      err: "demo: error: unknown option '--optimize'\n",
    });
    expect((await run(["template", "generate", "x", "--outptu", "o"])).err).toBe(
      "demo: error: unknown option '--outptu' (did you mean '--output'?)\n",
    );
    expect((await run(["template", "generate"])).err).toBe(
      "demo: error: 'demo template generate' needs an argument; see 'demo template generate --help'\n",
    );
  });
});

describe("--version", () => {
  it("is the program's at the top level only", async () => {
    expect(await run(["--version"])).toMatchObject({ code: 0, out: "9.9.9\n" });
    expect(await run(["template", "list", "--version"])).toMatchObject({
      code: 2,
      out: "",
      err: "demo: error: unknown option '--version' here ('demo --version' is the program's version)\n",
    });
  });

  it("is a command's own option where it declares one", async () => {
    seen.length = 0;
    expect(await run(["template", "generate", "t", "--version", "1.2.0"])).toMatchObject({
      code: 0,
      out: "",
    });
    expect(seen).toEqual([{ template: "t", version: "1.2.0" }]);
  });
});

describe("--help", () => {
  const words = (text: string) => new Set(text.split(/\s+/).filter(Boolean));

  it("wraps at word boundaries to 80 columns when piped, never mid-word", async () => {
    const r = await run(["template", "generate", "--help"]);
    expect(r.code).toBe(0);
    const lines = r.out.split("\n");
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThanOrEqual(80);
    const all = words(r.out);
    for (const w of ["eighty", "columns", "io.example.domain-service:model", "somewhere/else"])
      expect(all).toContain(w);
  });

  it("follows $COLUMNS, and GGEN_HELP_WRAP=none leaves lines whole", async () => {
    const narrow = await run(["template", "generate", "--help"], { COLUMNS: "60" });
    expect(Math.max(...narrow.out.split("\n").map((l) => l.length))).toBeLessThanOrEqual(60);
    const whole = await run(["template", "generate", "--help"], { GGEN_HELP_WRAP: "none" });
    expect(whole.out).toMatch(
      /Render a template into files, with a description long enough that it has to wrap at eighty columns/,
    );
  });
});

describe("completion", () => {
  it("prints a script for bash and zsh, and names the shells it supports otherwise", async () => {
    const zsh = await run(["completion", "zsh"]);
    expect(zsh.code).toBe(0);
    expect(zsh.out).toMatch(/^#compdef demo\n/);
    expect(zsh.out).toMatch(/ZSH_NAME=zsh .*demo --get-yargs-completions/);
    expect((await run(["completion", "bash"])).out).toMatch(
      /complete -o bashdefault -o default -F _demo_completions demo/,
    );
    expect((await run(["completion"], { SHELL: "/usr/bin/zsh" })).out).toBe(completionScript("demo", "zsh"));
    expect(await run(["completion", "fish"])).toMatchObject({
      code: 2,
      err: "demo: error: completion: no script for shell 'fish'; supported: bash, zsh\n",
    });
  });
});

describe("table", () => {
  const columns = [
    { header: "ID", value: (r: { id: string; v: string }) => r.id },
    { header: "VALUE", value: (r: { id: string; v: string }) => r.v },
  ];

  it("renders 300,000 rows (no spread of the widths into arguments)", () => {
    const rows = Array.from({ length: 300_000 }, (_, i) => ({ id: `id-${i}`, v: "v" }));
    const lines = table(rows, columns).split("\n");
    expect(lines).toHaveLength(300_002);
    expect(lines[300_001]).toBe("id-299999  v");
  });

  it("measures a 64 MiB value without copying it into an array, and stops the rule at 80 dashes", () => {
    const v = Buffer.alloc(64 << 20, 0x78).toString("latin1");
    const t = table([{ id: "a", v }], columns);
    expect(t.length).toBe("ID  VALUE\n--  ".length + 80 + 1 + "a   ".length + v.length);
  });

  it("escapes control bytes in cells and counts code points, not UTF-16 units", () => {
    const t = table(
      [
        { id: "\u001b[2J", v: "😀😀" },
        { id: "b", v: "x" },
      ],
      [...columns, { header: "END", value: () => "|" }],
    );
    expect(t.split("\n")).toEqual([
      "ID       VALUE  END",
      "-------  -----  ---",
      "\\x1b[2J  😀😀     |",
      "b        x      |",
    ]);
  });
});
