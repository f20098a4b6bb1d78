// Helpers the command handlers share (not a command).
import type { CleanroomRun } from "@ggen/contract";
import { writeFileAtomic } from "@ggen/support";
import type { Output } from "../context.js";

/** Rendered text to a file (saying so on stderr) or to stdout. */
export async function writeOutput(out: Output, text: string, file?: string): Promise<void> {
  if (file) {
    await writeFileAtomic(file, text);
    out.info(`wrote ${file}`);
  } else out.stdout.write(text.endsWith("\n") ? text : `${text}\n`);
}

/**
 * In GitHub Actions (GITHUB_ACTIONS=true): an annotation per failed test and a notice with the counts,
 * on stdout where the runner reads workflow commands (stderr with --json, so stdout stays JSON).
 */
export async function annotate(out: Output, run: CleanroomRun): Promise<void> {
  if (process.env.GITHUB_ACTIONS !== "true") return;
  const { renderGithubAnnotations } = await import("@ggen/reporter");
  (out.json ? out.stderr : out.stdout).write(renderGithubAnnotations(run));
}
