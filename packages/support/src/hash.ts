// sha256, the one digest of the project (checksums, cache keys, attestation subjects).
import { createHash } from "node:crypto";
import { createReadStream, readFileSync } from "node:fs";

export function sha256(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/**
 * A 64-bit fingerprint of `text` (two FNV-1a lanes), for naming cache entries whose content is checked
 * when read: fast and without node:crypto, but not a digest — never trust a match without that check.
 */
export function fingerprint(text: string): string {
  return fingerprintAfter("")(text);
}

/**
 * `fingerprint(prefix + text)` for many texts after one prefix, the prefix hashed once: cache keys share
 * a long one (versions, helper names), and a short run should not hash it again for every entry.
 */
export function fingerprintAfter(prefix: string): (text: string) => string {
  const [a0, b0] = lanes(0x811c9dc5, 0x01000193, prefix);
  return (text) => {
    const [a, b] = lanes(a0, b0, text);
    return (a >>> 0).toString(16).padStart(8, "0") + (b >>> 0).toString(16).padStart(8, "0");
  };
}

function lanes(a: number, b: number, text: string): [number, number] {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
  }
  return [a, b];
}

export function sha256FileSync(file: string): string {
  return sha256(readFileSync(file));
}

/** Streams the file, so a large archive is never held in memory whole. */
export function sha256File(file: string): Promise<string> {
  return new Promise((res, rej) => {
    const h = createHash("sha256");
    createReadStream(file)
      .on("error", rej)
      .on("data", (c) => h.update(c))
      .on("end", () => res(h.digest("hex")));
  });
}
