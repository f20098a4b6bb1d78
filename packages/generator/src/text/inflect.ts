// A small English inflector for identifiers (table names, route segments, collection types).
// Rules are applied to the last word only and the original casing of the word's first letter is kept.
// The domain-service pack ports `pluralize` to SPARQL (fixtures/templates/queries/classes.rq, to number
// alike plurals): change both; apps/ggen/test/ontologies.test.ts compares them.

const UNCOUNTABLE = new Set([
  "equipment",
  "information",
  "rice",
  "money",
  "species",
  "series",
  "fish",
  "sheep",
  "deer",
  "news",
  "data",
  "metadata",
  "feedback",
  "software",
  "hardware",
  "inventory",
  "staff",
  "media",
  "audio",
  "stock",
  "traffic",
  "luggage",
  "furniture",
  "police",
  "settings",
]);

const IRREGULAR: [string, string][] = [
  ["person", "people"],
  ["man", "men"],
  ["woman", "women"],
  ["child", "children"],
  ["tooth", "teeth"],
  ["foot", "feet"],
  ["mouse", "mice"],
  ["goose", "geese"],
  ["ox", "oxen"],
  ["leaf", "leaves"],
  ["life", "lives"],
  ["knife", "knives"],
  ["wife", "wives"],
  ["half", "halves"],
  ["self", "selves"],
  ["index", "indices"],
  ["matrix", "matrices"],
  ["vertex", "vertices"],
  ["criterion", "criteria"],
  ["analysis", "analyses"],
  ["axis", "axes"],
  ["status", "statuses"],
  ["quiz", "quizzes"],
];
const PLURAL_OF = new Map(IRREGULAR);
const SINGULAR_OF = new Map(IRREGULAR.map(([a, b]) => [b, a]));

const PLURAL_RULES: [RegExp, string][] = [
  [/(octop|vir|cact|fung|radi|stimul|syllab)us$/i, "$1i"],
  [/(phenomen|criteri)on$/i, "$1a"],
  [/sis$/i, "ses"],
  [/(s|x|z|ch|sh)$/i, "$1es"],
  [/([^aeiouy])y$/i, "$1ies"],
  [/(?:([^f])fe|([lr])f)$/i, "$1$2ves"],
  [/(buffal|potat|tomat|her|ech)o$/i, "$1oes"],
];
const SINGULAR_RULES: [RegExp, string][] = [
  [/(octop|vir|cact|fung|radi|stimul|syllab)i$/i, "$1us"],
  [/(phenomen|criteri)a$/i, "$1on"],
  [/(analy|ba|diagno|parenthe|progno|synop|the|cri)ses$/i, "$1sis"],
  [/(buffal|potat|tomat|her|ech)oes$/i, "$1o"],
  [/([lr])ves$/i, "$1f"],
  [/([^f])ves$/i, "$1fe"],
  [/([^aeiouy])ies$/i, "$1y"],
  [/(ss|x|z|ch|sh|us)es$/i, "$1"],
  [/(ss|us|is)$/i, "$1"],
  [/s$/i, ""],
];

function matchCase(word: string, result: string): string {
  if (word === word.toUpperCase() && word.length > 1) return result.toUpperCase();
  if (word[0] && word[0] === word[0].toUpperCase()) return result[0]!.toUpperCase() + result.slice(1);
  return result;
}

function lastWord(s: string): [string, string] {
  const m = /^(.*?)([A-Za-z]+)$/.exec(s.replace(/([a-z])([A-Z])/g, "$1\u0000$2"));
  if (!m) return ["", s];
  return [m[1]!.replace(/\u0000/g, ""), m[2]!];
}

function inflect(
  input: unknown,
  table: Map<string, string>,
  rules: [RegExp, string][],
  other: Map<string, string>,
): string {
  const s = String(input ?? "");
  const [head, word] = lastWord(s);
  if (!word) return s;
  const lower = word.toLowerCase();
  if (UNCOUNTABLE.has(lower)) return s;
  const irregular = table.get(lower);
  if (irregular) return head + matchCase(word, irregular);
  if (other.has(lower)) return s; // already in the requested form
  for (const [re, rep] of rules) {
    if (re.test(word)) return head + matchCase(word, word.replace(re, rep));
  }
  return s;
}

export function pluralize(input: unknown): string {
  const s = String(input ?? "");
  const [, word] = lastWord(s);
  // A word that already looks plural ("orders", "categories") is kept.
  if (word && /[^s]s$/i.test(word) && !/(us|is|ss)$/i.test(word) && singularize(s) !== s) return s;
  return inflect(s, PLURAL_OF, [...PLURAL_RULES, [/$/, "s"]], SINGULAR_OF);
}

export function singularize(input: unknown): string {
  return inflect(input, SINGULAR_OF, SINGULAR_RULES, PLURAL_OF);
}
