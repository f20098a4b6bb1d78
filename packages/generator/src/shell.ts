// Hooks are not an injection point: a hook's `{{expr}}` values reach `sh -c` as environment variables
// (GGEN_HOOK_VALUE_<n>), and the command holds only a reference to each, quoted for where it stands — so a
// value is never shell source, whatever it contains. Rendering in shell mode (hbs.ts) leaves a placeholder
// per value; here each becomes its reference.

/** The placeholder a hook's value leaves in the rendered command. */
const VALUE = /\uE003(\d+)\uE004/y;

export interface HookCommand {
  command: string;
  env: Record<string, string>;
}

/** Why a value cannot be referenced where it stands, or undefined. */
export type Refusal = string;

/**
 * The command with each placeholder replaced by a reference to its value's variable: `"${V}"` outside
 * quotes, `${V}` inside double quotes and in a here-document, `'"${V}"'` inside single quotes (the quote
 * is closed, the reference double-quoted, the quote reopened). A quoted here-document expands nothing:
 * a value there is refused.
 */
export function hookCommand(rendered: string, values: readonly string[]): HookCommand | Refusal {
  const env: Record<string, string> = {};
  let out = "";
  let quote: "" | "'" | '"' = "";
  // Here-documents opened on the current line, started at its end; the one being read.
  const pending: { delimiter: string; quoted: boolean; tabs: boolean }[] = [];
  let heredoc: { delimiter: string; quoted: boolean; tabs: boolean } | undefined;
  let lineStart = 0;
  for (let i = 0; i < rendered.length; ) {
    VALUE.lastIndex = i;
    const m = VALUE.exec(rendered);
    if (m) {
      const n = Number(m[1]);
      const value = values[n];
      if (value === undefined) return "a hook value was changed by a block helper";
      const name = `GGEN_HOOK_VALUE_${n}`;
      env[name] = value;
      if (heredoc?.quoted) return "a value cannot go into a quoted here-document (it would not be expanded)";
      out += heredoc || quote === '"' ? `\${${name}}` : quote === "'" ? `'"\${${name}}"'` : `"\${${name}}"`;
      i = VALUE.lastIndex;
      continue;
    }
    const c = rendered[i]!;
    if (c === "\uE003" || c === "\uE004") return "a hook value was changed by a block helper";
    if (heredoc) {
      if (c === "\n") {
        const line = rendered.slice(lineStart, i);
        if ((heredoc.tabs ? line.replace(/^\t+/, "") : line) === heredoc.delimiter) heredoc = pending.shift();
        lineStart = i + 1;
      }
      out += c;
      i++;
      continue;
    }
    if (quote === "'") {
      if (c === "'") quote = "";
    } else if (c === "\\") {
      out += rendered.slice(i, i + 2);
      i += 2;
      continue;
    } else if (quote === '"') {
      if (c === '"') quote = "";
    } else if (c === "'" || c === '"') {
      quote = c;
    } else if (c === "<" && rendered.startsWith("<<", i) && !rendered.startsWith("<<<", i)) {
      const h = /^<<(-?)[ \t]*(['"]?)([A-Za-z_][\w-]*)\2/.exec(rendered.slice(i));
      if (h) {
        pending.push({ delimiter: h[3]!, quoted: h[2] !== "", tabs: h[1] === "-" });
        out += h[0];
        i += h[0].length;
        continue;
      }
    } else if (c === "\n") {
      lineStart = i + 1;
      if (pending.length > 0) heredoc = pending.shift();
    }
    out += c;
    i++;
  }
  return { command: out, env };
}

/** Seed 002's promise: a value that reaches a shell never holds a command substitution. */
export function substitutionIn(values: readonly string[]): string | undefined {
  return values.find((v) => v.includes("$(") || v.includes("`"));
}
