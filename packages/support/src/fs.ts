// The one atomic write: a uniquely named temp file in the target's directory, fsync of the file, a
// rename over the target, fsync of the directory (so the rename itself survives a crash), and the temp
// file removed on any failure. Readers see the old content or the new, never a part.
import { chmodSync, closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { mkdir, open, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

export interface WriteOptions {
  /** File mode, applied before the rename (default: 0o666 minus the umask). */
  mode?: number;
  /**
   * fsync the file and its directory (default true). Bulk writers of derived files (a generation run
   * of a thousand files, a cache) may pass false: the rename is still atomic, only a power loss can
   * lose the new content — never leave a torn file.
   */
  fsync?: boolean;
}

let written = 0;
/**
 * `.<name>.<pid>.<count><random>.tmp` beside `file`: unique across processes (pid) and writers in one
 * (count). The random part only makes a name hard to guess; the temp file is created exclusively ("wx"),
 * so a clash fails rather than shares. Not node:crypto: loading it costs a short command more than its
 * whole write (see apps/ggen's gen bundle).
 */
export function tempPathFor(file: string): string {
  const random = Math.floor(Math.random() * 2 ** 40).toString(36);
  return join(dirname(file), `.${basename(file)}.${process.pid}.${(++written).toString(36)}${random}.tmp`);
}

function fsyncDirSync(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, "r");
    fsyncSync(fd);
  } catch {
    // Some file systems refuse fsync on a directory (EINVAL/EISDIR): the rename is done regardless.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

async function fsyncDir(dir: string): Promise<void> {
  let fh: Awaited<ReturnType<typeof open>> | undefined;
  try {
    fh = await open(dir, "r");
    await fh.sync();
  } catch {
    // see fsyncDirSync
  } finally {
    await fh?.close();
  }
}

export async function writeFileAtomic(
  file: string,
  data: string | Uint8Array,
  options: WriteOptions = {},
): Promise<void> {
  const dir = dirname(file);
  await mkdir(dir, { recursive: true });
  const tmp = tempPathFor(file);
  const durable = options.fsync !== false;
  try {
    const fh = await open(tmp, "wx", options.mode);
    try {
      await fh.writeFile(data);
      if (options.mode !== undefined) await fh.chmod(options.mode);
      if (durable) await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, file);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  if (durable) await fsyncDir(dir);
}

const madeDirs = new Set<string>();

/**
 * writeFileAtomic, synchronously: for many small files it is several times faster than queuing them on
 * the libuv thread pool.
 */
export function writeFileAtomicSync(
  file: string,
  data: string | Uint8Array,
  options: WriteOptions = {},
): void {
  const dir = dirname(file);
  if (!madeDirs.has(dir)) {
    mkdirSync(dir, { recursive: true });
    madeDirs.add(dir);
  }
  const tmp = tempPathFor(file);
  const durable = options.fsync !== false;
  const openTmp = () => openSync(tmp, "wx", options.mode);
  try {
    let fd: number;
    try {
      fd = openTmp();
    } catch (e) {
      // The directory was removed since this process made it: make it again.
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
      mkdirSync(dir, { recursive: true });
      fd = openTmp();
    }
    try {
      const buf = typeof data === "string" ? Buffer.from(data) : data;
      let off = 0;
      while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
      if (durable) fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    // openSync's mode is masked by the umask; an explicit mode is meant exactly.
    if (options.mode !== undefined) chmodSync(tmp, options.mode);
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
  if (durable) fsyncDirSync(dir);
}
