// What the repository-wide tests share: README's two commands, and a PATH that hides some commands (how a
// machine without a package is simulated: nothing is uninstalled).
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";

export const repo = join(import.meta.dirname, "..", "..");

/** The two commands of README's Quick start block, comments stripped. */
export function readmeCommands(): string[] {
  const readme = readFileSync(join(repo, "README.md"), "utf8");
  const block = /## Quick start[\s\S]*?```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? "";
  return block
    .split("\n")
    .map((l) => l.replace(/#.*$/, "").trim())
    .filter(Boolean);
}

/** A PATH with every command of this one but `hidden`, as links in a fresh directory (readable by all)
 * under `base` (a sandbox with its own /tmp needs another). */
export function pathWithout(hidden: string[], base = tmpdir()): { path: string; dir: string } {
  const dir = mkdtempSync(join(base, "ggen-path-"));
  const bin = join(dir, "bin");
  mkdirSync(bin, { mode: 0o755 });
  const seen = new Set(hidden);
  for (const from of (process.env.PATH ?? "").split(delimiter)) {
    let names: string[];
    try {
      if (!statSync(from).isDirectory()) continue;
      names = readdirSync(from);
    } catch {
      continue;
    }
    for (const name of names) {
      if (seen.has(name)) continue;
      seen.add(name);
      symlinkSync(join(from, name), join(bin, name));
    }
  }
  return { path: bin, dir };
}
