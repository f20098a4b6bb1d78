// `k=v` lists (--vars, --env, --service, -e): one parser, one error shape.
import { GgenError } from "./errors.js";

export interface KeyValueOptions {
  /** The flag the pairs came from, for the message (e.g. "--vars"). */
  flag: string;
  /** Error code (default USAGE_KEY_VALUE). */
  code?: string;
  /** An example for the hint (e.g. "name=shop"). */
  example?: string;
}

/**
 * Parses `key=value` strings into a record, in order (a later key wins). The value may contain '=' and
 * may be empty; the key may not. Keys are trimmed.
 */
export function parseKeyValues(pairs: readonly string[], options: KeyValueOptions): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of pairs) {
    const i = p.indexOf("=");
    const key = i > 0 ? p.slice(0, i).trim() : "";
    if (key === "") {
      throw new GgenError(options.code ?? "USAGE_KEY_VALUE", `${options.flag} '${p}': expected key=value`, {
        kind: "usage",
        ...(options.example ? { hint: `e.g. ${options.flag} ${options.example}` } : {}),
      });
    }
    out[key] = p.slice(i + 1);
  }
  return out;
}
