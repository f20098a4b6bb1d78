// The directories services leave behind, and removing trees a command made read-only.
import {
  chmodSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readlinkSync,
  rmSync,
  symlinkSync,
} from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";

/**
 * A directory for a service's unix socket. A socket path may be at most 107 bytes, so when `<dir>/socket`
 * would be too deep the socket goes in a short temp dir instead, linked from `<dir>/socket` so that
 * removeInstanceDir finds it.
 */
export function socketDirFor(dir: string, longestName = 20): string {
  const inside = join(dir, "socket");
  if (inside.length + longestName <= 100) {
    mkdirSync(inside, { mode: 0o755, recursive: true });
    return inside;
  }
  const short = mkdtempSync(join(tmpdir(), "ggen-sock-"));
  chmodSync(short, 0o755);
  symlinkSync(short, inside);
  return short;
}

/** Where `<dir>/socket` links to when it is a short socket dir made by socketDirFor, else undefined. */
function socketLink(dir: string): string | undefined {
  try {
    const link = join(dir, "socket");
    if (!lstatSync(link).isSymbolicLink()) return undefined;
    const target = readlinkSync(link);
    // Only what socketDirFor makes: the link is on disk, and may have been changed since.
    return /^ggen-sock-[A-Za-z0-9]{6}$/.test(basename(target)) ? target : undefined;
  } catch {
    return undefined; // no socket link: nothing else to remove
  }
}

/** Removes a service instance's directory and, when its socket lives elsewhere (a link), that too. */
export function removeInstanceDir(dir: string): void {
  const link = socketLink(dir);
  if (link) rmSync(link, { recursive: true, force: true });
  rmSync(dir, { recursive: true, force: true });
}

/** removeInstanceDir off the event loop: a PostgreSQL data dir is a thousand files (~0.3 s of unlinks),
 * which a running pipeline would otherwise wait on while it does nothing else. */
export async function removeInstanceDirAsync(dir: string): Promise<void> {
  const link = socketLink(dir);
  if (link) await rm(link, { recursive: true, force: true });
  await rm(dir, { recursive: true, force: true });
}

/**
 * Remove a tree, first giving the owner write permission back where a command took it away, since a
 * non-root user cannot unlink the entries of a directory without it.
 */
export function removeTree(dir: string): void {
  const restore = (p: string) => {
    const st = lstatSync(p, { throwIfNoEntry: false });
    if (!st || st.isSymbolicLink()) return;
    if ((st.mode & 0o200) === 0) {
      try {
        chmodSync(p, st.mode | 0o200);
      } catch {
        return; // not ours: rmSync reports it
      }
    }
    if (st.isDirectory()) for (const e of readdirSync(p)) restore(join(p, e));
  };
  try {
    rmSync(dir, { recursive: true, force: true });
  } catch {
    restore(dir);
    rmSync(dir, { recursive: true, force: true });
  }
}
