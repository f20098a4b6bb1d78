// The program shell, for every command: bad input is one line, the right exit code, no stack, no raw
// control bytes echoed from the input; usage errors name the first real problem; --version is the
// program's only at the top; help wraps at word boundaries; completion works for the shells it names.
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { expectRefused, run, Sandbox } from "./harness.js";

const box = new Sandbox("shell");
afterAll(() => box.dispose());

const ggen = (args: string[], env: NodeJS.ProcessEnv = {}) => run("ggen", args, { cwd: box.root, env });

describe("the program shell", () => {
  it("an unknown command is a usage error on one line, for both programs", async () => {
    expectRefused(await run("ggen", ["frobnicate"], { cwd: box.root }), 2);
    expectRefused(await run("cleanroom", ["frobnicate"], { cwd: box.root }), 2);
    box.check();
  });

  it("escapes control bytes from arguments and from files in the error line (ESC, NUL, gzip magic)", async () => {
    const arg = await ggen(["market", "info", "ev\u001b[2Jil\u008b"]);
    expectRefused(arg, 2);
    expect(arg.stderr).toContain("ev\\x1b[2Jil\\x8b");
    writeFileSync(
      join(box.root, "ggen.lock"),
      '{"lockfileVersion":1,"packs":{"\\u001b[31mx\\u0000\\u001f\\u008b":{"version":3}}}',
    );
    const file = await ggen(["market", "verify"]);
    expectRefused(file, 2);
    expect(file.stderr).toContain("\\x1b[31mx\\x00\\x1f\\x8b");
    rmSync(join(box.root, "ggen.lock"));
    box.check();
  });

  it("says a directory is not a file in words, not as EISDIR", async () => {
    mkdirSync(join(box.root, "ggen.lock"));
    const r = await ggen(["market", "list", "--installed"]);
    expectRefused(r, 1);
    expect(r.stderr).toMatch(/ggen\.lock: is a directory, expected a file$/m);
    expect(r.stderr).not.toMatch(/EISDIR/);
    rmSync(join(box.root, "ggen.lock"), { recursive: true });
    box.check();
  });

  it("names an unknown command before complaining about its options, and an unknown option before a missing argument", async () => {
    const cmd = await ggen(["template", "generat", "--optimize", "speed"]);
    expectRefused(cmd, 2);
    expect(cmd.stderr).toMatch(/unknown command 'generat' \(did you mean 'generate'\?\)/);
    const opt = await ggen(["template", "generate", "--optimize", "speed"]);
    expectRefused(opt, 2);
    expect(opt.stderr).toMatch(/unknown option '--optimize'/);
    expect(opt.stderr).not.toMatch(/needs an argument/);
    const typo = await ggen(["market", "search", "--limt", "3"]);
    expect(typo.stderr).toMatch(/unknown option '--limt' \(did you mean '--limit'\?\)/);
    box.check();
  });

  it("--version is the program's at the top level only, in both programs", async () => {
    const top = await ggen(["--version"]);
    expect(top.code).toBe(0);
    expect(top.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    for (const [program, args] of [
      ["ggen", ["market", "search", "--version"]],
      ["ggen", ["graph", "--version"]],
      ["cleanroom", ["environment", "list", "--version"]],
    ] as const) {
      const r = await run(program, [...args], { cwd: box.root });
      expectRefused(r, 2);
      expect(r.stdout).toBe("");
      expect(r.stderr).toMatch(/unknown option '--version' here/);
    }
    box.check();
  });

  it("--help wraps at word boundaries when piped and at 80 columns", async () => {
    for (const env of [{}, { COLUMNS: "80" }]) {
      const r = await ggen(["market", "add", "--help"], env);
      expect(r.code).toBe(0);
      const lines = r.stdout.split("\n");
      expect(Math.max(...lines.map((l) => l.length))).toBeLessThanOrEqual(80);
      // Every word of a long description survives whole (a mid-word break splits one into two).
      const words = new Set(r.stdout.split(/\s+/));
      for (const w of ["$GGEN_REGISTRY,", ".ggen/config.toml,", "dependencies", "io.ggen.node-cli@^1.0"])
        expect(words, w).toContain(w);
    }
    const whole = await ggen(["market", "add", "--help"], { GGEN_HELP_WRAP: "none" });
    expect(whole.stdout).toMatch(
      /Registry dir, index file, file:\/\/ or http\(s\):\/\/ URL \(repeatable; first wins\)\. Default: \$GGEN_REGISTRY, \.ggen\/config\.toml, the bundled registry/,
    );
  });

  it("completion zsh and bash work, and another shell is told which are supported", async () => {
    const zsh = await ggen(["completion", "zsh"]);
    expect(zsh.code).toBe(0);
    expect(zsh.stdout).toMatch(/^#compdef ggen\n/);
    const bash = await run("cleanroom", ["completion", "bash"], { cwd: box.root });
    expect(bash.stdout).toMatch(/complete -o bashdefault -o default -F _cleanroom_completions cleanroom/);
    const answers = await ggen(["--get-yargs-completions", "ggen", "market", ""], { ZSH_NAME: "zsh" });
    expect(answers.stdout).toMatch(/^add:Install packs/m);
    const fish = await ggen(["completion", "fish"]);
    expectRefused(fish, 2);
    expect(fish.stderr).toMatch(/no script for shell 'fish'; supported: bash, zsh/);
    box.check();
  });
});
