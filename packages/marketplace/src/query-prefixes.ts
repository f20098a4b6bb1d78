// Which prefixes a SPARQL query uses without declaring them. A pack's query that leans on `rdf:` or
// `owl:` from the user's graph works only for graphs that happen to declare them (issue 14: the error
// then points into the installed pack); `ggen market verify` holds every pack's queries to declaring
// what they use. Pure: a small scanner that skips strings, IRIs and comments, no SPARQL parser needed.

/** Where a prefixed name may start: not inside another name, variable, language tag or IRI. */
const NAME_CHAR = /[A-Za-z0-9_.\-:?$@]/;
const PNAME = /^([A-Za-z\u00c0-\uffff](?:[\w.\-\u00b7\u00c0-\uffff]*[\w\-\u00b7\u00c0-\uffff])?)?:/;
const DECLARATION =
  /^PREFIX\s+([A-Za-z\u00c0-\uffff](?:[\w.\-\u00b7\u00c0-\uffff]*[\w\-\u00b7\u00c0-\uffff])?)?:/i;
const IRI = /^<[^<>"{}|^`\\\s]*>/;

export interface PrefixUse {
  /** The prefix ("" for the default `:`). */
  prefix: string;
  /** 1-based line of its first use. */
  line: number;
}

/** The prefixes `query` uses but does not declare with PREFIX, in order of first use. */
export function undeclaredPrefixes(query: string): PrefixUse[] {
  const declared = new Set<string>();
  const used = new Map<string, number>();
  let line = 1;
  let i = 0;
  const n = query.length;
  while (i < n) {
    const c = query[i]!;
    if (c === "\n") {
      line++;
      i++;
      continue;
    }
    if (c === "#") {
      while (i < n && query[i] !== "\n") i++;
      continue;
    }
    if (c === '"' || c === "'") {
      const long = query.startsWith(c.repeat(3), i);
      const end = long ? c.repeat(3) : c;
      i += end.length;
      while (i < n && !query.startsWith(end, i)) {
        if (query[i] === "\\") i++;
        else if (query[i] === "\n") line++;
        i++;
      }
      i += end.length;
      continue;
    }
    if (c === "<") {
      const iri = IRI.exec(query.slice(i, i + 4096));
      i += iri ? iri[0].length : 1; // else: the less-than operator
      continue;
    }
    const boundary = i === 0 || !NAME_CHAR.test(query[i - 1]!);
    if (boundary && /[Pp]/.test(c)) {
      const decl = DECLARATION.exec(query.slice(i, i + 512));
      if (decl) {
        declared.add(decl[1] ?? "");
        i += decl[0].length;
        continue;
      }
    }
    if (boundary && (c === ":" || /[A-Za-z\u00c0-\uffff]/.test(c))) {
      const m = PNAME.exec(query.slice(i, i + 512));
      if (m) {
        const prefix = m[1] ?? "";
        if (!used.has(prefix)) used.set(prefix, line);
        i += m[0].length;
        continue;
      }
      while (i < n && /[\w\u00c0-\uffff]/.test(query[i]!)) i++; // a keyword or a function name
      continue;
    }
    i++;
  }
  return [...used].filter(([p]) => !declared.has(p)).map(([prefix, l]) => ({ prefix, line: l }));
}
