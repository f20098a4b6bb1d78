// Small shared pieces of the marketplace: pack id checks, lines of JSON text.
import { GgenError, lineColumn, packIdProblem, type SourceLocation } from "@ggen/contract";

export function assertPackId(id: string, where?: SourceLocation): void {
  const why = packIdProblem(id);
  if (why)
    throw new GgenError("INVALID_PACK_ID", `invalid pack id '${id}': ${why}`, {
      kind: "usage",
      ...(where ? { location: where } : {}),
    });
}

/** The 1-based line on which `needle` first appears, if it does. */
export function lineOf(text: string, needle: string): number | undefined {
  const at = text.indexOf(needle);
  return at < 0 ? undefined : lineColumn(text, at).line;
}
