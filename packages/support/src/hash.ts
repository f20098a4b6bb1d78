// sha256, the one digest of the project (checksums, cache keys, attestation subjects).
import { createHash } from "node:crypto";
import { createReadStream, readFileSync } from "node:fs";

export function sha256(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
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
