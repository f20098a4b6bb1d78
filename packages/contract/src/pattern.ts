// Regular expressions from users (a var's `pattern`, an inject anchor, a scenario's expected output) run
// on RE2 (re2js, a pure-JS port): matching is linear in the input, so no pattern can backtrack
// catastrophically. Features RE2 leaves out (backreferences, lookaround) are refused with one line.
import { createRequire } from "node:module";
import { GgenError, type SourceLocation } from "@ggen/support";

type Re2Module = typeof import("re2js");
let re2: Re2Module | undefined;
// Loaded on first use: most commands never compile a user's pattern.
const load = (): Re2Module => {
  re2 ??= createRequire(import.meta.url)("re2js") as Re2Module;
  return re2;
};

export interface PatternOptions {
  /** JavaScript-style flags: i (case-insensitive), m (multiline), s (dot matches newline). */
  flags?: string;
  /** What the pattern is, for the message ("var 'name' pattern", "scenario step 'build' expect"). */
  what?: string;
  location?: SourceLocation;
}

export interface PatternMatch {
  index: number;
  /** The whole match, then the groups (null where a group did not take part). */
  groups: (string | null)[];
}

export interface SafePattern {
  readonly source: string;
  /** Is there a match anywhere in `text`? */
  test(text: string): boolean;
  /** The whole text matches. */
  matchesWhole(text: string): boolean;
  /** The first match at or after `from`, or null. */
  exec(text: string, from?: number): PatternMatch | null;
}

/** Compiles `source` on RE2; a bad or unsupported pattern is a usage error naming what it is. */
export function compilePattern(source: string, options: PatternOptions = {}): SafePattern {
  const { RE2JS } = load();
  let flags = 0;
  for (const f of options.flags ?? "") {
    if (f === "i") flags |= RE2JS.CASE_INSENSITIVE;
    else if (f === "m") flags |= RE2JS.MULTILINE;
    else if (f === "s") flags |= RE2JS.DOTALL;
    else if (f !== "g" && f !== "u")
      throw new GgenError(
        "BAD_PATTERN",
        `${options.what ?? "pattern"} /${source}/: unsupported flag '${f}'`,
        {
          kind: "usage",
          ...(options.location ? { location: options.location } : {}),
        },
      );
  }
  let re: InstanceType<Re2Module["RE2JS"]>;
  try {
    re = RE2JS.compile(source, flags);
  } catch (e) {
    const why = String((e as Error).message ?? e).split("\n")[0];
    throw new GgenError(
      "BAD_PATTERN",
      `${options.what ?? "pattern"} /${source}/ is not a supported pattern: ${why}`,
      {
        kind: "usage",
        hint: "patterns run on RE2: no backreferences or lookaround",
        ...(options.location ? { location: options.location } : {}),
      },
    );
  }
  return {
    source,
    test: (text) => re.matcher(text).find(),
    matchesWhole: (text) => re.matches(text),
    exec(text, from = 0) {
      const m = re.matcher(text);
      if (!m.find(from)) return null;
      const groups: (string | null)[] = [];
      for (let g = 0; g <= m.groupCount(); g++) groups.push(m.group(g));
      return { index: m.start(), groups };
    },
  };
}
