// Helpers the command handlers share (not a command).
import { writeFileAtomic } from "@ggen/support";
import type { Output } from "../context.js";

/** Rendered text to a file (saying so on stderr) or to stdout. */
export async function writeOutput(out: Output, text: string, file?: string): Promise<void> {
  if (file) {
    await writeFileAtomic(file, text);
    out.info(`wrote ${file}`);
  } else out.stdout.write(text.endsWith("\n") ? text : `${text}\n`);
}
