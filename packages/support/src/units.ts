// Durations and sizes as people type them (seed forms: `--timeout 50s`, `--timeout 2m`, `--memory 4G`).
// Errors echo what was typed, never NaN.
import { GgenError } from "./errors.js";

export interface UnitOptions {
  /** The flag or key, for the message ("--timeout", "make.toml: timeout"). */
  flag: string;
  /** The unit of a bare number (durations: "s"; sizes: "B"). */
  bare?: string;
}

const DURATION: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "1500ms", "50s", "2m", "1.5h", "3d" or a bare number (seconds unless `bare` says otherwise) → ms. */
export function parseDuration(text: string | number, options: UnitOptions): number {
  const raw = String(text).trim();
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?$/i.exec(raw);
  const unit = (m?.[2] ?? options.bare ?? "s").toLowerCase();
  const factor = DURATION[unit];
  if (!m || factor === undefined)
    throw new GgenError(
      "BAD_DURATION",
      `${options.flag} ${JSON.stringify(raw)}: expected a duration such as 50s, 2m or 1500ms`,
      {
        kind: "usage",
      },
    );
  const ms = Number(m[1]) * factor;
  if (!(ms > 0))
    throw new GgenError("BAD_DURATION", `${options.flag} ${JSON.stringify(raw)}: must be more than zero`, {
      kind: "usage",
    });
  return Math.round(ms);
}

const SIZE: Record<string, number> = { b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** "512M", "4G", "4GiB", "64KB", "100" (bytes unless `bare` says otherwise) → bytes. Powers of 1024. */
export function parseSize(text: string | number, options: UnitOptions): number {
  const raw = String(text).trim();
  const m = /^(\d+(?:\.\d+)?)\s*([bkmgt])?(?:i?b)?$/i.exec(raw);
  const unit = (m?.[2] ?? options.bare ?? "b").toLowerCase().charAt(0);
  const factor = SIZE[unit];
  if (!m || factor === undefined)
    throw new GgenError(
      "BAD_SIZE",
      `${options.flag} ${JSON.stringify(raw)}: expected a size such as 512M or 4G`,
      {
        kind: "usage",
      },
    );
  const bytes = Math.round(Number(m[1]) * factor);
  if (!(bytes > 0))
    throw new GgenError("BAD_SIZE", `${options.flag} ${JSON.stringify(raw)}: must be more than zero`, {
      kind: "usage",
    });
  return bytes;
}

/** 536870912 → "512 MiB" (what a message shows of a limit). */
export function formatSize(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  let v = bytes;
  while (v >= 1024 && i < units.length - 1 && v % 1024 === 0) {
    v /= 1024;
    i++;
  }
  return `${v} ${units[i]}`;
}
