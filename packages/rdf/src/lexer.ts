// A small SPARQL tokenizer: enough to find the query form after the prologue and to find variables
// outside strings, IRIs and comments (for bind()).

export type TokenKind = "ws" | "comment" | "iri" | "string" | "var" | "word" | "other";

export interface Token {
  kind: TokenKind;
  text: string;
  start: number;
}

const patterns: [TokenKind, RegExp][] = [
  ["ws", /\s+/y],
  ["comment", /#[^\n\r]*/y],
  ["iri", /<[^<>"{}|^`\\\u0000-\u0020]*>/y],
  ["string", /"""(?:[^"\\]|\\[\s\S]|"(?!""))*"""/y],
  ["string", /'''(?:[^'\\]|\\[\s\S]|'(?!''))*'''/y],
  ["string", /"(?:[^"\\\n\r]|\\.)*"/y],
  ["string", /'(?:[^'\\\n\r]|\\.)*'/y],
  ["var", /[?$][A-Za-z0-9_\u00B7\u00C0-\uFFFF]+/y],
  ["word", /[A-Za-z_\u00C0-\uFFFF][A-Za-z0-9_\-.:\u00B7\u00C0-\uFFFF]*/y],
  ["other", /[\s\S]/y],
];

export function* tokenize(text: string): Generator<Token> {
  let pos = 0;
  while (pos < text.length) {
    let matched = false;
    for (const [kind, re] of patterns) {
      re.lastIndex = pos;
      const m = re.exec(text);
      if (m && m[0].length > 0) {
        yield { kind, text: m[0], start: pos };
        pos += m[0].length;
        matched = true;
        break;
      }
    }
    if (!matched) {
      yield { kind: "other", text: text[pos] ?? "", start: pos };
      pos++;
    }
  }
}

export type QueryForm = "select" | "ask" | "construct" | "describe" | "update" | "unknown";

/** The form of a SPARQL request: the first keyword after BASE / PREFIX declarations. */
export function queryForm(text: string): QueryForm {
  for (const t of tokenize(text)) {
    if (t.kind === "ws" || t.kind === "comment" || t.kind === "iri") continue;
    if (t.kind !== "word") {
      if (t.text === ":") continue;
      return "unknown";
    }
    const w = t.text.toUpperCase();
    if (w === "BASE" || w === "PREFIX" || w.endsWith(":")) continue;
    if (w === "SELECT") return "select";
    if (w === "ASK") return "ask";
    if (w === "CONSTRUCT") return "construct";
    if (w === "DESCRIBE") return "describe";
    if (["INSERT", "DELETE", "LOAD", "CLEAR", "CREATE", "DROP", "COPY", "MOVE", "ADD", "WITH"].includes(w))
      return "update";
    return "unknown";
  }
  return "unknown";
}

/**
 * The prefixes `query` uses (`ex:Thing`, `:local`, `^^xsd:int`) without declaring them in its own
 * PREFIX lines, sorted. A query a pack ships must declare every prefix it uses: it runs on other
 * people's graphs, whose prefixes are theirs.
 */
export function undeclaredPrefixes(query: string): string[] {
  const declared = new Set<string>();
  const used = new Set<string>();
  let expectPrefixName = false;
  let previous: Token | undefined;
  for (const t of tokenize(query)) {
    if (t.kind === "ws" || t.kind === "comment") continue;
    if (expectPrefixName) {
      expectPrefixName = false;
      if (t.kind === "word" && t.text.endsWith(":")) declared.add(t.text.slice(0, -1));
      else if (t.text === ":") declared.add("");
      previous = t;
      continue;
    }
    if (t.kind === "word" && t.text.toUpperCase() === "PREFIX") expectPrefixName = true;
    else if (t.kind === "word" && t.text.includes(":")) {
      const prefix = t.text.slice(0, t.text.indexOf(":"));
      if (prefix !== "_") used.add(prefix);
    } else if (t.text === ":" && previous?.text !== "PREFIX") used.add("");
    previous = t;
  }
  return [...used].filter((p) => !declared.has(p)).sort();
}
