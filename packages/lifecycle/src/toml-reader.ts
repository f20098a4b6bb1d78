// Reading a TOML config with every complaint at the key's file:line:col: make.toml, .ggen/config.toml
// and .ggen/deployment-profiles.toml all go through one reader, so none of them can ignore a key.
import { GgenError, parseToml, tomlKeyLocation } from "@ggen/contract";
import { closest, parseDuration, parseSize } from "@ggen/support";

export type Table = Record<string, unknown>;
export type KeyPath = readonly (string | number)[];

export const isTable = (v: unknown): v is Table => typeof v === "object" && v !== null && !Array.isArray(v);

export class TomlReader {
  readonly doc: Table;

  /** `prefix`: where the document's tables sit in the text (["lifecycle"] for ggen.toml's [lifecycle]). */
  constructor(
    readonly file: string,
    readonly text: string,
    readonly code: string,
    private readonly prefix: readonly string[] = [],
  ) {
    this.doc = parseToml(text, file, code, "usage");
  }

  /** The key's (or its nearest written ancestor's) line and column. */
  where(path: KeyPath): { file: string; line?: number; column?: number } {
    const at = path.length ? tomlKeyLocation(this.text, [...this.prefix, ...path]) : undefined;
    return at ? { file: this.file, line: at.line, column: at.column } : { file: this.file };
  }

  fail(message: string, path: KeyPath, hint?: string): never {
    throw new GgenError(this.code, message, {
      kind: "usage",
      location: this.where(path),
      ...(hint ? { hint } : {}),
    });
  }

  /** The dotted name of a key, as a person reads it in messages. */
  name(path: KeyPath): string {
    return [...this.prefix, ...path].join(".");
  }

  /** Refuses keys of `t` (at `path`) that are not in `keys`, with a suggestion. */
  known(t: Table, path: KeyPath, keys: readonly string[], where: string): void {
    for (const k of Object.keys(t)) {
      if (keys.includes(k)) continue;
      const near = keys.find((c) => c.replace(/_/g, "") === k.replace(/[-_]/g, "")) ?? closest(k, keys);
      this.fail(
        `unknown key '${k}' in ${where}`,
        [...path, k],
        near ? `did you mean '${near}'?` : `known keys: ${keys.join(", ")}`,
      );
    }
  }

  table(v: unknown, path: KeyPath, what = `${this.name(path)} must be a table`): Table {
    if (v === undefined) return {};
    if (!isTable(v)) this.fail(what, path);
    return v;
  }

  str(v: unknown, path: KeyPath): string {
    if (typeof v !== "string") this.fail(`${this.name(path)} must be a string`, path);
    return v;
  }

  optStr(v: unknown, path: KeyPath): string | undefined {
    return v === undefined ? undefined : this.str(v, path);
  }

  strList(v: unknown, path: KeyPath): string[] {
    if (v === undefined) return [];
    if (typeof v === "string") return [v];
    if (!Array.isArray(v) || v.some((x) => typeof x !== "string"))
      this.fail(`${this.name(path)} must be a string or a list of strings`, path);
    return v as string[];
  }

  strMap(v: unknown, path: KeyPath): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [k, x] of Object.entries(
      this.table(v, path, `${this.name(path)} must be a table of strings`),
    )) {
      if (typeof x === "string") out[k] = x;
      else if (typeof x === "number" || typeof x === "boolean") out[k] = String(x);
      else this.fail(`${this.name([...path, k])} must be a string`, [...path, k]);
    }
    return out;
  }

  bool(v: unknown, path: KeyPath): boolean | undefined {
    if (v === undefined) return undefined;
    if (typeof v !== "boolean") this.fail(`${this.name(path)} must be true or false`, path);
    return v;
  }

  /** A whole number in [min, max]. */
  int(v: unknown, path: KeyPath, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
    if (v === undefined) return undefined;
    if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
      const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`;
      this.fail(`${this.name(path)} must be a whole number ${range}`, path);
    }
    return v;
  }

  /** A number in [min, max]. */
  num(v: unknown, path: KeyPath, min: number, max = Number.MAX_VALUE): number | undefined {
    if (v === undefined) return undefined;
    if (typeof v !== "number" || !Number.isFinite(v) || v < min || v > max)
      this.fail(
        `${this.name(path)} must be a number from ${min}${max < Number.MAX_VALUE ? ` to ${max}` : ""}`,
        path,
      );
    return v;
  }

  /**
   * A duration in ms: a number in `bare` units ("s" or "ms") or a string with a unit ("90s", "2m",
   * "1500ms"). 0 means none (undefined) where `zeroIsNone`.
   */
  duration(v: unknown, path: KeyPath, bare: "s" | "ms", zeroIsNone = false): number | undefined {
    if (v === undefined) return undefined;
    if (zeroIsNone && (v === 0 || v === "0")) return undefined;
    if (typeof v !== "number" && typeof v !== "string")
      this.fail(`${this.name(path)} must be a duration such as 90s, 2m or 1500ms`, path);
    try {
      return parseDuration(v, { flag: this.name(path), bare });
    } catch (e) {
      this.fail((e as Error).message, path);
    }
  }

  /** A size in bytes: a number of bytes or a string with a unit ("64K", "4M"). */
  size(v: unknown, path: KeyPath): number | undefined {
    if (v === undefined) return undefined;
    if (typeof v !== "number" && typeof v !== "string")
      this.fail(`${this.name(path)} must be a size such as 64K or 4M`, path);
    try {
      return parseSize(v, { flag: this.name(path) });
    } catch (e) {
      this.fail((e as Error).message, path);
    }
  }

  /**
   * A key ggen does not implement: accepted only when its value is what ggen does anyway (`same`),
   * refused otherwise with why.
   */
  unsupported(t: Table, path: KeyPath, key: string, why: string, same?: (v: unknown) => boolean): void {
    if (t[key] === undefined) return;
    if (same?.(t[key])) return;
    this.fail(`${this.name([...path, key])} = ${JSON.stringify(t[key])} is not supported: ${why}`, [
      ...path,
      key,
    ]);
  }
}
