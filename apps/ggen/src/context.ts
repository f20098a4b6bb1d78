// What every command handler of this program shares: its Output and the error it raises for work
// that has not landed yet.
import { GgenError } from "@ggen/contract";
import { type GlobalOptions, type Output, outputFor } from "@ggen/reporter";

export { cacheDir } from "./home.js";
export type { Output };

export function output(argv: Partial<GlobalOptions>): Output {
  return outputFor(argv as Partial<GlobalOptions>);
}

export function notImplemented(what: string): never {
  throw new GgenError("NOT_IMPLEMENTED", `'${what}' is not implemented yet`);
}
