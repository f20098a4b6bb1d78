// What every command handler of this program shares: its Output and the error it raises for work
// that has not landed yet.
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { GgenError } from "@ggen/contract";
import { type GlobalOptions, type Output, outputFor } from "@ggen/reporter";

export type { Output };

export function output(argv: Partial<GlobalOptions>): Output {
  return outputFor(argv as Partial<GlobalOptions>);
}

export function notImplemented(what: string): never {
  throw new GgenError("NOT_IMPLEMENTED", `'${what}' is not implemented yet`);
}

/** What ggen keeps between runs: $GGEN_HOME/cache/<kind> (GGEN_HOME defaults to ~/.ggen) — compiled
 * templates (`templates`), prepared dependency trees (`node-modules`); bin.ts puts V8's compiled code of
 * the `gen` bundle in `code` by the same rule (it runs before this module may load). */
export function cacheDir(kind: "templates" | "node-modules", env: NodeJS.ProcessEnv = process.env): string {
  // $HOME first, as homedir() reads it: gen.cjs loads node:os only where it is unset (see gen-bundle.ts).
  return join(resolve(env.GGEN_HOME ?? join(env.HOME || homedir(), ".ggen")), "cache", kind);
}
