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

export function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length]!;
}

/** The closest candidate within a small edit distance, for "did you mean" hints. */
export function suggest(word: string, candidates: Iterable<string>): string | undefined {
  const w = word.toLowerCase();
  const list = [...candidates];
  const prefix = list.find(
    (c) => c.length >= 3 && (w.startsWith(c.toLowerCase()) || c.toLowerCase().startsWith(w)),
  );
  if (prefix) return prefix;
  let best: string | undefined;
  let bestD = Math.max(2, Math.floor(word.length / 3)) + 1;
  for (const c of list) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return best;
}
