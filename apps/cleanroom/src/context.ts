// What every command handler of this program shares: its Output and the error it raises for work
// that has not landed yet.
import { GgenError } from "@ggen/contract";
import { type Output, outputFor } from "@ggen/reporter";

export type { Output };

export function output(argv: Record<string, unknown>): Output {
  return outputFor(argv);
}

export function notImplemented(what: string): never {
  throw new GgenError("NOT_IMPLEMENTED", `'${what}' is not implemented yet`);
}
