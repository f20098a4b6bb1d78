import { GgenError, type SourceLocation } from "@ggen/contract";

export type { SourceLocation };

export function fail(
  code: string,
  message: string,
  where?: SourceLocation,
  opts: { kind?: "usage" | "failure"; hint?: string | undefined; cause?: unknown } = {},
): never {
  throw new GgenError(code, message, {
    ...(where ? { location: where } : {}),
    kind: opts.kind ?? "failure",
    ...(opts.hint ? { hint: opts.hint } : {}),
    ...(opts.cause !== undefined ? { cause: opts.cause } : {}),
  });
}

export function at(file: string, line?: number, column?: number): SourceLocation {
  const loc: SourceLocation = { file };
  if (line !== undefined) loc.line = line;
  if (line !== undefined && column !== undefined) loc.column = column;
  return loc;
}
