// How far the marketplace goes for a registry or an archive before it gives up: sizes (archive, unpacked,
// entries, index) and network timeouts (connect, idle, total). Each has a default, an environment
// variable and a `.ggen/config.toml` key (`[marketplace]`); the environment wins over the file.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { GgenError, parseToml } from "@ggen/contract";
import { formatSize, parseDuration, parseSize } from "@ggen/support";
import { lineOf } from "./util.js";

export interface MarketLimits {
  /** Bytes of one downloaded or local pack archive (compressed). */
  maxArchiveBytes: number;
  /** Bytes an archive may unpack to. */
  maxUnpackedBytes: number;
  /** Entries (files, directories, links) in one archive. */
  maxEntries: number;
  /** Bytes of a registry index. */
  maxIndexBytes: number;
  /** Until a connection to a registry or archive host is made. */
  connectTimeoutMs: number;
  /** Without a byte from the other side, once connected. */
  idleTimeoutMs: number;
  /** For one whole download (index or archive), redirects included. */
  totalTimeoutMs: number;
}

type Kind = "size" | "duration" | "count";

/** Each limit: its default, its environment variable, its config key and its unit. */
export const LIMITS: Readonly<
  Record<keyof MarketLimits, { default: number; env: string; key: string; kind: Kind }>
> = {
  maxArchiveBytes: {
    default: 64 << 20,
    env: "GGEN_MARKET_MAX_ARCHIVE",
    key: "max_archive_size",
    kind: "size",
  },
  maxUnpackedBytes: {
    default: 256 << 20,
    env: "GGEN_MARKET_MAX_UNPACKED",
    key: "max_unpacked_size",
    kind: "size",
  },
  maxEntries: { default: 10_000, env: "GGEN_MARKET_MAX_ENTRIES", key: "max_entries", kind: "count" },
  maxIndexBytes: { default: 64 << 20, env: "GGEN_MARKET_MAX_INDEX", key: "max_index_size", kind: "size" },
  connectTimeoutMs: {
    default: 10_000,
    env: "GGEN_MARKET_CONNECT_TIMEOUT",
    key: "connect_timeout",
    kind: "duration",
  },
  idleTimeoutMs: { default: 30_000, env: "GGEN_MARKET_IDLE_TIMEOUT", key: "idle_timeout", kind: "duration" },
  totalTimeoutMs: { default: 300_000, env: "GGEN_MARKET_TIMEOUT", key: "timeout", kind: "duration" },
};

export const DEFAULT_MARKET_LIMITS: MarketLimits = Object.fromEntries(
  Object.entries(LIMITS).map(([k, v]) => [k, v.default]),
) as unknown as MarketLimits;

function parseLimit(
  kind: Kind,
  value: unknown,
  flag: string,
  location?: { file: string; line?: number },
): number {
  try {
    if (kind === "size") return parseSize(value as string | number, { flag });
    if (kind === "duration") return parseDuration(value as string | number, { flag });
    const n = typeof value === "number" ? value : Number(String(value).trim());
    if (!Number.isInteger(n) || n < 1)
      throw new GgenError(
        "BAD_NUMBER",
        `${flag} ${JSON.stringify(String(value))}: expected a whole number above 0`,
        {
          kind: "usage",
        },
      );
    return n;
  } catch (e) {
    if (location && e instanceof GgenError)
      throw new GgenError(e.code, e.message, { kind: "usage", location });
    throw e;
  }
}

/** A limit as a message shows it, with how to change it: "64 MiB (GGEN_MARKET_MAX_ARCHIVE)". */
export function describeLimit(name: keyof MarketLimits, value: number): string {
  const spec = LIMITS[name];
  const shown =
    spec.kind === "size" ? formatSize(value) : spec.kind === "duration" ? `${value / 1000} s` : String(value);
  return `${shown}; ${spec.env} or [marketplace] ${spec.key} in .ggen/config.toml`;
}

/**
 * Keys seed 002 documents that the marketplace cannot honour as asked: accepted with the value that
 * describes what it does, refused otherwise (never silently ignored), with what to do instead.
 */
export const FIXED: Readonly<Record<string, { accepts: unknown; why: string }>> = {
  cache_enabled: { accepts: true, why: "indexes and archives are always cached (archives by sha256)" },
  verify_checksums: {
    accepts: true,
    why: "every archive's sha256 and size are always checked against the index",
  },
  allow_prerelease: {
    accepts: false,
    why: "a prerelease is installed only when the range names one (id@^1.2.0-beta)",
  },
  cache_dir: {
    accepts: undefined,
    why: "the cache is $GGEN_HOME/marketplace/cache: set GGEN_HOME to move it",
  },
  install_dir: {
    accepts: undefined,
    why: "packs are installed per project in .ggen/packages and pinned in ggen.lock",
  },
};

/** The keys `[marketplace]` accepts: the registries, the index TTL, the limits and the fixed ones. */
export const KNOWN_KEYS = new Set([
  "registry_url",
  "registries",
  "cache_ttl_seconds",
  ...Object.values(LIMITS).map((l) => l.key),
  ...Object.keys(FIXED),
]);

export interface MarketConfig {
  file: string;
  text: string;
  section: Record<string, unknown>;
}

/** The `[marketplace]` table of `<project>/.ggen/config.toml`, when there is one; unknown keys are refused. */
export async function readMarketConfig(projectDir: string): Promise<MarketConfig | undefined> {
  const file = join(projectDir, ".ggen", "config.toml");
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch {
    return undefined;
  }
  const doc = parseToml(text, file, "CONFIG_INVALID", "usage");
  const section = doc.marketplace;
  if (section === undefined) return undefined;
  if (typeof section !== "object" || section === null || Array.isArray(section))
    throw new GgenError("CONFIG_INVALID", "[marketplace] must be a table", {
      kind: "usage",
      location: { file },
    });
  for (const [key, value] of Object.entries(section)) {
    const line = lineOf(text, key);
    const location = { file, ...(line ? { line } : {}) };
    if (!KNOWN_KEYS.has(key))
      throw new GgenError("CONFIG_INVALID", `[marketplace] has no key '${key}'`, {
        kind: "usage",
        location,
        hint: `known: ${[...KNOWN_KEYS].join(", ")}`,
      });
    const fixed = FIXED[key];
    if (fixed && value !== fixed.accepts)
      throw new GgenError(
        "CONFIG_UNSUPPORTED",
        `[marketplace] ${key} = ${JSON.stringify(value)} is not supported: ${fixed.why}`,
        {
          kind: "usage",
          location,
          hint: fixed.accepts === undefined ? `remove ${key}` : `remove it or set ${key} = ${fixed.accepts}`,
        },
      );
    if (key === "cache_ttl_seconds" && !(typeof value === "number" && Number.isFinite(value) && value >= 0))
      throw new GgenError(
        "CONFIG_INVALID",
        "[marketplace] cache_ttl_seconds must be a number of seconds (0 or more)",
        {
          kind: "usage",
          location,
        },
      );
  }
  return { file, text, section: section as Record<string, unknown> };
}

/** The limits in effect: explicit values, then the environment, then `[marketplace]`, then the defaults. */
export function resolveLimits(
  explicit: Partial<MarketLimits> | undefined,
  env: NodeJS.ProcessEnv,
  config: MarketConfig | undefined,
): MarketLimits {
  const out = { ...DEFAULT_MARKET_LIMITS };
  for (const [name, spec] of Object.entries(LIMITS) as [
    keyof MarketLimits,
    (typeof LIMITS)[keyof MarketLimits],
  ][]) {
    const given = explicit?.[name];
    const fromEnv = env[spec.env];
    const fromConfig = config?.section[spec.key];
    if (given !== undefined) out[name] = given;
    else if (fromEnv !== undefined && fromEnv.trim() !== "")
      out[name] = parseLimit(spec.kind, fromEnv, spec.env);
    else if (fromConfig !== undefined) {
      const line = lineOf(config!.text, spec.key);
      out[name] = parseLimit(spec.kind, fromConfig, `[marketplace] ${spec.key}`, {
        file: config!.file,
        ...(line ? { line } : {}),
      });
    }
  }
  return out;
}
