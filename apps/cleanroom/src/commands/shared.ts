// Helpers the command handlers share (not a command).
import { randomBytes } from "node:crypto";
import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import type { Output } from "../context.js";

/** Atomically writes a file (temp file + rename in the same directory). */
export async function writeFileAtomic(file: string, data: string): Promise<void> {
  const abs = resolve(file);
  await mkdir(dirname(abs), { recursive: true });
  const tmp = join(dirname(abs), `.${randomBytes(6).toString("hex")}.tmp`);
  try {
    await writeFile(tmp, data);
    await rename(tmp, abs);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

/** Rendered text to a file (saying so on stderr) or to stdout. */
export async function writeOutput(out: Output, text: string, file?: string): Promise<void> {
  if (file) {
    await writeFileAtomic(file, text);
    out.info(`wrote ${file}`);
  } else out.stdout.write(text.endsWith("\n") ? text : `${text}\n`);
}
