// Every input is bounded: how long one query may run, how big a source may be, how long a URL may take.
// Defaults, overridden by the environment (GGEN_QUERY_TIMEOUT, GGEN_MAX_GRAPH_SIZE, GGEN_FETCH_TIMEOUT),
// then by setRdfLimits() (the programs' flags), then per call (QueryOptions / LoadOptions).
import { parseDuration, parseSize } from "@ggen/support";

export interface RdfLimits {
  /** A query or update running longer is stopped (SPARQL_TIMEOUT). */
  queryTimeoutMs: number;
  /** The largest source: a file, a URL's body, an inline text, and what RDF/XML entities expand to. */
  maxSourceBytes: number;
  /** A URL that sends no response headers within this long fails. */
  fetchConnectMs: number;
  /** A URL whose body stalls this long between two chunks fails. */
  fetchIdleMs: number;
  /** A URL that takes longer than this in all fails. */
  fetchTotalMs: number;
}

export const defaultRdfLimits: Readonly<RdfLimits> = {
  queryTimeoutMs: 30_000,
  maxSourceBytes: 512 * 1024 * 1024,
  fetchConnectMs: 10_000,
  fetchIdleMs: 30_000,
  fetchTotalMs: 120_000,
};

let current: RdfLimits | undefined;

function fromEnvironment(): RdfLimits {
  const env = process.env;
  const limits = { ...defaultRdfLimits };
  if (env.GGEN_QUERY_TIMEOUT)
    limits.queryTimeoutMs = parseDuration(env.GGEN_QUERY_TIMEOUT, { flag: "GGEN_QUERY_TIMEOUT" });
  if (env.GGEN_MAX_GRAPH_SIZE)
    limits.maxSourceBytes = parseSize(env.GGEN_MAX_GRAPH_SIZE, { flag: "GGEN_MAX_GRAPH_SIZE" });
  if (env.GGEN_FETCH_TIMEOUT) {
    limits.fetchTotalMs = parseDuration(env.GGEN_FETCH_TIMEOUT, { flag: "GGEN_FETCH_TIMEOUT" });
    limits.fetchConnectMs = Math.min(limits.fetchConnectMs, limits.fetchTotalMs);
    limits.fetchIdleMs = Math.min(limits.fetchIdleMs, limits.fetchTotalMs);
  }
  return limits;
}

/** The limits in force for this process. */
export function rdfLimits(): Readonly<RdfLimits> {
  current ??= fromEnvironment();
  return current;
}

/** Changes the process's limits (what the programs' flags do); returns the limits now in force. */
export function setRdfLimits(changes: Partial<RdfLimits>): Readonly<RdfLimits> {
  current = { ...rdfLimits() };
  for (const [k, v] of Object.entries(changes) as [keyof RdfLimits, number | undefined][]) {
    if (v !== undefined) current[k] = v;
  }
  return current;
}

/** "30 s", "1500 ms", "2 min": a limit as a message shows it. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  if (ms % 60_000 === 0) return `${ms / 60_000} min`;
  return `${Math.round(ms / 100) / 10} s`;
}
