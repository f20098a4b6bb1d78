// The --help and --version a program's bin answers from its build-time table are what its parser says:
// a stale or wrongly keyed table fails here.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";

const repo = join(import.meta.dirname, "..", "..");

describe.each(["ggen", "cleanroom"])("%s --help from the table", (name) => {
  const dist = join(repo, "apps", name, "dist");
  const bin = (args: string[], env: NodeJS.ProcessEnv) =>
    spawnSync(process.execPath, [join(dist, "bin.js"), ...args], {
      encoding: "utf8",
      env: { ...process.env, LC_ALL: "", LANG: "C.UTF-8", COLUMNS: "", GGEN_HELP_WRAP: "", ...env },
    });
  const parser = async (args: string[], width: number | null) => {
    const app = await import(pathToFileURL(join(dist, "index.mjs")).href);
    const chunks: string[] = [];
    const code = await app.runProgram(app.program, args, {
      width,
      stdout: { write: (s: string) => chunks.push(s) },
    });
    return { code, text: chunks.join("") };
  };

  it.each([
    [{}, 80],
    [{ COLUMNS: "57" }, 57],
    [{ COLUMNS: "200" }, 120],
    [{ GGEN_HELP_WRAP: "none" }, null],
  ] as const)("with %o the bin says what the parser says at width %s", async (env, width) => {
    const ran = bin(["--help"], env);
    expect(ran.status).toBe(0);
    const said = await parser(["--help"], width);
    expect(said.code).toBe(0);
    expect(ran.stdout).toBe(said.text);
    expect(ran.stdout).toContain(`Usage: ${name} <command> [options]`);
  });

  it("--version and -h too", async () => {
    expect(bin(["--version"], {}).stdout).toBe((await parser(["--version"], 80)).text);
    expect(bin(["-h"], {}).stdout).toBe((await parser(["--help"], 80)).text);
  });
});
