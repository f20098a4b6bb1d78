// What the client and the graph host (host.ts) say to each other. Values here are shared by both sides;
// nothing in this module runs anything.
import type { RdfFormat } from "./formats.js";
import type { RunOptions } from "./graph.js";
import type { GraphSource, LoadOptions, SourceLimits } from "./load.js";

export const CALL_QUEUED = 0;
export const CALL_STARTED = 1;
export const CALL_DONE = 2;

/** What a handle's graph looks like to the client. */
export interface GraphMeta {
  handle: number;
  hash: string;
  prefixes: Record<string, string>;
  base: string | undefined;
}

/** An error as it crosses to the client; `trapped`: the engine failed and this host must be replaced. */
export interface WireError {
  code: string;
  message: string;
  kind?: "usage" | "failure";
  location?: { file: string; line?: number; column?: number };
  hint?: string;
  trapped?: boolean;
}

export type LoadRequest =
  | {
      op: "load";
      id: number;
      sources: GraphSource[];
      options: Omit<LoadOptions, "limits">;
      limits: SourceLimits;
    }
  | { op: "free"; handle: number }
  /** Load oxigraph and run one tiny load and query, so the first real ones find their code compiled. */
  | { op: "warm" };

export type CallRequest =
  | {
      op: "query";
      handle: number;
      query: string;
      options: Omit<RunOptions, "services">;
      services?: Record<string, number>;
    }
  | { op: "update"; handle: number; update: string; options: Omit<RunOptions, "services"> }
  | { op: "dump"; handle: number; format: RdfFormat }
  | { op: "size"; handle: number }
  | { op: "stats" }
  | { op: "clear" };

export type CallAnswer = { ok: unknown } | { error: WireError };
