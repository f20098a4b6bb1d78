// Identifier case conversion. Words are split on case changes, digits boundaries and any non-alphanumeric
// character, so "OrderLine", "order_line", "order-line" and "order line" all give the same words.

export function words(input: unknown): string[] {
  const s = String(input ?? "");
  return (
    s
      .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
      .replace(/([A-Z]+)([A-Z][a-z])/g, "$1 $2")
      .match(/[A-Za-z0-9]+/g) ?? []
  );
}

const cap = (w: string) => (w ? w[0]!.toUpperCase() + w.slice(1).toLowerCase() : w);

export const camelCase = (s: unknown): string =>
  words(s)
    .map((w, i) => (i === 0 ? w.toLowerCase() : cap(w)))
    .join("");
export const pascalCase = (s: unknown): string => words(s).map(cap).join("");
export const snakeCase = (s: unknown): string =>
  words(s)
    .map((w) => w.toLowerCase())
    .join("_");
export const kebabCase = (s: unknown): string =>
  words(s)
    .map((w) => w.toLowerCase())
    .join("-");
export const constantCase = (s: unknown): string =>
  words(s)
    .map((w) => w.toUpperCase())
    .join("_");
export const titleCase = (s: unknown): string => words(s).map(cap).join(" ");
