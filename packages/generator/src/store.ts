// The base store: what ggen generated for each output, kept under <output>/.ggen/base as gzip files
// named by the sha256 of their content, so the next regeneration can merge three ways without git.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import { sha256 } from "@ggen/support";

export class BaseStore {
  readonly dir: string;
  /** Contents to write with the next generation, by sha256. */
  readonly pending = new Map<string, string>();

  constructor(outRoot: string) {
    this.dir = join(outRoot, ".ggen", "base");
  }

  blobPath(digest: string): string {
    return join(this.dir, digest.slice(0, 2), `${digest}.gz`);
  }

  has(digest: string): boolean {
    return this.pending.has(digest) || existsSync(this.blobPath(digest));
  }

  /** A base by digest; undefined when it was never stored or does not match its name. */
  get(digest: string): string | undefined {
    const p = this.pending.get(digest);
    if (p !== undefined) return p;
    try {
      const text = gunzipSync(readFileSync(this.blobPath(digest))).toString("utf8");
      return sha256(text) === digest ? text : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * Graph texts kept for the next run's snapshot (snapshot.ts): stored as they are, since a graph is large
   * and read or written on every regeneration after it changed, and compressing it costs more than it saves.
   */
  graphPath(digest: string): string {
    return join(this.dir, "graphs", `${digest}.txt`);
  }

  /** A graph text by digest, as UTF-8 bytes; undefined when it was never stored or does not match its name. */
  graphBytes(digest: string): Buffer | undefined {
    try {
      const bytes = readFileSync(this.graphPath(digest));
      return sha256(bytes) === digest ? bytes : undefined;
    } catch {
      return undefined;
    }
  }

  /** Keeps `content` for the next write; returns its digest. */
  put(content: string): string {
    const d = sha256(content);
    if (!this.pending.has(d)) this.pending.set(d, content);
    return d;
  }

  /** Gzip bytes of a pending base (what the write step stores). */
  static compress(content: string): Buffer {
    return gzipSync(content, { level: 6 });
  }
}
